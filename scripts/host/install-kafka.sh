#!/usr/bin/env bash
# Phase `install` (every host, in parallel): the Kafka distribution, verified against Apache's .sha512 and its .asc
# signature (gpg, against the KEYS file; gpg is installed when missing) and unpacked into a versioned directory next to
# the running one. Nothing switches to it here: each service's link moves to the
# new version in that service's own configure step, just before its restart. A failed download, checksum or signature
# leaves everything as it was. Also the service user and the directories every role uses.
# Env:
#   KAFKA_URLS     the release tarball's URLs (space-separated), tried in order, the next only when one answers 404;
#                  <url>.sha512 is its checksum file, <url>.asc its signature
#   KEYS_URLS      the KEYS file the signature is checked against, one for each of KAFKA_URLS (same order)
#   KAFKA_DIST     the tarball's top directory, e.g. kafka_2.13-3.9.2 (installed as INSTALL_ROOT/KAFKA_DIST)
#   INSTALL_ROOT   where versioned installs live (must pass the removal allow-list, see lib.sh)
#   SERVICE_LINKS  space-separated symlinks the node's services run from (named in messages only)
#   CONFIG_DIR     the configuration directory
#   SERVICE_USER   the user the services run as
#   SERVICE_HOME   that user's home directory, if the user has to be created
#   DATA_DIRS      space-separated directories the node's services write to, owned by SERVICE_USER, mode 0750
#   TOOLS_PROFILE      login-shell profile putting Kafka's tools on PATH for people who log in (e.g. /etc/profile.d/…)
#   TOOLS_PROFILE_B64  its content, base64
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${KAFKA_URLS:?}" "${KEYS_URLS:?}" "${KAFKA_DIST:?}" "${INSTALL_ROOT:?}" "${SERVICE_LINKS:?}" "${CONFIG_DIR:?}" "${SERVICE_USER:?}" "${SERVICE_HOME:?}" "${DATA_DIRS:?}" \
  "${TOOLS_PROFILE:?}" "${TOOLS_PROFILE_B64:?}"
removable "$INSTALL_ROOT" || die "INSTALL_ROOT=$INSTALL_ROOT is not on the allow-list of directories this program may replace"
[[ $KAFKA_DIST =~ ^kafka_[0-9.]+-[0-9A-Za-z.-]+$ ]] || die "KAFKA_DIST=$KAFKA_DIST is not a Kafka release directory name"

# running: the version the node's services run now (for messages).
running() {
  local link
  for link in $SERVICE_LINKS; do readlink "$link" 2>/dev/null && return 0; done
  echo none
}

ensure_user "$SERVICE_USER" "$SERVICE_HOME"
read -r -a dirs <<<"$DATA_DIRS"
for d in "${dirs[@]}"; do
  [[ -d $d ]] || { mkdir -p "$d"; log "created $d"; }
  [[ "$(stat -c %U "$d")" == "$SERVICE_USER" ]] || chown "$SERVICE_USER:$SERVICE_USER" "$d"
  # Message data and logs: the service user and its group only.
  [[ "$(stat -c %a "$d")" == 750 ]] || { chmod 0750 "$d"; log "made $d 0750"; }
done
[[ -d $CONFIG_DIR ]] || mkdir -p "$CONFIG_DIR"
mkdir -p "$(dirname "$TOOLS_PROFILE")"
put_file "$TOOLS_PROFILE" 0644 root:root "$TOOLS_PROFILE_B64"
mkdir -p "$INSTALL_ROOT"

target=$INSTALL_ROOT/$KAFKA_DIST
if [[ ! -f $target/.verified ]]; then
  work=$(mktemp -d "$INSTALL_ROOT/.download.XXXXXX")
  # shellcheck disable=SC2016 # expands when the step ends
  on_exit 'rm -rf "$work"'
  if ! command -v gpg >/dev/null 2>&1; then
    # A failed install is reported by the check below (its own output is in the step log).
    if command -v apt-get >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      { apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends gpg >/dev/null; } || true
    elif command -v dnf >/dev/null 2>&1; then
      dnf install -y -q /usr/bin/gpg || true
    fi
    command -v gpg >/dev/null 2>&1 || die "gpg is missing and could not be installed (no apt-get or dnf, or the install failed); it verifies the release signature: install GnuPG, then run pulumi up again"
    log "installed gpg (verifies the release signature)"
  fi
  fetch_release "$work" "nothing was installed and the current install ($(running)) is untouched" "$KAFKA_URLS" "$KEYS_URLS"
  mkdir "$work/unpack"
  tar -xzf "$work/dist.tgz" -C "$work/unpack"
  [[ -x $work/unpack/$KAFKA_DIST/bin/kafka-server-start.sh ]] || die "$RELEASE_URL does not contain $KAFKA_DIST/bin/kafka-server-start.sh"
  rm -rf "$target"
  mv "$work/unpack/$KAFKA_DIST" "$target"
  touch "$target/.verified"
  log "unpacked $KAFKA_DIST into $target"
fi
log "kafka $KAFKA_DIST installed next to the running $(running)"
