#!/usr/bin/env bash
# Phase `listeners` (every broker host, before any service on any host starts or restarts): a kafka:security change is
# one the brokers can roll. Up the order plaintext, tls, sasl_ssl it rolls (the plan's listeners-add and
# listeners-switch phases run the old and the new listeners side by side); down it (back to plaintext, or sasl_ssl to
# tls, which would drop authentication) it is refused here, before any ZooKeeper member or broker is touched. Changes
# nothing.
# Env:
#   NODE_NAME          the node's name in the cluster, for the message
#   SERVER_PROPERTIES  the broker's server.properties
#   PROTOCOL_MAP       the listener.security.protocol.map the new configuration has (both listeners, one protocol)
#   SECURITY           kafka:security as configured, for the message
#   ROLLABLE           false: no switch rolls on this cluster (KRaft, whose controllers' listener would switch too, or one
#                      migrating to KRaft); default true
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NODE_NAME:?}" "${SERVER_PROPERTIES:?}" "${PROTOCOL_MAP:?}" "${SECURITY:?}"
if ! systemctl is-active --quiet kafka || [[ ! -f $SERVER_PROPERTIES ]]; then
  echo "listeners ok on $NODE_NAME: no broker running yet; it starts with $PROTOCOL_MAP"
  exit 0
fi
# (Which metadata mode the brokers may run is decided before this, from what every host reports: components/migration.ts.)
# The controllers' listener (KRaft, and a broker in a migration's phase B or C) is the metadata quorum's, not the
# brokers': left out of both sides.
no_controller() { sed -E 's/(^|,)CONTROLLER:[A-Z_]+//; s/^,//'; }
running=$(prop_value 'listener\.security\.protocol\.map' <"$SERVER_PROPERTIES" | no_controller)
PROTOCOL_MAP=$(no_controller <<<"$PROTOCOL_MAP")
if [[ -z $running || $running == "$PROTOCOL_MAP" ]]; then
  echo "listeners ok on $NODE_NAME: $PROTOCOL_MAP, as the running broker has"
  exit 0
fi
# Rollable: the new protocol is not PLAINTEXT, each running listener's protocol is at most it (the same protocol under
# another name: a cluster built with the earlier listener names; or the configuration's own listener: a switch
# interrupted half-way carries on), and no listener name changes its protocol.
rank() { case $1 in PLAINTEXT) echo 0 ;; SSL) echo 1 ;; SASL_SSL) echo 2 ;; *) echo 9 ;; esac; }
target=${PROTOCOL_MAP##*:}
rollable=${ROLLABLE:-true}
if [[ $rollable == false ]]; then
  die "the broker on $NODE_NAME ($(hostname)) runs listeners $running, and kafka:security $SECURITY means $PROTOCOL_MAP:" \
    "a running KRaft cluster does not switch kafka:security (its controllers' listener would have to switch with it)." \
    "Nothing was changed on any host. Fix: set kafka:security back to what the cluster runs" \
    "(pulumi config set kafka:security <previous value>), or build a new cluster with the new setting and move the clients over"
fi
[[ $target != PLAINTEXT ]] || rollable=false
IFS=, read -ra pairs <<<"$running"
for pair in "${pairs[@]}"; do
  if [[ ,$PROTOCOL_MAP, == *",$pair,"* ]]; then continue; fi
  if (( $(rank "${pair#*:}") > $(rank "$target") )) || [[ ,$PROTOCOL_MAP, == *",${pair%%:*}:"* ]]; then rollable=false; fi
done
if $rollable; then
  echo "listeners ok on $NODE_NAME: it runs $running; this update adds $PROTOCOL_MAP beside them, moves inter-broker" \
    "traffic onto them, then removes the others, one broker at a time in each of the three rolls"
  exit 0
fi
die "the broker on $NODE_NAME ($(hostname)) runs listeners $running, and kafka:security $SECURITY means $PROTOCOL_MAP:" \
  "a running cluster can switch up the order plaintext, tls, sasl_ssl (a rolling change with both listeners side by" \
  "side), but not back to plaintext or from sasl_ssl to tls. Nothing was changed on any host." \
  "Fix: set kafka:security back to what the cluster runs (pulumi config set kafka:security <previous value>), or build" \
  "a new cluster with the new setting and move the clients over"
