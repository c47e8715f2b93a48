#!/usr/bin/env bash
# EC2 rolling node change (a pinned kafka:ami, a new kafka:os, an instance type): the gates around the one node that
# changes in a `pulumi up`, run on that node over SSH by the cluster's roll-gate and roll-settled steps.
#   PHASE=before  waits until the cluster is healthy but for this node (every other ZooKeeper member serves, and no
#                 partition misses a replica other than this node's broker), then, with STOP=true (the node is about
#                 to be replaced), stops its broker and then its ZooKeeper member, so that the broker leaves
#                 /brokers/ids before its replacement registers under the same id.
#   PHASE=after   waits until this node serves again: its ZooKeeper member in the quorum, its broker answering, and
#                 no partition under-replicated (its replicas caught up), so that the next node may go.
# Env:
#   PHASE          before | after
#   STOP           true to stop the node's services after the before-check (replacement), false to leave them
#   BROKER_ID      this node's broker.id; empty when it runs no broker
#   SELF_BOOTSTRAP this node's internal listener host:port; empty when it runs no broker
#   BOOTSTRAP      comma-separated internal host:port of every broker (empty: none runs yet)
#   ZK_SELF        this node's ZooKeeper client host:port; empty when it runs no ZooKeeper member
#   ZK_MEMBERS     space-separated ZooKeeper client host:port of every member (empty: none runs yet)
#   CLIENT_CONFIG  client properties the tools log in with (the admin principal's)
#   KAFKA_HOME     the Kafka install whose tools check the partitions
#   TOOLS_LOG_DIR  LOG_DIR for those tools
#   GATE_TIMEOUT   seconds to wait for health (default 900)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${PHASE:?}" "${CLIENT_CONFIG:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
export LOG_DIR=$TOOLS_LOG_DIR
limit=${GATE_TIMEOUT:-900}
read -r -a members <<<"${ZK_MEMBERS:-}"

# in_quorum HOST:PORT: the ZooKeeper member there answers as leader or follower.
in_quorum() { [[ "$(zk_mode "${1%:*}" "${1##*:}")" =~ ^(leader|follower)$ ]]; }

# Every ZooKeeper member but this node's is in the quorum (else `out` names the one that is not).
ensemble_ok() {
  local m
  for m in "${members[@]}"; do
    [[ $m == "${ZK_SELF:-}" ]] && continue
    if ! in_quorum "$m"; then
      out="ZooKeeper member $m is not in the quorum"
      return 1
    fi
  done
}

# Partitions that miss a replica other than ALLOWED's (a broker id, or empty for none), printed; fails when the tool
# cannot answer.
missing_others() {
  local out
  [[ -n ${BOOTSTRAP:-} ]] || return 0
  out=$("$(kafka_bin kafka-topics.sh)" --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --describe \
    --under-replicated-partitions 2>/dev/null) || return 1
  awk -v allowed="$1" '/Partition:/ {
      r = $0; sub(/.*Replicas: /, "", r); sub(/[ \t].*/, "", r); i = $0; sub(/.*Isr: /, "", i); sub(/[ \t].*/, "", i)
      t = $0; sub(/.*Topic: /, "", t); sub(/[ \t].*/, "", t); p = $0; sub(/.*Partition: /, "", p); sub(/[ \t].*/, "", p)
      n = split(r, rs, ","); m = split(i, is, ","); split("", inIsr); for (k = 1; k <= m; k++) inIsr[is[k]] = 1
      for (k = 1; k <= n; k++) if (!(rs[k] in inIsr) && rs[k] != allowed) { print t "-" p " misses replica " rs[k]; break }
    }' <<<"$out"
}

# The partitions check, `out` set to what is wrong.
partitions_ok() {
  out=$(missing_others "$1") || { out="the brokers at $BOOTSTRAP do not answer"; return 1; }
  [[ -z $out ]] || { out=$(head -n 5 <<<"$out" | paste -sd, -); return 1; }
}

before_ok() { ensemble_ok && partitions_ok "${BROKER_ID:-}"; }

after_ok() {
  if [[ -n ${ZK_SELF:-} ]] && ! in_quorum "$ZK_SELF"; then
    out="its ZooKeeper member is not in the quorum"
    return 1
  fi
  ensemble_ok || return 1
  if [[ -n ${BROKER_ID:-} ]] && ! broker_answers "$SELF_BOOTSTRAP"; then
    out="its broker does not answer on $SELF_BOOTSTRAP"
    return 1
  fi
  partitions_ok ""
}

out=""
case $PHASE in
  before)
    wait_until "$limit" "the cluster healthy but for this node" before_ok ||
      die "the cluster is not healthy after ${limit}s, so this node is not changed: $out (run pulumi up again once it is)"
    if [[ ${STOP:-false} == true ]]; then
      if [[ -n ${BROKER_ID:-} ]] && systemctl is-active --quiet kafka; then
        systemctl stop kafka
        log "stopped kafka (broker $BROKER_ID) before its instance is replaced"
      fi
      if [[ -n ${ZK_SELF:-} ]] && systemctl is-active --quiet zookeeper; then
        systemctl stop zookeeper
        log "stopped zookeeper before its instance is replaced"
      fi
    fi
    ;;
  after)
    wait_until "$limit" "this node back in the cluster, nothing under-replicated" after_ok ||
      die "the node did not rejoin within ${limit}s: $out"
    log "node serves again; no partition under-replicated"
    ;;
  *) die "PHASE must be before or after, not $PHASE" ;;
esac
