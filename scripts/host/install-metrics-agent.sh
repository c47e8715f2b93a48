#!/usr/bin/env bash
# Phase `install`, kafka:monitoring (every host, before the Kafka install): the Prometheus JMX exporter agent every
# Kafka service JVM on the host loads. Downloaded once and checked against the SHA-256 the program pins; a jar already in
# place with that checksum is kept; a failed download or a wrong checksum leaves what was there untouched.
# Env:
#   AGENT_URL     where the agent jar is downloaded from (a Maven repository's path to it)
#   AGENT_SHA256  its SHA-256 (hex)
#   AGENT_JAR     where it is installed (inside the install root, on the removal allow-list)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${AGENT_URL:?}" "${AGENT_SHA256:?}" "${AGENT_JAR:?}"
[[ $AGENT_SHA256 =~ ^[0-9a-f]{64}$ ]] || die "AGENT_SHA256 is not a SHA-256 in hex"
removable "$(dirname "$AGENT_JAR")" || die "AGENT_JAR=$AGENT_JAR is not inside a directory this program manages"
[[ $AGENT_JAR == *.jar ]] || die "AGENT_JAR=$AGENT_JAR is not a jar"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
if [[ -f $AGENT_JAR ]] && [[ "$(sha256_of "$AGENT_JAR")" == "$AGENT_SHA256" ]]; then
  log "metrics agent $(basename "$AGENT_JAR") already installed (SHA-256 checked)"
  exit 0
fi
mkdir -p "$(dirname "$AGENT_JAR")"
tmp=$(mktemp "$AGENT_JAR.XXXXXX")
# shellcheck disable=SC2016 # expands when the step ends
on_exit 'rm -f "$tmp"'
fetch "$AGENT_URL" "$tmp" 300 ||
  die "could not download the metrics agent from $AGENT_URL (HTTP status $HTTP_STATUS): check kafka:mavenUrl (a Maven repository this host can reach), then run pulumi up again"
got=$(sha256_of "$tmp")
[[ $got == "$AGENT_SHA256" ]] ||
  die "the metrics agent from $AGENT_URL has SHA-256 $got, not the pinned $AGENT_SHA256: kafka:mavenUrl serves a different file; nothing was installed"
chmod 0644 "$tmp"
mv -f "$tmp" "$AGENT_JAR"
log "installed the metrics agent $(basename "$AGENT_JAR") from $AGENT_URL (SHA-256 checked)"
