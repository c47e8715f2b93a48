#!/usr/bin/env bash
# On `pulumi destroy` (or when a host leaves the config): stop and disable the services. Data, configuration
# and the install stay unless WIPE=true. Env: WIPE (true|false), WIPE_PATHS (space-separated)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
for svc in kafka zookeeper; do
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
  rm -f /etc/systemd/system/kafka.service /etc/systemd/system/zookeeper.service
  systemctl daemon-reload
else
  log "data and configuration kept (set kafka:wipeOnDestroy true to remove them)"
fi
