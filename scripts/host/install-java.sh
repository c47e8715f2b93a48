#!/usr/bin/env bash
# Phase `java` (every host): Java 17 or newer (apt on Debian/Ubuntu, dnf on Amazon Linux 2023); nothing to do when
# one exists.
# Env: none
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if command -v java >/dev/null 2>&1 && (( $(java_major || echo 0) >= 17 )); then
  log "java $(java_major) already installed"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y -q java-17-amazon-corretto-headless
else
  die "no apt-get or dnf on this host: install Java 17 yourself, then run pulumi up again"
fi
(( $(java_major || echo 0) >= 17 )) || die "Java 17 install finished but 'java -version' does not report 17+"
log "installed java $(java_major)"
