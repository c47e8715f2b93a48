#!/usr/bin/env bash
# Phase `observe` (existing hosts, read-only, at every `pulumi preview` and `pulumi up`): what runs on the node against
# what this program last put there. Drift is a service that was provisioned (its unit enabled) but is not active, or a
# managed file changed or removed by hand since its configure step wrote it (that step records each file's sha256 in
# CONFIG_DIR/.<service>.sha256). A node not provisioned yet has neither, so no drift. Prints the node's repair
# generation: the one its configure steps last wrote to GENERATION_FILE (0 when none), plus one when anything drifted,
# so that the configure steps of a drifted node get a new input (the preview shows them; `up` runs them inside their
# usual gates) and a healthy node's stay as they are. Also, one line per Kafka role the host was provisioned with
# (whatever the configuration says now), read from the role's properties: what the metadata mode decisions of the
# program (components/migration.ts) are made from:
#   broker: active=<0|1> mode=<zookeeper|migrating|kraft> version=<x.y.z|-> id=<n> [ibp=<v>] [cluster=<id>]
#   zookeeper: active=<0|1>
#   controller: active=<0|1> migration=<0|1> zookeeper=<0|1> version=<x.y.z|-> id=<n> quorum=<voters|bootstrap>
# Changes nothing.
# Env:
#   NODE_NAME        the node's name in the cluster, for the report
#   SERVICES         the node's systemd units, space-separated (none on a host that runs nothing yet)
#   CONFIG_DIR       where the configure steps keep their records
#   GENERATION_FILE  where the configure steps record the generation they ran for
#   BROKER_LINK      the link to the release the broker runs (kafka_<scala>-<version>)
#   CONTROLLER_LINK  the link to the release the KRaft controller runs
#   BROKER_META      the broker's meta.properties (in its log directory): the cluster id it belongs to
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NODE_NAME:?}" "${SERVICES?}" "${CONFIG_DIR:?}" "${GENERATION_FILE:?}" "${BROKER_LINK:?}" "${CONTROLLER_LINK:?}" "${BROKER_META:?}"
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
# The roles' facts. A role counts once its configure step wrote its properties.
active() { if systemctl is-active --quiet "$1"; then echo 1; else echo 0; fi; }
# The version in the name of the release a link points to (kafka_2.13-3.9.2), `-` when there is no link.
version_of() { local d; d=$(readlink "$1" 2>/dev/null || true); d=${d##*/}; d=${d##*-}; echo "${d:--}"; }
flag() { if [[ $1 == true ]]; then echo 1; else echo 0; fi; }
props=$CONFIG_DIR/server.properties
if [[ -f $props ]]; then
  # A restart still pending (configure-service.sh wrote new files but the broker did not restart on them yet: an
  # interrupted step) means the broker runs the files it had: their copy tells its mode.
  running=$props
  if [[ -f $CONFIG_DIR/.kafka.restart-pending && -f $CONFIG_DIR/.kafka.previous/files$props ]]; then running=$CONFIG_DIR/.kafka.previous/files$props; fi
  migration=$(prop_value 'zookeeper\.metadata\.migration\.enable' <"$running")
  if [[ -n $(prop_value 'process\.roles' <"$running") ]]; then mode=kraft
  elif [[ $migration == true ]]; then mode=migrating
  else mode=zookeeper; fi
  id=$(prop_value 'broker\.id' <"$props"); [[ -n $id ]] || id=$(prop_value 'node\.id' <"$props")
  ibp=$(prop_value 'inter\.broker\.protocol\.version' <"$props")
  cluster=$(prop_value 'cluster\.id' <"$BROKER_META" 2>/dev/null || true)
  echo "broker: active=$(active kafka) mode=$mode version=$(version_of "$BROKER_LINK") id=${id:--1}${ibp:+ ibp=$ibp}${cluster:+ cluster=$cluster}"
fi
# (A member retired by a finalized migration is stopped and disabled: no longer one.)
if [[ -f $CONFIG_DIR/zookeeper.properties ]] && { systemctl is-active --quiet zookeeper || [[ "$(systemctl is-enabled zookeeper 2>/dev/null)" == enabled ]]; }; then
  echo "zookeeper: active=$(active zookeeper)"
fi
props=$CONFIG_DIR/controller.properties
if [[ -f $props ]]; then
  echo "controller: active=$(active kafka-controller)" \
    "migration=$(flag "$(prop_value 'zookeeper\.metadata\.migration\.enable' <"$props")")" \
    "zookeeper=$(if [[ -n $(prop_value 'zookeeper\.connect' <"$props") ]]; then echo 1; else echo 0; fi)" \
    "version=$(version_of "$CONTROLLER_LINK") id=$(prop_value 'node\.id' <"$props")" \
    "quorum=$(if [[ -n $(prop_value 'controller\.quorum\.voters' <"$props") ]]; then echo voters; else echo bootstrap; fi)"
fi
generation=$(cat "$GENERATION_FILE" 2>/dev/null || true)
[[ $generation =~ ^[0-9]+$ ]] || generation=0
if (( ${#drift[@]} > 0 )); then
  generation=$((generation + 1))
  for d in "${drift[@]}"; do echo "drift: $d"; done
fi
echo "generation: $generation"
