#!/usr/bin/env bash
# zookeeper-server-stop.sh: sends SIGNAL (default TERM) to every java process on this host whose
# main class is org.apache.zookeeper.server.quorum.QuorumPeerMain, like the Apache script.
set -euo pipefail
# shellcheck source=server-lib.sh
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"
stop_server org.apache.zookeeper.server.quorum.QuorumPeerMain zookeeper
