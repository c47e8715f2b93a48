#!/usr/bin/env bash
# The quick start's main job, on this machine as root:
#   scripts/local-cluster.sh up     install what is needed, boot 3 local hosts, `pulumi up` stack `local`, print
#                                   the outputs and do a produce/consume round trip against them
#   scripts/local-cluster.sh down   `pulumi destroy` stack `local` and take the hosts down
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
STACK=local

# The Pulumi engine and the command provider plugin come from scripts/pulumi-tools.sh (found on PATH or built
# from the Go module proxy). Where they cannot be had, the same rendered plan runs over SSH without the engine
# (scripts/provision-local.ts). KAFKA_CLUSTER_ENGINE=pulumi|direct forces one.
engine() {
  case ${KAFKA_CLUSTER_ENGINE:-auto} in
    pulumi|direct) echo "$KAFKA_CLUSTER_ENGINE" ;;
    *) if scripts/pulumi-tools.sh >/dev/null 2>&1; then echo pulumi; else echo direct; fi ;;
  esac
}

up() {
  local t0=$SECONDS
  scripts/setup.sh
  npx tsc --noEmit
  local dist bootstrap tmp
  dist=$(scripts/local/kafka-dist.sh | tail -n1)
  scripts/local/hosts.sh up 3
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  if [[ $(engine) == pulumi ]]; then
    # shellcheck source=scripts/env.sh
    . scripts/env.sh
    pulumi stack select --create "$STACK" >/dev/null
    pulumi up --yes --skip-preview --stack "$STACK"
    echo
    echo "== stack outputs =="
    pulumi stack output --stack "$STACK"
    bootstrap=$(pulumi stack output bootstrapServers --stack "$STACK")
  else
    echo "note: the Pulumi engine or the command provider plugin is not available on this machine" \
      "(scripts/pulumi-tools.sh says why); running the program's rendered plan over SSH instead" >&2
    TS_NODE_TRANSPILE_ONLY=1 npx ts-node scripts/provision-local.ts up "$STACK" > "$tmp/outputs.json"
    echo
    echo "== outputs =="
    cat "$tmp/outputs.json"
    bootstrap=$(node -p "require('$tmp/outputs.json').bootstrapServers")
  fi
  echo
  echo "== round trip against $bootstrap =="
  tar -xzf "$dist" -C "$tmp"
  local bin
  bin=$(echo "$tmp"/kafka_*/bin)
  export LOG_DIR=$tmp/logs KAFKA_HEAP_OPTS=-Xmx256m
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists --topic quickstart \
    --partitions 3 --replication-factor 3
  local msg
  msg="hello from the quick start, $(date -u +%FT%TZ)"
  printf '%s\n' "$msg" | "$bin/kafka-console-producer.sh" --bootstrap-server "$bootstrap" --topic quickstart \
    --producer-property acks=all
  if "$bin/kafka-console-consumer.sh" --bootstrap-server "$bootstrap" --topic quickstart --from-beginning \
      --timeout-ms 20000 2>/dev/null | grep -Fx -- "$msg"; then
    echo "round trip ok: produced with acks=all and consumed back on topic quickstart (replication 3)"
  else
    echo "round trip FAILED: the message was not consumed back" >&2
    return 1
  fi
  echo "done in $((SECONDS - t0)) s; tear down with: scripts/local-cluster.sh down"
}

down() {
  if [[ $(engine) == pulumi ]]; then
    # shellcheck source=scripts/env.sh
    . scripts/env.sh
    if pulumi stack select "$STACK" >/dev/null 2>&1; then
      pulumi destroy --yes --skip-preview --stack "$STACK"
    fi
  elif [[ -n "$(scripts/local/hosts.sh env | node -p 'JSON.parse(require("fs").readFileSync(0)).hosts.length || ""')" ]]; then
    TS_NODE_TRANSPILE_ONLY=1 npx ts-node scripts/provision-local.ts down "$STACK" || true
  fi
  scripts/local/hosts.sh down
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
