#!/usr/bin/env bash
# Step 6 check: every broker id is registered under the ZooKeeper chroot and every broker answers
# ApiVersions. Env: ZK_CONNECT (with chroot), BROKER_IDS, BROKER_ENDPOINTS (host:port ...), BROKERS_TIMEOUT (300)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_CONNECT:?}" "${BROKER_IDS:?}" "${BROKER_ENDPOINTS:?}"
limit=${BROKERS_TIMEOUT:-300}
want=$(tr ' ' '\n' <<<"$BROKER_IDS" | sort -n | paste -sd, -)

registered=""
ids_registered() {
  local out
  out=$("$(kafka_bin zookeeper-shell.sh)" "$ZK_CONNECT" ls /brokers/ids 2>/dev/null | grep '^\[' | tail -n1) || true
  registered=$(tr -d '[] ' <<<"$out" | tr ',' '\n' | grep -E '^[0-9]+$' | sort -n | paste -sd, -) || true
  local id
  for id in ${BROKER_IDS}; do [[ ",$registered," == *",$id,"* ]] || return 1; done
}
wait_until "$limit" "broker ids $want registered in ZooKeeper" ids_registered ||
  die "brokers registered under $ZK_CONNECT: [${registered}], expected [$want]; see journalctl -u kafka on the missing brokers"
# One ApiVersions round against the whole cluster: the tool asks every broker in the metadata.
missing=""
all_answer() {
  local out ep
  out=$("$(kafka_bin kafka-broker-api-versions.sh)" --bootstrap-server "${BROKER_ENDPOINTS// /,}" 2>/dev/null) || true
  missing=""
  for ep in $BROKER_ENDPOINTS; do
    grep -q "^${ep} (id: [0-9]* " <<<"$out" || missing+="$ep "
  done
  [[ -z $missing ]]
}
wait_until "$limit" "every broker answers ApiVersions" all_answer || die "no ApiVersions answer from: ${missing% }"
echo "brokers ok: ids [$registered] registered under $ZK_CONNECT; ApiVersions answered by $BROKER_ENDPOINTS"
