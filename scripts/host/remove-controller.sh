#!/usr/bin/env bash
# Phase `rollback` (a ZooKeeper -> KRaft migration rolled back, on each host that runs a migration controller, all at
# once, after the brokers are back in ZooKeeper mode): stops and disables the KRaft controller and removes what would
# make it come back: its metadata log (a later attempt formats afresh: a stale log would skip the copy) and its
# properties (so that the next observation no longer sees a controller here). Its unit, install and other files stay;
# its service step's delete (later in the same update) finds it stopped.
# Env:
#   CONTROLLER_CONFIG  the controller's properties
#   METADATA_DIR       its metadata log directory (on the removal allow-list)
#   MARKERS            files its format step wrote (space-separated), removed with it
#   CONFIG_DIR         where its configure step's records live
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${CONTROLLER_CONFIG:?}" "${METADATA_DIR:?}" "${CONFIG_DIR:?}"
removable "$METADATA_DIR" || die "refusing to remove $METADATA_DIR: not on the allow-list (see removable in lib.sh); nothing was changed"
if systemctl is-active --quiet kafka-controller || [[ "$(systemctl is-enabled kafka-controller 2>/dev/null)" == enabled ]]; then
  systemctl disable --now kafka-controller 2>/dev/null
  log "stopped and disabled kafka-controller"
fi
for m in ${MARKERS:-}; do
  removable "$m" || die "refusing to remove $m: not on the allow-list"
  command -p rm -f "$m"
done
command -p rm -rf "$METADATA_DIR"
command -p rm -f "$CONTROLLER_CONFIG" "$CONFIG_DIR/.kafka-controller.sha256" "$CONFIG_DIR/.kafka-controller.restart-pending"
echo "controller removed: stopped, $METADATA_DIR and $CONTROLLER_CONFIG removed"
