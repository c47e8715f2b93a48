#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override property=value]...
# Runs the broker (kafka.Kafka) through kafka-run-class.sh. Defaults, as in the Apache release:
# KAFKA_HEAP_OPTS="-Xmx1G -Xms1G", log4j config config/log4j.properties, EXTRA_ARGS="-name kafkaServer -loggc".
set -euo pipefail
# shellcheck source=server-lib.sh
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"
start_server kafka.Kafka kafkaServer "-Xmx1G -Xms1G" "[-daemon] server.properties [--override property=value]*" "$@"
