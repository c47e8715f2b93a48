#!/usr/bin/env bash
# Phase `smoke` (once, last): a replicated topic can be created, written with acks=all and read back.
# Env:
#   BOOTSTRAP      comma-separated internal host:port of the brokers
#   TOPIC          prefix of the topic created (and deleted again) for the test
#   PARTITIONS     its partitions
#   REPLICATION    its replication factor
#   MIN_ISR        its min.insync.replicas
#   CLIENT_CONFIG  client properties the tools log in with (the admin principal's)
#   KAFKA_HOME     the Kafka install whose tools run the test
#   TOOLS_LOG_DIR  LOG_DIR for those tools
#   SMOKE_TIMEOUT  seconds for producing and for consuming (default 120)
#   RERUN_DIGEST   not read: a digest of every broker's configuration, in the command text so that Pulumi runs the
#                  test again whenever a broker's configuration changes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${BOOTSTRAP:?}" "${TOPIC:?}" "${PARTITIONS:?}" "${REPLICATION:?}" "${MIN_ISR:?}" "${CLIENT_CONFIG:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
limit=${SMOKE_TIMEOUT:-120}
start=$SECONDS
nonce="$(date +%s)-$RANDOM$RANDOM"
topic="${TOPIC}_${nonce}"
topics() { "$(kafka_bin kafka-topics.sh)" --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" "$@"; }
# A fresh topic each run proves creation works; it is deleted again however the run ends.
# shellcheck disable=SC2016 # expands when the step ends
on_exit 'topics --delete --topic "$topic" >/dev/null 2>&1 || log "could not delete $topic"'
topics --create --topic "$topic" --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
  --config min.insync.replicas="$MIN_ISR" >/dev/null
printf 'smoke-%s\n' "$nonce" | timeout "$limit" "$(kafka_bin kafka-console-producer.sh)" --bootstrap-server "$BOOTSTRAP" \
  --producer.config "$CLIENT_CONFIG" --topic "$topic" --producer-property acks=all >/dev/null || die "producing to $topic failed"
out=$(timeout "$limit" "$(kafka_bin kafka-console-consumer.sh)" --bootstrap-server "$BOOTSTRAP" --consumer.config "$CLIENT_CONFIG" --topic "$topic" \
  --from-beginning --max-messages 1 --timeout-ms $((limit * 1000)) 2>/dev/null || true)
# Kafka 4.x's consumer prints notices about its deprecated options on stdout too: the message is the line that is not one.
seen=$(grep -v -E '^Option .* is deprecated' <<<"$out" || true)
[[ $seen == "smoke-$nonce" ]] || die "message smoke-$nonce written to $topic was not read back (got: ${seen:-nothing})"
echo "smoke test ok: topic with replication $REPLICATION and min.insync.replicas $MIN_ISR created, written with acks=all and read back in $((SECONDS - start))s"
