#!/usr/bin/env bash
# Phase `ready` (every host): the host is up, cloud-init has finished and no package manager holds its lock.
# Prints the host's SSH host key (the `ssh` output line pins it), so a rebuilt host gets its new key into the outputs.
# Env:
#   HOST_KEY_FILE  sshd's public host key file (its key type and key are printed on stdout)
#   READY_TIMEOUT  seconds to wait for cloud-init and the package manager (default 600)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${HOST_KEY_FILE:?}"

timeout_s=${READY_TIMEOUT:-600}
if command -v cloud-init >/dev/null 2>&1; then
  log "waiting for cloud-init"
  timeout "$timeout_s" cloud-init status --wait >/dev/null 2>&1 || log "cloud-init reported a problem; continuing"
fi
# One name per pgrep: procps warns about (and never matches) a whole pattern longer than 15 characters.
apt_idle() {
  local p
  for p in apt apt-get dpkg unattended-upgr; do
    if pgrep -x "$p" >/dev/null; then return 1; fi
  done
}
if command -v apt-get >/dev/null 2>&1; then
  if ! wait_until "$timeout_s" "package manager idle" apt_idle; then
    holders=$(for p in apt apt-get dpkg unattended-upgr; do pgrep -a -x "$p"; done | head -n 5 | tr '\n' ';' || true)
    die "apt/dpkg still busy after ${timeout_s}s (held by: ${holders:-unknown}); wait for it to finish (first boot runs" \
      "unattended-upgrades) or stop it on the host, then run pulumi up again"
  fi
fi
# shellcheck disable=SC1091
. /etc/os-release
log "ready: ${PRETTY_NAME:-unknown OS}, $(nproc) CPU, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB"
read -r key_type key _ < "$HOST_KEY_FILE" || die "cannot read the SSH host key $HOST_KEY_FILE"
echo "host-key: $key_type $key"
