#!/usr/bin/env bash
# Phase `rebalance` (once, after the smoke test; again whenever the set of broker ids changes): brokers that hold no
# replica yet (new ones after a scale-out) get a fair share of the existing partitions. kafka-reassign-partitions.sh
# generates an assignment over every broker for every topic (internal ones too), executes it with a replication
# throttle so clients keep their bandwidth, and the step waits until it is complete (the verify that sees it complete
# also removes the throttle). Nothing moves when every broker already holds replicas or there is no topic.
# Env:
#   BOOTSTRAP          comma-separated internal host:port of the brokers
#   BROKER_IDS         space-separated broker ids
#   THROTTLE_BYTES     replication throttle while partitions move, bytes per second
#   CLIENT_CONFIG      client properties the tools log in with (the admin principal's)
#   KAFKA_HOME         the Kafka install whose tools do the move
#   TOOLS_LOG_DIR      LOG_DIR for those tools
#   REBALANCE_TIMEOUT  seconds to wait for the move to complete (default 3600)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${BOOTSTRAP:?}" "${BROKER_IDS:?}" "${THROTTLE_BYTES:?}" "${CLIENT_CONFIG:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
limit=${REBALANCE_TIMEOUT:-3600}
read -r -a ids <<<"$BROKER_IDS"
list=$(printf '%s\n' "${ids[@]}" | sort -n | paste -sd, -)
reassign() { "$(kafka_bin kafka-reassign-partitions.sh)" --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" "$@"; }
topics() { "$(kafka_bin kafka-topics.sh)" --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" "$@"; }

described=$(topics --describe) || die "could not describe the topics through $BOOTSTRAP"
holding=$(replica_lists <<<"$described" | tr ',' '\n' | sort -un)
idle=()
for id in "${ids[@]}"; do grep -qx "$id" <<<"$holding" || idle+=("$id"); done
if [[ -z $holding ]]; then
  echo "rebalance: no partitions yet, nothing to move"
  exit 0
fi
if (( ${#idle[@]} == 0 )); then
  echo "rebalance: every broker of [$list] holds replicas, nothing to move"
  exit 0
fi

work=$(mktemp -d)
# shellcheck disable=SC2016 # expands when the step ends
on_exit 'rm -rf "$work"'
mapfile -t topics < <(topics --list)
{
  printf '{"version":1,"topics":['
  for i in "${!topics[@]}"; do printf '%s{"topic":"%s"}' "$([[ $i == 0 ]] || echo ,)" "${topics[$i]}"; done
  printf ']}\n'
} > "$work/topics.json"
generated=$(reassign --topics-to-move-json-file "$work/topics.json" --broker-list "$list" --generate) ||
  die "kafka-reassign-partitions --generate failed for brokers [$list]"
sed -n '/^Proposed partition reassignment configuration/{n;p;}' <<<"$generated" > "$work/plan.json"
[[ -s $work/plan.json ]] || die "kafka-reassign-partitions --generate proposed nothing: $generated"
moves=$(grep -o '"partition"' "$work/plan.json" | wc -l)
log "broker(s) ${idle[*]} hold no replica: moving ${#topics[@]} topic(s), $moves partition(s) over [$list], throttled to $THROTTLE_BYTES B/s"
reassign --reassignment-json-file "$work/plan.json" --execute --throttle "$THROTTLE_BYTES" >/dev/null ||
  die "kafka-reassign-partitions --execute failed; see: kafka-reassign-partitions.sh --bootstrap-server $BOOTSTRAP --list"
verified=""
complete() {
  verified=$(reassign --reassignment-json-file "$work/plan.json" --verify 2>&1) || return 1
  ! grep -q 'still in progress' <<<"$verified"
}
wait_until "$limit" "reassignment complete (throttle removed)" complete ||
  die "the reassignment did not complete within ${limit}s (it goes on in the background; check with --verify): $(grep -c 'still in progress' <<<"$verified") partition(s) left"
echo "rebalance: broker(s) ${idle[*]} took their share: $moves partition(s) reassigned over [$list]"
