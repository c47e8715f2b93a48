#!/usr/bin/env bash
# Phases `zookeeper`, `controller` and `broker` (one host after another): write a service's files (properties, myid,
# env file, systemd unit), enable it at boot and start it. When a file or the version changed under a running service,
# restart it safely: a broker waits for zero under-replicated partitions before and after its restart, a ZooKeeper
# member waits until it has rejoined the ensemble, a KRaft controller until the quorum has a leader and every voter
# (itself included) has caught up, before and after. The service's link (DIST_LINK) switches to KAFKA_DIST right before the
# restart, so until then a crash brings it back on the old version. Unchanged files and version mean no restart. A
# restart interrupted half-way is finished by the next run (a marker file in CONFIG_DIR).
# After every start the step watches the service: when its process exits before it answers on its port (a bad
# setting, a heap the JVM cannot map), the step stops the unit (no crash loop) and fails at once with the service's
# first error line and its journal since the step began. A service that was running goes back to the files and
# version it ran with (kept in CONFIG_DIR until the restart succeeds) and is started on them again. Brokers after it
# are not touched (the plan runs them after this step), so they keep their old configuration.
# Env:
#   SERVICE          zookeeper, kafka-controller or kafka
#   MANIFEST_B64     base64 of lines "path mode owner base64-content", one per file; invalid base64 fails the step
#   CONFIG_DIR       the configuration directory (holds the restart marker)
#   INSTALL_ROOT     where versioned installs live
#   KAFKA_DIST       the version to run, installed (and verified) as INSTALL_ROOT/KAFKA_DIST by the install step
#   DIST_LINK        the symlink the service's unit starts from, inside INSTALL_ROOT
#   SELF_BOOTSTRAP   kafka: this broker's internal host:port
#   CLIENT_CONFIG    kafka: client properties the checks log in with (the admin principal's; a file of the manifest)
#   KAFKA_HOME       kafka, kafka-controller: the Kafka install whose tools check the service
#   TOOLS_LOG_DIR    kafka, kafka-controller: LOG_DIR for those tools
#   SELF_ADDRESS     zookeeper, kafka-controller: this member's address
#   ZK_CLIENT_PORT   zookeeper: the member's client port (it answers `srvr` there)
#   CONTROLLER_PORT  kafka-controller: the controllers' listener port
#   NODE_ID          kafka-controller: this controller's node.id
#   QUORUM_BOOTSTRAP kafka-controller: the controllers' host:port, comma-separated
#   QUORUM_CONFIG    kafka-controller: client properties of the controllers' listener (a file of the manifest)
#   CONTROLLER_CONFIG kafka-controller: the controller's properties (a file of the manifest; add-controller reads it)
#   METADATA_DIR     kafka-controller: its metadata log directory (meta.properties names its directory id)
#   JOIN_MARKER      kafka-controller: written by the format step when the controller was formatted to join a running
#                    quorum: after its start it becomes a voter (its old directory's entry removed, then
#                    add-controller), and the marker goes
#   INITIAL_MARKER   kafka-controller: written by the format step when the controller was formatted as one of a new
#                    quorum's initial voters: until its metadata log holds records, it is a voter by its format, and
#                    its first start needs no quorum probe
#   STATIC_QUORUM    kafka-controller, optional: true when the quorum's voters are fixed by controller.quorum.voters (a
#                    ZooKeeper migration's): the controller is a voter by its configuration, no voter change is made
#   TRANSITION       kafka, optional: add or switch, a roll of a running broker's listeners towards the manifest's
#                    (see "Switching listeners" below); pin, the manifest's files with the inter-broker protocol the
#                    broker runs kept (see "Pinning the inter-broker protocol"); without it the manifest's files are
#                    written as they are
#   IBP_PIN_FROM     kafka, optional, with TRANSITION: the inter-broker protocol versions older than the release's
#                    (space-separated, e.g. "3.0 3.1"); a running broker on one of them keeps it through this roll
#   OBSERVED_GENERATION  existing hosts, optional: the node's repair generation this run is for (observe.sh's), written
#                    to GENERATION_FILE when the step succeeds
#   GENERATION_FILE  with OBSERVED_GENERATION: where it goes
#   ROLL_TIMEOUT     seconds to wait for health before and after a restart, and for a live process to answer on its
#                    port (a broker recovering its logs can take long; a process that exits fails the step at once)
#                    (default 900)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${SERVICE:?}" "${MANIFEST_B64:?}" "${CONFIG_DIR:?}" "${INSTALL_ROOT:?}" "${KAFKA_DIST:?}" "${DIST_LINK:?}"
case $SERVICE in
  kafka) : "${SELF_BOOTSTRAP:?}" "${CLIENT_CONFIG:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}" ;;
  zookeeper) : "${SELF_ADDRESS:?}" "${ZK_CLIENT_PORT:?}" ;;
  kafka-controller)
    : "${SELF_ADDRESS:?}" "${CONTROLLER_PORT:?}" "${NODE_ID:?}" "${QUORUM_BOOTSTRAP:?}" "${QUORUM_CONFIG:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
    : "${CONTROLLER_CONFIG:?}" "${METADATA_DIR:?}" "${JOIN_MARKER:?}" "${INITIAL_MARKER:?}"
    ;;
  *) die "SERVICE must be zookeeper, kafka-controller or kafka" ;;
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

