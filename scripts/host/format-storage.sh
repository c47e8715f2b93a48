#!/usr/bin/env bash
# Phase `format` (KRaft, every controller and broker, before its first start): `kafka-storage format` of the node's
# metadata (controller) or log (broker) directory, only when it is empty. A formatted directory of this cluster is left
# alone; one of another cluster, or a non-empty one without meta.properties, fails the step (nothing is formatted over
# data). It runs the release the node will run (KAFKA_HOME): storage formatted by a newer release cannot be run by an
# older one. Controllers of a new quorum form it with --initial-controllers (every configured controller, each with
# the directory id it is listed with) and, with sasl_ssl, bootstrap the admin's SCRAM credential (--add-scram). The
# arguments go in a root-only argument file the JVM reads (`java @file`): no password on a command line.
# A controller whose directory is empty while another controller already serves the quorum (one added by a higher
# kafka:controllerCount, or one whose disk is new) never claims a voter's place: it is formatted to join
# (--no-initial-controllers) and JOIN_MARKER is written; its configure step then makes it a voter (add-controller,
# after removing its old directory's entry) and removes the marker.
# Env:
#   ROLE                 controller or broker
#   DATA_DIR             the directory to format (log.dirs of PROPERTIES)
#   CLUSTER_ID           the cluster id, generated once per stack
#   PROPERTIES_B64       the node's properties (controller.properties or server.properties), base64
#   KAFKA_HOME           the release the node will run
#   TOOLS_LOG_DIR        LOG_DIR for its tools
#   SERVICE_USER         the user the service runs as (owns DATA_DIR)
#   INITIAL_CONTROLLERS  controller: id@host:port:directoryId of every configured controller, comma-separated
#   QUORUM_BOOTSTRAP     controller: the controllers' host:port, comma-separated (probed for a running quorum)
#   JOIN_MARKER          controller: the file that says "formatted to join a running quorum" (outside DATA_DIR)
#   INITIAL_MARKER       controller: the file that says "formatted as one of a new quorum's initial voters" (outside
#                        DATA_DIR): its configure step then needs no quorum probe to know it is a voter
#   SCRAM_USER           controller, optional: the admin principal bootstrapped with --add-scram
#   SCRAM_PASSWORD       controller, optional: its password
#   STATIC_QUORUM        controller, optional: true for a controller of a ZooKeeper migration (KIP-866): its quorum is
#                        the static controller.quorum.voters of PROPERTIES, so neither --initial-controllers nor the
#                        probe for a running quorum (INITIAL_CONTROLLERS and QUORUM_BOOTSTRAP are not read), and no
#                        --add-scram (the migration copies the SCRAM credentials from ZooKeeper); CLUSTER_ID is the
#                        ZooKeeper-mode cluster's own
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${ROLE:?}" "${DATA_DIR:?}" "${CLUSTER_ID:?}" "${PROPERTIES_B64:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}" "${SERVICE_USER:?}"
[[ $ROLE == controller || $ROLE == broker ]] || die "ROLE must be controller or broker"
[[ $CLUSTER_ID =~ ^[A-Za-z0-9_-]{22}$ ]] || die "CLUSTER_ID=$CLUSTER_ID is not a Kafka cluster id (22 base64url characters)"
[[ -x $KAFKA_HOME/bin/kafka-run-class.sh ]] || die "$KAFKA_HOME is not an installed Kafka release (the install step runs first)"

meta=$DATA_DIR/meta.properties
if [[ -f $meta ]]; then
  have=$(prop_value 'cluster\.id' <"$meta")
  [[ $have == "$CLUSTER_ID" ]] ||
    die "$DATA_DIR holds the data of cluster $have, not of this stack's cluster $CLUSTER_ID; nothing was changed." \
      "Fix: move that data away (it is another cluster's) or point this stack at the hosts it built"
  echo "storage ok: $DATA_DIR formatted for cluster $CLUSTER_ID ($ROLE)"
  exit 0
fi
if [[ -d $DATA_DIR ]] && [[ -n $(ls -A "$DATA_DIR") ]]; then
  die "$DATA_DIR is not empty but has no meta.properties: refusing to format over it; nothing was changed." \
    "Fix: move its content away if it is not needed, then run pulumi up again"
fi

extra=()
joining=''
static=${STATIC_QUORUM:-false}
[[ $static == true || $static == false ]] || die "STATIC_QUORUM must be true or false"
if [[ $ROLE == controller && $static == true ]]; then
  : "${INITIAL_MARKER:?}"
elif [[ $ROLE == controller ]]; then
  : "${INITIAL_CONTROLLERS:?}" "${QUORUM_BOOTSTRAP:?}" "${JOIN_MARKER:?}" "${INITIAL_MARKER:?}"
  # shellcheck disable=SC2016 # $1 expands in the inner shell
  for ep in ${QUORUM_BOOTSTRAP//,/ }; do
    if timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$ep" 2>/dev/null; then joining=$ep; break; fi
  done
  if [[ -n $joining ]]; then
    log "the controller quorum already runs ($joining answers): formatting to join it as a new voter"
    extra+=(--no-initial-controllers)
  else
    extra+=(--initial-controllers "$INITIAL_CONTROLLERS")
  fi
fi
if [[ $ROLE == controller && -z $joining && $static == false ]]; then
  if [[ -n ${SCRAM_USER:-} ]]; then
    [[ $SCRAM_USER =~ ^[A-Za-z][A-Za-z0-9._-]*$ && ${SCRAM_PASSWORD:-} =~ ^[A-Za-z0-9_-]+$ ]] ||
      die "SCRAM_USER/SCRAM_PASSWORD must be a user name and a base64url password"
    extra+=(--add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]")
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kc-format.XXXXXX")
on_exit "command -p rm -rf '$work'"
chmod 0700 "$work"
printf '%s' "$PROPERTIES_B64" | base64 -d >"$work/node.properties" || die "PROPERTIES_B64 is not valid base64"
# One argument per line, each quoted (java's @file syntax); only the main class and its arguments, all in this file.
{
  printf '%s\n' kafka.tools.StorageTool format
  for a in --cluster-id "$CLUSTER_ID" --config "$work/node.properties" "${extra[@]}"; do printf '"%s"\n' "$a"; done
} >"$work/args"
mkdir -p "$DATA_DIR"
if ! out=$("$KAFKA_HOME/bin/kafka-run-class.sh" "@$work/args" 2>&1); then
  die "kafka-storage format of $DATA_DIR failed: $(grep -v -i 'password' <<<"$out" | tail -n 5 | tr '\n' ' ')"
fi
chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
log "$(grep -v -i 'password\|scram' <<<"$out" | tail -n 2 | tr '\n' ' ')"
if [[ -n $joining ]]; then
  command -p rm -f "$INITIAL_MARKER"
  date -u +%FT%TZ >"$JOIN_MARKER"
  echo "storage ok: $DATA_DIR formatted for cluster $CLUSTER_ID (controller joining the running quorum)"
else
  if [[ $ROLE == controller ]]; then date -u +%FT%TZ >"$INITIAL_MARKER"; fi
  if [[ $static == true ]]; then
    echo "storage ok: $DATA_DIR formatted for cluster $CLUSTER_ID (controller of the static quorum a ZooKeeper migration runs)"
  else
    echo "storage ok: $DATA_DIR formatted for cluster $CLUSTER_ID ($ROLE${extra:+, initial controllers $INITIAL_CONTROLLERS})"
  fi
fi
