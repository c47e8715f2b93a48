#!/usr/bin/env bash
# The quick start's main job, on this machine as root:
#   scripts/local-cluster.sh up [stack]    check the stack config, install what is needed (npm packages, the Pulumi
#                                          engine), boot 3 local hosts, `pulumi up` the stack (default `local`, the
#                                          design card's ZooKeeper cluster; `local-kraft`: a KRaft cluster on Kafka 4.x),
#                                          print the outputs and do a produce/consume round trip against them
#   scripts/local-cluster.sh down [stack]  `pulumi destroy` the stack and take the hosts down
# The hosts are the `local` lab of scripts/local/hosts.sh (kc1..kc3 on kcbr0); the test suites use a lab of their
# own, so they never touch this cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
STACK=${2:-local}
case $STACK in local | local-kraft) ;; *) echo "unknown stack $STACK (local, local-kraft)" >&2; exit 2 ;; esac
export KAFKA_CLUSTER_LAB=local

up() {
  local t0=$SECONDS
  scripts/setup.sh
  # A bad `kafka:` value fails here, in seconds, before anything is built or booted (the stack points at the
  # local hosts' SSH key, so that is made first: one ssh-keygen).
  scripts/local/hosts.sh key >/dev/null
  # It prints the Kafka release the stack runs (its kafka:kafkaVersion, else the default of its kafka:metadata).
  local version
  version=$(TS_NODE_TRANSPILE_ONLY=1 npx ts-node scripts/check-config.ts "$STACK" --kafka-version)
  # shellcheck source=scripts/env.sh
  . scripts/env.sh
  local dist bootstrap tmp
  dist=$(scripts/local/kafka-dist.sh "$version" | tail -n1)
  scripts/local/hosts.sh up 3
  # A run killed half-way left its lock on the stack: removed when its process is gone (a running one keeps it).
  TS_NODE_TRANSPILE_ONLY=1 npx ts-node scripts/clear-dead-locks.ts "$STACK"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  pulumi stack select --create "$STACK" >/dev/null
  echo "== pulumi up --stack $STACK (pulumi $(pulumi version), command provider: $KAFKA_CLUSTER_COMMAND_PROVIDER) =="
  pulumi up --yes --skip-preview --stack "$STACK"
  echo
  echo "== pulumi stack output =="
  pulumi stack output --stack "$STACK"
  bootstrap=$(pulumi stack output bootstrapServers --stack "$STACK")
  echo
  echo "== round trip against $bootstrap =="
  tar -xzf "$dist" -C "$tmp"
  local bin
  bin=$(echo "$tmp"/kafka_*/bin)
  # No JMX agent in these short tool runs (Kafka's launcher starts one whenever KAFKA_JMX_OPTS is empty).
  export LOG_DIR=$tmp/logs KAFKA_HEAP_OPTS=-Xmx256m KAFKA_JMX_OPTS=-Dkafka-cluster.jmx=off
  # The stack's ready client.properties (TLS with the stack's CA, SCRAM): admin creates the topic, the client user
  # "app" writes and reads it (its ACLs allow that topic only).
  (umask 077 && pulumi stack output clientProperties --show-secrets --json --stack "$STACK" >"$tmp/client.json")
  for user in admin app; do
    (umask 077 && node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' \
      "$tmp/client.json" "$user" >"$tmp/$user.properties")
  done
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --command-config "$tmp/admin.properties" --create --if-not-exists \
    --topic quickstart --partitions 3 --replication-factor 3
  local msg
  msg="hello from the quick start, $(date -u +%FT%TZ)"
  printf '%s\n' "$msg" | "$bin/kafka-console-producer.sh" --bootstrap-server "$bootstrap" --producer.config "$tmp/app.properties" \
    --topic quickstart --producer-property acks=all
  if "$bin/kafka-console-consumer.sh" --bootstrap-server "$bootstrap" --consumer.config "$tmp/app.properties" --topic quickstart \
      --group quickstart-check --from-beginning --timeout-ms 20000 2>/dev/null | grep -Fx -- "$msg"; then
    echo "round trip ok: user app produced with acks=all and consumed back over TLS + SCRAM on topic quickstart (replication 3)"
  else
    echo "round trip FAILED: the message was not consumed back" >&2
    return 1
  fi
  echo "done in $((SECONDS - t0)) s; tear down with: scripts/local-cluster.sh down"
}

down() {
  scripts/setup.sh
  # shellcheck source=scripts/env.sh
  . scripts/env.sh
  TS_NODE_TRANSPILE_ONLY=1 npx ts-node scripts/clear-dead-locks.ts "$STACK"
  if pulumi stack select "$STACK" >/dev/null 2>&1; then
    pulumi destroy --yes --skip-preview --stack "$STACK"
  fi
  scripts/local/hosts.sh down
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down [local|local-kraft]" >&2; exit 2 ;;
esac
