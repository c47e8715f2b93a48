#!/usr/bin/env bash
# zookeeper-server-start.sh [-daemon] zookeeper.properties
# Runs ZooKeeper (org.apache.zookeeper.server.quorum.QuorumPeerMain) through kafka-run-class.sh.
# Defaults, as in the Apache release: KAFKA_HEAP_OPTS="-Xmx512M -Xms512M",
# log4j config config/log4j.properties, EXTRA_ARGS="-name zookeeper -loggc".
set -euo pipefail
# shellcheck source=server-lib.sh
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"
start_server org.apache.zookeeper.server.quorum.QuorumPeerMain zookeeper "-Xmx512M -Xms512M" "[-daemon] zookeeper.properties" "$@"
