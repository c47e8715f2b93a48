#!/usr/bin/env bash
# Phase `observe` (existing hosts, read-only, at every `pulumi preview` and `pulumi up`): what runs on the node against
# what this program last put there. Drift is a service that was provisioned (its unit enabled) but is not active, or a
# managed file changed or removed by hand since its configure step wrote it (that step records each file's sha256 in
# CONFIG_DIR/.<service>.sha256). A node not provisioned yet has neither, so no drift. Prints the node's repair
# generation: the one its configure steps last wrote to GENERATION_FILE (0 when none), plus one when anything drifted,
# so that the configure steps of a drifted node get a new input (the preview shows them; `up` runs them inside their
# usual gates) and a healthy node's stay as they are. Changes nothing.
# Env:
#   NODE_NAME        the node's name in the cluster, for the report
#   SERVICES         the node's systemd units, space-separated
#   CONFIG_DIR       where the configure steps keep their records
#   GENERATION_FILE  where the configure steps record the generation they ran for
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NODE_NAME:?}" "${SERVICES:?}" "${CONFIG_DIR:?}" "${GENERATION_FILE:?}"
drift=()
for svc in $SERVICES; do
  [[ $svc =~ ^[a-z][a-z-]*$ ]] || die "SERVICES entry \"$svc\" is not a unit name"
  if [[ "$(systemctl is-enabled "$svc" 2>/dev/null)" == enabled ]] && ! systemctl is-active --quiet "$svc"; then
    drift+=("$svc is $(systemctl is-active "$svc" 2>/dev/null || true)")
  fi
  record=$CONFIG_DIR/.$svc.sha256
  [[ -f $record ]] || continue
  while read -r sum path; do
    [[ -n $path ]] || continue
    if [[ ! -f $path ]]; then
      drift+=("$path was removed")
    elif [[ "$(sha256sum "$path" | cut -d' ' -f1)" != "$sum" ]]; then
      drift+=("$path was changed since $svc's configure step wrote it")
    fi
  done <"$record"
done
generation=$(cat "$GENERATION_FILE" 2>/dev/null || true)
[[ $generation =~ ^[0-9]+$ ]] || generation=0
if (( ${#drift[@]} > 0 )); then
  generation=$((generation + 1))
  for d in "${drift[@]}"; do echo "drift: $d"; done
fi
echo "generation: $generation"
