#!/usr/bin/env bash
# Phase `ensemble` (once, after every ZooKeeper member is configured): every member answers `srvr`, with exactly one
# leader and the rest followers (a single member reports standalone).
# Env:
#   ZK_MEMBERS        space-separated member addresses
#   ZK_CLIENT_PORT    the members' client port
#   ENSEMBLE_TIMEOUT  seconds to wait for the ensemble (default 300)
#   RERUN_DIGEST      not read: a digest of the ensemble's configuration, in the command text so that Pulumi runs
#                     this check again whenever that configuration changes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_MEMBERS:?}" "${ZK_CLIENT_PORT:?}"
read -r -a members <<<"$ZK_MEMBERS"

summary=""
ensemble_ok() {
  local leaders=0 followers=0 standalone=0 m mode
  summary=""
  for m in "${members[@]}"; do
    mode=$(zk_mode "$m" "$ZK_CLIENT_PORT")
    summary+="$m=${mode:-no-answer} "
    case $mode in
      leader) leaders=$((leaders + 1)) ;;
      follower) followers=$((followers + 1)) ;;
      standalone) standalone=$((standalone + 1)) ;;
    esac
  done
  if (( ${#members[@]} == 1 )); then
    (( standalone == 1 ))
  else
    (( leaders == 1 && followers == ${#members[@]} - 1 ))
  fi
}
wait_until "${ENSEMBLE_TIMEOUT:-300}" "ensemble formed" ensemble_ok ||
  die "ZooKeeper ensemble not formed: ${summary}(want one leader, ${#members[@]} members); see journalctl -u zookeeper on the hosts"
echo "ensemble ok: ${summary% }"
