#!/usr/bin/env bash
# Shared helpers for the host scripts. kafka-cluster prepends this file to every host script it runs, so the
# scripts stay self-contained on the wire; run by hand, a script sources it from its own directory.
# Env (all optional):
#   KC_STEP          the step's name, for log lines (default: the script's name)
#   TOOLS_LOG_DIR    LOG_DIR for Kafka's command-line tools (scripts that run them require it)
#   TOOLS_HEAP_OPTS  KAFKA_HEAP_OPTS for Kafka's command-line tools (default -Xmx256m)
#   KC_LIVE_OUTPUT   1: print the step's output as it comes instead of holding it until the step ends
# Every other path and port arrives through the calling script's environment; nothing here hard-codes one.
#
# A failing step reports, in this order: one line with the error, the step and the host; the journal of the service
# it was starting (only lines since the step began); then the step's own log. Its output is held until it ends for
# that (the provider shows a failed command's output after the command line, so what comes first is what is read).
set -euo pipefail

KC_STEP=${KC_STEP:-$(basename "${0:-host-script}")}
KC_STEP_START=$(date +%s)
KC_ERROR=''
KC_JOURNAL_UNIT=''
KC_JOURNAL_TEXT=''
# The first failing command, for failures that do not go through die.
trap 'KC_ERROR=${KC_ERROR:-"command failed with status $? at line $LINENO: $BASH_COMMAND"}' ERR

# KC_JOURNAL_PID / KC_JOURNAL_SINCE: the process a failure is about and when it was started (set by the caller);
# without them, the unit's lines since the step began.
KC_JOURNAL_PID=''
KC_JOURNAL_SINCE=''
service_journal() {
  local unit=$1 format=$2
  if [[ -n $KC_JOURNAL_PID && $KC_JOURNAL_PID != 0 ]]; then
    journalctl "_SYSTEMD_UNIT=$unit.service" "_PID=$KC_JOURNAL_PID" --since "@${KC_JOURNAL_SINCE:-$KC_STEP_START}" --no-pager -o "$format" 2>/dev/null || true
  else
    journalctl -u "$unit" --since "@${KC_JOURNAL_SINCE:-$KC_STEP_START}" --no-pager -o "$format" 2>/dev/null || true
  fi
}

# unit_journal UNIT: the journal of the failed process (its last 40 lines).
unit_journal() { service_journal "$1" short-iso | tail -n 40; }

# first_error UNIT: the first line the failed process logged that reads like its reason to stop (a Java exception,
# the JVM's memory errors), else its first ERROR line.
first_error() {
  local lines
  lines=$(service_journal "$1" cat | grep -v -E "^($1(\.service)?: |Started |Stopped |Stopping |Starting )" || true)
  grep -m1 -E '[A-Za-z.]+(Exception|Error): |insufficient memory|commit_memory|Could not|Invalid' <<<"$lines" ||
    grep -m1 -E 'ERROR|FATAL|[Ff]ailed' <<<"$lines" || true
}

# on_exit COMMAND: run COMMAND (a string, eval'd) when the step ends, before its report; scripts use this instead of
# their own EXIT trap, which would replace the one that delivers the step's output.
KC_EXIT_HOOKS=()
on_exit() { KC_EXIT_HOOKS+=("$1"); }

kc_finish() {
  local rc=$? hook
  for hook in "${KC_EXIT_HOOKS[@]}"; do eval "$hook" || true; done
  if [[ -n $KC_OUT_DIR ]]; then
    exec 1>&3 2>&4
    if (( rc == 0 )); then
      cat "$KC_OUT_DIR/err" >&2
      cat "$KC_OUT_DIR/out"
    else
      {
        printf 'ERROR [%s on %s]: %s\n' "$KC_STEP" "$(hostname)" "${KC_ERROR:-exit status $rc}"
        if [[ -n $KC_JOURNAL_UNIT ]]; then
          local which=''
          if [[ -n $KC_JOURNAL_PID && $KC_JOURNAL_PID != 0 ]]; then which=" (process $KC_JOURNAL_PID)"; fi
          printf -- '--- journal of %s%s since %s ---\n' "$KC_JOURNAL_UNIT" "$which" "$(date -u -d "@${KC_JOURNAL_SINCE:-$KC_STEP_START}" +%H:%M:%S)"
          if [[ -n $KC_JOURNAL_TEXT ]]; then printf '%s\n' "$KC_JOURNAL_TEXT"; else unit_journal "$KC_JOURNAL_UNIT"; fi
        fi
        printf -- '--- step log ---\n'
        cat "$KC_OUT_DIR/err" "$KC_OUT_DIR/out"
      } >&2
    fi
    command -p rm -rf "$KC_OUT_DIR"  # the standard rm, whatever PATH says
  fi
  exit "$rc"
}
KC_OUT_DIR=''
if [[ ${KC_LIVE_OUTPUT:-0} != 1 ]]; then
  KC_OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kc-step.XXXXXX")
  exec 3>&1 4>&2 1>"$KC_OUT_DIR/out" 2>"$KC_OUT_DIR/err"
