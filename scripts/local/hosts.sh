#!/usr/bin/env bash
# Local Debian 12 test hosts for kafka-cluster: systemd-nspawn containers that
# look like small cloud VMs (user "admin", key-only SSH, passwordless sudo,
# systemd, static address) on a private bridge with no route to the outside.
#
# Usage: [KAFKA_CLUSTER_LAB=local|test|test2|test3|test4|test5] scripts/local/hosts.sh <command>
#   image        build (once) the cached root filesystem + local apt repository
#   key          create (once) the shared SSH key pair; prints the private key's path
#   up [N]       ensure image, bridge, HTTP server, and hosts 1..N (default 3)
#   down         stop everything of this lab, delete its host copies and state
#                (keeps the shared image cache; never touches another lab)
#   status       show bridge, HTTP server and per-host state
#   env          JSON description of the running environment (stdout)
#   ssh I cmd..  run a command on host I of the lab as admin
#
# Labs: independent sets of hosts that can run at the same time.
#   lab    bridge  subnet          hosts        HTTP server      state / cgroup
#   local  kcbr0   10.77.0.0/24    kc1..kcN     10.77.0.1:8089   /run/kafka-cluster-local
#   test   kctbr0  10.78.0.0/24    kct1..kctN   10.78.0.1:8089   /run/kafka-cluster-test
#   test2  kcubr0  10.79.0.0/24    kcu1..kcuN   10.79.0.1:8089   /run/kafka-cluster-test2
#   test3  kcvbr0  10.80.0.0/24    kcv1..kcvN   10.80.0.1:8089   /run/kafka-cluster-test3
#   test4  kcwbr0  10.81.0.0/24    kcw1..kcwN   10.81.0.1:8089   /run/kafka-cluster-test4
#   test5  kcxbr0  10.82.0.0/24    kcx1..kcxN   10.82.0.1:8089   /run/kafka-cluster-test5
#   (host I has address .(10+I); `local` is the quick start; `test` the hosts suite, `test2` its data-volume test,
#   `test3` the e2e suite, `test4` the KRaft suite, `test5` the migration suite, so that the suites can run at the
#   same time)
# Shared by all labs, built once under a lock: image rootfs, apt repository,
# SSH key pair, Kafka tarball directory. Per lab: bridge, addresses, HTTP server,
# host copies, supervisors, PID files, up/down lock, cgroup.
#
# Environment:
#   KAFKA_CLUSTER_LAB    lab to act on: local (default) or test
#   KAFKA_CLUSTER_CACHE  cache root (default /var/cache/kafka-cluster)
#   KAFKA_CLUSTER_STATE  runtime state dir of the selected lab (default: see
#                        Labs; must differ between labs, which is checked)
#   KAFKA_CLUSTER_APT_MIRROR  Debian mirror URI for the image build
#                        (default: read from this machine's apt sources)
#
# Notes: each systemd-nspawn runs under a detached supervisor
# (`_supervise LAB I`) that boots it again when it exits with 133 (reboot
# inside the host). Without systemd as PID 1 on the machine, every host gets
# its own cgroup (kafka-cluster-LAB/NAME) so that nspawn --keep-unit instances
# do not share one; `down` also uses it to find container processes left by a
# killed nspawn. Bridges have no route or NAT to the outside, and IPv4
# forwarding is switched off on them (per interface, even where the machine
# forwards), so a lab's hosts reach neither the outside nor another lab.
set -euo pipefail

log() { printf '[hosts.sh%s] %s\n' "${LAB:+ $LAB}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
CACHE_DIR=${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}

# Shared by all labs (read-mostly; built under SHARED_LOCK).
SSH_KEY=$CACHE_DIR/local/ssh/id_ed25519
KAFKA_DIR=$CACHE_DIR/kafka
SHARED_LOCK=$CACHE_DIR/.shared.lock

# The labs. Each subnet is a fixed /24 of its own (10.77.0 and 10.78.0 cannot
# overlap); names, bridges, state dirs, cgroups and host copies are distinct,
# and no name is a prefix that a glob of another lab would match (kc[0-9]* vs
# kct[0-9]*). `local` keeps the values Pulumi.local.yaml points at.
LABS=(local test test2 test3 test4 test5)
LAB=${KAFKA_CLUSTER_LAB:-local}
case $LAB in
  local)
    BRIDGE=kcbr0 NET_PREFIX=10.77.0 HOST_PREFIX=kc CGROUP_NAME=kafka-cluster-local
    DEFAULT_STATE_DIR=/run/kafka-cluster-local
    HOSTS_DIR=$CACHE_DIR/local/hosts LOCK_FILE=$CACHE_DIR/local/.lock
    ;;
  test)
    BRIDGE=kctbr0 NET_PREFIX=10.78.0 HOST_PREFIX=kct CGROUP_NAME=kafka-cluster-test
    DEFAULT_STATE_DIR=/run/kafka-cluster-test
    HOSTS_DIR=$CACHE_DIR/local/hosts-test LOCK_FILE=$CACHE_DIR/local/.lock-test
    ;;
  test2)
    BRIDGE=kcubr0 NET_PREFIX=10.79.0 HOST_PREFIX=kcu CGROUP_NAME=kafka-cluster-test2
    DEFAULT_STATE_DIR=/run/kafka-cluster-test2
    HOSTS_DIR=$CACHE_DIR/local/hosts-test2 LOCK_FILE=$CACHE_DIR/local/.lock-test2
    ;;
  test3)
    BRIDGE=kcvbr0 NET_PREFIX=10.80.0 HOST_PREFIX=kcv CGROUP_NAME=kafka-cluster-test3
    DEFAULT_STATE_DIR=/run/kafka-cluster-test3
    HOSTS_DIR=$CACHE_DIR/local/hosts-test3 LOCK_FILE=$CACHE_DIR/local/.lock-test3
    ;;
  test4)
    BRIDGE=kcwbr0 NET_PREFIX=10.81.0 HOST_PREFIX=kcw CGROUP_NAME=kafka-cluster-test4
    DEFAULT_STATE_DIR=/run/kafka-cluster-test4
    HOSTS_DIR=$CACHE_DIR/local/hosts-test4 LOCK_FILE=$CACHE_DIR/local/.lock-test4
    ;;
  test5)
    BRIDGE=kcxbr0 NET_PREFIX=10.82.0 HOST_PREFIX=kcx CGROUP_NAME=kafka-cluster-test5
    DEFAULT_STATE_DIR=/run/kafka-cluster-test5
    HOSTS_DIR=$CACHE_DIR/local/hosts-test5 LOCK_FILE=$CACHE_DIR/local/.lock-test5
    ;;
  *)
    LAB=""
    die "unknown KAFKA_CLUSTER_LAB '${KAFKA_CLUSTER_LAB:-}' (valid: ${LABS[*]})"
    ;;
