#!/usr/bin/env bash
# Phase `storage` (EC2 brokers with a data volume): format the volume only when it is blank and mount it by UUID
# (nofail) at MOUNT_POINT, so a replaced instance finds its broker's data again.
# Env:
#   VOLUME_ID      the EBS volume id (vol-...)
#   MOUNT_POINT    where it is mounted (the Kafka data directory)
#   SERVICE_USER   the user that owns it
#   SERVICE_HOME   that user's home directory, if the user has to be created
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${VOLUME_ID:?}" "${MOUNT_POINT:?}" "${SERVICE_USER:?}" "${SERVICE_HOME:?}"

serial=${VOLUME_ID/-/}
find_device() {
  local d
  for d in "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serial}" /dev/xvdf /dev/sdf; do
    [[ -b $d ]] && { readlink -f "$d"; return 0; }
  done
  return 1
}
wait_until 300 "data volume $VOLUME_ID attached" find_device || die "volume $VOLUME_ID is not attached to this instance"
dev=$(find_device)
if [[ -z "$(blkid -o value -s TYPE "$dev" 2>/dev/null)" ]]; then
  mkfs.xfs -q "$dev" 2>/dev/null || mkfs.ext4 -q "$dev"
  log "formatted blank volume $dev"
fi
uuid=$(blkid -o value -s UUID "$dev")
fstype=$(blkid -o value -s TYPE "$dev")
mkdir -p "$MOUNT_POINT"
if ! grep -q "UUID=$uuid" /etc/fstab; then
  printf 'UUID=%s %s %s defaults,noatime,nofail 0 2\n' "$uuid" "$MOUNT_POINT" "$fstype" >> /etc/fstab
  log "added $MOUNT_POINT to /etc/fstab"
fi
mountpoint -q "$MOUNT_POINT" || mount "$MOUNT_POINT"
ensure_user "$SERVICE_USER" "$SERVICE_HOME"
[[ "$(stat -c %U "$MOUNT_POINT")" == "$SERVICE_USER" ]] || chown "$SERVICE_USER:$SERVICE_USER" "$MOUNT_POINT"
echo "data volume $VOLUME_ID ($dev, UUID $uuid) mounted at $MOUNT_POINT"
