#!/usr/bin/env bash
# Phase `listeners` (every broker host, before any service on any host starts or restarts): a running broker keeps its
# listeners' security protocols. Switching them (kafka:security) cannot roll one broker at a time: half-way through,
# brokers on the old protocol and brokers on the new one could not replicate from each other, and the old protocol's
# clients would be cut off. So a change is refused here, before any ZooKeeper member or broker is touched. Changes
# nothing.
# Env:
#   NODE_NAME          the node's name in the cluster, for the message
#   SERVER_PROPERTIES  the broker's server.properties
#   PROTOCOL_MAP       the listener.security.protocol.map the new configuration has
#   SECURITY           kafka:security as configured, for the message
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NODE_NAME:?}" "${SERVER_PROPERTIES:?}" "${PROTOCOL_MAP:?}" "${SECURITY:?}"
if ! systemctl is-active --quiet kafka || [[ ! -f $SERVER_PROPERTIES ]]; then
  echo "listeners ok on $NODE_NAME: no broker running yet; it starts with $PROTOCOL_MAP"
  exit 0
fi
running=$(sed -n 's/^listener\.security\.protocol\.map=//p' "$SERVER_PROPERTIES")
if [[ -n $running && $running != "$PROTOCOL_MAP" ]]; then
  die "the broker on $NODE_NAME ($(hostname)) runs listeners $running, and kafka:security $SECURITY means $PROTOCOL_MAP:" \
    "switching the security of a running cluster's listeners is not supported (brokers half-way through the roll could" \
    "not replicate from each other, and clients of the old protocol would be cut off). Nothing was changed on any host." \
    "Fix: set kafka:security back to what the cluster runs (pulumi config set kafka:security <previous value>), or build" \
    "a new cluster with the new setting and move the clients over"
fi
echo "listeners ok on $NODE_NAME: $PROTOCOL_MAP, as the running broker has"