esac
export KAFKA_CLUSTER_LAB=$LAB      # inherited by the detached supervisors
STATE_DIR=${KAFKA_CLUSTER_STATE:-$DEFAULT_STATE_DIR}
BRIDGE_ADDR=$NET_PREFIX.1
HTTP_PORT=8089
HTTP_BASE=http://$BRIDGE_ADDR:$HTTP_PORT
SSH_USER='admin'

SUITE=bookworm
IMAGE_PACKAGES=(systemd systemd-sysv dbus openssh-server iproute2 procps
  ca-certificates curl sudo iputils-ping libpam-systemd)
# Served by the local apt repository, not in the image: the install steps install them as they would on a bare host
# (gpg verifies the Kafka release signature; Debian's minbase has gpgv only; Prometheus, Alertmanager and the node
# exporter are kafka:monitoring's).
REPO_PACKAGES=(openjdk-17-jre-headless gpg prometheus prometheus-alertmanager prometheus-node-exporter)

MAX_HOSTS=50          # NET_PREFIX.11 .. NET_PREFIX.60
MAX_REBOOTS=25        # per supervisor lifetime
SSH_WAIT_SECONDS=180
STOP_WAIT_SECONDS=30

SSH_OPTS=(-i "$SSH_KEY" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5
  -o LogLevel=ERROR)

require_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

valid_index() { [[ $1 =~ ^[1-9][0-9]*$ ]] && (($1 <= MAX_HOSTS)); }

host_addr() { printf '%s.%d' "$NET_PREFIX" $((10 + $1)); }
host_name() { printf '%s%d' "$HOST_PREFIX" "$1"; }

# ---------------------------------------------------------------------------
# host tools
# ---------------------------------------------------------------------------
apt_install_host() {
  local -a opts=(-o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)
  log "installing host packages: $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install "$@" >&2; then
    apt-get -o DPkg::Lock::Timeout=600 -q update >&2
    DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install "$@" >&2
  fi
}