fi
trap kc_finish EXIT
if [[ -n ${TOOLS_LOG_DIR:-} ]]; then export LOG_DIR=$TOOLS_LOG_DIR; fi
export KAFKA_HEAP_OPTS=${TOOLS_HEAP_OPTS:--Xmx256m}
# The Kafka tools these scripts run live for seconds: the C1 compiler and the serial collector start them with a
# fraction of the CPU that the launcher's server defaults (G1, tiered C2) take, which matters while brokers start.
export KAFKA_JVM_PERFORMANCE_OPTS=${TOOLS_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true}
# Kafka's launcher starts a JMX agent (no authentication, a local connector on a port of its own) in every JVM whose
# KAFKA_JMX_OPTS is empty; a tool that lives for seconds needs none, and the agent costs up to a second of its start.
export KAFKA_JMX_OPTS="-Dkafka-cluster.jmx=off"

log() { printf '%s [%s@%s] %s\n' "$(date -u +%H:%M:%S)" "$KC_STEP" "$(hostname)" "$*" >&2; }
die() { KC_ERROR=$*; log "ERROR: $*"; exit 1; }

# fail_unit UNIT MESSAGE: fails the step for a service that did not come up: MESSAGE with the unit's first error line,
# then (see kc_finish) its journal since the step began.
fail_unit() {
  local first
  KC_JOURNAL_UNIT=$1
  first=$(first_error "$1")
  die "$2${first:+: $first}"
}

# wait_until SECONDS DESCRIPTION COMMAND...: retry COMMAND until it succeeds or SECONDS pass. Between two tries it
# pauses 2 s, or as long as the try took when that was longer: many checks start a JVM (a Kafka tool), which takes
# seconds of CPU on a busy host, and a check should never take more than half of it.
wait_until() {
  local limit=$1 what=$2 start=$SECONDS try
  shift 2
  while try=$SECONDS; ! "$@"; do
    if (( SECONDS - start >= limit )); then
      return 1
    fi
    try=$(( SECONDS - try ))
    sleep $(( try > 2 ? try : 2 ))
  done
  log "$what after $(( SECONDS - start ))s"
}

# put_file DEST MODE OWNER BASE64: write DEST only when its content differs. Sets CHANGED=1 when it wrote.
# Content that is not valid base64 fails the step.
# shellcheck disable=SC2034 # read by the scripts that call put_file
CHANGED=0
put_file() {
  local dest=$1 mode=$2 owner=$3 content tmp
  # The trailing x keeps trailing newlines through the command substitution; it is only printed when decoding worked.
  content=$(printf '%s' "$4" | base64 -d && printf x) || die "content for $dest is not valid base64"
  content=${content%x}
  if [[ -f $dest ]] && [[ "$(cat "$dest"; printf x)" == "${content}x" ]]; then
    return 0
  fi
  tmp=$(mktemp "${dest}.XXXXXX")
  printf '%s' "$content" > "$tmp"
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$dest"
  log "wrote $dest"
  # shellcheck disable=SC2034
  CHANGED=1
}

# ensure_user NAME HOME: the system user (and group) the services run as, created once, without a login shell.
ensure_user() {
  id "$1" >/dev/null 2>&1 && return 0
  useradd --system --user-group --home-dir "$2" --no-create-home --shell /usr/sbin/nologin "$1" 2>/dev/null ||
    useradd --system --user-group --home-dir "$2" --no-create-home --shell /sbin/nologin "$1"
  log "created user $1"
}

