#!/usr/bin/env bash
# Phase `rollback` (a ZooKeeper -> KRaft migration rolled back; one host, right after the controllers stopped): deletes
# the znodes the KRaft controllers left under the chroot, as Kafka's rollback says: /controller (a KRaft controller's
# id: until it goes no ZooKeeper-mode broker becomes controller) and /migration (else a later attempt skips the copy).
# Logged in to ZooKeeper as the brokers are (the controllers created them with the brokers' ACLs). A znode that is not
# there is fine.
# Env:
#   ZK_CONNECT     the ZooKeeper connect string, with chroot
#   ZNODES         the znodes to delete: /controller and/or /migration
#   KAFKA_HOME     a Kafka install with zookeeper-shell.sh
#   TOOLS_LOG_DIR  LOG_DIR for that tool
#   JAAS_FILE      optional: the brokers' JAAS file (its Client section logs the tool in), with kafka:security tls or sasl_ssl
#   CONTROLLER_IDS the removed controllers' node.ids (space-separated): /controller must not name one of them afterwards
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_CONNECT:?}" "${ZNODES:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
script=''
for z in $ZNODES; do
  [[ $z == /controller || $z == /migration ]] || die "ZNODES may name /controller and /migration only, not $z"
  script+="deleteall $z"$'\n'
done
if [[ -n ${JAAS_FILE:-} ]]; then
  [[ -r $JAAS_FILE ]] || die "$JAAS_FILE is missing"
  export KAFKA_OPTS="-Djava.security.auth.login.config=$JAAS_FILE"
fi
# zookeeper-shell reads commands from stdin; a node that is not there is reported on stderr and is fine.
out=$(printf '%s' "$script" | timeout 120 "$(kafka_bin zookeeper-shell.sh)" "$ZK_CONNECT" 2>&1) || true
if grep -qiE 'Authentication is not valid|NoAuth|Insufficient permission' <<<"$out"; then
  die "ZooKeeper refused to delete $ZNODES under $ZK_CONNECT (no permission): $(grep -iE 'auth|permission' <<<"$out" | head -n 2 | tr '\n' ' ')"
fi
# /migration must be gone; /controller may be back at once, but held by a ZooKeeper-mode broker, not a controller.
state=$(printf 'get /migration\nget /controller\n' | timeout 120 "$(kafka_bin zookeeper-shell.sh)" "$ZK_CONNECT" 2>/dev/null | grep '^{' || true)
if [[ " $ZNODES " == *" /migration "* ]] && grep -q '"kraft_metadata_offset"' <<<"$state"; then
  die "/migration is still there under $ZK_CONNECT"
fi
holder=$(grep -o '"brokerid":[0-9]*' <<<"$state" | head -n 1 | cut -d: -f2)
if [[ -n $holder && " ${CONTROLLER_IDS:-} " == *" $holder "* ]]; then
  die "/controller under $ZK_CONNECT still names KRaft controller $holder"
fi
echo "znodes deleted under $ZK_CONNECT: $ZNODES${holder:+ (/controller now held by broker $holder)}"
