#!/usr/bin/env bash
# Phase `monitoring`, kafka:monitoring (the monitoring host): Prometheus and Alertmanager from the operating system's
# packages (apt; refused with the fix where there is none), with the files the program rendered: the scrape
# configuration, the alert rules, Alertmanager's routes, the TLS certificate and basic-auth users of both web servers,
# the overview page, the packages' argument files, and the consumer lag collector with its systemd timer. An argument
# file changed restarts its service; any other change reloads it (nothing else on the host restarts). Then both answer
# over TLS with the password, and Prometheus has loaded this configuration.
# Env:
#   MANIFEST_B64          base64 of lines "path mode owner base64-content", one per file; invalid base64 fails the step
#   PROMETHEUS_DEFAULTS   Prometheus' argument file (a file of the manifest: a change restarts it)
#   ALERTMANAGER_DEFAULTS Alertmanager's argument file (likewise)
#   MONITORING_DIR        the directory of the rendered files (a change there reloads both)
#   UNIT_DIR              where the lag collector's systemd units are (a change there reloads systemd)
#   LAG_TIMER             the lag collector's timer unit
#   PROMETHEUS_URL        https://<private address>:<port> of Prometheus
#   ALERTMANAGER_URL      https://<private address>:<port> of Alertmanager
#   CA_FILE               the stack's CA certificate (a file of the manifest)
#   AUTH_USER             the basic-auth user
#   AUTH_PASSWORD_FILE    the file holding its password (a file of the manifest)
#   CONFIG_DIR            where the record of the written files goes (observe.sh reads it)
#   OBSERVED_GENERATION   existing hosts, optional: the node's repair generation this run is for
#   GENERATION_FILE       with OBSERVED_GENERATION: where it goes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${MANIFEST_B64:?}" "${PROMETHEUS_DEFAULTS:?}" "${ALERTMANAGER_DEFAULTS:?}" "${MONITORING_DIR:?}" "${UNIT_DIR:?}" "${LAG_TIMER:?}" \
  "${PROMETHEUS_URL:?}" "${ALERTMANAGER_URL:?}" "${CA_FILE:?}" "${AUTH_USER:?}" "${AUTH_PASSWORD_FILE:?}" "${CONFIG_DIR:?}"

apt_packages prometheus prometheus-alertmanager
manifest=$(printf '%s' "$MANIFEST_B64" | base64 -d) || die "MANIFEST_B64 is not valid base64"
mkdir -p "$MONITORING_DIR" "$CONFIG_DIR"
chown root:prometheus "$MONITORING_DIR"
chmod 0750 "$MONITORING_DIR"
restart_prometheus=0 restart_alertmanager=0 reload=0 units=0
while read -r path mode owner content; do
  [[ -n $path ]] || continue
  mkdir -p "$(dirname "$path")"
  CHANGED=0
  put_file "$path" "$mode" "$owner" "$content"
  (( CHANGED )) || continue
  case $path in
    "$PROMETHEUS_DEFAULTS") restart_prometheus=1 ;;
    "$ALERTMANAGER_DEFAULTS") restart_alertmanager=1 ;;
    "$UNIT_DIR"/*) units=1 ;;
    "$MONITORING_DIR"/*) reload=1 ;;
  esac
done <<<"$manifest"

# The rendered files are checked by the packages' own tools before either service reads them.
out=$(promtool check config "$MONITORING_DIR/prometheus.yml" 2>&1) || die "promtool rejects the Prometheus configuration: $out"
out=$(amtool check-config "$MONITORING_DIR/alertmanager.yml" 2>&1) || die "amtool rejects the Alertmanager configuration: $out"

if (( units )); then systemctl daemon-reload; fi
for unit in prometheus prometheus-alertmanager "$LAG_TIMER"; do systemctl enable --quiet "$unit"; done
act() {
  local unit=$1 restart=$2
  if (( restart )) || ! systemctl is-active --quiet "$unit"; then
    systemctl restart "$unit"
    log "(re)started $unit"
  elif (( reload )); then
    systemctl reload "$unit"
    log "reloaded $unit"
  fi
}
act prometheus "$restart_prometheus"
act prometheus-alertmanager "$restart_alertmanager"
if (( units )) || ! systemctl is-active --quiet "$LAG_TIMER"; then systemctl restart "$LAG_TIMER"; fi

password=$(cat "$AUTH_PASSWORD_FILE")
get() { curl -sf --max-time 5 --cacert "$CA_FILE" --user "$AUTH_USER:$password" "$@"; }
ready() { get -o /dev/null "$1/-/ready"; }
wait_until 120 "Prometheus answers over TLS" ready "$PROMETHEUS_URL" || fail_unit prometheus "Prometheus does not answer on $PROMETHEUS_URL"
wait_until 120 "Alertmanager answers over TLS" ready "$ALERTMANAGER_URL" ||
  fail_unit prometheus-alertmanager "Alertmanager does not answer on $ALERTMANAGER_URL"
# A reload is asynchronous: Prometheus has this configuration once its last reload succeeded after the files' time.
loaded() {
  local m
  m=$(get "$PROMETHEUS_URL/metrics") || return 1
  grep -qx 'prometheus_config_last_reload_successful 1' <<<"$m" &&
    (( $(sed -n 's/^prometheus_config_last_reload_success_timestamp_seconds \([0-9.e+]*\)$/\1/p' <<<"$m" | awk '{ printf "%d", $1 }') >= $(stat -c %Y "$MONITORING_DIR/prometheus.yml") ))
}
wait_until 60 "Prometheus loaded this configuration" loaded || fail_unit prometheus "Prometheus did not load $MONITORING_DIR/prometheus.yml"

while read -r path _; do
  if [[ -n $path && -f $path ]]; then sha256sum "$path"; fi
done <<<"$manifest" >"$CONFIG_DIR/.prometheus.sha256"
# (Optional: existing hosts pass them.)
: "${OBSERVED_GENERATION:-}" "${GENERATION_FILE:-}"
record_generation