# kafka_bin TOOL: path of one of Kafka's command-line tools under KAFKA_HOME.
kafka_bin() { printf '%s/bin/%s' "${KAFKA_HOME:?KAFKA_HOME is not set}" "$1"; }

# zk_mode HOST PORT: ZooKeeper's mode (leader, follower, standalone) from `srvr` on HOST:PORT, empty when it does not
# answer.
zk_mode() {
  local out
  # shellcheck disable=SC2016 # $1 and $2 expand in the inner shell
  out=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf srvr >&3 && cat <&3' _ "$1" "$2" 2>/dev/null) || true
  sed -n 's/^Mode: //p' <<<"$out"
}

# replica_lists: from `kafka-topics.sh --describe` on stdin, each partition's replica broker ids ("1,2,3"), one line
# per partition.
replica_lists() { sed -n 's/.*Replicas: \([0-9][0-9,]*\).*/\1/p'; }

# broker_answers HOST:PORT: the broker there answers an ApiVersions request, logged in with CLIENT_CONFIG.
broker_answers() {
  "$(kafka_bin kafka-broker-api-versions.sh)" --bootstrap-server "$1" --command-config "${CLIENT_CONFIG:?}" >/dev/null 2>&1
}

# prop_value KEY: the value of KEY (a regex) in the Java properties on stdin; the last one, as Java reads them.
prop_value() { sed -n "s/^$1=//p" | tail -n 1; }

# scram_config FILE PASSWORD: writes FILE (mode 0600) for `kafka-configs.sh --add-config-file`: a SCRAM-SHA-512
# credential with PASSWORD (passwords never go on a command line).
scram_config() { (umask 077 && printf 'SCRAM-SHA-512=iterations=8192,password=%s\n' "$2" > "$1"); }

# under_replicated BOOTSTRAP: number of under-replicated partitions, or fails when the cluster does not answer. Logs in
# with CLIENT_CONFIG.
under_replicated() {
  local out
  out=$("$(kafka_bin kafka-topics.sh)" --bootstrap-server "$1" --command-config "${CLIENT_CONFIG:?}" --describe --under-replicated-partitions 2>/dev/null) || return 1
  grep -c 'Partition:' <<<"$out" || true
}

# removable PATH: the allow-list for anything a script deletes recursively. Only absolute, normalised paths (no ., ..,
# // or trailing /) below /opt, /etc, /var/lib or /var/log whose first directory there names kafka or zookeeper:
# /opt/kafka, /etc/kafka, /var/lib/kafka/data, /var/log/zookeeper pass; /, /etc, /var/lib, /home/kafka do not.
removable() {
  [[ $1 =~ ^/(opt|etc|var/lib|var/log)/[^/]*(kafka|zookeeper)[^/]*(/[^/]+)*$ ]] && ! [[ $1 =~ (^|/)\.\.?(/|$) ]]
}

# remove_all "PATH...": removes each path recursively, after checking every one against the allow-list (removable): a
# path that is not on it fails the step before anything is removed.
remove_all() {
  local paths p
  read -r -a paths <<<"$1"
  for p in "${paths[@]}"; do
    removable "$p" || die "refusing to remove $p: not on the allow-list (see removable in lib.sh); nothing was removed"
  done
  for p in "${paths[@]}"; do
    rm -rf -- "$p"
    log "removed $p"
  done
}

# fetch URL DEST MAX_SECONDS: downloads URL to DEST (transient failures retried). Sets HTTP_STATUS to the status of the
# last answer (000: none, like an unreachable host); fails on anything but a 2xx.
HTTP_STATUS=''
fetch() {
  local rc=0
  HTTP_STATUS=$(curl -fsSL --retry 5 --retry-delay 3 --connect-timeout 20 --max-time "$3" -w '%{http_code}' -o "$2" "$1") || rc=$?
  HTTP_STATUS=${HTTP_STATUS:-000}
  return "$rc"
}

# gnupg_cleanup DIR: stops what gpg started for the throwaway home DIR and removes it (only kc-gnupg.* directories).
gnupg_cleanup() {
  [[ $1 == */kc-gnupg.* ]] || return 0
  if command -v gpgconf >/dev/null 2>&1; then gpgconf --homedir "$1" --kill all >/dev/null 2>&1 || true; fi
  rm -rf "$1"
}

