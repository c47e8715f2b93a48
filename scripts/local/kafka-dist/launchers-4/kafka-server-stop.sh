#!/usr/bin/env bash
# kafka-server-stop.sh: sends SIGNAL (default TERM) to every java process on this host whose main class is
# kafka.Kafka (brokers and controllers alike). The 4.x release's --process-role/--node-id filters are not offered.
set -euo pipefail
# shellcheck source=server-lib.sh
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"
stop_server kafka.Kafka kafka
