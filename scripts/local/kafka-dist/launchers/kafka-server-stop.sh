#!/usr/bin/env bash
# kafka-server-stop.sh: sends SIGNAL (default TERM) to every java process on this host whose
# main class is kafka.Kafka, like the Apache script (ZooKeeper mode: no --process-role/--node-id).
set -euo pipefail
# shellcheck source=server-lib.sh
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"
stop_server kafka.Kafka kafka
