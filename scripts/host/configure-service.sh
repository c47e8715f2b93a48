#!/usr/bin/env bash
# Phases `zookeeper` and `broker` (one host after another): write a service's files (properties, myid, env file,
# systemd unit), enable it at boot and start it. When a file or the version changed under a running service, restart
# it safely: a broker waits for zero under-replicated partitions before and after its restart, a ZooKeeper member
# waits until it has rejoined the ensemble. The service's link (DIST_LINK) switches to KAFKA_DIST right before the
# restart, so until then a crash brings it back on the old version. Unchanged files and version mean no restart. A
# restart interrupted half-way is finished by the next run (a marker file in CONFIG_DIR).
# Env:
#   SERVICE          zookeeper or kafka
#   MANIFEST_B64     base64 of lines "path mode owner base64-content", one per file; invalid base64 fails the step
#   CONFIG_DIR       the configuration directory (holds the restart marker)
#   INSTALL_ROOT     where versioned installs live
#   KAFKA_DIST       the version to run, installed (and verified) as INSTALL_ROOT/KAFKA_DIST by the install step
#   DIST_LINK        the symlink the service's unit starts from, inside INSTALL_ROOT
#   SELF_BOOTSTRAP   kafka: this broker's internal host:port
#   KAFKA_HOME       kafka: the Kafka install whose tools check the broker
#   TOOLS_LOG_DIR    kafka: LOG_DIR for those tools
#   SELF_ADDRESS     zookeeper: this member's address
#   ZK_CLIENT_PORT   zookeeper: the member's client port (it answers `srvr` there)
#   ROLL_TIMEOUT     seconds to wait for health before and after a restart (default 900)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${SERVICE:?}" "${MANIFEST_B64:?}" "${CONFIG_DIR:?}" "${INSTALL_ROOT:?}" "${KAFKA_DIST:?}" "${DIST_LINK:?}"
case $SERVICE in
  kafka) : "${SELF_BOOTSTRAP:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}" ;;
  zookeeper) : "${SELF_ADDRESS:?}" "${ZK_CLIENT_PORT:?}" ;;
  *) die "SERVICE must be zookeeper or kafka" ;;
esac
limit=${ROLL_TIMEOUT:-900}
marker=$CONFIG_DIR/.$SERVICE.restart-pending
[[ "$(dirname "$DIST_LINK")" == "$INSTALL_ROOT" ]] || die "DIST_LINK=$DIST_LINK must be directly inside INSTALL_ROOT=$INSTALL_ROOT"
[[ -f $INSTALL_ROOT/$KAFKA_DIST/.verified ]] || die "$KAFKA_DIST is not installed and verified under $INSTALL_ROOT (the install step runs first)"

# switch_version: point DIST_LINK at KAFKA_DIST, atomically; nothing when it already does.
switch_version() {
  local was
  was=$(readlink "$DIST_LINK" 2>/dev/null) || was=none
  [[ $was != "$KAFKA_DIST" ]] || return 0
  ln -sfn "$KAFKA_DIST" "$INSTALL_ROOT/.$SERVICE.link.new"
  mv -Tf "$INSTALL_ROOT/.$SERVICE.link.new" "$DIST_LINK"
  log "switched $DIST_LINK from $was to $KAFKA_DIST"
}

# Decoded whole first, so that a bad manifest fails here instead of vanishing in a process substitution.
manifest=$(printf '%s' "$MANIFEST_B64" | base64 -d) || die "MANIFEST_B64 is not valid base64"
while read -r path mode owner content; do
  [[ -n $path ]] || continue
  mkdir -p "$(dirname "$path")"
  put_file "$path" "$mode" "$owner" "$content"
done <<<"$manifest"

active=false
systemctl is-active --quiet "$SERVICE" && active=true
if (( CHANGED )); then systemctl daemon-reload; fi
if (( CHANGED )) || [[ "$(readlink "$DIST_LINK" 2>/dev/null)" != "$KAFKA_DIST" ]]; then
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
    [[ "$(zk_mode "$SELF_ADDRESS" "$ZK_CLIENT_PORT")" =~ ^(leader|follower|standalone)$ ]]
  fi
}

if ! $active; then
  switch_version
  systemctl restart "$SERVICE"
  rm -f "$marker"
  log "started $SERVICE"
elif [[ -f $marker ]]; then
  if [[ $SERVICE == kafka ]]; then
    wait_until "$limit" "no under-replicated partitions before restart" healthy ||
      die "cluster still has under-replicated partitions after ${limit}s; not restarting $SERVICE (run pulumi up again once it has caught up)"
  fi
  switch_version
  log "restarting $SERVICE for changed configuration"
  systemctl restart "$SERVICE"
  wait_until "$limit" "$SERVICE healthy after restart" healthy ||
    die "$SERVICE did not become healthy within ${limit}s after restart; see: journalctl -u $SERVICE"
  rm -f "$marker"
else
  log "$SERVICE running, configuration unchanged"
fi
