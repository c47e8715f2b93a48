#!/usr/bin/env bash
# Phase `java` (every host): Java 17 or newer (apt on Debian/Ubuntu, dnf on Amazon Linux 2023); nothing to install
# when one exists. Then nothing upgrades or restarts the cluster behind its back:
# - the JDK package this step installed is held (apt-mark hold), so unattended-upgrades leaves it alone; Kafka and
#   ZooKeeper are tarballs under the install root, which no package manager touches;
# - needrestart (Ubuntu's unattended-upgrades runs it and restarts services after library updates) is told never to
#   restart kafka or zookeeper: a restart of every broker at once would take the cluster down.
# Env:
#   NEEDRESTART_CONF  needrestart's drop-in file to write, used only where needrestart is installed (its directory exists)
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NEEDRESTART_CONF:?}"

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
# locked OUTPUT: whether a package manager command's error output says another apt or dpkg run holds the lock.
locked() { [[ $1 == *lock* ]]; }
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # An earlier run cut off in the middle (a killed pulumi up, a lost SSH session) can leave dpkg half done, and apt
  # then refuses everything ("dpkg was interrupted"): finish it first, whether or not Java works already. The cut-off
  # run's apt may still be running (it does not die with the SSH session): then wait for it, up to 10 minutes.
  for ((i = 0; i < 300; i++)); do
    [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] || break
    if out=$(dpkg --configure -a 2>&1 >/dev/null); then
      log "finished an interrupted dpkg run (dpkg --configure -a)"
      break
    fi
    locked "$out" || die "dpkg --configure -a failed: $out"
    sleep 2
  done
fi
if command -v java >/dev/null 2>&1 && (( $(java_major || echo 0) >= 17 )); then
  log "java $(java_major) already installed"
elif command -v apt-get >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null
  log "installed java $(java_major || echo '?')"
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y -q java-17-amazon-corretto-headless
  log "installed java $(java_major || echo '?')"
else
  die "no apt-get or dnf on this host: install Java 17 yourself, then run pulumi up again"
fi
(( $(java_major || echo 0) >= 17 )) || die "Java 17 install finished but 'java -version' does not report 17+"

# Held only when the package is installed (a Java that came some other way is the owner's to manage).
if command -v apt-mark >/dev/null 2>&1 && dpkg-query -W -f='${Status}' openjdk-17-jre-headless 2>/dev/null | grep -q 'install ok installed'; then
  if ! apt-mark showhold | grep -qx openjdk-17-jre-headless; then
    # Java may work while the apt run that installed it is still finishing (a cut-off run's): its lock is waited out.
    for ((i = 0; ; i++)); do
      if out=$(apt-mark hold openjdk-17-jre-headless 2>&1 >/dev/null); then break; fi
      locked "$out" || die "apt-mark hold openjdk-17-jre-headless failed: $out"
      (( i < 300 )) || die "another apt or dpkg run held the package manager's lock for 10 minutes; openjdk-17-jre-headless is not held yet. Fix: let it finish (or stop it), then run pulumi up again"
      sleep 2
    done
    log "held openjdk-17-jre-headless (upgrade it on purpose, one host at a time)"
  fi
fi
if [[ -d $(dirname "$NEEDRESTART_CONF") ]]; then
  # shellcheck disable=SC2016 # Perl, for needrestart
  conf='# Managed by kafka-cluster: never restart Kafka or ZooKeeper after a library update (every broker at once).
$nrconf{override_rc}{qr(^kafka\.service$)} = 0;
$nrconf{override_rc}{qr(^zookeeper\.service$)} = 0;
'
  put_file "$NEEDRESTART_CONF" 0644 root:root "$(printf '%s' "$conf" | base64 -w0)"
fi
