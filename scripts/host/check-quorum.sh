#!/usr/bin/env bash
# Phase `quorum` (KRaft, once, after every controller is configured): the controller quorum has a leader, every
# configured controller is a voter, and every voter has caught up with the leader (kafka-metadata-quorum describe
# --status and --replication, through the controllers' listener).
# Env:
#   QUORUM_BOOTSTRAP  the controllers' host:port, comma-separated (controller.quorum.bootstrap.servers)
#   QUORUM_CONFIG     client properties of the controllers' listener (TLS with this node's certificate when secured)
#   QUORUM_IDS        the configured controllers' node ids, space-separated
#   KAFKA_HOME        the Kafka install whose tools run the check
#   TOOLS_LOG_DIR     LOG_DIR for those tools
#   QUORUM_TIMEOUT    seconds to wait (default 300)
#   RERUN_DIGEST      not read: a digest of every controller's configuration and the version, so that Pulumi runs
#                     this check again whenever one changes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${QUORUM_BOOTSTRAP:?}" "${QUORUM_CONFIG:?}" "${QUORUM_IDS:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
limit=${QUORUM_TIMEOUT:-300}
healthy() { quorum_healthy "$QUORUM_BOOTSTRAP" "$QUORUM_CONFIG" "$QUORUM_IDS"; }
wait_until "$limit" "quorum has a leader and every voter caught up" healthy ||
  die "controller quorum not healthy after ${limit}s: $QUORUM_PROBLEM; see journalctl -u kafka-controller on the controllers"
extra=''
for v in $QUORUM_VOTERS; do [[ " $QUORUM_IDS " == *" $v "* ]] || extra+="$v "; done
[[ -z $extra ]] ||
  die "voter(s) ${extra% } are not configured controllers ($QUORUM_IDS); remove them with kafka-metadata-quorum remove-controller"
echo "quorum ok: leader $QUORUM_LEADER, voters [${QUORUM_VOTERS// /,}] caught up, at $QUORUM_BOOTSTRAP"
