#!/usr/bin/env bash
# Smoke test of a Kafka tarball (assembled by ../kafka-dist.sh, or an Apache release) on loopback:
#
#   scripts/local/kafka-dist/smoke-test.sh <kafka_<scala>-<version>.tgz> [<.sha512 file>]
#
# Unpacks into a temp dir and starts two servers with the tarball's launchers, by the version in the name:
#   3.x  ZooKeeper (127.0.0.1:$ZK_PORT, default 12181) and one broker (PLAINTEXT://127.0.0.1:$BROKER_PORT,
#        default 19092, chroot /kafka); checks srvr answers "Mode: standalone" and the broker registers in ZooKeeper.
#   4.x  one KRaft controller (node 3001, CONTROLLER://127.0.0.1:$CONTROLLER_PORT, default 19093, formatted with
#        --initial-controllers and a directory id from kafka-storage.sh random-uuid) and one broker (node 1,
#        PLAINTEXT://127.0.0.1:$BROKER_PORT), both reaching the quorum through controller.quorum.bootstrap.servers;
#        checks metadata-quorum describe --status names LeaderId 3001, features describe lists metadata.version,
#        both servers log to stdout and server.log through log4j 2 without SLF4J/log4j warnings.
# Then, for both: broker-api-versions answers, a 3-partition topic can be created, 100 keyed lines produced are
# consumed back, the verifiable producer gets 100 acks, and every generated launcher starts.
# Both servers are stopped by PID (TERM, bounded wait, then KILL); the temp dir is removed.
# With a .sha512 file and gpg installed, also compares it byte-for-byte with gpg --print-md.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 <tgz> [sha512-file]" >&2; exit 2; }
tgz=$(readlink -f "$1")
sha_file=${2:-}
zk_port=${ZK_PORT:-12181}
broker_port=${BROKER_PORT:-19092}
controller_port=${CONTROLLER_PORT:-19093}
bootstrap=127.0.0.1:$broker_port
[[ $(basename "$tgz") =~ -([0-9]+)\.[0-9]+\.[0-9]+\.tgz$ ]] || { echo "smoke: no version in the name $tgz" >&2; exit 2; }
major=${BASH_REMATCH[1]}

work=$(mktemp -d "${TMPDIR:-/tmp}/kafka-smoke.XXXXXX")
zk_pid=""
ctl_pid=""
broker_pid=""
failures=0

say() { echo "smoke: $*" >&2; }
ok() { echo "smoke: ok   $*" >&2; }
fail() { echo "smoke: FAIL $*" >&2; failures=$((failures + 1)); }

