#!/usr/bin/env bash
# Assemble a stand-in for the Apache Kafka binary release from Maven artifacts.
#
#   scripts/local/kafka-dist.sh [version] [scala]
#
#   version  Kafka 3.x release, default $KAFKA_VERSION or 3.9.2 (ZooKeeper mode; 4.x is refused)
#   scala    2.13 or 2.12, default $SCALA_VERSION or 2.13
#
# Writes, under ${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}/kafka/<version>/:
#   kafka_<scala>-<version>.tgz         kafka_<scala>-<version>/{bin,config,libs}, like the release
#   kafka_<scala>-<version>.tgz.sha512  Apache's format (what `gpg --print-md SHA512 <file>` prints)
#   kafka_<scala>-<version>.tgz.asc     a detached signature by the local test key (below)
# i.e. the <downloadUrl>/<version>/ layout of the Apache download site, and next to the version directories:
#   KEYS                                the test key's public half, where Apache's KEYS is (<downloadUrl>/KEYS)
# The test key (ed25519, no passphrase) is generated once into ${KAFKA_CLUSTER_CACHE}/kafka-dist/gnupg, outside the
# served directory. It stands in for a release manager's key so the install step's real gpg verification runs in the
# lab; it proves nothing about Apache. An existing .asc is kept while it verifies; KEYS is rewritten when it differs.
#
# libs/ is the runtime dependency closure of org.apache.kafka:kafka_<scala> (broker) and
# org.apache.kafka:kafka-tools, plus slf4j-reload4j + reload4j (the log4j 1.x backend the 3.x
# release ships), copied by `mvn dependency:copy-dependencies` with mvn's default settings and
# local repository (so the second run is served from ~/.m2). bin/ holds small launchers with the
# interface of the release's scripts (kafka-dist/launchers/*.sh as they are, plus thin tool
# launchers generated from kafka-dist/launchers.txt; the folder is not named bin/ because the
# repository's .gitignore ignores bin/), and config/ release-like defaults (kafka-dist/config).
#
# The tarball is reproducible: sorted entries, fixed owner/mode/mtime (SOURCE_DATE_EPOCH,
# default 2024-01-01), gzip -n. An existing output is kept when its inputs key (version, scala,
# logging backend versions, mtime, this script, kafka-dist/{launchers,config,launchers.txt}) matches
# and its .sha512 still verifies.
#
# Optional environment: KAFKA_CLUSTER_CACHE, SLF4J_VERSION (1.7.36), RELOAD4J_VERSION (1.2.25),
# SOURCE_DATE_EPOCH, KAFKA_DIST_MVN_ARGS (extra mvn arguments, e.g. "-o" or "-s settings.xml"),
# KAFKA_DIST_FORCE=1 (rebuild even when up to date).
# stdout: progress goes to stderr; the last (only) stdout line is the path of the tgz.
set -euo pipefail

started=$(date +%s%N)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
assets=$here/kafka-dist
key_format=kafka-dist/1

die() { echo "kafka-dist: error: $*" >&2; exit 1; }
log() { echo "kafka-dist: $*" >&2; }
elapsed() { local now; now=$(date +%s%N); awk -v ns=$((now - started)) 'BEGIN { printf "%.1fs", ns / 1e9 }'; }

