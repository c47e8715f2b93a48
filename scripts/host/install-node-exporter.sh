#!/usr/bin/env bash
# Phase `node-exporter`, kafka:monitoring (every node): Prometheus' node exporter from the operating system's package
# (apt), listening on the node's private address only, with its textfile collector directory. Disk space of the data
# directories, memory and CPU come from it. An argument file changed (or a stopped exporter) restarts the exporter
# and nothing else. Hosts without apt-get (Amazon Linux 2023 has no such package) are refused with the fix.
# Env:
#   LISTEN_ADDRESS       host:port the exporter listens on (the node's private address)
#   TEXTFILE_DIR         the textfile collector's directory
#   DEFAULTS_FILE        the package's argument file (ARGS=...)
#   CONFIG_DIR           where the record of the written file goes (observe.sh reads it)
#   OBSERVED_GENERATION  existing hosts, optional: the node's repair generation this run is for, written to
#                        GENERATION_FILE when the step succeeds
#   GENERATION_FILE      with OBSERVED_GENERATION: where it goes
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${LISTEN_ADDRESS:?}" "${TEXTFILE_DIR:?}" "${DEFAULTS_FILE:?}" "${CONFIG_DIR:?}"
unit=prometheus-node-exporter

apt_packages "$unit"
mkdir -p "$TEXTFILE_DIR" "$CONFIG_DIR"
args="--web.listen-address=$LISTEN_ADDRESS --collector.textfile.directory=$TEXTFILE_DIR"
put_file "$DEFAULTS_FILE" 0644 root:root "$(printf '# Managed by kafka-cluster (kafka:monitoring).\nARGS="%s"\n' "$args" | base64 -w0)"
systemctl enable --quiet "$unit"
if [[ $CHANGED == 1 ]] || ! systemctl is-active --quiet "$unit"; then
  systemctl restart "$unit"
  log "(re)started $unit on $LISTEN_ADDRESS"
fi
answers() { curl -sf --max-time 5 -o /dev/null "http://$LISTEN_ADDRESS/metrics"; }
wait_until 60 "$unit answers on $LISTEN_ADDRESS" answers || fail_unit "$unit" "$unit does not answer on http://$LISTEN_ADDRESS/metrics"
sha256sum "$DEFAULTS_FILE" >"$CONFIG_DIR/.$unit.sha256"
# (Optional: existing hosts pass them.)
: "${OBSERVED_GENERATION:-}" "${GENERATION_FILE:-}"
record_generation
