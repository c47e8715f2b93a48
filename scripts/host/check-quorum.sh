#!/usr/bin/env bash
# Phase `quorum` (KRaft, once, after every controller is configured): the controller quorum has a leader, every
# configured controller is a voter, and every voter has caught up with the leader (kafka-metadata-quorum describe
# --status and --replication, through the controllers' listener). A voter that is no longer configured (a lower
# kafka:controllerCount, a controller host dropped) is removed first, one at a time, each removal waiting until the
# quorum has caught up: the steps that then stop its service find it an observer, whose loss costs the quorum nothing.
# Env:
#   QUORUM_BOOTSTRAP  the configured controllers' host:port, comma-separated (controller.quorum.bootstrap.servers)
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
# current: a leader and no voter behind, whoever the voters are.
current() { quorum_healthy "$QUORUM_BOOTSTRAP" "$QUORUM_CONFIG" ""; }
wait_until "$limit" "quorum has a leader and no voter behind" current ||
  die "controller quorum not healthy after ${limit}s: $QUORUM_PROBLEM; see journalctl -u kafka-controller on the controllers"
for voter in $QUORUM_VOTER_DIRS; do
  id=${voter%%:*}
  [[ " $QUORUM_IDS " != *" $id "* ]] || continue
  log "voter $id (directory ${voter#*:}) is not a configured controller: removing it from the quorum"
  quorum_command "$QUORUM_BOOTSTRAP" "$QUORUM_CONFIG" remove-controller --controller-id "$id" --controller-directory-id "${voter#*:}" >&2 ||
    die "kafka-metadata-quorum remove-controller of voter $id failed"
  wait_until "$limit" "quorum caught up after removing voter $id" current ||
    die "controller quorum not healthy after ${limit}s after removing voter $id: $QUORUM_PROBLEM"
done
# The last description already shows every configured controller a voter (the usual case): no second probe.
healthy() { quorum_healthy "$QUORUM_BOOTSTRAP" "$QUORUM_CONFIG" "$QUORUM_IDS"; }
if ! voters_include "$QUORUM_IDS"; then
  wait_until "$limit" "every configured controller a voter, caught up" healthy ||
    die "controller quorum not healthy after ${limit}s: $QUORUM_PROBLEM; see journalctl -u kafka-controller on the controllers"
fi
echo "quorum ok: leader $QUORUM_LEADER, voters [${QUORUM_VOTERS// /,}] caught up, at $QUORUM_BOOTSTRAP"
