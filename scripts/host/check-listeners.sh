#!/usr/bin/env bash
# Phase `listeners` (every broker host, before any service on any host starts or restarts): a kafka:security change is
# one the brokers can roll. plaintext -> tls or sasl_ssl rolls (the plan's listeners-add and listeners-switch phases run
# the old and the new listeners side by side); any other change of a running broker's listener protocols (back to
# plaintext, or between tls and sasl_ssl) is refused here, before any ZooKeeper member or broker is touched. Changes
# nothing.
# Env:
#   NODE_NAME          the node's name in the cluster, for the message
#   SERVER_PROPERTIES  the broker's server.properties
#   PROTOCOL_MAP       the listener.security.protocol.map the new configuration has (both listeners, one protocol)
#   SECURITY           kafka:security as configured, for the message
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NODE_NAME:?}" "${SERVER_PROPERTIES:?}" "${PROTOCOL_MAP:?}" "${SECURITY:?}"
if ! systemctl is-active --quiet kafka || [[ ! -f $SERVER_PROPERTIES ]]; then
  echo "listeners ok on $NODE_NAME: no broker running yet; it starts with $PROTOCOL_MAP"
  exit 0
fi
running=$(sed -n 's/^listener\.security\.protocol\.map=//p' "$SERVER_PROPERTIES" | tail -n 1)
if [[ -z $running || $running == "$PROTOCOL_MAP" ]]; then
  echo "listeners ok on $NODE_NAME: $PROTOCOL_MAP, as the running broker has"
  exit 0
fi
# Rollable: the new protocol is not PLAINTEXT, and each running listener is PLAINTEXT or already runs the new protocol
# under the new configuration's name for it (a switch interrupted half-way carries on).
target=${PROTOCOL_MAP##*:}
rollable=true
[[ $target != PLAINTEXT ]] || rollable=false
IFS=, read -ra pairs <<<"$running"
for pair in "${pairs[@]}"; do
  if [[ ,$PROTOCOL_MAP, == *",$pair,"* ]]; then continue; fi
  if [[ ${pair#*:} != PLAINTEXT || ,$PROTOCOL_MAP, == *",${pair%%:*}:"* ]]; then rollable=false; fi
done
if $rollable; then
  echo "listeners ok on $NODE_NAME: it runs $running; this update adds $PROTOCOL_MAP beside them, moves inter-broker" \
    "traffic onto them, then removes the others, one broker at a time in each of the three rolls"
  exit 0
fi
die "the broker on $NODE_NAME ($(hostname)) runs listeners $running, and kafka:security $SECURITY means $PROTOCOL_MAP:" \
  "a running cluster can switch from plaintext to tls or sasl_ssl (a rolling change with both listeners side by side)," \
  "but not back to plaintext or between tls and sasl_ssl. Nothing was changed on any host." \
  "Fix: set kafka:security back to what the cluster runs (pulumi config set kafka:security <previous value>), or build" \
  "a new cluster with the new setting and move the clients over"
