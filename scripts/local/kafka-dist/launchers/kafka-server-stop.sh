#!/usr/bin/env bash
# kafka-server-stop.sh: sends SIGNAL (default TERM) to every java process on this host whose
# main class is kafka.Kafka, like the Apache script (ZooKeeper mode: no --process-role/--node-id).
set -euo pipefail

signal=${SIGNAL:-TERM}
pids=$(ps ax -o pid= -o args= | awk '$2 ~ /(^|\/)java$/ { for (i = 3; i <= NF; i++) if ($i == "kafka.Kafka") { print $1; break } }')
if [ -z "$pids" ]; then
  echo "No kafka server to stop" >&2
  exit 1
fi
# shellcheck disable=SC2086 # one PID per word
kill -s "$signal" $pids