# Switching listeners (kafka:security plaintext -> tls -> sasl_ssl) takes three rolls, each one broker at a time:
# TRANSITION=add runs the manifest's listeners beside the running ones, TRANSITION=switch moves inter-broker traffic
# onto them and has new znodes created with ACLs (zookeeper.set.acl), and the step without TRANSITION writes the files
# as they are, which drops the old listeners. In the first two, server.properties is the manifest's with the listener
# settings of both and, unless the broker runs one already, no ACL authorizer yet (clients of a plaintext listener are
# anonymous); the health checks go through
# the running inter-broker listener, which every broker still has. A broker that needs neither (a new one, or one that
# runs the new listeners already) is left alone.
if [[ -n ${TRANSITION:-} ]]; then
  [[ $SERVICE == kafka && $TRANSITION =~ ^(add|switch|pin)$ ]] || die "TRANSITION must be add, switch or pin, and only for kafka"
fi
if [[ -n ${IBP_PIN_FROM:-} && -z ${TRANSITION:-} ]]; then die "IBP_PIN_FROM goes with a TRANSITION (the last roll raises the protocol)"; fi
if [[ ${TRANSITION:-} =~ ^(add|switch)$ ]]; then
  props=$CONFIG_DIR/server.properties
  if ! systemctl is-active --quiet kafka || [[ ! -f $props ]]; then
    log "listeners-$TRANSITION: no broker running; it starts with its configured listeners"
    exit 0
  fi
  target=$(awk -v p="$props" '$1 == p { print $4 }' <<<"$manifest" | base64 -d)
  [[ -n $target ]] || die "the manifest has no $props"
  # union A B: the comma lists A and B of NAME:... entries, B's entries whose NAME A lacks appended.
  union() {
    local out=$1 e o found
    local -a have add
    IFS=, read -ra have <<<"$1"
    IFS=, read -ra add <<<"$2"
    for e in "${add[@]}"; do
      found=false
      for o in "${have[@]}"; do [[ ${o%%:*} != "${e%%:*}" ]] || found=true; done
      $found || out+=,$e
    done
    printf '%s\n' "$out"
  }
  r_map=$(prop_value 'listener\.security\.protocol\.map' <"$props")
  t_map=$(prop_value 'listener\.security\.protocol\.map' <<<"$target")
  r_inter=$(prop_value 'inter\.broker\.listener\.name' <"$props")
  t_inter=$(prop_value 'inter\.broker\.listener\.name' <<<"$target")
  needed=false
  if [[ $TRANSITION == add ]]; then
    IFS=, read -ra wanted <<<"$t_map"
    for pair in "${wanted[@]}"; do [[ ,$r_map, == *",$pair,"* ]] || needed=true; done
  elif [[ $r_inter != "$t_inter" ]]; then
    needed=true
    [[ ,$r_map, == *",$t_inter:"* ]] ||
      die "listeners-switch: the broker runs listeners $r_map, without $t_inter (the listeners-add roll did not finish); run pulumi up again"
  fi
  # A restart still pending after this phase's files were written (interrupted; the file on disk is a transitional one)
  # means they are not what runs. One pending after the configured files were written is the broker step's to finish.
  if [[ -f $marker && $r_map != "$t_map" ]]; then needed=true; fi
  if ! $needed; then
    log "listeners-$TRANSITION: nothing to change (the broker runs $r_map, inter-broker $r_inter)"
    exit 0
  fi
  if [[ $TRANSITION == add ]]; then
    inter=$r_inter acl=$(prop_value 'zookeeper\.set\.acl' <"$props")
  else
    inter=$t_inter acl=$(prop_value 'zookeeper\.set\.acl' <<<"$target")
  fi
  # The ACL authorizer waits for the last roll unless the broker runs one already (then every listener authenticates).
  managed='listeners|advertised\.listeners|listener\.security\.protocol\.map|inter\.broker\.listener\.name|zookeeper\.set\.acl'
  if [[ -z $(prop_value 'authorizer\.class\.name' <"$props") ]]; then managed+='|authorizer\.class\.name|super\.users|allow\.everyone\.if\.no\.acl\.found'; fi
  text=$(grep -v -E "^($managed)=" <<<"$target")
  text+=$'\n\n'"# kafka:security is switching (roll listeners-$TRANSITION): the old and the new listeners side by side."
  text+=$'\n'"# The last roll of this update writes the configured file."
  text+=$'\n'"listeners=$(union "$(prop_value listeners <"$props")" "$(prop_value listeners <<<"$target")")"
  text+=$'\n'"advertised.listeners=$(union "$(prop_value 'advertised\.listeners' <"$props")" "$(prop_value 'advertised\.listeners' <<<"$target")")"
  map=$(union "$r_map" "$t_map")
  text+=$'\n'"listener.security.protocol.map=$map"
  text+=$'\n'"inter.broker.listener.name=$inter"
  text+=$'\n'"zookeeper.set.acl=${acl:-false}"$'\n'
  manifest=$(awk -v p="$props" -v c="$(printf '%s' "$text" | base64 -w0)" '$1 == p { $4 = c } { print }' <<<"$manifest")
  # The checks use the running inter-broker listener: no login on plaintext, TLS with the cluster's CA on SSL, the
  # admin's login (CLIENT_CONFIG) on SASL_SSL (only ever switched to itself).
  old=$(prop_value 'advertised\.listeners' <"$props" | tr , '\n' | sed -n "s|^$r_inter://||p")
  [[ -n $old ]] || die "the running broker advertises no $r_inter listener"
  SELF_BOOTSTRAP=$old
  r_protocol=$(tr , '\n' <<<"$r_map" | sed -n "s/^$r_inter://p")
  if [[ $r_protocol != SASL_SSL ]]; then
    CLIENT_CONFIG=$(mktemp)
    on_exit "command -p rm -f '$CLIENT_CONFIG'"
    if [[ $r_protocol == SSL ]]; then
      printf 'security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=%s\n' \
        "$(prop_value 'ssl\.truststore\.location' <<<"$target")" > "$CLIENT_CONFIG"
    fi
  fi
  log "listeners-$TRANSITION: $r_map (inter-broker $r_inter) -> $map (inter-broker $inter)"
