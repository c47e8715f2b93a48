#!/usr/bin/env bash
# Step 7: a replicated topic can be created, written with acks=all and read back.
# Env: BOOTSTRAP, TOPIC, PARTITIONS, REPLICATION, MIN_ISR, SMOKE_TIMEOUT (120)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${BOOTSTRAP:?}" "${TOPIC:?}" "${PARTITIONS:?}" "${REPLICATION:?}" "${MIN_ISR:?}"
limit=${SMOKE_TIMEOUT:-120}
start=$SECONDS
"$(kafka_bin kafka-topics.sh)" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$TOPIC" \
  --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
  --config min.insync.replicas="$MIN_ISR" --config retention.ms=86400000 >/dev/null
nonce="smoke-$(date +%s)-$RANDOM$RANDOM"
printf '%s\n' "$nonce" | timeout "$limit" "$(kafka_bin kafka-console-producer.sh)" --bootstrap-server "$BOOTSTRAP" \
  --topic "$TOPIC" --producer-property acks=all >/dev/null || die "producing to $TOPIC failed"
seen=$(timeout "$limit" "$(kafka_bin kafka-console-consumer.sh)" --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" \
  --from-beginning --timeout-ms $((limit * 1000)) 2>/dev/null | grep -c -x "$nonce" || true)
(( seen >= 1 )) || die "message $nonce written to $TOPIC was not read back"
replicas=$("$(kafka_bin kafka-topics.sh)" --bootstrap-server "$BOOTSTRAP" --describe --topic "$TOPIC" | sed -n 's/.*ReplicationFactor: *\([0-9]*\).*/\1/p' | head -n1)
echo "smoke test ok: topic $TOPIC (replication ${replicas}, min.insync.replicas $MIN_ISR) round trip with acks=all in $((SECONDS - start))s"
