#!/usr/bin/env bash
# Installs what this repository needs on a fresh Debian 12 machine (as root) and its npm dependencies.
# Java 17, Maven, Go and Node.js 20 are expected on the machine; everything else comes from apt and npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
for tool in java mvn go node npm; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if (( ${#missing[@]} )); then
  echo "setup: missing ${missing[*]}: install Java 17 (with Maven), Go and Node.js 20 first" >&2
  exit 1
fi

pkgs=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || pkgs+=("$1"); }
# gpg + gpg-agent: kafka-dist.sh signs its stand-in release, the unit tests verify signatures with a throwaway key.
# openssl: `pulumi up` generates the stack's CA, the broker certificates and the passwords with it (kafka:security).
# prometheus: its promtool checks the generated Prometheus configuration and tests the alert rules (kafka:monitoring);
# prometheus-alertmanager: its amtool checks the generated Alertmanager configuration; chromium: the KRaft suite's
# screenshot of the monitoring host's overview page (headless).
for p in shellcheck debootstrap systemd-container dpkg-dev openssh-client iproute2 python3 curl ca-certificates gpg gpg-agent openssl prometheus \
  prometheus-alertmanager chromium; do need "$p"; done
if (( ${#pkgs[@]} )); then
  echo "setup: installing ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# npm ci only when package-lock.json changed since the last install (its hash is kept inside node_modules).
stamp=node_modules/.kafka-cluster-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s\n' "$want" >"$stamp"
fi
