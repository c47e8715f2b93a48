#!/usr/bin/env bash
# The consumer lag collector (kafka:monitoring; run by a systemd timer on the monitoring host, not a step): brokers do
# not export consumer lag, so Kafka's kafka-consumer-groups describes every group, and the lag per group and topic
# (the sum over its partitions) goes to the node exporter's textfile collector as kafka_consumergroup_lag, with the time
# of the collection. The file is replaced whole (never half written); a failed describe leaves the last one, whose
# time then grows old (the alert KafkaLagCollectorStale).
# Env:
#   BOOTSTRAP      the brokers' internal host:port list
#   CLIENT_CONFIG  client properties of a principal that may describe every group (the admin's)
#   KAFKA_HOME     the Kafka release whose tools run
#   LOG_DIR        the tools' log directory
#   TEXTFILE       the .prom file to write (in the node exporter's textfile directory)
#   TIMEOUT_MS     how long the tool waits for each of its calls (its own default, 5 s, is less than a TLS login takes
#                  on a busy host)
set -euo pipefail
: "${BOOTSTRAP:?}" "${CLIENT_CONFIG:?}" "${KAFKA_HOME:?}" "${LOG_DIR:?}" "${TEXTFILE:?}" "${TIMEOUT_MS:?}"
export LOG_DIR KAFKA_HEAP_OPTS=-Xmx128m KAFKA_JVM_PERFORMANCE_OPTS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1" KAFKA_JMX_OPTS="-Dkafka-cluster.jmx=off"
mkdir -p "$LOG_DIR"
out=$("$KAFKA_HOME/bin/kafka-consumer-groups.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" \
  --describe --all-groups --timeout "$TIMEOUT_MS" 2>/dev/null) || { echo "kafka-consumer-groups failed" >&2; exit 1; }
tmp=$(mktemp "$TEXTFILE.XXXXXX")
if ! {
  echo '# HELP kafka_consumergroup_lag Messages a consumer group is behind, summed over the partitions of a topic.'
  echo '# TYPE kafka_consumergroup_lag gauge'
  # Columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...; a partition without a committed offset has "-".
  awk '$1 != "GROUP" && NF >= 6 && $6 ~ /^[0-9]+$/ { lag[$1 "\t" $2] += $6 }
    END { for (k in lag) { split(k, a, "\t"); printf "kafka_consumergroup_lag{group=\"%s\",topic=\"%s\"} %d\n", a[1], a[2], lag[k] } }' <<<"$out" | sort
  echo '# HELP kafka_consumergroup_lag_collected_timestamp_seconds When the consumer lag was last collected.'
  echo '# TYPE kafka_consumergroup_lag_collected_timestamp_seconds gauge'
  echo "kafka_consumergroup_lag_collected_timestamp_seconds $(date +%s)"
} >"$tmp"; then
  rm -f "$tmp"
  exit 1
fi
chmod 0644 "$tmp"
mv -f "$tmp" "$TEXTFILE"