fi

# Pinning the inter-broker protocol (ZooKeeper mode, onto a newer minor version): until every broker runs the new
# version, a restarted broker keeps speaking the protocol the cluster ran, as Kafka's upgrade notes ask: in every roll
# but the last (TRANSITION), a running broker whose protocol version is one of IBP_PIN_FROM (its
# inter.broker.protocol.version, or, without one, the minor line of the version it runs) gets it written into its
# server.properties. The last roll writes the configured file, without it, which raises the protocol broker by broker.
# An interrupted update finds the pin in the file and keeps it. A broker that does not run starts on the configured file.
if [[ -n ${IBP_PIN_FROM:-} ]] && systemctl is-active --quiet kafka && [[ -f $CONFIG_DIR/server.properties ]]; then
  props=$CONFIG_DIR/server.properties
  running_ibp=$(prop_value 'inter\.broker\.protocol\.version' <"$props")
  if [[ -z $running_ibp && "$(readlink "$DIST_LINK" 2>/dev/null)" =~ -([0-9]+\.[0-9]+)\.[0-9]+$ ]]; then running_ibp=${BASH_REMATCH[1]}; fi
  if [[ -n $running_ibp && " $IBP_PIN_FROM " == *" $running_ibp "* ]]; then
    target=$(awk -v p="$props" '$1 == p { print $4 }' <<<"$manifest" | base64 -d)
    [[ -n $target ]] || die "the manifest has no $props"
    text=$(grep -v -E '^inter\.broker\.protocol\.version=' <<<"$target")
    text+=$'\n\n'"# A version change is rolling: the inter-broker protocol the cluster ran, until every broker runs $KAFKA_DIST."
    text+=$'\n'"# The last roll of this update writes the configured file, which raises it."
    text+=$'\n'"inter.broker.protocol.version=$running_ibp"$'\n'
    manifest=$(awk -v p="$props" -v c="$(printf '%s' "$text" | base64 -w0)" '$1 == p { $4 = c } { print }' <<<"$manifest")
    log "${TRANSITION}: inter.broker.protocol.version stays $running_ibp through this roll"
  fi
