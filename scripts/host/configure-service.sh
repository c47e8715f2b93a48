#!/usr/bin/env bash
# Steps 5 and 6: write a service's files (properties, myid, env file, systemd unit), enable it at boot and start
# it. When a file changed under a running service, restart it safely: a broker waits for zero under-replicated
# partitions before and after its restart, a ZooKeeper member waits until it has rejoined the ensemble.
# Unchanged files mean no restart. A restart interrupted half-way is finished by the next run (marker file).
# Env: SERVICE (zookeeper|kafka), MANIFEST_B64 (lines "path mode owner base64-content"),
#      SELF_BOOTSTRAP (kafka: this broker's internal host:port), SELF_ADDRESS (zookeeper: this member's address),
#      ROLL_TIMEOUT (seconds, default 900)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${SERVICE:?}" "${MANIFEST_B64:?}"
[[ $SERVICE == zookeeper || $SERVICE == kafka ]] || die "SERVICE must be zookeeper or kafka"
limit=${ROLL_TIMEOUT:-900}
marker=/etc/kafka/.$SERVICE.restart-pending

while read -r path mode owner content; do
  [[ -n $path ]] || continue
  mkdir -p "$(dirname "$path")"
  put_file "$path" "$mode" "$owner" "$content"
done < <(printf '%s' "$MANIFEST_B64" | base64 -d)

active=false
systemctl is-active --quiet "$SERVICE" && active=true
if (( CHANGED )); then
  systemctl daemon-reload
  if $active; then touch "$marker"; fi
fi
if [[ "$(systemctl is-enabled "$SERVICE" 2>/dev/null)" != enabled ]]; then
  systemctl enable "$SERVICE" 2>/dev/null
  log "enabled $SERVICE at boot"
fi

healthy() {
  if [[ $SERVICE == kafka ]]; then
    "$(kafka_bin kafka-broker-api-versions.sh)" --bootstrap-server "$SELF_BOOTSTRAP" >/dev/null 2>&1 &&
      [[ "$(under_replicated "$SELF_BOOTSTRAP")" == 0 ]]
  else
    [[ "$(zk_mode "$SELF_ADDRESS")" =~ ^(leader|follower|standalone)$ ]]
  fi
}

if ! $active; then
  systemctl restart "$SERVICE"
  rm -f "$marker"
  log "started $SERVICE"
elif [[ -f $marker ]]; then
  if [[ $SERVICE == kafka ]]; then
    wait_until "$limit" "no under-replicated partitions before restart" healthy ||
      die "cluster still has under-replicated partitions after ${limit}s; not restarting $SERVICE (run pulumi up again once it has caught up)"
  fi
  log "restarting $SERVICE for changed configuration"
  systemctl restart "$SERVICE"
  wait_until "$limit" "$SERVICE healthy after restart" healthy ||
    die "$SERVICE did not become healthy within ${limit}s after restart; see: journalctl -u $SERVICE"
  rm -f "$marker"
else
  log "$SERVICE running, configuration unchanged"
fi
