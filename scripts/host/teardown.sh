#!/usr/bin/env bash
# Phase `service` delete (existing hosts, on `pulumi destroy` or when a host leaves the config): stop and disable
# services. Data, configuration and the install stay unless WIPE=true; what WIPE removes must pass the removal
# allow-list in lib.sh (a path that does not fails the step before anything is removed).
# Env:
#   SERVICES    space-separated services to stop: kafka, kafka-controller and/or zookeeper
#   UNIT_DIR    where their systemd units are
#   WIPE        true to also remove WIPE_PATHS and the units (default false)
#   WIPE_PATHS  space-separated directories to remove when WIPE=true
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${SERVICES:?}" "${UNIT_DIR:?}"
read -r -a services <<<"$SERVICES"
for svc in "${services[@]}"; do
  [[ $svc == kafka || $svc == kafka-controller || $svc == zookeeper ]] || die "SERVICES may name kafka, kafka-controller and zookeeper only, not $svc"
done
[[ $UNIT_DIR =~ ^/(etc|run|usr/lib|lib)/systemd/system$ ]] || die "UNIT_DIR=$UNIT_DIR is not a systemd unit directory"

for svc in "${services[@]}"; do
  if systemctl list-unit-files "$svc.service" >/dev/null 2>&1 && [[ -f $UNIT_DIR/$svc.service ]]; then
    systemctl disable --now "$svc" 2>/dev/null || true
    log "stopped and disabled $svc"
  fi
done
if [[ ${WIPE:-false} == true ]]; then
  remove_all "${WIPE_PATHS:-}"
  for svc in "${services[@]}"; do rm -f "$UNIT_DIR/$svc.service"; done
  systemctl daemon-reload
else
  log "data and configuration kept (set kafka:wipeOnDestroy true to remove them)"
fi