stop_pid() { # stop_pid PID NAME: TERM, wait up to 30 s, then KILL
  local pid=$1 what=$2 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || { say "$what (pid $pid) stopped"; return 0; }
    sleep 0.5
  done
  say "$what (pid $pid) still running after 30 s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$broker_pid" broker
  stop_pid "$zk_pid" zookeeper
  stop_pid "$ctl_pid" controller
  if [ "${KEEP_SMOKE_DIR:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [ "$major" -ge 4 ]; then ports=("$controller_port" "$broker_port"); else ports=("$zk_port" "$broker_port"); fi
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "smoke: port $port on 127.0.0.1 is already in use" >&2
    exit 1
  fi
done

tar -xzf "$tgz" -C "$work"
home=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kafka_*' | head -n 1)
[ -n "$home" ] || { echo "smoke: no kafka_* directory in $tgz" >&2; exit 1; }
bin=$home/bin
say "unpacked $(basename "$home") into $work"

if [ "$major" -lt 4 ]; then
  mkdir -p "$work/zk-data" "$work/kafka-data" "$work/logs-zk" "$work/logs-broker"
  cat >"$work/zookeeper.properties" <<EOF
dataDir=$work/zk-data
clientPort=$zk_port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,mntr
EOF
  cat >"$work/server.properties" <<EOF
broker.id=1
listeners=PLAINTEXT://127.0.0.1:$broker_port
advertised.listeners=PLAINTEXT://127.0.0.1:$broker_port
zookeeper.connect=127.0.0.1:$zk_port/kafka
log.dirs=$work/kafka-data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF

  export KAFKA_HEAP_OPTS="-Xmx384M"
  LOG_DIR=$work/logs-zk "$bin/zookeeper-server-start.sh" "$work/zookeeper.properties" >"$work/zk.out" 2>&1 &
  zk_pid=$!
  say "zookeeper pid $zk_pid"

  four_letter() { # four_letter CMD: sends a ZooKeeper four-letter word, prints the answer
    local answer
    # shellcheck disable=SC2016 # $1/$2 belong to the inner bash
    answer=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf %s "$2" >&3; cat <&3' _ "$zk_port" "$1" 2>/dev/null) || true
    printf '%s\n' "$answer"
  }
  srvr=""
  for ((i = 0; i < 60; i++)); do
    srvr=$(four_letter srvr)
    case $srvr in *"Mode: standalone"*) break ;; esac
    kill -0 "$zk_pid" 2>/dev/null || break
    sleep 0.5
  done
  if [[ $srvr == *"Mode: standalone"* ]]; then ok "srvr: $(grep -m1 '^Zookeeper version' <<<"$srvr")"; else
    fail "zookeeper did not answer srvr with Mode: standalone"; tail -n 30 "$work/zk.out" >&2; exit 1; fi
  if [ "$(four_letter ruok)" = imok ]; then ok "ruok -> imok"; else fail "ruok"; fi

  unset KAFKA_HEAP_OPTS
  LOG_DIR=$work/logs-broker KAFKA_HEAP_OPTS="-Xmx512M -Xms512M" \
    "$bin/kafka-server-start.sh" "$work/server.properties" >"$work/broker.out" 2>&1 &
  broker_pid=$!
  say "broker pid $broker_pid"

  ids=""
  for ((i = 0; i < 90; i++)); do
    ids=$(timeout 30 "$bin/zookeeper-shell.sh" "127.0.0.1:$zk_port/kafka" ls /brokers/ids 2>/dev/null | tail -n 1) || true
    [ "$ids" = "[1]" ] && break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 1
  done
  if [ "$ids" = "[1]" ]; then ok "zookeeper-shell ls /brokers/ids -> $ids"; else
    fail "broker not registered (got '$ids')"; tail -n 40 "$work/broker.out" >&2; exit 1; fi
else
  # KRaft: one controller (formatted as the quorum's only initial voter) and one broker.
  mkdir -p "$work/ctl-data" "$work/kafka-data" "$work/logs-ctl" "$work/logs-broker"
  cluster_id=$("$bin/kafka-storage.sh" random-uuid 2>"$work/storage.err") || { cat "$work/storage.err" >&2; exit 1; }
  dir_id=$("$bin/kafka-storage.sh" random-uuid 2>"$work/storage.err") || { cat "$work/storage.err" >&2; exit 1; }
  say "cluster id $cluster_id, controller directory id $dir_id"
  cat >"$work/ctl.properties" <<EOF
process.roles=controller
node.id=3001
listeners=CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=CONTROLLER://127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
log.dirs=$work/ctl-data
EOF
  cat >"$work/server.properties" <<EOF
process.roles=broker
node.id=1
listeners=PLAINTEXT://127.0.0.1:$broker_port
advertised.listeners=PLAINTEXT://127.0.0.1:$broker_port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
log.dirs=$work/kafka-data
num.partitions=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF

  if out=$("$bin/kafka-storage.sh" format -t "$cluster_id" -c "$work/ctl.properties" \
    --initial-controllers "3001@127.0.0.1:$controller_port:$dir_id" 2>&1) &&
    grep -qx "directory.id=$dir_id" "$work/ctl-data/meta.properties"; then
    ok "controller formatted with --initial-controllers: $(tail -n 1 <<<"$out")"
  else fail "controller format: $out"; exit 1; fi
  if out=$("$bin/kafka-storage.sh" format -t "$cluster_id" -c "$work/server.properties" 2>&1) &&
    grep -qx "cluster.id=$cluster_id" "$work/kafka-data/meta.properties"; then
    ok "broker formatted: $(tail -n 1 <<<"$out")"
  else fail "broker format: $out"; exit 1; fi

  LOG_DIR=$work/logs-ctl KAFKA_HEAP_OPTS="-Xmx384M" \
    "$bin/kafka-server-start.sh" "$work/ctl.properties" >"$work/ctl.out" 2>&1 &
  ctl_pid=$!
  say "controller pid $ctl_pid"

  quorum=""
  for ((i = 0; i < 60; i++)); do
    quorum=$(timeout 30 "$bin/kafka-metadata-quorum.sh" --bootstrap-controller "127.0.0.1:$controller_port" \
      describe --status 2>/dev/null) || true
    grep -Eq '^LeaderId:[[:space:]]+3001$' <<<"$quorum" && break
    kill -0 "$ctl_pid" 2>/dev/null || break
    sleep 1
  done
  if grep -Eq '^LeaderId:[[:space:]]+3001$' <<<"$quorum"; then
    ok "metadata-quorum describe --status: LeaderId 3001, $(grep -E '^CurrentVoters:' <<<"$quorum" | tr -s '\t ' ' ')"
  else fail "controller 3001 is not the quorum leader: ${quorum:-no answer}"; tail -n 40 "$work/ctl.out" >&2; exit 1; fi

  LOG_DIR=$work/logs-broker KAFKA_HEAP_OPTS="-Xmx512M -Xms512M" \
    "$bin/kafka-server-start.sh" "$work/server.properties" >"$work/broker.out" 2>&1 &
  broker_pid=$!
  say "broker pid $broker_pid"

  # The broker logs "Kafka Server started" (to stdout, like every server log line) once it is unfenced.
  for ((i = 0; i < 90; i++)); do
    grep -q 'Kafka Server started' "$work/broker.out" && break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 1
  done
  if grep -q 'Kafka Server started' "$work/broker.out"; then ok "broker started (stdout: $(grep -m1 'Kafka Server started' "$work/broker.out"))"
  else fail "broker did not start"; tail -n 40 "$work/broker.out" >&2; exit 1; fi

  if out=$(timeout 60 "$bin/kafka-features.sh" --bootstrap-server "$bootstrap" describe 2>&1) &&
    grep -Eq '^Feature: metadata\.version[[:space:]].*FinalizedVersionLevel: [0-9]' <<<"$out"; then
    ok "features describe: $(grep -E '^Feature: metadata\.version' <<<"$out" | tr -s '\t ' ' ')"
  else fail "features describe: $out"; fi
  if out=$(timeout 60 "$bin/kafka-metadata-quorum.sh" --bootstrap-server "$bootstrap" describe --replication 2>&1) &&
    grep -Eq '^1[[:space:]].*Observer' <<<"$out" && grep -Eq '^3001[[:space:]].*Leader' <<<"$out"; then
    ok "metadata-quorum describe --replication (through the broker): 3001 Leader, 1 Observer"
  else fail "metadata-quorum describe --replication: $out"; fi
fi

if out=$(timeout 60 "$bin/kafka-broker-api-versions.sh" --bootstrap-server "$bootstrap" 2>&1) &&
  grep -q "^127.0.0.1:$broker_port (id: 1" <<<"$out"; then
  ok "broker-api-versions: $(grep -c 'usable' <<<"$out") APIs listed"
else fail "broker-api-versions: $out"; fi

topic=smoke
if timeout 60 "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --topic "$topic" \
  --partitions 3 --replication-factor 1 >"$work/topics.out" 2>&1 &&
  desc=$(timeout 60 "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$topic" 2>&1) &&
  grep -q 'PartitionCount: 3' <<<"$desc"; then
  ok "topic $topic created with 3 partitions"
else fail "topic create/describe: $(cat "$work/topics.out") ${desc:-}"; fi

for ((i = 0; i < 100; i++)); do echo "key$((i % 7)):value-$i"; done >"$work/input.txt"
if timeout 60 "$bin/kafka-console-producer.sh" --bootstrap-server "$bootstrap" --topic "$topic" \
  --property parse.key=true --property key.separator=: <"$work/input.txt" >"$work/producer.out" 2>&1; then
  ok "console producer sent 100 keyed lines"
else fail "console producer: $(tail -n 20 "$work/producer.out")"; fi

# 4.x: the KIP-848 consumer group protocol (without it the 4.3 console consumer advertises it on stdout), and
# the option names of releases that deprecated --property/--consumer-property (with a notice on stdout).
consumer_args=(--property print.key=true --property key.separator=:)
if [ "$major" -ge 4 ]; then
  consumer_help=$(timeout 60 "$bin/kafka-console-consumer.sh" --help 2>&1) || true
  if grep -q -- '--formatter-property' <<<"$consumer_help"; then
    consumer_args=(--command-property group.protocol=consumer --formatter-property print.key=true --formatter-property key.separator=:)
  else consumer_args+=(--consumer-property group.protocol=consumer); fi
fi
timeout 90 "$bin/kafka-console-consumer.sh" --bootstrap-server "$bootstrap" --topic "$topic" \
  --from-beginning --max-messages 100 --timeout-ms 30000 \
  "${consumer_args[@]}" >"$work/consumed.txt" 2>"$work/consumer.err" || true
if [ "$(sort "$work/consumed.txt")" = "$(sort "$work/input.txt")" ]; then
  ok "console consumer read the same 100 key:value lines back"
else fail "consumed $(wc -l <"$work/consumed.txt") lines, differing from input; $(tail -n 5 "$work/consumer.err")"; fi

offsets=$(timeout 60 "$bin/kafka-get-offsets.sh" --bootstrap-server "$bootstrap" --topic "$topic" 2>/dev/null) || true
total=$(awk -F: '{ s += $3 } END { print s + 0 }' <<<"$offsets")
if [ "$total" = 100 ]; then ok "get-offsets: end offsets sum to 100"; else fail "get-offsets: $offsets"; fi

timeout 90 "$bin/kafka-verifiable-producer.sh" --bootstrap-server "$bootstrap" --topic "$topic" \
  --max-messages 100 --acks -1 >"$work/verifiable.out" 2>"$work/verifiable.err" || true
acked=$(grep -c '"name":"producer_send_success"' "$work/verifiable.out" || true)
if [ "$acked" = 100 ] && grep -q '"name":"tool_data"' "$work/verifiable.out"; then
  ok "verifiable producer: 100 producer_send_success JSON events, e.g. $(grep -m1 producer_send_success "$work/verifiable.out")"
else fail "verifiable producer: $acked acks; $(tail -n 5 "$work/verifiable.err")"; fi

if timeout 60 "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --entity-type topics \
  --entity-name "$topic" --alter --add-config retention.ms=3600000 >/dev/null 2>&1 &&
  timeout 60 "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --entity-type topics \
    --entity-name "$topic" --describe 2>/dev/null | grep -q 'retention.ms=3600000'; then
  ok "kafka-configs alter/describe"
else fail "kafka-configs"; fi

if perf=$(timeout 90 "$bin/kafka-producer-perf-test.sh" --topic "$topic" --num-records 1000 --record-size 100 \
  --throughput -1 --producer-props "bootstrap.servers=$bootstrap" acks=all 2>&1 | tail -n 1) &&
  [[ $perf == "1000 records sent"* ]]; then ok "producer-perf-test: $perf"; else fail "producer-perf-test: ${perf:-}"; fi

# Every launcher that takes --version must start its main class (catches wrong class names).
for launcher in "$bin"/kafka-*.sh; do
  case $(basename "$launcher") in
    kafka-run-class.sh | kafka-server-start.sh | kafka-server-stop.sh) continue ;;
  esac
  if v=$(timeout 60 "$launcher" --version 2>&1) && grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+' <<<"$v"; then :
  elif grep -Eq 'ClassNotFoundException|Could not find or load main class|NoClassDefFoundError' <<<"$v"; then
    fail "$(basename "$launcher"): $(head -n 2 <<<"$v")"
  fi
