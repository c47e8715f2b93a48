#!/usr/bin/env bash
# Phase `zookeeper-acls` (kafka:security tls or sasl_ssl; after the broker check, again whenever kafka:security
# changes): every znode under the chroot gets the ACLs the brokers give new ones (their SASL user may write, everyone may
# read, SCRAM credentials only they may read), with Kafka's zookeeper-security-migration. Needed for a cluster whose
# znodes were created before its brokers logged in to ZooKeeper (kafka:security plaintext); a no-op change otherwise.
# Env:
#   ZK_CONNECT     the ZooKeeper connect string, with chroot
#   JAAS_FILE      the brokers' JAAS file (its Client section logs the tool in as the brokers' ZooKeeper user)
#   KAFKA_HOME     the Kafka install whose tool sets the ACLs
#   TOOLS_LOG_DIR  LOG_DIR for that tool
#   RERUN_DIGEST   not read: kafka:security, in the command text so that Pulumi runs this again when it changes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_CONNECT:?}" "${JAAS_FILE:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
[[ -r $JAAS_FILE ]] || die "$JAAS_FILE is missing: the broker steps write it (kafka:security tls or sasl_ssl)"
start=$SECONDS
KAFKA_OPTS="-Djava.security.auth.login.config=$JAAS_FILE" "$(kafka_bin zookeeper-security-migration.sh)" \
  --zookeeper.acl=secure --zookeeper.connect="$ZK_CONNECT" >/dev/null ||
  die "zookeeper-security-migration could not set the ACLs under $ZK_CONNECT"
echo "zookeeper acls: znodes under $ZK_CONNECT writable by the brokers only (set in $((SECONDS - start))s)"
