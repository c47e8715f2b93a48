#!/usr/bin/env bash
# Phase `service` delete, kafka:monitoring (existing hosts, on `pulumi destroy`, when monitoring is turned off or a host
# leaves the config): stop and disable the monitoring units. The packages and Prometheus' time series stay; with
# WIPE=true the program's own files (WIPE_PATHS, on the removal allow-list) go too.
# Env:
#   UNITS       space-separated units to stop: prometheus, prometheus-alertmanager, prometheus-node-exporter,
#               kafka-consumer-lag.timer
#   UNIT_DIR    where the program's own units are (the lag collector's .service and .timer; removed with WIPE=true)
#   WIPE        true to also remove WIPE_PATHS and the program's units (default false)
#   WIPE_PATHS  space-separated paths to remove when WIPE=true
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${UNITS:?}" "${UNIT_DIR:?}"
[[ $UNIT_DIR =~ ^/(etc|run)/systemd/system$ ]] || die "UNIT_DIR=$UNIT_DIR is not a directory of the machine's own systemd units"
read -r -a units <<<"$UNITS"
for u in "${units[@]}"; do
  case $u in prometheus | prometheus-alertmanager | prometheus-node-exporter | kafka-consumer-lag.timer) ;;
    *) die "UNITS may name prometheus, prometheus-alertmanager, prometheus-node-exporter and kafka-consumer-lag.timer only, not $u" ;;
  esac
done
for u in "${units[@]}"; do
  # list-unit-files matches whole file names: a name without a type suffix matches nothing (and exits 1).
  [[ $u == *.* ]] || u=$u.service
  if systemctl list-unit-files "$u" >/dev/null 2>&1; then
    systemctl disable --now "$u"
    log "stopped and disabled $u"
  else
    log "$u is not installed here"
  fi
done
if [[ ${WIPE:-false} == true ]]; then
  remove_all "${WIPE_PATHS:-}"
  for u in "${units[@]}"; do
    if [[ $u == kafka-consumer-lag.timer ]]; then rm -f "$UNIT_DIR/kafka-consumer-lag.timer" "$UNIT_DIR/kafka-consumer-lag.service"; fi
  done
  systemctl daemon-reload
else
  log "configuration kept (set kafka:wipeOnDestroy true to remove it)"
fi
