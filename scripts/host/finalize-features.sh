#!/usr/bin/env bash
# Phase `features` (KRaft, once, after every controller and broker runs the configured release): the release's feature
# levels are finalized, each named (`kafka-features upgrade --feature name=level ...`). Never `--release-version`
# alone: since Kafka 4.1 it also raises kraft.version, which cannot be undone (KAFKA-21426). A feature already at its
# level is left alone; one above it (a release downgrade after finalizing) fails the step, as Kafka cannot lower it.
# Env:
#   BOOTSTRAP      comma-separated internal host:port of the brokers
#   FEATURES       the levels, space-separated "name=level" words (e.g. metadata.version=30 group.version=1)
#   METADATA_VERSION_NAME  the name `describe` gives metadata.version's level in FEATURES (e.g. 4.3-IV0 for 30)
#   CLIENT_CONFIG  client properties the tools log in with (the admin principal's)
#   KAFKA_HOME     the Kafka install whose tools run (the configured release)
#   TOOLS_LOG_DIR  LOG_DIR for those tools
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${BOOTSTRAP:?}" "${FEATURES:?}" "${METADATA_VERSION_NAME:?}" "${CLIENT_CONFIG:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
features() { "$(kafka_bin kafka-features.sh)" --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" "$@"; }
described=$(features describe) || die "kafka-features describe failed through $BOOTSTRAP"
# finalized NAME: the level the cluster has finalized for NAME as `describe` prints it: a number, or for
# metadata.version a name (e.g. 4.3-IV0).
finalized() { sed -n "s/^Feature: $1[[:space:]].*FinalizedVersionLevel: \([^[:space:]]*\).*/\1/p" <<<"$described"; }
args=()
for f in $FEATURES; do
  [[ $f =~ ^([a-z.]+)=([0-9]+)$ ]] || die "FEATURES entry \"$f\" is not name=level"
  name=${BASH_REMATCH[1]} level=${BASH_REMATCH[2]}
  have=$(finalized "${name//./\\.}")
  if [[ $name == metadata.version ]]; then
    # At the configured release's level: nothing to do. Any other name is named in the upgrade (Kafka refuses a lower
    # level there, with its own message).
    [[ $have != "$METADATA_VERSION_NAME" ]] || continue
    args+=(--feature "$name=$level")
    continue
  fi
  [[ $have =~ ^[0-9]+$ ]] || have=''
  if [[ -n $have ]] && (( have == level )); then continue; fi
  if [[ -n $have ]] && (( have > level )); then
    die "$name is finalized at $have, above $level of the configured release: Kafka cannot lower it; run the release that finalized it"
  fi
  args+=(--feature "$name=$level")
done
if (( ${#args[@]} > 0 )); then
  log "finalizing: ${args[*]}"
  features upgrade "${args[@]}" >&2 || die "kafka-features upgrade ${args[*]} failed"
  described=$(features describe)
fi
echo "features ok: $(sed -n 's/^Feature: \([a-z.]*\)[[:space:]].*FinalizedVersionLevel: \([^[:space:]]*\).*/\1=\2/p' <<<"$described" | paste -sd' ' -)"