# verify_signature FILE ASC KEYS: checks FILE against ASC, a detached OpenPGP signature, which one of the public keys in
# KEYS (Apache's format: armored keys with text around them) must have made. gpg runs in a throwaway GNUPGHOME, removed
# when this returns (at the latest when the step ends), so no keyring on the host is read or changed. Returns 0 and sets
# SIG_SIGNER (key and user id); else returns 1 with the reason in SIG_PROBLEM. A signature by a key that has expired
# since counts (old releases); one by a revoked key does not.
SIG_SIGNER=''
SIG_PROBLEM=''
verify_signature() {
  local file=$1 asc=$2 keys=$3 home status fpr uid
  SIG_SIGNER='' SIG_PROBLEM=''
  [[ -s $asc ]] || { SIG_PROBLEM="the signature file is missing or empty"; return 1; }
  home=$(mktemp -d "${TMPDIR:-/tmp}/kc-gnupg.XXXXXX")
  on_exit "gnupg_cleanup $(printf '%q' "$home")"
  gpg --homedir "$home" --batch --quiet --import "$keys" >/dev/null 2>"$home/import.log" || true
  if ! gpg --homedir "$home" --batch --with-colons --list-keys 2>/dev/null | grep -q '^pub:'; then
    SIG_PROBLEM="the KEYS file holds no public key gpg could import ($(head -n1 "$home/import.log"))"
    gnupg_cleanup "$home"; return 1
  fi
  # Only a detached signature: one that carries data of its own would be checked against that data, not FILE.
  if gpg --homedir "$home" --batch --list-packets "$asc" 2>/dev/null | grep -q '^:literal data packet:'; then
    SIG_PROBLEM="the signature file is not a detached signature (it carries data of its own)"
    gnupg_cleanup "$home"; return 1
  fi
  status=$(gpg --homedir "$home" --batch --status-fd 1 --verify "$asc" "$file" 2>"$home/verify.log") || true
  if grep -q '^\[GNUPG:\] BADSIG ' <<<"$status"; then
    SIG_PROBLEM="the signature does not match the file (a corrupt or altered download)"
  elif grep -q '^\[GNUPG:\] REVKEYSIG ' <<<"$status"; then
    SIG_PROBLEM="the signature was made by a revoked key ($(sed -n 's/^\[GNUPG:\] REVKEYSIG //p' <<<"$status"))"
  elif grep -q '^\[GNUPG:\] NO_PUBKEY ' <<<"$status"; then
    SIG_PROBLEM="the signature was made by key $(sed -n 's/^\[GNUPG:\] NO_PUBKEY //p' <<<"$status" | head -n1), which is not in the KEYS file"
  elif grep -q '^\[GNUPG:\] VALIDSIG ' <<<"$status" && ! grep -q '^\[GNUPG:\] ERRSIG ' <<<"$status"; then
    fpr=$(sed -n 's/^\[GNUPG:\] VALIDSIG \([0-9A-F]*\) .*/\1/p' <<<"$status" | head -n1)
    uid=$(sed -n 's/^\[GNUPG:\] \(GOODSIG\|EXPKEYSIG\) [0-9A-F]* //p' <<<"$status" | head -n1)
    SIG_SIGNER="key $fpr ($uid)"
  else
    SIG_PROBLEM="gpg could not verify it: $(grep -v '^gpg: WARNING' "$home/verify.log" | head -n2 | tr '\n' ' ')"
  fi
  gnupg_cleanup "$home"
  [[ -z $SIG_PROBLEM ]]
}

