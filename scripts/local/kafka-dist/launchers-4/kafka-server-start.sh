#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override property=value]...
# Runs a KRaft broker and/or controller (kafka.Kafka; process.roles in the properties) through kafka-run-class.sh.
# Defaults, as in the Apache 4.x release: KAFKA_HEAP_OPTS="-Xmx1G -Xms1G", log4j 2 config config/log4j2.yaml,
# EXTRA_ARGS="-name kafkaServer -loggc". The log directories must be formatted first (kafka-storage.sh format).
set -euo pipefail
# shellcheck source=server-lib.sh
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"
start_server kafka.Kafka kafkaServer "-Xmx1G -Xms1G" "[-daemon] server.properties [--override property=value]*" "$@"
