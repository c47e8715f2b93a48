#!/usr/bin/env bash
# zookeeper-shell.sh host:port[/chroot] [-zk-tls-config-file FILE] [zkCli command...]
# ZooKeeper CLI with Kafka's TLS extension (org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "USAGE: $0 zookeeper_host:port[/path] [-zk-tls-config-file file] [args...]" >&2
  exit 1
fi
exec "$(dirname "$(readlink -f "$0")")/kafka-run-class.sh" org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka -server "$@"