ensure_host_tools() {
  local -a pkgs=()
  command -v debootstrap >/dev/null || pkgs+=(debootstrap)
  command -v systemd-nspawn >/dev/null || pkgs+=(systemd-container)
  command -v dpkg-scanpackages >/dev/null || pkgs+=(dpkg-dev)
  [[ -x /usr/bin/python3 ]] || pkgs+=(python3)
  command -v ssh >/dev/null || pkgs+=(openssh-client)
  command -v ssh-keygen >/dev/null || pkgs+=(openssh-client)
  command -v ip >/dev/null || pkgs+=(iproute2)
  command -v curl >/dev/null || pkgs+=(curl)
  if ((${#pkgs[@]})); then
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    apt_install_host "${pkgs[@]}"
  fi
}

# "URI SUITE" pairs of the machine's apt configuration (deb822 and one-line).
apt_source_pairs() {
  local -a deb822=() oneline=()
  local f
  for f in /etc/apt/sources.list.d/*.sources; do [[ -f $f ]] && deb822+=("$f"); done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] && oneline+=("$f")
  done
  if ((${#deb822[@]})); then
    awk 'BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (line ~ /^Types:/)   { sub(/^Types:[ \t]*/, "", line);   types = line }
          if (line ~ /^URIs:/)    { sub(/^URIs:[ \t]*/, "", line);    uris = line }
          if (line ~ /^Suites:/)  { sub(/^Suites:[ \t]*/, "", line);  suites = line }
          if (line ~ /^Enabled:/) { sub(/^Enabled:[ \t]*/, "", line); enabled = line }
        }
        if (enabled == "no" || types !~ /(^|[ \t])deb([ \t]|$)/) next
        nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
        for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++)
          if (u[a] != "" && s[b] != "") print u[a], s[b]
      }' "${deb822[@]}"
  fi
  if ((${#oneline[@]})); then
    awk '$1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if (i + 1 <= NF) print $i, $(i + 1)
      }' "${oneline[@]}"
  fi
}

apt_mirror() {
  if [[ -n ${KAFKA_CLUSTER_APT_MIRROR:-} ]]; then
    printf '%s\n' "$KAFKA_CLUSTER_APT_MIRROR"
    return
  fi
  local m
  m=$(apt_source_pairs | awk -v s="$SUITE" '$2 == s { print $1; exit }')
  [[ -n $m ]] || die "no '$SUITE' source in this machine's apt configuration"
  printf '%s\n' "$m"
}

# sources.list lines for the build chroot: the machine's own mirrors for
# SUITE, SUITE-updates and SUITE-security (main only).
apt_build_sources() {
  apt_source_pairs | awk -v s="$SUITE" '
    ($2 == s || $2 == s "-updates" || $2 == s "-security") && !seen[$0]++ {
      print "deb " $1 " " $2 " main"
    }'
}

# ---------------------------------------------------------------------------
# image (everything the image key hashes is in the image_* functions)
# ---------------------------------------------------------------------------

# Runs inside the build chroot. Arguments: packages for the local repository.
image_in_chroot() {
  set -euo pipefail
  export DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  apt-get -q update
  apt-get -q -y -o Dpkg::Options::=--force-confold dist-upgrade
  apt-get clean
  # Resolve the repo packages against this exact image; keep the .debs only.
  apt-get -q -y install --download-only "$@"

  # Cloud-image-like login user: key-only SSH, passwordless sudo.
  useradd --create-home --shell /bin/bash --groups sudo "$KC_USER"
  usermod -p '*' "$KC_USER"
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$KC_USER" >"/etc/sudoers.d/90-$KC_USER"
  chmod 0440 "/etc/sudoers.d/90-$KC_USER"
  install -d -m 0700 -o "$KC_USER" -g "$KC_USER" "/home/$KC_USER/.ssh"
  cat >/etc/ssh/sshd_config.d/10-kafka-cluster-local.conf <<'EOF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PubkeyAuthentication yes
UseDNS no
EOF
  rm -f /etc/ssh/ssh_host_*          # generated per host at `up`

  systemctl enable systemd-networkd.service ssh.service
  # No background apt runs holding the dpkg lock; no console getty.
  systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    console-getty.service
  mkdir -p /etc/systemd/journald.conf.d
  printf '[Journal]\nRuntimeMaxUse=32M\nSystemMaxUse=64M\n' \
    >/etc/systemd/journald.conf.d/10-kafka-cluster-local.conf

  : >/etc/machine-id                  # written per host at `up`
  rm -f /var/lib/dbus/machine-id
  ln -s /etc/machine-id /var/lib/dbus/machine-id
  echo localhost >/etc/hostname
}

image_write_repo_index() {
  local dir=$1 f
  (cd "$dir" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>"$dir/../scanpackages.log")
  gzip -9nc "$dir/Packages" >"$dir/Packages.gz"
  {
    echo "Origin: kafka-cluster-local"
    echo "Label: kafka-cluster-local"
    echo "Date: $(LC_ALL=C date -Ru)"
    echo "SHA256:"
    for f in Packages Packages.gz; do
      printf ' %s %s %s\n' "$(sha256sum <"$dir/$f" | cut -d' ' -f1)" \
        "$(stat -c %s "$dir/$f")" "$f"
    done
  } >"$dir/Release"
}

image_umount_below() {
  local dir=$1 m
  [[ -d $dir ]] || return 0
  dir=$(readlink -f "$dir")
  findmnt -rno TARGET | awk -v d="$dir/" 'index($0, d) == 1' | sort -r |
    while read -r m; do umount -l "$m" || true; done
}

image_build() {
  local out=$1 tmp root mirror rc=0 debs
  tmp=$out.partial
  root=$tmp/rootfs
  image_umount_below "$tmp"
  rm -rf --one-file-system "$tmp"
  mkdir -p "$tmp/apt"
  mirror=$(apt_mirror)
  log "image: debootstrap $SUITE (minbase) from $mirror"
  if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${IMAGE_PACKAGES[*]}")" \
    "$SUITE" "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    die "debootstrap failed (log: $tmp/debootstrap.log)"
  fi
  apt_build_sources >"$root/etc/apt/sources.list"
  rm -f "$root"/etc/apt/sources.list.d/*
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
  log "image: upgrading, configuring, resolving ${REPO_PACKAGES[*]} against the image"
  KC_USER=$SSH_USER chroot "$root" /bin/bash -c \
    "$(declare -f image_in_chroot); image_in_chroot \"\$@\"" image_in_chroot \
    "${REPO_PACKAGES[@]}" >"$tmp/chroot.log" 2>&1 || rc=$?
  umount "$root/dev/pts" "$root/proc"
  if ((rc != 0)); then
    tail -n 30 "$tmp/chroot.log" >&2
    die "image configuration failed (log: $tmp/chroot.log)"
  fi

  # Local apt repository: the downloaded .debs, then an image without them.
  debs=$(find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' | wc -l)
  ((debs > 0)) || die "no .deb downloaded for ${REPO_PACKAGES[*]}"
  find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec mv -t "$tmp/apt" {} +
  image_write_repo_index "$tmp/apt"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
  # the apt source (the lab's own HTTP server) is written per host at `up`
  rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/* "$root/usr/sbin/policy-rc.d"
  printf '# no DNS on the kafka-cluster local test network\n' >"$root/etc/resolv.conf"
  if chroot "$root" dpkg-query -W "${REPO_PACKAGES[@]}" >/dev/null 2>&1; then
    die "repo packages unexpectedly installed in the image"
  fi
  log "image: local repo has $debs packages ($(du -sh "$tmp/apt" | cut -f1)), rootfs $(du -sh "$root" | cut -f1)"
  date -u +%FT%TZ >"$tmp/.complete"
  mv "$tmp" "$out"
}

image_key() {
  {
    echo "kafka-cluster-local-image v2"   # v2: lab-independent (no HTTP address)
    echo "$SUITE"
    echo "${IMAGE_PACKAGES[*]}"
    echo "${REPO_PACKAGES[*]}"
    echo "$SSH_USER"
    declare -f image_in_chroot image_write_repo_index image_build
  } | sha256sum | cut -c1-16
}

# Shared artifacts (image + apt repository, SSH key) are built by one lab
# while any other waits on SHARED_LOCK; all are published atomically (rename),
# so readers that find them complete need no lock.
SHARED_LOCK_FD=
shared_lock() {
  mkdir -p "$CACHE_DIR"
  exec {SHARED_LOCK_FD}>"$SHARED_LOCK"
  flock -w 3600 "$SHARED_LOCK_FD" || die "timed out waiting for another lab's image/key build ($SHARED_LOCK)"
}
shared_unlock() { exec {SHARED_LOCK_FD}>&-; }

IMAGE_KEY=
IMAGE_DIR=
ensure_image() {
  local t0=$SECONDS
  IMAGE_KEY=$(image_key)
  IMAGE_DIR=$CACHE_DIR/images/$IMAGE_KEY
  if [[ -f $IMAGE_DIR/.complete ]]; then
    log "image: $IMAGE_KEY cached (0s)"
    return 0
  fi
  mkdir -p "$CACHE_DIR/images"
  shared_lock
  if [[ ! -f $IMAGE_DIR/.complete ]]; then
    image_build "$IMAGE_DIR"
    log "image: built $IMAGE_KEY in $((SECONDS - t0))s (cold)"
  else
    log "image: $IMAGE_KEY built by another lab meanwhile ($((SECONDS - t0))s)"
  fi
  shared_unlock
}

ensure_ssh_key() {
  local dir tmp
  [[ -f $SSH_KEY && -f $SSH_KEY.pub ]] && return 0
  shared_lock
  if [[ ! -f $SSH_KEY || ! -f $SSH_KEY.pub ]]; then
    dir=$(dirname "$SSH_KEY")
    install -d -m 0700 "$dir"
    tmp=$(mktemp -d "$dir/.keygen.XXXXXX")
    ssh-keygen -q -t ed25519 -N '' -C kafka-cluster-local -f "$tmp/key"
    # public half first: a reader that sees the private key finds both
    mv -f "$tmp/key.pub" "$SSH_KEY.pub"
    mv -f "$tmp/key" "$SSH_KEY"
    rmdir "$tmp"
    log "generated SSH key $SSH_KEY"
  fi
  shared_unlock
}

# ---------------------------------------------------------------------------
# processes, cgroups
# ---------------------------------------------------------------------------

# pid_check FILE PATTERN: print the PID in FILE if that process is alive and
# its command line contains PATTERN (guards against recycled PIDs).
pid_check() {
  local file=$1 pattern=$2 pid cmd
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmd == *"$pattern"* ]] || return 1
  printf '%s\n' "$pid"
}

# Detached children must not inherit other descriptors: neither our lock
# (it would stay held) nor a caller's pipe (its reader would never see EOF).
close_extra_fds() {
  local fd n
  for fd in /proc/"$BASHPID"/fd/*; do
    n=${fd##*/}
    if [[ $n =~ ^[0-9]+$ ]] && ((n > 2 && n != 255)); then eval "exec $n>&-" 2>/dev/null || true; fi
  done
}