fi

# What the running service was started with (its files and version), kept until its restart succeeds, so that a
# restart that fails can go back to it. A pending restart (marker) keeps the copy made before the files changed.
prev=$CONFIG_DIR/.$SERVICE.previous
if [[ ! -f $marker ]]; then
  command -p rm -rf "$prev"
  mkdir -p "$prev/files"
  while read -r path _; do
    if [[ -n $path && -f $path ]]; then mkdir -p "$prev/files$(dirname "$path")" && cp -p "$path" "$prev/files$path"; fi
  done <<<"$manifest"
  readlink "$DIST_LINK" > "$prev/dist" 2>/dev/null || true
fi

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
  case $SERVICE in
    kafka) broker_answers "$SELF_BOOTSTRAP" && [[ "$(under_replicated "$SELF_BOOTSTRAP")" == 0 ]] ;;
    # A leader, no voter behind it and, once it has started, this controller a voter (unless it is still to join).
    kafka-controller) quorum_healthy "$QUORUM_BOOTSTRAP" "$QUORUM_CONFIG" "${HEALTH_IDS:-}" ;;
    *) [[ "$(zk_mode "$SELF_ADDRESS" "$ZK_CLIENT_PORT")" =~ ^(leader|follower|standalone)$ ]] ;;
  esac
}

# The address the service answers on once it is up (before quorum or under-replication checks).
case $SERVICE in
  kafka) listen=$SELF_BOOTSTRAP ;;
  kafka-controller) listen=$SELF_ADDRESS:$CONTROLLER_PORT ;;
  *) listen=$SELF_ADDRESS:$ZK_CLIENT_PORT ;;
