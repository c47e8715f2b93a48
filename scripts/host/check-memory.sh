#!/usr/bin/env bash
# Phase `memory` (every host, before any service on any host starts or restarts): the JVM heaps this host will run
# must fit its memory with room left for the OS and the page cache Kafka reads from. Memory is MemTotal, or the
# memory limit of the host's cgroup when that is lower (containers). Changes nothing.
# Env:
#   NODE_NAME         the node's name in the cluster, for the message
#   HEAPS             the heaps this host runs: "setting=MiB" words, e.g. "kafka:brokerHeap=1024 kafka:zookeeperHeap=512"
#   MAX_HEAP_PERCENT  the share of memory the heaps may take together, in percent
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NODE_NAME:?}" "${HEAPS:?}" "${MAX_HEAP_PERCENT:?}"

mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
[[ $mem =~ ^[0-9]+$ ]] || die "cannot read MemTotal from /proc/meminfo"
source_of_mem=MemTotal
limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)
if [[ $limit =~ ^[0-9]+$ ]] && (( limit / 1048576 < mem )); then
  mem=$(( limit / 1048576 ))
  source_of_mem="cgroup memory.max"
fi

total=0
asked=()
for h in $HEAPS; do
  [[ $h =~ ^([a-zA-Z:]+)=([0-9]+)$ ]] || die "HEAPS entry \"$h\" is not setting=MiB"
  total=$(( total + BASH_REMATCH[2] ))
  asked+=("${BASH_REMATCH[1]} ${BASH_REMATCH[2]} MiB")
done
allowed=$(( mem * MAX_HEAP_PERCENT / 100 ))
summary=$(IFS=,; printf '%s' "${asked[*]}")
summary=${summary//,/ + }
if (( total > allowed )); then
  die "$NODE_NAME ($(hostname)) has $mem MiB of memory ($source_of_mem); the heaps asked for ($summary = $total MiB) exceed" \
    "the ${MAX_HEAP_PERCENT}% ($allowed MiB) they may take, leaving too little for the OS and the page cache." \
    "Nothing was restarted. Fix: lower the heap(s) so they add up to at most $allowed MiB, or use a host with at least" \
    "$(( (total * 100 + MAX_HEAP_PERCENT - 1) / MAX_HEAP_PERCENT )) MiB"
fi
echo "memory ok on $NODE_NAME: heaps $total MiB of $mem MiB ($source_of_mem), at most ${MAX_HEAP_PERCENT}%"
