#!/usr/bin/env bash
# Phase `admin` (kafka:security sasl_ssl; after the ensemble check, before any broker): the SCRAM-SHA-512 credential of
# the cluster's admin principal, written to ZooKeeper, where the brokers read it: they authenticate to each other as
# that principal, and the checks this program runs log in with it. The tool logs in to ZooKeeper as the brokers' SASL
# user, so the credential's znode gets the brokers' ACLs (SCRAM credentials are never world-readable). On a new cluster
# the chroot does not exist yet: it is created first with the ACLs the brokers would give it (theirs, world read).
# Passwords go to the tools in files of a private temporary directory, never on a command line.
# Env:
#   ZK_CONNECT      the ZooKeeper connect string, with chroot
#   SCRAM_USER      the admin principal's name
#   SCRAM_PASSWORD  its password
#   ZK_SASL_USER    the ZooKeeper (DIGEST-MD5) user the brokers log in as (the chroot's ACL names it)
#   JAAS_B64        base64 of the brokers' JAAS file, whose Client section logs the tools in as that user
#   KAFKA_HOME      the Kafka install whose tools write the credential (the version being installed)
#   TOOLS_LOG_DIR   LOG_DIR for those tools
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_CONNECT:?}" "${SCRAM_USER:?}" "${SCRAM_PASSWORD:?}" "${ZK_SASL_USER:?}" "${JAAS_B64:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
[[ $ZK_CONNECT == */* ]] || die "ZK_CONNECT=$ZK_CONNECT has no chroot"
servers=${ZK_CONNECT%%/*}
chroot=/${ZK_CONNECT#*/}

work=$(umask 077 && mktemp -d)
# shellcheck disable=SC2016 # expands when the step ends
on_exit 'rm -rf "$work"'
(umask 077 && printf '%s' "$JAAS_B64" | base64 -d > "$work/jaas.conf") || die "JAAS_B64 is not valid base64"
scram_config "$work/scram.properties" "$SCRAM_PASSWORD"
export KAFKA_OPTS="-Djava.security.auth.login.config=$work/jaas.conf"

zk_shell() { "$(kafka_bin zookeeper-shell.sh)" "$servers" "$@" 2>&1; }
out=$(zk_shell stat "$chroot") || true
if grep -q 'Node does not exist' <<<"$out"; then
  # Parents first (a chroot like /a/b), each with the brokers' ACLs.
  path=''
  IFS=/ read -r -a parts <<<"${chroot#/}"
  for part in "${parts[@]}"; do
    path+="/$part"
    out=$(zk_shell create "$path" '' "sasl:$ZK_SASL_USER:cdrwa,world:anyone:r") || true
    grep -qE 'Created|already exists' <<<"$out" || die "could not create $path in ZooKeeper at $servers: $(tail -n 3 <<<"$out")"
  done
  log "created the chroot $chroot (ACL sasl:$ZK_SASL_USER:cdrwa, world:anyone:r)"
elif ! grep -q 'ctime' <<<"$out"; then
  die "ZooKeeper at $servers did not answer for $chroot: $(tail -n 3 <<<"$out")"
fi

# The tool warns that it writes without asking the controller (there is none yet); only a failure's lines are shown.
"$(kafka_bin kafka-configs.sh)" --zookeeper "$ZK_CONNECT" --alter --add-config-file "$work/scram.properties" \
  --entity-type users --entity-name "$SCRAM_USER" >/dev/null 2>"$work/configs.err" ||
  die "could not write the SCRAM credential of $SCRAM_USER to ZooKeeper at $ZK_CONNECT: $(tail -n 3 "$work/configs.err")"
echo "admin principal: SCRAM-SHA-512 credential of $SCRAM_USER written under $ZK_CONNECT"