# fetch_release DIR NOTE TARBALL_URLS KEYS_URLS: a release tarball into DIR/dist.tgz, checked against its .sha512 and
# then its .asc signature (verify_signature, against the KEYS file of the source that served it). TARBALL_URLS
# (space-separated) are tried in order, the next only when one answers 404 (a CDN that no longer carries an older
# release); KEYS_URLS names the KEYS file of each. Any other failure ends the step with a message naming the URL, NOTE
# (what was left as it was) and the fix. Sets RELEASE_URL to the URL that served the tarball.
RELEASE_URL=''
fetch_release() {
  local dir=$1 note=$2 urls keys i url keys_url='' expected actual tried=''
  read -r -a urls <<<"$3"
  read -r -a keys <<<"$4"
  (( ${#urls[@]} > 0 && ${#urls[@]} == ${#keys[@]} )) || die "fetch_release: ${#urls[@]} tarball URL(s) but ${#keys[@]} KEYS URL(s)"
  RELEASE_URL=''
  for i in "${!urls[@]}"; do
    url=${urls[$i]}
    log "downloading $url"
    if fetch "$url" "$dir/dist.tgz" 900; then RELEASE_URL=$url keys_url=${keys[$i]}; break; fi
    if [[ $HTTP_STATUS == 404 ]] && (( i + 1 < ${#urls[@]} )); then
      log "$url: 404 (this source does not carry the release, e.g. a CDN that keeps current releases only); trying the next source"
      tried+="${tried:+, }$url: 404"
      continue
    fi
    die "download of $url failed (HTTP $HTTP_STATUS${tried:+; before it $tried}); check kafka:downloadUrl and kafka:kafkaVersion; $note"
  done
  url=$RELEASE_URL
  fetch "$url.sha512" "$dir/dist.tgz.sha512" 120 ||
    die "download of $url.sha512 failed (HTTP $HTTP_STATUS); checksum verification is mandatory; $note"
  # Apache's file is `gpg --print-md SHA512` output: "name: HEX HEX ..." in upper case, wrapped over lines.
  expected=$(sed 's/^[^:]*://' "$dir/dist.tgz.sha512" | tr -d ' \t\r\n' | tr 'A-F' 'a-f')
  [[ $expected =~ ^[0-9a-f]{128}$ ]] || expected=$(awk '{print $1}' "$dir/dist.tgz.sha512" | tr 'A-F' 'a-f')
  actual=$(sha512sum "$dir/dist.tgz" | awk '{print $1}')
  if [[ $expected != "$actual" ]]; then
    die "checksum mismatch for $url: the .sha512 says ${expected:0:16}..., the download is ${actual:0:16}...; $note"
  fi
  log "sha512 verified"
  fetch "$url.asc" "$dir/dist.tgz.asc" 120 ||
    die "download of $url.asc failed (HTTP $HTTP_STATUS); the release signature is verified too, so a source must carry the .asc next to the tarball (Apache's sites do: unset kafka:downloadUrl); $note"
  fetch "$keys_url" "$dir/KEYS" 120 ||
    die "download of $keys_url failed (HTTP $HTTP_STATUS); the release signature is checked against it; set kafka:keysUrl to Apache's (https://downloads.apache.org/kafka/KEYS) or a copy of it; $note"
  verify_signature "$dir/dist.tgz" "$dir/dist.tgz.asc" "$dir/KEYS" ||
    die "signature check failed for $url: $SIG_PROBLEM (KEYS: $keys_url); the download is not the release as Apache signed it, or kafka:keysUrl names the wrong KEYS; check kafka:downloadUrl and kafka:keysUrl; $note"
  log "signature verified: signed by $SIG_SIGNER (KEYS: $keys_url)"
}

# quorum_state BOOTSTRAP CONFIG: the KRaft quorum as the controllers at BOOTSTRAP (their listener, logged in with the
# client properties CONFIG) describe it, into QUORUM_LEADER (-1 without a leader), QUORUM_VOTERS (ids, space-separated),
# QUORUM_VOTER_DIRS ("id:directoryId" words of the voters) and QUORUM_LAGGING ("id:lag" of voters more than
# QUORUM_MAX_LAG records behind, default 100). Fails when no controller answers. One tool run (a JVM):
# `describe --replication` lists every replica with its directory id, lag and status (Leader, Follower, Observer),
# which is all of it (`--status` would say the same once more, in another JVM).
QUORUM_LEADER='' QUORUM_VOTERS='' QUORUM_VOTER_DIRS='' QUORUM_LAGGING=''
quorum_state() {
  local replication
  replication=$("$(kafka_bin kafka-metadata-quorum.sh)" --bootstrap-controller "$1" --command-config "$2" describe --replication 2>/dev/null) || return 1
  grep -qE '^NodeId[[:space:]].*DirectoryId[[:space:]].*Lag[[:space:]].*Status' <<<"$replication" || return 1
  # Rows "id dir lag status" of the voters (Leader, Follower), from the columns the header names.
  local voters
  voters=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["Status"] == "Leader" || $col["Status"] == "Follower" { print $col["NodeId"], $col["DirectoryId"], $col["Lag"], $col["Status"] }' <<<"$replication" | sort -n)
  QUORUM_LEADER=$(awk '$4 == "Leader" { print $1 }' <<<"$voters" | head -n 1)
  QUORUM_LEADER=${QUORUM_LEADER:--1}
  QUORUM_VOTERS=$(awk 'NF { print $1 }' <<<"$voters" | paste -sd' ' -)
  # shellcheck disable=SC2034 # read by the scripts that call quorum_state
  QUORUM_VOTER_DIRS=$(awk 'NF { print $1 ":" $2 }' <<<"$voters" | grep -E '^[0-9]+:[A-Za-z0-9_-]+$' | paste -sd' ' -) || true
  QUORUM_LAGGING=$(awk -v max="${QUORUM_MAX_LAG:-100}" 'NF && $3 > max { printf "%s:%s ", $1, $3 }' <<<"$voters")
  QUORUM_LAGGING=${QUORUM_LAGGING% }
}

# voters_include IDS: every id in IDS (space-separated, may be empty) is among QUORUM_VOTERS (the last quorum_state);
# QUORUM_PROBLEM names the first that is not.
# shellcheck disable=SC2034 # read by the scripts that call voters_include
voters_include() {
  local id
  for id in $1; do
    if [[ " $QUORUM_VOTERS " != *" $id "* ]]; then QUORUM_PROBLEM="controller $id is not a voter (voters: ${QUORUM_VOTERS:-none})"; return 1; fi
  done
}

# quorum_healthy BOOTSTRAP CONFIG IDS: the quorum has a leader, every id in IDS (space-separated, may be empty) is a
# voter, and no voter lags (quorum_state). QUORUM_PROBLEM says what is wrong otherwise.
# shellcheck disable=SC2034 # read by the scripts that call quorum_healthy
QUORUM_PROBLEM=''
quorum_healthy() {
  if ! quorum_state "$1" "$2"; then QUORUM_PROBLEM="no controller at $1 answers"; return 1; fi
  if (( QUORUM_LEADER < 0 )); then QUORUM_PROBLEM="no leader (voters: ${QUORUM_VOTERS:-none})"; return 1; fi
  voters_include "$3" || return 1
  if [[ -n $QUORUM_LAGGING ]]; then QUORUM_PROBLEM="voters behind the leader (id:records): $QUORUM_LAGGING"; return 1; fi
  # shellcheck disable=SC2034
  QUORUM_PROBLEM=''
}

# quorum_command BOOTSTRAP CONFIG ARGS...: kafka-metadata-quorum through the controllers' listener at BOOTSTRAP.
quorum_command() {
  "$(kafka_bin kafka-metadata-quorum.sh)" --bootstrap-controller "$1" --command-config "$2" "${@:3}"
}

# apt_packages PKG...: installs the operating system's packages that are missing (apt, without recommends), without
# starting their services (policy-rc.d for the install's duration: they start once configured). A host without
# apt-get is refused with the fix.
apt_packages() {
  local absent=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || absent+=("$p")
  done
  (( ${#absent[@]} )) || return 0
  command -v apt-get >/dev/null 2>&1 ||
    die "kafka:monitoring needs the packages ${absent[*]}, which this host's operating system does not serve (no apt-get; Amazon Linux 2023 has none): use a Debian or Ubuntu host (kafka:os debian-12 or ubuntu-24.04 on EC2), or pulumi config rm kafka:monitoring"
  local policy=/usr/sbin/policy-rc.d own=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && own=1
  fi
  if (( own )); then on_exit 'rm -f /usr/sbin/policy-rc.d'; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${absent[@]}" >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${absent[@]}" >/dev/null ||
      die "apt-get could not install ${absent[*]}"
  fi
  if (( own )); then rm -f "$policy"; fi
  log "installed ${absent[*]}"
}

# record_generation: with OBSERVED_GENERATION, writes it to GENERATION_FILE (the step succeeded for that generation).
record_generation() {
  [[ -n ${OBSERVED_GENERATION:-} ]] || return 0
  [[ -n ${GENERATION_FILE:-} ]] || die "OBSERVED_GENERATION needs GENERATION_FILE"
  printf '%s\n' "$OBSERVED_GENERATION" >"$GENERATION_FILE"
}
