#!/usr/bin/env bash
# Phase `brokers` (once, after every broker is configured): every broker id is registered under the ZooKeeper chroot
# and every broker answers ApiVersions.
# Env:
#   ZK_CONNECT        the ZooKeeper connect string, with chroot
#   BROKER_IDS        space-separated broker ids
#   BROKER_ENDPOINTS  space-separated internal host:port of every broker
#   KAFKA_HOME        the Kafka install whose tools run the checks
#   TOOLS_LOG_DIR     LOG_DIR for those tools
#   BROKERS_TIMEOUT   seconds to wait (default 300)
#   RERUN_DIGEST      not read: a digest of every broker's configuration, in the command text so that Pulumi runs
#                     this check again whenever a broker's configuration changes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_CONNECT:?}" "${BROKER_IDS:?}" "${BROKER_ENDPOINTS:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
limit=${BROKERS_TIMEOUT:-300}
read -r -a ids <<<"$BROKER_IDS"
read -r -a endpoints <<<"$BROKER_ENDPOINTS"
want=$(printf '%s\n' "${ids[@]}" | sort -n | paste -sd, -)

registered=""
ids_registered() {
  local out id
  out=$("$(kafka_bin zookeeper-shell.sh)" "$ZK_CONNECT" ls /brokers/ids 2>/dev/null | grep '^\[' | tail -n1) || true
  registered=$(tr -d '[] ' <<<"$out" | tr ',' '\n' | grep -E '^[0-9]+$' | sort -n | paste -sd, -) || true
  for id in "${ids[@]}"; do [[ ",$registered," == *",$id,"* ]] || return 1; done
}
wait_until "$limit" "broker ids $want registered in ZooKeeper" ids_registered ||
  die "brokers registered under $ZK_CONNECT: [${registered}], expected [$want]; see journalctl -u kafka on the missing brokers"
# One ApiVersions round against the whole cluster: the tool asks every broker in the metadata.
missing=""
all_answer() {
  local out ep
  out=$("$(kafka_bin kafka-broker-api-versions.sh)" --bootstrap-server "${BROKER_ENDPOINTS// /,}" 2>/dev/null) || true
  missing=""
  for ep in "${endpoints[@]}"; do
    grep -q "^${ep} (id: [0-9]* " <<<"$out" || missing+="$ep "
  done
  [[ -z $missing ]]
}
wait_until "$limit" "every broker answers ApiVersions" all_answer || die "no ApiVersions answer from: ${missing% }"
echo "brokers ok: ids [$registered] registered under $ZK_CONNECT; ApiVersions answered by $BROKER_ENDPOINTS"
