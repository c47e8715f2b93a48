#!/usr/bin/env bash
# Phase `storage` (EC2 nodes with a data volume): format the volume only when it is blank, mount it by UUID (nofail)
# at MOUNT_POINT, so a replaced instance finds its node's data again, and grow its filesystem when the volume grew.
# It never mounts over data: while MOUNT_POINT holds files, or one of SERVICES runs, it refuses and says how to move
# the data onto the volume.
# Env:
#   VOLUME_ID      the EBS volume id (vol-...)
#   MOUNT_POINT    where it is mounted: a data directory below /var/lib (the broker's, a ZooKeeper member's or a
#                  controller's; on the monitoring node Prometheus' home)
#   SERVICES       the systemd units that keep their data under MOUNT_POINT (space-separated unit names)
#   SERVICE_USER   the user that owns it (on the monitoring node the packages' prometheus user)
#   SERVICE_HOME   that user's home directory, if the user has to be created
#   SIZE_GB        the volume's size in GiB: wait until the device has it, then grow the filesystem (optional)
#   DEVICE         the volume's block device, instead of finding it by VOLUME_ID (optional; test hosts)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${VOLUME_ID:?}" "${MOUNT_POINT:?}" "${SERVICES:?}" "${SERVICE_USER:?}" "${SERVICE_HOME:?}"
# A mount hides what is below it and the refusal's advice runs `mv` on it: only a normalised directory below /var/lib
# (no ., .., // or trailing /), and unit names only in SERVICES (they go into systemctl lines and the advice).
if ! [[ $MOUNT_POINT =~ ^/var/lib(/[A-Za-z0-9_.-]+)+$ ]] || [[ $MOUNT_POINT =~ (^|/)\.\.?(/|$) ]]; then
  die "MOUNT_POINT=$MOUNT_POINT is not a data directory below /var/lib"
fi
[[ $SERVICES =~ ^[A-Za-z0-9@._-]+( [A-Za-z0-9@._-]+)*$ ]] || die "SERVICES=$SERVICES is not a list of systemd unit names"

serial=${VOLUME_ID/-/}
find_device() {
  local d candidates=("/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serial}" /dev/xvdf /dev/sdf)
  if [[ -n ${DEVICE:-} ]]; then candidates=("$DEVICE"); fi
  for d in "${candidates[@]}"; do
    [[ -b $d ]] && { readlink -f "$d"; return 0; }
  done
  return 1
}
wait_until 300 "data volume $VOLUME_ID attached" find_device || die "volume $VOLUME_ID is not attached to this instance"
dev=$(find_device)

mounted=$(findmnt -n -o SOURCE --mountpoint "$MOUNT_POINT" 2>/dev/null || true)
if [[ -n $mounted && "$(readlink -f "$mounted")" != "$dev" ]]; then
  die "$MOUNT_POINT is already a mount of $mounted, not of the data volume $VOLUME_ID ($dev); unmount it or fix /etc/fstab first"
fi
if [[ -z $mounted ]]; then
  # Mounting over a directory in use would hide its data from its service (which may then start empty).
  move="to move this node's data onto the volume, one node at a time: sudo systemctl stop $SERVICES;"
  move+=" sudo mv $MOUNT_POINT $MOUNT_POINT.root; pulumi up (this step then mounts the empty volume);"
  move+=" sudo cp -a $MOUNT_POINT.root/. $MOUNT_POINT/; sudo systemctl start $SERVICES (README: data volumes on a running cluster)"
  for s in $SERVICES; do
    if systemctl is-active --quiet "$s"; then
      die "refusing to mount data volume $VOLUME_ID at $MOUNT_POINT: $s is running and keeps its data there; $move"
    fi
  done
  if [[ -d $MOUNT_POINT ]] && [[ -n "$(find "$MOUNT_POINT" -mindepth 1 -maxdepth 1 -print -quit)" ]]; then
    die "refusing to mount data volume $VOLUME_ID at $MOUNT_POINT: the directory is not empty ($(find "$MOUNT_POINT" -mindepth 1 -maxdepth 1 | wc -l) entries on the root volume) and the mount would hide them; $move"
  fi
fi

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
if [[ -z $mounted ]]; then
  mount "$MOUNT_POINT"
  log "mounted $dev at $MOUNT_POINT"
fi
ensure_user "$SERVICE_USER" "$SERVICE_HOME"
[[ "$(stat -c %U "$MOUNT_POINT")" == "$SERVICE_USER" ]] || chown "$SERVICE_USER:$SERVICE_USER" "$MOUNT_POINT"

# Growing: EBS grows the device online (the volume's update waits for it); the filesystem follows here, mounted.
if [[ -n ${SIZE_GB:-} ]]; then
  want=$(( SIZE_GB * 1024 * 1024 * 1024 ))
  has_size() { (( $(blockdev --getsize64 "$dev") >= want )); }
  wait_until 300 "$dev has ${SIZE_GB} GiB" has_size ||
    die "$dev has $(blockdev --getsize64 "$dev") bytes, less than the ${SIZE_GB} GiB of kafka:dataVolume.sizeGb (is the volume modification still running?)"
  before=$(df -B1 --output=size "$MOUNT_POINT" | tail -n 1)
  case $fstype in
    xfs) out=$(xfs_growfs "$MOUNT_POINT" 2>&1) || die "xfs_growfs $MOUNT_POINT failed: $out" ;;
    ext4) out=$(resize2fs "$dev" 2>&1) || die "resize2fs $dev failed: $out" ;;
    *) die "cannot grow a $fstype filesystem" ;;
  esac
  after=$(df -B1 --output=size "$MOUNT_POINT" | tail -n 1)
  if (( after > before )); then log "grew the filesystem at $MOUNT_POINT from $(( before >> 20 )) to $(( after >> 20 )) MiB"; fi
fi
echo "data volume $VOLUME_ID ($dev, UUID $uuid) mounted at $MOUNT_POINT, $(df -h --output=size "$MOUNT_POINT" | tail -n 1 | tr -d ' ')"
