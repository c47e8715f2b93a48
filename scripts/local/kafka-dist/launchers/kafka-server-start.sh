#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override property=value]...
# Runs the broker (kafka.Kafka) through kafka-run-class.sh. Defaults, as in the Apache release:
# KAFKA_HEAP_OPTS="-Xmx1G -Xms1G", log4j config config/log4j.properties, EXTRA_ARGS="-name kafkaServer -loggc".
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
  exit 1
fi
bin_dir=$(dirname "$(readlink -f "$0")")
base_dir=$(cd "$bin_dir/.." && pwd)

export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:$base_dir/config/log4j.properties}
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}

# EXTRA_ARGS set to "" disables the defaults (":-" is deliberately not used).
read -r -a extra <<<"${EXTRA_ARGS-"-name kafkaServer -loggc"}"
if [ "$1" = "-daemon" ]; then
  extra=(-daemon "${extra[@]}")
  shift
fi
exec "$bin_dir/kafka-run-class.sh" "${extra[@]}" kafka.Kafka "$@"