done
ok "every kafka-*.sh tool launcher starts its main class"

if [ "$major" -lt 4 ]; then
  if [ -s "$work/logs-broker/server.log" ]; then ok "broker log4j: logs-broker/server.log written"; else fail "no server.log"; fi
  if grep -q 'SLF4J: .*multiple\|log4j:WARN No appenders' "$work/broker.out" "$work/zk.out"; then
    fail "logging backend warnings in server output"
  fi
  if [ -s "$work/logs-broker/kafkaServer-gc.log" ]; then ok "-loggc: kafkaServer-gc.log written"; else fail "no GC log"; fi
else
  for node in ctl broker; do
    if [ -s "$work/logs-$node/server.log" ] && grep -q '\] INFO ' "$work/$node.out"; then
      ok "$node log4j 2: INFO lines on stdout and in logs-$node/server.log"
    else fail "$node: no INFO lines on stdout or no logs-$node/server.log"; fi
    if [ -s "$work/logs-$node/kafkaServer-gc.log" ]; then ok "$node -loggc: kafkaServer-gc.log written"; else fail "$node: no GC log"; fi
  done
  # SLF4J without (or with several) bindings, log4j 2 without a configuration or with a broken one.
  if warnings=$(grep -h 'SLF4J: \|StatusLogger\|No Log4j 2 configuration\|log4j:WARN' "$work/ctl.out" "$work/broker.out" \
    "$work/consumer.err" "$work/verifiable.err"); then
    fail "logging backend warnings: $(head -n 3 <<<"$warnings")"
  else ok "no SLF4J/log4j warnings in server or tool output"; fi
fi

if [ -n "$sha_file" ]; then
  if command -v gpg >/dev/null 2>&1; then
    gnupg_home=$work/gnupg
    mkdir -m 700 "$gnupg_home"
    if (cd "$(dirname "$tgz")" && GNUPGHOME=$gnupg_home gpg --print-md SHA512 "$(basename "$tgz")" 2>/dev/null) | cmp -s - "$sha_file"; then
      ok "$(basename "$sha_file") is byte-identical to gpg --print-md SHA512"
    else fail "$(basename "$sha_file") differs from gpg --print-md SHA512"; fi
  else say "gpg not installed: .sha512 format not checked"; fi
fi

stop_pid "$broker_pid" broker
broker_pid=""
stop_pid "$zk_pid" zookeeper
zk_pid=""
stop_pid "$ctl_pid" controller
ctl_pid=""

if [ "$failures" -eq 0 ]; then say "all checks passed"; else say "$failures check(s) failed"; exit 1; fi