esac
# shellcheck disable=SC2016 # $1 expands in the inner shell
listening() { timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$listen" 2>/dev/null; }

# start_watched: (re)start the service, then wait until it answers on its port. Returns 1 as soon as its process is
# gone (it exited, or systemd is about to start it again), with the unit stopped so that it does not loop; 2 when
# it runs but does not answer within the limit. Sets started_after to the seconds it took.
start_watched() {
  local pid now state t0=$SECONDS
  # A unit that hit its start limit before refuses to start until its failure is reset.
  systemctl reset-failed "$SERVICE" 2>/dev/null || true
  KC_JOURNAL_SINCE=$(date +%s)
  systemctl restart "$SERVICE"
  pid=$(systemctl show -p MainPID --value "$SERVICE")
  # What a failure report shows: this process's own lines (not the stopped one's shutdown).
  KC_JOURNAL_PID=$pid
  while :; do
    started_after=$((SECONDS - t0))
    state=$(systemctl show -p ActiveState --value "$SERVICE")
    now=$(systemctl show -p MainPID --value "$SERVICE")
    if [[ $state != active || $now == 0 || $now != "$pid" ]]; then
      systemctl stop "$SERVICE" 2>/dev/null || true
      return 1
    fi
    if listening; then
      log "$SERVICE answering on $listen after ${started_after}s"
      return 0
    fi
    (( started_after < limit )) || return 2
    sleep 1
  done
}

# rollback: the files and version the service ran with before this step, and a start on them.
rollback() {
  local path dist
  [[ -d $prev/files ]] || return 1
  log "going back to the files and version $SERVICE ran with before this step"
  while read -r path _; do
    [[ -n $path ]] || continue
    if [[ -f $prev/files$path ]]; then cp -p "$prev/files$path" "$path"; else command -p rm -f "$path"; fi
  done <<<"$manifest"
  systemctl daemon-reload
  dist=$(cat "$prev/dist" 2>/dev/null || true)
  if [[ -n $dist && -d $INSTALL_ROOT/$dist ]]; then KAFKA_DIST=$dist switch_version; fi
  start_watched
}

# start_or_fail WHAT: start_watched, and on failure the step fails with the service's first error. After a restart
# of a running service (WHAT=restart) it first goes back to the previous configuration and starts that, so the
# service keeps running as before and the next `pulumi up` finds it as its state says.
start_or_fail() {
  local rc=0 first
  start_watched || rc=$?
  (( rc != 0 )) || return 0
  if (( rc == 2 )); then
    fail_unit "$SERVICE" "$SERVICE runs but did not answer on $listen within ${limit}s"
  fi
  first=$(first_error "$SERVICE")
  # The journal as it is now: what a rollback start logs next is not the failure.
  KC_JOURNAL_TEXT=$(unit_journal "$SERVICE")
  local why="$SERVICE exited ${started_after}s after its start${first:+: $first}" failed_pid=$KC_JOURNAL_PID failed_since=$KC_JOURNAL_SINCE
  KC_JOURNAL_UNIT=$SERVICE
  if [[ $1 == restart ]]; then
    local back=0
    rollback || back=$?
    KC_JOURNAL_PID=$failed_pid KC_JOURNAL_SINCE=$failed_since
    if (( back == 0 )); then
      command -p rm -f "$marker"
      die "$why -- it runs its previous configuration again. Fix the setting and run pulumi up again"
    fi
    die "$why -- going back to its previous configuration failed too, so it is stopped (no restart loop). Fix the setting and run pulumi up again"
  fi
  die "$why -- it is stopped (no restart loop). Fix the setting and run pulumi up again"
}

# has_leader: the controller quorum answers and has a leader (quorum_state); QUORUM_PROBLEM says why not.
has_leader() {
  if ! quorum_state "$QUORUM_BOOTSTRAP" "$QUORUM_CONFIG"; then QUORUM_PROBLEM="no controller at $QUORUM_BOOTSTRAP answers"; return 1; fi
  (( QUORUM_LEADER >= 0 )) || { QUORUM_PROBLEM="no leader"; return 1; }
}
# metadata_written: this controller's metadata log holds records (only an elected leader writes them; a directory
# formatted for a new quorum has none until its first election).
metadata_written() {
  find "$METADATA_DIR/__cluster_metadata-0" -maxdepth 1 -name '*.log' -size +0c 2>/dev/null | grep -q .
}

# join_quorum (kafka-controller): this controller is a voter with the directory it runs on. One that is not (formatted
# to join a running quorum: JOIN_MARKER; or back with its old directory after a lower kafka:controllerCount removed it)
# becomes one once the quorum has a leader: an entry of its id with another directory (a disk that was replaced) is
# removed, then it is added (kafka-metadata-quorum add-controller, which waits until it has caught up as an observer);
# one voter change at a time, each waiting for the quorum to catch up. Without a leader and without the marker, the
# quorum is still forming (a new cluster's controllers start one after another): nothing to do, unless this
# controller's own metadata log shows that the quorum formed before (then its leader is waited for).
join_quorum() {
  local dir voter config
  [[ ${STATIC_QUORUM:-false} != true ]] || return 0
  dir=$(prop_value 'directory\.id' <"$METADATA_DIR/meta.properties")
  [[ -n $dir ]] || die "$METADATA_DIR/meta.properties names no directory.id"
  if [[ ! -f $JOIN_MARKER ]]; then
    # Formatted as an initial voter of a new quorum that has written nothing here yet (a new cluster's controllers
    # starting one after another): a voter with this directory by its format.
    if [[ -f $INITIAL_MARKER ]] && ! metadata_written; then return 0; fi
    # No other controller up yet: the first of a new quorum (asking for a leader would wait for the tool's timeout).
    local ep others=false
    for ep in ${QUORUM_BOOTSTRAP//,/ }; do
      # shellcheck disable=SC2016 # $1 expands in the inner shell
      if [[ $ep != "$SELF_ADDRESS:$CONTROLLER_PORT" ]] && timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$ep" 2>/dev/null; then others=true; fi
    done
    $others || return 0
    if metadata_written; then
      # It has been part of a formed quorum (a leader wrote records into its metadata log; one removed by a lower
      # kafka:controllerCount and started again, or one restarted): a leader is there or comes back. A probe that fails
      # (a controller just started does not know the leader yet, a busy tool) is waited out, never taken for a quorum
      # still forming.
      wait_until "$limit" "the controller quorum has a leader" has_leader ||
        die "controller quorum has no leader after ${limit}s ($QUORUM_PROBLEM); controller $NODE_ID not checked as a voter (run pulumi up again once the quorum has a leader)"
    else
      has_leader || return 0
    fi
    [[ " $QUORUM_VOTER_DIRS " != *" $NODE_ID:$dir "* ]] || return 0
  fi
  HEALTH_IDS='' wait_until "$limit" "quorum healthy before controller $NODE_ID joins" healthy ||
    die "controller quorum not healthy after ${limit}s ($QUORUM_PROBLEM); controller $NODE_ID not added (run pulumi up again once it has caught up)"
  for voter in $QUORUM_VOTER_DIRS; do
    [[ ${voter%%:*} == "$NODE_ID" ]] || continue
    if [[ ${voter#*:} == "$dir" ]]; then command -p rm -f "$JOIN_MARKER"; return 0; fi
    log "controller $NODE_ID is a voter with directory ${voter#*:}, not with this one ($dir): removing that entry"
    quorum_command "$QUORUM_BOOTSTRAP" "$QUORUM_CONFIG" remove-controller --controller-id "$NODE_ID" --controller-directory-id "${voter#*:}" >&2 ||
      die "kafka-metadata-quorum remove-controller of controller $NODE_ID (directory ${voter#*:}) failed"
    HEALTH_IDS='' wait_until "$limit" "quorum healthy after removing the old entry" healthy ||
      die "controller quorum not healthy after ${limit}s ($QUORUM_PROBLEM)"
  done
  # add-controller reads the node's id, directory and advertised listener from its own properties; the connection
  # itself needs the client side of the controllers' listener.
  config=$(mktemp)
  on_exit "command -p rm -f '$config'"
  cat "$CONTROLLER_CONFIG" "$QUORUM_CONFIG" >"$config"
  added() { quorum_command "$QUORUM_BOOTSTRAP" "$config" add-controller >&2 2>/dev/null; }
  wait_until "$limit" "controller $NODE_ID added as a voter (directory $dir)" added ||
    die "kafka-metadata-quorum add-controller of controller $NODE_ID did not succeed within ${limit}s (it must catch up as an observer first)"
  HEALTH_IDS=$NODE_ID wait_until "$limit" "controller $NODE_ID a voter, caught up" healthy ||
    die "controller $NODE_ID was added but the quorum is not healthy after ${limit}s ($QUORUM_PROBLEM)"
  command -p rm -f "$JOIN_MARKER"
}

if ! $active; then
  switch_version
  start_or_fail start
  command -p rm -f "$marker"
  command -p rm -rf "$prev"
  log "started $SERVICE"
  if [[ $SERVICE == kafka-controller ]]; then join_quorum; fi
elif [[ -f $marker ]]; then
  if [[ $SERVICE == kafka ]]; then
    wait_until "$limit" "no under-replicated partitions before restart" healthy ||
      die "cluster still has under-replicated partitions after ${limit}s; not restarting $SERVICE (run pulumi up again once it has caught up)"
  elif [[ $SERVICE == kafka-controller ]]; then
    wait_until "$limit" "quorum has a leader and every voter caught up before restart" healthy ||
      die "controller quorum not healthy after ${limit}s ($QUORUM_PROBLEM); not restarting controller $NODE_ID (run pulumi up again once it has caught up)"
  fi
  switch_version
  log "restarting $SERVICE for changed configuration"
  start_or_fail restart
  if [[ $SERVICE == kafka-controller ]]; then join_quorum; HEALTH_IDS=$NODE_ID; fi
  wait_until "$limit" "$SERVICE healthy after restart" healthy ||
    fail_unit "$SERVICE" "$SERVICE did not become healthy within ${limit}s after restart"
  command -p rm -f "$marker"
  command -p rm -rf "$prev"
else
  command -p rm -rf "$prev"
  log "$SERVICE running, configuration unchanged"
  # A join an interrupted run left pending carries on.
  if [[ $SERVICE == kafka-controller ]]; then join_quorum; fi
fi
# What this step put there, for observe.sh to tell a hand edit from it at the next preview or up: each file's sha256
# (CONFIG_DIR/.SERVICE.sha256) and the repair generation this run was for.
while read -r path _; do
  if [[ -n $path && -f $path ]]; then sha256sum "$path"; fi
done <<<"$manifest" >"$CONFIG_DIR/.$SERVICE.sha256.new"
mv -f "$CONFIG_DIR/.$SERVICE.sha256.new" "$CONFIG_DIR/.$SERVICE.sha256"
if [[ -n ${OBSERVED_GENERATION:-} ]]; then
  [[ -n ${GENERATION_FILE:-} ]] || die "OBSERVED_GENERATION needs GENERATION_FILE"
  printf '%s\n' "$OBSERVED_GENERATION" >"$GENERATION_FILE"
fi
