#!/usr/bin/env bash
# Small launcher with the interface of Apache Kafka's bin/kafka-run-class.sh (Kafka 4.x: log4j 2):
#   kafka-run-class.sh [-daemon] [-name NAME] [-loggc] MAIN_CLASS [ARGS...]
# Environment (all optional, same meaning as in the Apache release):
#   JAVA_HOME                  java is $JAVA_HOME/bin/java, else java from PATH
#   CLASSPATH                  entries put before <base>/libs/*.jar
#   KAFKA_HEAP_OPTS            default -Xmx256M
#   KAFKA_JVM_PERFORMANCE_OPTS default G1 settings, see below
#   KAFKA_GC_LOG_OPTS          used with -loggc; default rotating GC log in LOG_DIR
#   KAFKA_JMX_OPTS, JMX_PORT, JMX_RMI_PORT
#   KAFKA_LOG4J_OPTS           default -Dlog4j2.configurationFile=<base>/config/tools-log4j2.yaml; one that names a
#                              log4j 1.x file (-Dlog4j.configuration=...) turns on log4j 2's LOG4J_COMPATIBILITY
#                              (read through the log4j-1.2-api bridge), with a warning on stderr, as the 4.x release does
#   LOG_DIR                    default <base>/logs; passed as -Dkafka.logs.dir
#   KAFKA_OPTS                 anything else, put after the classpath
# Without -daemon, java is exec'd in the foreground (the caller's PID becomes the JVM's PID).
# With -daemon, java runs under nohup with output in $LOG_DIR/<NAME>.out.
set -euo pipefail

usage() {
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
}

base_dir=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

daemon=false
name=""
loggc=false
while [ $# -gt 0 ]; do
  case $1 in
    -daemon) daemon=true; shift ;;
    -name) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
    -loggc) loggc=true; shift ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
[ -n "$name" ] || name=kafka

LOG_DIR=${LOG_DIR:-$base_dir/logs}
# Like Apache's script: a LOG_DIR that cannot be created (a user who may not write the install) is reported by mkdir
# and the tool runs anyway (tools log to the terminal).
[ -d "$LOG_DIR" ] || mkdir -p "$LOG_DIR" || true

# Classpath: caller's CLASSPATH first, then every jar in libs/ in byte order.
classpath=${CLASSPATH:-}
while IFS= read -r jar; do
  classpath=${classpath:+$classpath:}$jar
done < <(LC_ALL=C ls -1d "$base_dir"/libs/*.jar)

if [ -n "${JAVA_HOME:-}" ]; then java_bin=$JAVA_HOME/bin/java; else java_bin=java; fi

heap=${KAFKA_HEAP_OPTS:--Xmx256M}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}
jmx=${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}
if [ -n "${JMX_PORT:-}" ]; then
  jmx="$jmx -Dcom.sun.management.jmxremote.port=$JMX_PORT -Dcom.sun.management.jmxremote.rmi.port=${JMX_RMI_PORT:-$JMX_PORT}"
fi
log4j_opts=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml}
if [[ " $log4j_opts" == *" -Dlog4j.configuration="* ]]; then
  export LOG4J_COMPATIBILITY=true
  echo "DEPRECATED: KAFKA_LOG4J_OPTS names a log4j 1.x configuration; Kafka 4.x reads it in log4j 2's compatibility mode. Use a log4j 2 file (-Dlog4j2.configurationFile=...)." >&2
fi
log4j="-Dkafka.logs.dir=$LOG_DIR $log4j_opts"
gc=""
if $loggc; then
  # Java 9+ unified logging (the Apache script picks this form on Java >= 9; Kafka 4.x needs Java 17 for the broker).
  gc=${KAFKA_GC_LOG_OPTS:--Xlog:gc*:file=$LOG_DIR/$name-gc.log:time,tags:filecount=10,filesize=100M}
fi

# Option strings are split on whitespace (like the Apache script, but without glob expansion).
read -r -a heap_a <<<"$heap"
read -r -a perf_a <<<"$perf"
read -r -a gc_a <<<"$gc"
read -r -a jmx_a <<<"$jmx"
read -r -a log4j_a <<<"$log4j"
read -r -a opts_a <<<"${KAFKA_OPTS:-}"

cmd=("$java_bin" "${heap_a[@]}" "${perf_a[@]}" "${gc_a[@]}" "${jmx_a[@]}" "${log4j_a[@]}" -cp "$classpath" "${opts_a[@]}" "$@")

if $daemon; then
  nohup "${cmd[@]}" >"$LOG_DIR/$name.out" 2>&1 </dev/null &
else
  exec "${cmd[@]}"
fi
