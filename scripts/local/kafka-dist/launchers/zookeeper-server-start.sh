#!/usr/bin/env bash
# zookeeper-server-start.sh [-daemon] zookeeper.properties
# Runs ZooKeeper (org.apache.zookeeper.server.quorum.QuorumPeerMain) through kafka-run-class.sh.
# Defaults, as in the Apache release: KAFKA_HEAP_OPTS="-Xmx512M -Xms512M",
# log4j config config/log4j.properties, EXTRA_ARGS="-name zookeeper -loggc".
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] zookeeper.properties" >&2
  exit 1
fi
bin_dir=$(dirname "$(readlink -f "$0")")
base_dir=$(cd "$bin_dir/.." && pwd)

export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:$base_dir/config/log4j.properties}
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512M -Xms512M}

read -r -a extra <<<"${EXTRA_ARGS-"-name zookeeper -loggc"}"
if [ "$1" = "-daemon" ]; then
  extra=(-daemon "${extra[@]}")
  shift
fi
exec "$bin_dir/kafka-run-class.sh" "${extra[@]}" org.apache.zookeeper.server.quorum.QuorumPeerMain "$@"