# Command-line patterns of this lab's processes; each names the lab (or its
# host name, bridge address, state dir), so no other lab's process matches.
sup_pattern() { printf '_supervise %s %s ' "$LAB" "$1"; }
nspawn_pattern() { printf -- '-M %s ' "$(host_name "$1")"; }
http_pattern() { printf 'http.server --bind %s --directory %s/www' "$BRIDGE_ADDR" "$STATE_DIR"; }

# PID of host I's supervisor. Supervisors started before labs existed ran as
# `_supervise I` and can only belong to the local lab.
sup_pid() {
  local f
  f=$STATE_DIR/$(host_name "$1").supervisor.pid
  pid_check "$f" "$(sup_pattern "$1")" && return 0
  [[ $LAB == local ]] && pid_check "$f" "_supervise $1 "
}

host_running() { sup_pid "$1" >/dev/null; }

running_hosts() {
  local f i
  for f in "$STATE_DIR/$HOST_PREFIX"[0-9]*.supervisor.pid; do
    [[ -f $f ]] || continue
    i=${f##*/"$HOST_PREFIX"}
    i=${i%%.*}
    [[ $i =~ ^[0-9]+$ ]] || continue
    host_running "$i" && echo "$i"
  done | sort -n
}

cgroup_roots() {
  if [[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
    echo /sys/fs/cgroup
    return
  fi
  if [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
    echo /sys/fs/cgroup/unified
  fi
  if [[ -f /sys/fs/cgroup/systemd/cgroup.procs ]]; then
    echo /sys/fs/cgroup/systemd
  fi
}

# All PIDs in host I's cgroups (container payload and nspawn itself).
cgroup_pids() {
  local r d
  for r in $(cgroup_roots); do
    d=$r/$CGROUP_NAME/$(host_name "$1")
    [[ -d $d ]] || continue
    find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

# PID 1 of host I's container (systemd), as seen from the host.
cgroup_init_pids() {
  local r d
  for r in $(cgroup_roots); do
    d=$r/$CGROUP_NAME/$(host_name "$1")
    [[ -d $d ]] || continue
    find "$d" -path '*/payload/init.scope/cgroup.procs' -exec cat {} + 2>/dev/null
  done | sort -un
}

# ---------------------------------------------------------------------------
# supervisor (runs detached, one per host)
# ---------------------------------------------------------------------------
cmd_supervise() {
  local lab=${1:-} i=${2:-} name root stop=0 child="" rc boot w r
  if [[ $lab != "$LAB" ]] || ! valid_index "$i"; then die "usage: _supervise LAB I (lab $LAB)"; fi
  name=$(host_name "$i")
  root=$HOSTS_DIR/$name
  trap 'stop=1; if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi' TERM INT HUP
  for ((boot = 1; boot <= MAX_REBOOTS + 1; boot++)); do
    ((stop == 0)) || break
    # the previous boot's veth disappears with its network namespace
    for ((w = 0; w < 50; w++)); do
      ip link show "vb-$name" >/dev/null 2>&1 || break
      sleep 0.1
    done
    ip link del "vb-$name" 2>/dev/null || true
    log "$name: boot #$boot ($(date -u +%FT%TZ))"
    (
      # own cgroup per host: nspawn --keep-unit uses (and subdivides) it
      for r in $(cgroup_roots); do
        mkdir -p "$r/$CGROUP_NAME/$name"
        echo "$BASHPID" >"$r/$CGROUP_NAME/$name/cgroup.procs"
      done
      exec systemd-nspawn -b --register=no --keep-unit --network-bridge="$BRIDGE" \
        -D "$root" -M "$name" --console=read-only --resolv-conf=off \
        --timezone=off --link-journal=no
    ) &
    child=$!
    echo "$child" >"$STATE_DIR/$name.nspawn.pid"
    rc=0
    for ((w = 0; w < 10000; w++)); do
      rc=0
      wait "$child" || rc=$?
      # a trapped signal interrupts `wait`; keep waiting while nspawn lives
      if ((rc > 128)) && kill -0 "$child" 2>/dev/null; then continue; fi
      break
    done
    child=""
    log "$name: systemd-nspawn exited with $rc"
    if ((rc != 133)); then break; fi
    log "$name: reboot requested, booting again"
    sleep 1
  done
  rm -f "$STATE_DIR/$name.nspawn.pid"
  log "$name: supervisor exiting"
}

# ---------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------
take_lock() {
  mkdir -p "$(dirname "$LOCK_FILE")"
  exec {LOCK_FD}>"$LOCK_FILE"
  flock -w 900 "$LOCK_FD" || die "timed out waiting for another hosts.sh up/down of lab $LAB"
}

# KAFKA_CLUSTER_STATE may point anywhere: never act on another lab's state.
check_state_dir() {
  local owner
  owner=$(cat "$STATE_DIR/lab" 2>/dev/null) || return 0
  [[ $owner == "$LAB" ]] ||
    die "state dir $STATE_DIR belongs to lab '$owner', not '$LAB' (check KAFKA_CLUSTER_STATE)"
}

# Sets a /proc/sys knob of the bridge; warns where /proc/sys is read-only.
bridge_sysctl() {
  local f=/proc/sys/net/$1/conf/$BRIDGE/$2
  [[ -e $f ]] || return 0
  [[ $(<"$f") == "$3" ]] || echo "$3" >"$f" 2>/dev/null || log "WARNING: could not set $f to $3"
}

ensure_bridge() {
  local other
  # The lab's /24 must be ours alone: no address or route in it elsewhere
  # (another lab's bridge has its own fixed /24, so it never shows up here).
  other=$(
    ip -o -4 addr show to "$NET_PREFIX.0/24" | awk '{ print $2 }'
    ip -o -4 route show root "$NET_PREFIX.0/24" table all 2>/dev/null |
      awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }'
  )
  other=$(printf '%s\n' "$other" | awk -v b="$BRIDGE" 'NF && $1 != b && !seen[$1]++' | paste -sd' ')
  [[ -z $other ]] || die "$NET_PREFIX.0/24 already used by interface(s): $other"
  ip link show dev "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  # No path out of the lab even if the machine forwards (net.ipv4.ip_forward=1,
  # e.g. for Docker): no IPv4 forwarding of anything arriving on the bridge,
  # no IPv6 on it at all (the hosts have none either).
  bridge_sysctl ipv4 forwarding 0
  bridge_sysctl ipv6 disable_ipv6 1
  ip addr replace "$BRIDGE_ADDR/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

ensure_http() {
  local www=$STATE_DIR/www pid w
  mkdir -p "$www" "$KAFKA_DIR"
  # the shared apt repository, Kafka tarballs and Maven repository (scripts/local/maven-dist.sh), served on this
  # lab's bridge
  mkdir -p "$CACHE_DIR/maven"
  ln -sfn "$IMAGE_DIR/apt" "$www/apt"
  ln -sfn "$KAFKA_DIR" "$www/kafka"
  ln -sfn "$CACHE_DIR/maven" "$www/maven"
  if pid_check "$STATE_DIR/http.pid" "$(http_pattern)" >/dev/null; then return 0; fi
  (
    close_extra_fds
    exec setsid /usr/bin/python3 -m http.server --bind "$BRIDGE_ADDR" --directory "$www" "$HTTP_PORT"
  ) </dev/null >>"$STATE_DIR/http.log" 2>&1 &
  pid=$!
  echo "$pid" >"$STATE_DIR/http.pid"
  for ((w = 0; w < 50; w++)); do
    if curl -sf -m 2 -o /dev/null "$HTTP_BASE/apt/Release"; then break; fi
    sleep 0.2
  done
  pid_check "$STATE_DIR/http.pid" "$(http_pattern)" >/dev/null ||
    die "HTTP server did not start (log: $STATE_DIR/http.log)"
  curl -sf -m 2 -o /dev/null "$HTTP_BASE/apt/Release" || die "HTTP server not answering on $HTTP_BASE"
  log "HTTP server pid $pid on $HTTP_BASE (web root $www)"
}

write_etc_hosts() {
  local i=$1 max=$2 root j
  root=$HOSTS_DIR/$(host_name "$i")
  {
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$(host_name "$i")"
    printf '::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n\n'
    for ((j = 1; j <= max; j++)); do printf '%s\t%s\n' "$(host_addr "$j")" "$(host_name "$j")"; done
  } >"$root/etc/hosts.kc-new"
  mv -f "$root/etc/hosts.kc-new" "$root/etc/hosts"
}

kill_cgroup() {
  local i=$1 p
  for p in $(cgroup_pids "$i"); do kill -KILL "$p" 2>/dev/null || true; done
}

prepare_host() {
  local i=$1 name root
  name=$(host_name "$i")
  root=$HOSTS_DIR/$name
  kill_cgroup "$i"   # leftovers of a crashed run must not share the copy
  if [[ -d $root && "$(cat "$root.image" 2>/dev/null)" != "$IMAGE_KEY" ]]; then
    rm -rf --one-file-system "$root"
  fi
  if [[ ! -d $root ]]; then
    rm -rf --one-file-system "$root.partial"
    cp -a --reflink=auto "$IMAGE_DIR/rootfs" "$root.partial"
    mv "$root.partial" "$root"
    echo "$IMAGE_KEY" >"$root.image"
  fi
  echo "$name" >"$root/etc/hostname"
  if [[ ! -s $root/etc/machine-id ]]; then
    tr -d '-' </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
  fi
  # this lab's HTTP server (the image is shared by all labs)
  printf 'deb [trusted=yes] %s/apt ./\n' "$HTTP_BASE" \
    >"$root/etc/apt/sources.list.d/kafka-cluster-local.list"
  mkdir -p "$root/etc/systemd/network"
  printf '[Match]\nName=host0\n\n[Network]\nAddress=%s/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
    "$(host_addr "$i")" >"$root/etc/systemd/network/10-host0.network"
  install -d -m 0700 "$root/home/$SSH_USER/.ssh"
  install -m 0600 "$SSH_KEY.pub" "$root/home/$SSH_USER/.ssh/authorized_keys"
  chown -R --reference="$root/home/$SSH_USER" "$root/home/$SSH_USER/.ssh"
  if [[ ! -f $root/etc/ssh/ssh_host_ed25519_key ]]; then
    ssh-keygen -q -A -f "$root" >/dev/null
  fi
}

start_host() {
  local i=$1 pid name
  name=$(host_name "$i")
  rm -f "$STATE_DIR/$name.supervisor.pid" "$STATE_DIR/$name.nspawn.pid"
  (
    close_extra_fds
    exec setsid "$SCRIPT_PATH" _supervise "$LAB" "$i"
  ) </dev/null >>"$STATE_DIR/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$STATE_DIR/$name.supervisor.pid"
  log "$name: supervisor pid $pid, address $(host_addr "$i")"
}

ssh_ok() { ssh "${SSH_OPTS[@]}" -o ConnectTimeout=3 "$SSH_USER@$(host_addr "$1")" true </dev/null >/dev/null 2>&1; }

wait_ssh() {
  local deadline=$((SECONDS + SSH_WAIT_SECONDS)) i name
  for i in "$@"; do
    name=$(host_name "$i")
    until ssh_ok "$i"; do
      host_running "$i" || die "$name: supervisor died (log: $STATE_DIR/$name.log)"
      ((SECONDS < deadline)) || die "$name: no SSH after ${SSH_WAIT_SECONDS}s (log: $STATE_DIR/$name.log)"
      sleep 1
    done
    log "$name: ssh ok"
  done
}

cmd_up() {
  local n=${1:-3} t0=$SECONDS i max=0 r
  local -a new=() running=()
  valid_index "$n" || die "up: N must be 1..$MAX_HOSTS"
  require_root
  ensure_host_tools
  ensure_image
  ensure_ssh_key
  take_lock
  check_state_dir
  mkdir -p "$STATE_DIR" "$HOSTS_DIR"
  echo "$LAB" >"$STATE_DIR/lab"
  ensure_bridge
  ensure_http
  mapfile -t running < <(running_hosts)
  for ((i = 1; i <= n; i++)); do host_running "$i" || new+=("$i"); done
  max=$n
  for r in "${running[@]}"; do
    if ((r > max)); then max=$r; fi
  done
  for ((i = 1; i <= max; i++)); do
    if [[ " ${new[*]} " == *" $i "* ]]; then prepare_host "$i"; fi
    if [[ -d $HOSTS_DIR/$(host_name "$i") ]]; then write_etc_hosts "$i" "$max"; fi
  done
  for i in "${new[@]}"; do start_host "$i"; done
  if ((${#new[@]})); then wait_ssh "${new[@]}"; fi
  log "up: $(host_name 1)..$(host_name "$n") ready on $BRIDGE (new: ${new[*]:-none}) in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------
# down
# ---------------------------------------------------------------------------
# Everything below acts on this lab's names only: PID files and copies named
# HOST_PREFIX<digits>, cgroup CGROUP_NAME, veths vb-HOST_PREFIX<digits>,
# BRIDGE, STATE_DIR, HOSTS_DIR. No glob of one lab matches another's names.
known_host_ids() {
  local f r
  {
    for f in "$STATE_DIR/$HOST_PREFIX"[0-9]*.pid "$HOSTS_DIR/$HOST_PREFIX"[0-9]*; do
      [[ -e $f ]] || continue
      f=${f##*/"$HOST_PREFIX"}
      echo "${f%%[!0-9]*}"
    done
    for r in $(cgroup_roots); do
      for f in "$r/$CGROUP_NAME/$HOST_PREFIX"[0-9]*; do
        [[ -d $f ]] && echo "${f##*/"$HOST_PREFIX"}"
      done
    done
  } | grep -E '^[0-9]+$' | sort -un || true
}

# Our detached processes whose PID files were lost (e.g. state dir removed):
# matched by exact command line (script path + lab / web root), killed by PID.
orphan_pids() {
  local p cmd sup="$SCRIPT_PATH _supervise $LAB " http
  http=$(http_pattern)
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    case $cmd in
      *"$sup"* | *"$http"*) echo "${p#/proc/}" ;;
      # supervisors started before labs existed (`_supervise I`): local only
      *"$SCRIPT_PATH _supervise "[0-9]*) [[ $LAB == local ]] && echo "${p#/proc/}" ;;
    esac
  done
}

cmd_down() {
  local t0=$SECONDS i p w alive r
  local -a ids=() pids=()
  require_root
  take_lock
  check_state_dir
  mapfile -t ids < <(known_host_ids)
  for i in "${ids[@]}"; do
    if p=$(sup_pid "$i"); then
      kill -TERM "$p" 2>/dev/null || true
      pids+=("$p")
    fi
    if p=$(pid_check "$STATE_DIR/$(host_name "$i").nspawn.pid" "$(nspawn_pattern "$i")"); then
      kill -TERM "$p" 2>/dev/null || true   # nspawn: orderly poweroff of the container
      pids+=("$p")
    else
      # nspawn gone (killed) but its container may live on, reparented:
      # ask the container's systemd to power off (SIGRTMIN+4)
      for p in $(cgroup_init_pids "$i"); do kill -s SIGRTMIN+4 "$p" 2>/dev/null || true; done
    fi
  done
  mapfile -t -O "${#pids[@]}" pids < <(orphan_pids)
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if p=$(pid_check "$STATE_DIR/http.pid" "$(http_pattern)"); then
    kill -TERM "$p" 2>/dev/null || true
    pids+=("$p")
  fi
  for ((w = 0; w < STOP_WAIT_SECONDS * 5; w++)); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    for i in "${ids[@]}"; do [[ -n $(cgroup_pids "$i") ]] && alive=1; done
    ((alive)) || break
    sleep 0.2
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for ((w = 0; w < 25; w++)); do
    alive=0
    for i in "${ids[@]}"; do
      if [[ -n $(cgroup_pids "$i") ]]; then alive=1; kill_cgroup "$i"; fi
    done
    ((alive)) || break
    sleep 0.2
  done
  for r in $(cgroup_roots); do
    if [[ -d $r/$CGROUP_NAME ]]; then
      find "$r/$CGROUP_NAME" -depth -type d -exec rmdir {} + 2>/dev/null || true
    fi
    if [[ -d $r/$CGROUP_NAME ]]; then log "WARNING: could not remove cgroup $r/$CGROUP_NAME"; fi
  done
  while read -r p; do
    if [[ -n $p ]]; then ip link del "$p" 2>/dev/null || true; fi
  done < <(ip -o link show 2>/dev/null |
    awk -F': ' -v re="^vb-${HOST_PREFIX}[0-9]+\$" '{ sub(/@.*/, "", $2); if ($2 ~ re) print $2 }')
  if ip link show dev "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
  for i in "${ids[@]}"; do
    rmdir "/run/systemd/nspawn/propagate/$(host_name "$i")" 2>/dev/null || true
  done
  # nspawn's own runtime dirs, only once no container of any lab is left
  # (each running one has its propagate/NAME)
  if rmdir /run/systemd/nspawn/propagate 2>/dev/null; then
    rmdir /run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null || true
  fi
  image_umount_below "$HOSTS_DIR"
  if [[ -d $HOSTS_DIR ]]; then
    # copies, *.partial, *.image, and nspawn's ".#NAME.lck" left by a killed nspawn
    find "$HOSTS_DIR" -mindepth 1 -maxdepth 1 \
      \( -name "${HOST_PREFIX}[0-9]*" -o -name ".#${HOST_PREFIX}[0-9]*" \) \
      -exec rm -rf --one-file-system {} +
    rmdir "$HOSTS_DIR" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$STATE_DIR"
  log "down: done in $((SECONDS - t0))s (${#ids[@]} host(s))"
}

# ---------------------------------------------------------------------------
# status, env, ssh
# ---------------------------------------------------------------------------
host_pss_mib() {
  local p kb=0 v
  for p in $(cgroup_pids "$1"); do
    v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
    kb=$((kb + ${v:-0}))
  done
  echo $((kb / 1024))
}

cmd_status() {
  local i sup nsp state sshs ids p
  check_state_dir
  echo "lab     $LAB (state $STATE_DIR, cgroup $CGROUP_NAME, copies $HOSTS_DIR)"
  if ip link show dev "$BRIDGE" >/dev/null 2>&1; then
    echo "bridge  $BRIDGE up ($(ip -o -4 addr show dev "$BRIDGE" | awk '{ print $4 }'))"
  else
    echo "bridge  $BRIDGE absent"
  fi
  if p=$(pid_check "$STATE_DIR/http.pid" "$(http_pattern)"); then
    if curl -sf -m 2 -o /dev/null "$HTTP_BASE/apt/Release"; then
      echo "http    pid $p, $HTTP_BASE answering"
    else
      echo "http    pid $p, $HTTP_BASE NOT answering"
    fi
  else
    echo "http    not running"
  fi
  mapfile -t ids < <(known_host_ids)
  ((${#ids[@]})) || echo "hosts   none"
  for i in "${ids[@]}"; do
    sup=$(sup_pid "$i" || echo -)
    nsp=$(pid_check "$STATE_DIR/$(host_name "$i").nspawn.pid" "$(nspawn_pattern "$i")" || echo -)
    state=stopped
    sshs=-
    if [[ $nsp != - ]]; then
      state=running
      if ssh_ok "$i"; then sshs=ok; else sshs=down; fi
    fi
    printf '%-7s %-12s %-8s ssh=%-5s supervisor=%-8s nspawn=%-8s mem(pss)=%sMiB\n' \
      "$(host_name "$i")" "$(host_addr "$i")" "$state" "$sshs" "$sup" "$nsp" "$(host_pss_mib "$i")"
  done
}

cmd_env() {
  local i first=1
  check_state_dir
  printf '{"lab":"%s","bridge":"%s","bridgeAddress":"%s","httpBase":"%s","aptUrl":"%s/apt","kafkaDownloadUrl":"%s/kafka","mavenUrl":"%s/maven",' \
    "$LAB" "$BRIDGE" "$BRIDGE_ADDR" "$HTTP_BASE" "$HTTP_BASE" "$HTTP_BASE" "$HTTP_BASE"
  printf '"sshUser":"%s","sshKeyPath":"%s","hosts":[' "$SSH_USER" "$SSH_KEY"
  for i in $(running_hosts); do
    ((first)) || printf ','
    first=0
    printf '{"name":"%s","address":"%s"}' "$(host_name "$i")" "$(host_addr "$i")"
  done
  printf ']}\n'
}

cmd_ssh() {
  local i=${1:-}
  valid_index "$i" || die "usage: ssh I cmd... (I in 1..$MAX_HOSTS)"
  shift
  exec ssh "${SSH_OPTS[@]}" "$SSH_USER@$(host_addr "$i")" "$@"
}

usage() {
  sed -n '2,/^set -euo/p' "$SCRIPT_PATH" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    image)
      require_root
      ensure_host_tools
      ensure_image
      ensure_ssh_key
      echo "$IMAGE_DIR"
      ;;
    key)
      ensure_ssh_key
      echo "$SSH_KEY"
      ;;
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    ssh) cmd_ssh "$@" ;;
    _supervise) cmd_supervise "$@" ;;
    *) usage ;;
  esac
}

main "$@"
