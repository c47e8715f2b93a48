#!/usr/bin/env bash
# Phases `zookeeper` and `broker` (one host after another): write a service's files (properties, myid, env file,
# systemd unit), enable it at boot and start it. When a file or the version changed under a running service, restart
# it safely: a broker waits for zero under-replicated partitions before and after its restart, a ZooKeeper member
# waits until it has rejoined the ensemble. The service's link (DIST_LINK) switches to KAFKA_DIST right before the
# restart, so until then a crash brings it back on the old version. Unchanged files and version mean no restart. A
# restart interrupted half-way is finished by the next run (a marker file in CONFIG_DIR).
# After every start the step watches the service: when its process exits before it answers on its port (a bad
# setting, a heap the JVM cannot map), the step stops the unit (no crash loop), and fails at once with the service's
# first error line and its journal since the step began. Brokers after it are not touched (the plan runs them after
# this step), so they keep their old configuration.
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
#   ROLL_TIMEOUT     seconds to wait for health before and after a restart, and for a live process to answer on its
#                    port (a broker recovering its logs can take long; a process that exits fails the step at once)
#                    (default 900)
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

# The address the service answers on once it is up (before quorum or under-replication checks).
if [[ $SERVICE == kafka ]]; then listen=$SELF_BOOTSTRAP; else listen=$SELF_ADDRESS:$ZK_CLIENT_PORT; fi
# shellcheck disable=SC2016 # $1 expands in the inner shell
listening() { timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$listen" 2>/dev/null; }

# start_watched: (re)start the service, then wait until it answers on its port. Fails the step, with the service
# stopped, as soon as its process is gone (exited, or systemd is about to restart it).
start_watched() {
  local pid now state t0=$SECONDS
  # A unit that hit its start limit before refuses to start until its failure is reset.
  systemctl reset-failed "$SERVICE" 2>/dev/null || true
  systemctl restart "$SERVICE"
  pid=$(systemctl show -p MainPID --value "$SERVICE")
  while :; do
    state=$(systemctl show -p ActiveState --value "$SERVICE")
    now=$(systemctl show -p MainPID --value "$SERVICE")
    if [[ $state != active || $now == 0 || $now != "$pid" ]]; then
      systemctl stop "$SERVICE" 2>/dev/null || true
      fail_unit "$SERVICE" "$SERVICE exited $((SECONDS - t0))s after its start and was stopped (no restart loop); fix the cause and run pulumi up again"
    fi
    if listening; then
      log "$SERVICE answering on $listen after $((SECONDS - t0))s"
      return 0
    fi
    if (( SECONDS - t0 >= limit )); then
      fail_unit "$SERVICE" "$SERVICE runs but did not answer on $listen within ${limit}s"
    fi
    sleep 1
  done
}

if ! $active; then
  switch_version
  start_watched
  rm -f "$marker"
  log "started $SERVICE"
elif [[ -f $marker ]]; then
  if [[ $SERVICE == kafka ]]; then
    wait_until "$limit" "no under-replicated partitions before restart" healthy ||
      die "cluster still has under-replicated partitions after ${limit}s; not restarting $SERVICE (run pulumi up again once it has caught up)"
  fi
  switch_version
  log "restarting $SERVICE for changed configuration"
  start_watched
  wait_until "$limit" "$SERVICE healthy after restart" healthy ||
    fail_unit "$SERVICE" "$SERVICE did not become healthy within ${limit}s after restart"
  rm -f "$marker"
else
  log "$SERVICE running, configuration unchanged"
fi
