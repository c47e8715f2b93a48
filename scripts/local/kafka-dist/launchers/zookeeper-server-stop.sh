#!/usr/bin/env bash
# zookeeper-server-stop.sh: sends SIGNAL (default TERM) to every java process on this host whose
# main class is org.apache.zookeeper.server.quorum.QuorumPeerMain, like the Apache script.
set -euo pipefail

signal=${SIGNAL:-TERM}
pids=$(ps ax -o pid= -o args= | awk '$2 ~ /(^|\/)java$/ { for (i = 3; i <= NF; i++) if ($i == "org.apache.zookeeper.server.quorum.QuorumPeerMain") { print $1; break } }')
if [ -z "$pids" ]; then
  echo "No zookeeper server to stop" >&2
  exit 1
fi
# shellcheck disable=SC2086 # one PID per word
kill -s "$signal" $pids
