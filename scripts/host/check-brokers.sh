#!/usr/bin/env bash
# Phase `brokers` (once, after every broker is configured): every broker id is registered (under the ZooKeeper chroot;
# with KRaft, in the metadata every broker serves: ApiVersions lists each endpoint with its id), every broker answers
# ApiVersions, and no partition has a replica on a broker outside BROKER_IDS. The last check
# refuses a lower kafka:brokerCount (or a host dropped from kafka:hosts) while the brokers to be removed still hold
# replicas: Pulumi runs this step (its BROKER_IDS changed) before it deletes anything of a removed broker.
# Env:
#   ZK_CONNECT        the ZooKeeper connect string, with chroot; empty on a KRaft cluster
#   BROKER_IDS        space-separated broker ids
#   BROKER_ENDPOINTS  space-separated internal host:port of every broker
#   CLIENT_CONFIG     client properties the tools log in with (the admin principal's)
#   KAFKA_HOME        the Kafka install whose tools run the checks
#   TOOLS_LOG_DIR     LOG_DIR for those tools
#   BROKERS_TIMEOUT   seconds to wait (default 300)
#   RERUN_DIGEST      not read: a digest of every broker's configuration, in the command text so that Pulumi runs
#                     this check again whenever a broker's configuration changes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_CONNECT?}" "${BROKER_IDS:?}" "${BROKER_ENDPOINTS:?}" "${CLIENT_CONFIG:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
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
if [[ -n $ZK_CONNECT ]]; then
  wait_until "$limit" "broker ids $want registered in ZooKeeper" ids_registered ||
    die "brokers registered under $ZK_CONNECT: [${registered}], expected [$want]; see journalctl -u kafka on the missing brokers"
fi
# One ApiVersions round against the whole cluster: the tool asks every broker in the metadata.
missing=""
all_answer() {
  local out i id
  out=$("$(kafka_bin kafka-broker-api-versions.sh)" --bootstrap-server "${BROKER_ENDPOINTS// /,}" --command-config "$CLIENT_CONFIG" 2>/dev/null) || true
  missing=""
  for i in "${!endpoints[@]}"; do
    # With KRaft the id must be the configured one (no registration list to read): the metadata lists it so.
    if [[ -n $ZK_CONNECT ]]; then id='[0-9]*'; else id=${ids[$i]}; fi
    grep -q "^${endpoints[$i]} (id: $id " <<<"$out" || missing+="${endpoints[$i]} "
  done
  [[ -z $missing ]]
}
wait_until "$limit" "every broker answers ApiVersions" all_answer || die "no ApiVersions answer from: ${missing% }"
[[ -n $ZK_CONNECT ]] || registered=$want

# Replicas on brokers that are no longer configured: "<ids> <partitions>", or "- 0".
described=""
describe_topics() { described=$("$(kafka_bin kafka-topics.sh)" --bootstrap-server "${BROKER_ENDPOINTS// /,}" --command-config "$CLIENT_CONFIG" --describe 2>/dev/null); }
wait_until "$limit" "topics described" describe_topics || die "could not describe the topics through ${BROKER_ENDPOINTS// /,}"
read -r stray partitions < <(replica_lists <<<"$described" | awk -v keep=" $BROKER_IDS " '
  {
    n = split($0, r, ","); hit = 0
    for (i = 1; i <= n; i++) if (index(keep, " " r[i] " ") == 0) { s[r[i]] = 1; hit = 1 }
    parts += hit
  }
  END { out = ""; for (id in s) out = out (out == "" ? "" : ",") id; print (out == "" ? "-" : out), parts + 0 }')
if [[ $stray != - ]]; then
  stray=$(tr ',' '\n' <<<"$stray" | sort -n | paste -sd, -)
  die "broker(s) $stray still hold replicas of $partitions partition(s) but are not among the configured brokers [$want]" \
    "(kafka:brokerCount lowered, or a host removed from kafka:hosts): removing them now would lose those replicas." \
    "Fix: move every partition (internal topics too) onto brokers $want first, with kafka-reassign-partitions.sh" \
    "--generate --broker-list $want, then --execute and --verify until done, and run pulumi up again; or restore kafka:brokerCount"
fi
echo "brokers ok: ids [$registered] registered ${ZK_CONNECT:+under $ZK_CONNECT}${ZK_CONNECT:-in the KRaft metadata}; ApiVersions answered by $BROKER_ENDPOINTS; no replica outside [$want]"
