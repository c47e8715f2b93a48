#!/usr/bin/env bash
# Step 5 check: every ZooKeeper member answers `srvr`, with exactly one leader and the rest followers
# (a single member reports standalone). Env: ZK_MEMBERS (space-separated addresses), ENSEMBLE_TIMEOUT (300)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ZK_MEMBERS:?}"
read -r -a members <<<"$ZK_MEMBERS"

summary=""
ensemble_ok() {
  local leaders=0 followers=0 standalone=0 m mode
  summary=""
  for m in "${members[@]}"; do
    mode=$(zk_mode "$m")
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
