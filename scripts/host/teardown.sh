#!/usr/bin/env bash
# On `pulumi destroy` (or when a host leaves the config): stop and disable a service. Data, configuration and
# the install stay unless WIPE=true. Env: SERVICES (kafka and/or zookeeper), WIPE (true|false), WIPE_PATHS
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${SERVICES:?}"
for svc in $SERVICES; do
  if systemctl list-unit-files "$svc.service" >/dev/null 2>&1 && [[ -f /etc/systemd/system/$svc.service ]]; then
    systemctl disable --now "$svc" 2>/dev/null || true
    log "stopped and disabled $svc"
  fi
done
if [[ ${WIPE:-false} == true ]]; then
  for p in ${WIPE_PATHS:-}; do
    rm -rf -- "$p"
    log "removed $p"
  done
  for svc in $SERVICES; do rm -f "/etc/systemd/system/$svc.service"; done
  systemctl daemon-reload
else
  log "data and configuration kept (set kafka:wipeOnDestroy true to remove them)"
fi
