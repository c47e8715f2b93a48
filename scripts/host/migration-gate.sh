#!/usr/bin/env bash
# Phases `migration-ready` and `migration-copied` (a ZooKeeper -> KRaft migration, KIP-866; one host): waits for the
# migration state the KRaft controllers keep in ZooKeeper, the /migration znode under the chroot (world-readable, so no
# login): AWAIT=created, after the controllers started in migration mode: the znode exists (the controllers formed
# their quorum and wait for the brokers: ZkMigrationState PRE_MIGRATION), so the brokers may register with them;
# AWAIT=copied, after the last broker registered: kraft_metadata_offset >= 0 (the controllers copied the metadata from
# ZooKeeper and write every change to both: ZkMigrationState MIGRATION), so the brokers may move to KRaft mode.
# Changes nothing.
# Env:
#   AWAIT          created or copied
#   ZK_CONNECT     the ZooKeeper connect string, with chroot
#   KAFKA_HOME     a Kafka install with zookeeper-shell.sh
#   TOOLS_LOG_DIR  LOG_DIR for that tool
#   RERUN_DIGEST   not read: what the phase's nodes run, in the command text so that Pulumi runs this again when it changes
#   WAIT_LIMIT     seconds to wait (default 900)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${AWAIT:?}" "${ZK_CONNECT:?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
[[ $AWAIT == created || $AWAIT == copied ]] || die "AWAIT must be created or copied"
limit=${WAIT_LIMIT:-900}
STATE=''
# read_state: /migration's JSON into STATE (empty when it does not exist or ZooKeeper does not answer).
read_state() {
  STATE=$(timeout 60 "$(kafka_bin zookeeper-shell.sh)" "$ZK_CONNECT" get /migration 2>/dev/null | grep -m1 '^{' || true)
}
reached() {
  read_state
  [[ -n $STATE ]] || return 1
  [[ $AWAIT == created ]] && return 0
  local offset
  offset=$(grep -o '"kraft_metadata_offset":-\?[0-9]*' <<<"$STATE" | cut -d: -f2)
  [[ -n $offset ]] && (( offset >= 0 ))
}
if ! wait_until "$limit" "/migration $AWAIT" reached; then
  if [[ $AWAIT == created ]]; then
    die "the KRaft controllers did not start the migration within ${limit}s: no /migration under $ZK_CONNECT${STATE:+ ($STATE)}." \
      "Their logs say why (journalctl -u kafka-controller; controller.log: KRaftMigrationDriver). The brokers were not touched; run pulumi up again once it is fixed"
  fi
  die "the KRaft controllers did not copy the metadata within ${limit}s of the last broker's registration (/migration: ${STATE:-none})." \
    "The brokers keep running in ZooKeeper mode with the migration settings; the active controller's log says why" \
    "(KRaftMigrationDriver). Run pulumi up again once it is fixed, or roll back"
fi
echo "migration $AWAIT: /migration $STATE"