case ${1:-} in
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
esac
[ $# -le 2 ] || die "usage: $0 [version] [scala]"

version=${1:-${KAFKA_VERSION:-3.9.2}}
scala=${2:-${SCALA_VERSION:-2.13}}
slf4j_version=${SLF4J_VERSION:-1.7.36}
reload4j_version=${RELOAD4J_VERSION:-1.2.25}
epoch=${SOURCE_DATE_EPOCH:-1704067200}
cache=${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}

[[ $version =~ ^([0-9]+)\.[0-9]+\.[0-9]+$ ]] || die "version \"$version\" is not a release version like 3.9.2"
[ "${BASH_REMATCH[1]}" = 3 ] ||
  die "Kafka $version: only 3.x is supported (ZooKeeper mode and the log4j 1.x layout; 4.x removed ZooKeeper)"
[[ $scala =~ ^2\.1[23]$ ]] || die "scala \"$scala\" must be 2.13 or 2.12"
[[ $epoch =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH \"$epoch\" is not a number of seconds"
[[ $slf4j_version =~ ^[0-9A-Za-z.-]+$ && $reload4j_version =~ ^[0-9A-Za-z.-]+$ ]] || die "bad SLF4J_VERSION/RELOAD4J_VERSION"

# --- tools -----------------------------------------------------------------------------------
tar_bin=""
for t in tar gtar; do
  if command -v "$t" >/dev/null 2>&1 && "$t" --version 2>/dev/null | grep -q 'GNU tar'; then tar_bin=$t; break; fi
done
[ -n "$tar_bin" ] || die "GNU tar is required (for --sort=name; on macOS: brew install gnu-tar)"
if command -v sha512sum >/dev/null 2>&1; then sha512() { sha512sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then sha512() { shasum -a 512 "$1" | cut -d' ' -f1; }
else die "sha512sum (coreutils) or shasum is required"; fi
if command -v sha256sum >/dev/null 2>&1; then sha256() { sha256sum | cut -d' ' -f1; }
else sha256() { shasum -a 256 | cut -d' ' -f1; }; fi
command -v mvn >/dev/null 2>&1 || die "mvn (Apache Maven) is required"
command -v gzip >/dev/null 2>&1 || die "gzip is required"
command -v gpg >/dev/null 2>&1 || die "gpg (GnuPG, with gpg-agent) is required to sign the stand-in release"
if command -v unzip >/dev/null 2>&1; then list_jar() { unzip -Z1 "$1"; }
elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/jar" ]; then list_jar() { "$JAVA_HOME/bin/jar" tf "$1"; }
elif command -v jar >/dev/null 2>&1; then list_jar() { jar tf "$1"; }
else die "unzip or the JDK's jar tool is required"; fi

# gpg_sha512 FILE [NAME]: prints what `gpg --print-md SHA512 NAME` prints for FILE's content
# (NAME defaults to FILE). GnuPG's layout: "NAME: ", then upper-case hex in groups of 4 bytes;
# a group that would end past column 79 starts a continuation line indented to the width of
# "NAME: ". When that width exceeds 40, the hex starts on the next line and continuation lines
# are indented by one space. Checked byte-for-byte against gpg 2.2 for names of 1 to 80 chars.
gpg_sha512() {
  local hex
  hex=$(sha512 "$1" | tr 'a-f' 'A-F')
  awk -v name="${2:-$1}" -v hex="$hex" 'BEGIN {
    out = name ": "; indent = length(out)
    if (indent > 40) { out = out "\n"; indent = 0 }
    pad = ""; for (k = 0; k < (indent > 0 ? indent : 1); k++) pad = pad " "
    count = indent + 2; out = out substr(hex, 1, 2)
    n = length(hex) / 2
    for (i = 1; i < n; i++) {
      if (i % 4 == 0) {
        if (count + 8 > 79) { out = out "\n" pad; count = indent }
        else { out = out " "; count++ }
      }
      out = out substr(hex, 2 * i + 1, 2); count += 2
    }
    print out
  }'
}

# sign_release: the .asc of $tgz and $cache/kafka/KEYS, with the test key (created on first use). One signer at a
# time across all versions (their builds run in parallel), since they share the key's gpg-agent.
sign_release() {
  local gnupg=$cache/kafka-dist/gnupg keys=$cache/kafka/KEYS uid='kafka-dist test key (NOT an Apache release key) <kafka-dist@localhost.invalid>'
  mkdir -p "$cache/kafka-dist"
  (
    if command -v flock >/dev/null 2>&1; then
      exec 8>"$cache/kafka-dist/.gpg.lock"
      flock 8
    fi
    g() { gpg --homedir "$gnupg" --batch --quiet "$@"; }
    if ! g --list-secret-keys --with-colons 2>/dev/null | grep -q '^sec:'; then
      [ -d "$gnupg" ] || mkdir -m 0700 "$gnupg"
      g --passphrase '' --quick-gen-key "$uid" ed25519 sign never 2>/dev/null || die "gpg could not generate the test key in $gnupg"
      log "generated the test signing key in $gnupg"
    fi
    if ! g --verify "$tgz.asc" "$tgz" >/dev/null 2>&1; then
      rm -f "$tgz.asc.tmp"
      g --armor --detach-sign -o "$tgz.asc.tmp" "$tgz" || die "gpg could not sign $tgz"
      mv -f "$tgz.asc.tmp" "$tgz.asc"
      log "signed: $tgz.asc"
    fi
    {
      echo "This file contains the PGP key of kafka-dist.sh's local test signer (kafka-cluster project)."
      echo "It is NOT an Apache Kafka release manager's key: it signs the stand-in releases this script assembles."
      echo
      g --armor --export
    } >"$keys.tmp"
    if cmp -s "$keys.tmp" "$keys"; then rm -f "$keys.tmp"; else mv -f "$keys.tmp" "$keys"; log "wrote $keys"; fi
    if command -v gpgconf >/dev/null 2>&1; then gpgconf --homedir "$gnupg" --kill all >/dev/null 2>&1 || true; fi
  )
}

# --- output and inputs key -------------------------------------------------------------------
name=kafka_$scala-$version
outdir=$cache/kafka/$version
tgz=$outdir/$name.tgz
mkdir -p "$outdir" 2>/dev/null || die "cannot create $outdir (set KAFKA_CLUSTER_CACHE to a writable directory)"
[ -w "$outdir" ] || die "$outdir is not writable (set KAFKA_CLUSTER_CACHE to a writable directory)"

key=$(
  printf '%s\n' "$key_format" "version=$version" "scala=$scala" "slf4j=$slf4j_version" \
    "reload4j=$reload4j_version" "epoch=$epoch"
  cd "$here"
  find kafka-dist.sh kafka-dist/launchers kafka-dist/config kafka-dist/launchers.txt -type f | LC_ALL=C sort | while IFS= read -r f; do
    printf '%s %s\n' "$(sha256 <"$f")" "$f"
  done
)
key=$(printf '%s\n' "$key" | sha256)
keyfile=$outdir/.$name.tgz.inputs

# One build per output at a time (flock is in util-linux; skipped where missing).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$outdir/.$name.lock"
  flock 9
fi

if [ "${KAFKA_DIST_FORCE:-0}" != 1 ] && [ -f "$tgz" ] && [ -f "$tgz.sha512" ] && [ -f "$keyfile" ] &&
  [ "$(cat "$keyfile")" = "$key" ] && [ "$(cd "$outdir" && gpg_sha512 "$name.tgz")" = "$(cat "$tgz.sha512")" ]; then
  sign_release
  log "$tgz is up to date (inputs key ${key:0:12}), checked in $(elapsed)"
  echo "$tgz"
  exit 0
fi

# --- resolve the jars ------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/kafka-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/$name
mkdir -p "$stage/bin" "$stage/config" "$stage/libs"

cat >"$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by kafka-dist.sh: runtime closure of the Kafka $version broker and tools. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-dist</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$scala</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$slf4j_version</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$reload4j_version</version></dependency>
  </dependencies>
  <build>
    <pluginManagement>
      <plugins>
        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.6.1</version></plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
EOF

log "resolving Kafka $version (Scala $scala) with mvn ..."
read -r -a mvn_extra <<<"${KAFKA_DIST_MVN_ARGS:-}"
if ! mvn -B -q -f "$work/pom.xml" "${mvn_extra[@]}" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$stage/libs" >"$work/mvn.log" 2>&1; then
  tail -n 40 "$work/mvn.log" >&2
  die "mvn could not resolve org.apache.kafka:kafka_$scala:$version / kafka-tools (see above)"
fi

libs=$stage/libs
for jar in "kafka_$scala-$version.jar" "kafka-tools-$version.jar" "kafka-clients-$version.jar" \
  "slf4j-reload4j-$slf4j_version.jar" "reload4j-$reload4j_version.jar"; do
  [ -f "$libs/$jar" ] || die "libs/$jar missing after dependency resolution"
done
compgen -G "$libs/zookeeper-[0-9]*.jar" >/dev/null || die "no zookeeper jar in the dependency closure"
# Exactly one SLF4J binding, and no real log4j 1.2 next to reload4j (same classes).
for bad in 'log4j-1.*.jar' 'slf4j-log4j12-*.jar' 'logback-classic-*.jar' 'log4j-slf4j-impl-*.jar' 'slf4j-simple-*.jar'; do
  if compgen -G "$libs/$bad" >/dev/null; then die "unexpected logging jar(s): $(compgen -G "$libs/$bad" | tr '\n' ' ')"; fi
done

# --- bin/ ----------------------------------------------------------------------------------
# Class index of the jars the launchers' main classes live in.
for jar in "$libs/kafka_$scala-$version.jar" "$libs/kafka-tools-$version.jar" "$libs"/zookeeper-[0-9]*.jar; do
  list_jar "$jar"
done | sed -n 's/\.class$//p' | tr / . | LC_ALL=C sort -u >"$work/classes"
has_class() { grep -qxF "$1" "$work/classes"; }

cp "$assets"/launchers/*.sh "$stage/bin/"
for cls in kafka.Kafka org.apache.zookeeper.server.quorum.QuorumPeerMain \
  org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka; do
  has_class "$cls" || die "main class $cls not found in the Kafka $version jars"
done

launchers=""
while read -r launcher heap candidates; do
  case $launcher in '' | '#'*) continue ;; esac
  cls=""
  for c in $candidates; do
    if has_class "$c"; then cls=$c; break; fi
  done
  [ -n "$cls" ] || die "$launcher: none of [$candidates] exists in Kafka $version"
  {
    echo '#!/usr/bin/env bash'
    echo "# $launcher: runs $cls (generated by kafka-dist.sh for Kafka $version)."
    echo 'set -euo pipefail'
    if [ "$heap" != - ]; then echo "export KAFKA_HEAP_OPTS=\${KAFKA_HEAP_OPTS:-$heap}"; fi
    echo "exec \"\$(dirname \"\$(readlink -f \"\$0\")\")/kafka-run-class.sh\" $cls \"\$@\""
  } >"$stage/bin/$launcher"
  launchers+="  $launcher -> $cls"$'\n'
done <"$assets/launchers.txt"
log "launchers:"$'\n'"${launchers%$'\n'}"

# --- config/ and provenance -------------------------------------------------------------------
cp "$assets"/config/*.properties "$stage/config/"
{
  echo "kafka_$scala-$version assembled by kafka-dist.sh (kafka-cluster project)"
  echo
  echo "This is NOT the Apache Kafka binary release. It stands in for it where the Apache download"
  echo "site is unreachable: libs/ holds the published Maven artifacts of Kafka $version (broker"
  echo "org.apache.kafka:kafka_$scala and org.apache.kafka:kafka-tools) with their runtime dependencies,"
  echo "plus slf4j-reload4j $slf4j_version and reload4j $reload4j_version; bin/ and config/ are small"
  echo "equivalents of the release's scripts and defaults, covering the tools listed below."
  echo
  echo "Launchers:"
  printf '%s' "$launchers"
  echo
  echo "SHA-256 of libs/:"
  (cd "$stage/libs" && find . -type f -name '*.jar' | sed 's|^\./||' | LC_ALL=C sort |
    while IFS= read -r f; do printf '%s  %s\n' "$(sha256 <"$f")" "$f"; done)
} >"$stage/ASSEMBLED.txt"

# --- reproducible tarball ----------------------------------------------------------------------
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -exec chmod 0644 {} +
chmod 0755 "$stage"/bin/*.sh

tmp_tgz=$outdir/.$name.tgz.tmp.$$
trap 'rm -rf "$work" "$tmp_tgz" "$tmp_tgz.sha512"' EXIT
"$tar_bin" -C "$work" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  --format=gnu -cf - "$name" | gzip -n -6 >"$tmp_tgz"
gpg_sha512 "$tmp_tgz" "$name.tgz" >"$tmp_tgz.sha512"
rm -f "$keyfile"
mv -f "$tmp_tgz" "$tgz"
mv -f "$tmp_tgz.sha512" "$tgz.sha512"
printf '%s\n' "$key" >"$keyfile"
sign_release

log "built $tgz ($(du -h "$tgz" | cut -f1), $(find "$libs" -name '*.jar' | wc -l) jars) in $(elapsed)"
log "$(cat "$tgz.sha512")"
echo "$tgz"
