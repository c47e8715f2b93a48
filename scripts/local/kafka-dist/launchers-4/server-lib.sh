#!/usr/bin/env bash
# Sourced by the server start/stop launchers of Kafka 4.x builds (KRaft only: kafka.Kafka is the broker and the
# controller; no ZooKeeper). Same interface as the 3.x server-lib.sh; the server's log config is log4j 2.

# start_server CLASS NAME HEAP USAGE ARGS...: run CLASS through kafka-run-class.sh like the release's
# *-server-start.sh: KAFKA_HEAP_OPTS defaults to HEAP, log4j 2 config config/log4j2.yaml,
# EXTRA_ARGS defaults to "-name NAME -loggc", a leading -daemon is passed on.
start_server() {
  local cls=$1 name=$2 heap=$3 usage=$4 bin_dir base_dir
  local -a extra
  shift 4
  if [ $# -lt 1 ]; then
    echo "USAGE: $0 $usage" >&2
    exit 1
  fi
  bin_dir=$(dirname "$(readlink -f "$0")")
  base_dir=$(cd "$bin_dir/.." && pwd)
  export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/log4j2.yaml}
  export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-$heap}
  # EXTRA_ARGS set to "" disables the defaults (":-" is deliberately not used).
  read -r -a extra <<<"${EXTRA_ARGS-"-name $name -loggc"}"
  if [ "$1" = "-daemon" ]; then
    extra=(-daemon "${extra[@]}")
    shift
  fi
  exec "$bin_dir/kafka-run-class.sh" "${extra[@]}" "$cls" "$@"
}

# stop_server CLASS WHAT: send SIGNAL (default TERM) to every java process on this host whose main class is
# CLASS, like the release's *-server-stop.sh; fails when there is none.
stop_server() {
  local pids
  pids=$(ps ax -o pid= -o args= | awk -v cls="$1" '$2 ~ /(^|\/)java$/ { for (i = 3; i <= NF; i++) if ($i == cls) { print $1; break } }')
  if [ -z "$pids" ]; then
    echo "No $2 server to stop" >&2
    exit 1
  fi
  # shellcheck disable=SC2086 # one PID per word
  kill -s "${SIGNAL:-TERM}" $pids
}
