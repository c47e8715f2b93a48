#!/usr/bin/env bash
# Assemble a stand-in for the Apache Kafka binary release from Maven artifacts.
#
#   scripts/local/kafka-dist.sh [version] [scala]
#
#   version  Kafka release, 3.x or 4.x, default $KAFKA_VERSION or 3.9.2 (3.x: ZooKeeper mode and log4j 1.x;
#            4.x: KRaft only and log4j 2)
#   scala    2.13 or 2.12 (3.x only), default $SCALA_VERSION or 2.13
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
# org.apache.kafka:kafka-tools, plus the logging jars the release adds outside the POMs, copied by
# `mvn dependency:copy-dependencies` with mvn's default settings and local repository (so the
# second run is served from ~/.m2):
#   3.x  slf4j-reload4j + reload4j (the log4j 1.x backend the 3.x release ships); a zookeeper jar is required.
#   4.x  log4j-slf4j-impl (the SLF4J 1.x binding to log4j 2) + log4j-1.2-api, at the version of the closure's
#        log4j-core (a first mvn pass finds it, a second resolves the closure with both); no zookeeper jar.
# bin/ holds small launchers with the interface of the release's scripts (kafka-dist/launchers/*.sh
# for 3.x, kafka-dist/launchers-4/*.sh for 4.x, as they are, plus thin tool launchers generated from
# kafka-dist/launchers.txt or launchers-4.txt; the folder is not named bin/ because the repository's
# .gitignore ignores bin/), and config/ release-like defaults (kafka-dist/config: log4j 1.x files,
# ZooKeeper-mode server.properties; kafka-dist/config-4: log4j2.yaml, tools-log4j2.yaml, KRaft
# server/broker/controller.properties).
#
# The tarball is reproducible: sorted entries, fixed owner/mode/mtime (SOURCE_DATE_EPOCH,
# default 2024-01-01), gzip -n. An existing output is kept when its inputs key (version, scala,
# logging backend versions (3.x), mtime, this script, the asset files of the major version:
# kafka-dist/{launchers,config,launchers.txt} or kafka-dist/{launchers-4,config-4,launchers-4.txt})
# matches and its .sha512 still verifies.
#
# Optional environment: KAFKA_CLUSTER_CACHE, SLF4J_VERSION (1.7.36), RELOAD4J_VERSION (1.2.25; both 3.x only),
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
major=${BASH_REMATCH[1]}
case $major in
  3) launcher_dir=launchers config_dir=config launcher_list=launchers.txt ;;
  4) launcher_dir=launchers-4 config_dir=config-4 launcher_list=launchers-4.txt ;;
  *) die "Kafka $version: only 3.x (ZooKeeper mode, log4j 1.x) and 4.x (KRaft, log4j 2) are supported" ;;
esac
[[ $scala =~ ^2\.1[23]$ ]] || die "scala \"$scala\" must be 2.13 or 2.12"
[ "$major" = 3 ] || [ "$scala" = 2.13 ] || die "Kafka $version is built for Scala 2.13 only (4.0 dropped 2.12)"
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
  if [ "$major" = 3 ]; then
    printf '%s\n' "$key_format" "version=$version" "scala=$scala" "slf4j=$slf4j_version" \
      "reload4j=$reload4j_version" "epoch=$epoch"
  else
    # The log4j 2 jars' version is the one of the closure's log4j-core, fixed by the Kafka version's POMs.
    printf '%s\n' "$key_format" "version=$version" "scala=$scala" "logging=log4j2-of-closure" "epoch=$epoch"
  fi
  cd "$here"
  find kafka-dist.sh "kafka-dist/$launcher_dir" "kafka-dist/$config_dir" "kafka-dist/$launcher_list" -type f | LC_ALL=C sort | while IFS= read -r f; do
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

# write_pom LOGGING_DEPS: the POM of the closure, with LOGGING_DEPS (dependency elements) after kafka + tools.
write_pom() {
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
$1
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
}

# resolve DIR: copies the POM's runtime closure into DIR.
resolve() {
  if ! mvn -B -q -f "$work/pom.xml" "${mvn_extra[@]}" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$1" >"$work/mvn.log" 2>&1; then
    tail -n 40 "$work/mvn.log" >&2
    die "mvn could not resolve org.apache.kafka:kafka_$scala:$version / kafka-tools (see above)"
  fi
}

log "resolving Kafka $version (Scala $scala) with mvn ..."
read -r -a mvn_extra <<<"${KAFKA_DIST_MVN_ARGS:-}"
if [ "$major" = 3 ]; then
  write_pom "    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$slf4j_version</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$reload4j_version</version></dependency>"
  resolve "$stage/libs"
else
  # Pass 1: kafka + tools alone, to learn their log4j-core version. Pass 2: the closure with the two log4j jars
  # the release adds; it must hold every jar of pass 1 (adding them moved no version).
  write_pom ""
  resolve "$work/libs-pass1"
  log4j_jars=$(cd "$work/libs-pass1" && compgen -G 'log4j-core-[0-9]*.jar') || die "no log4j-core jar in the Kafka $version closure"
  [ "$(wc -l <<<"$log4j_jars")" = 1 ] || die "several log4j-core jars in the closure: $(tr '\n' ' ' <<<"$log4j_jars")"
  log4j_version=${log4j_jars#log4j-core-}
  log4j_version=${log4j_version%.jar}
  [[ $log4j_version =~ ^2\.[0-9A-Za-z.-]+$ ]] || die "unexpected log4j-core version \"$log4j_version\""
  write_pom "    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$log4j_version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId><version>$log4j_version</version></dependency>"
  resolve "$stage/libs"
  for jar in "$work"/libs-pass1/*.jar; do
    [ -f "$stage/libs/${jar##*/}" ] || die "adding the log4j $log4j_version jars changed the closure: ${jar##*/} is gone"
  done
  log "log4j 2 backend: log4j-slf4j-impl and log4j-1.2-api $log4j_version (the closure's log4j-core)"
fi

libs=$stage/libs
if [ "$major" = 3 ]; then
  for jar in "kafka_$scala-$version.jar" "kafka-tools-$version.jar" "kafka-clients-$version.jar" \
    "slf4j-reload4j-$slf4j_version.jar" "reload4j-$reload4j_version.jar"; do
    [ -f "$libs/$jar" ] || die "libs/$jar missing after dependency resolution"
  done
  compgen -G "$libs/zookeeper-[0-9]*.jar" >/dev/null || die "no zookeeper jar in the dependency closure"
  # Exactly one SLF4J binding, and no real log4j 1.2 next to reload4j (same classes).
  bad_jars=('log4j-1.*.jar' 'slf4j-log4j12-*.jar' 'logback-classic-*.jar' 'log4j-slf4j-impl-*.jar' 'slf4j-simple-*.jar')
else
  for jar in "kafka_$scala-$version.jar" "kafka-tools-$version.jar" "kafka-clients-$version.jar" \
    "log4j-api-$log4j_version.jar" "log4j-core-$log4j_version.jar" \
    "log4j-slf4j-impl-$log4j_version.jar" "log4j-1.2-api-$log4j_version.jar"; do
    [ -f "$libs/$jar" ] || die "libs/$jar missing after dependency resolution"
  done
  if compgen -G "$libs/zookeeper-*.jar" >/dev/null; then
    die "zookeeper jar(s) in a Kafka $version closure: $(compgen -G "$libs/zookeeper-*.jar" | tr '\n' ' ')"
  fi
  # Exactly one SLF4J binding, log4j-slf4j-impl (checked above): none of the others, no log4j 1.2 implementation
  # next to log4j-1.2-api (same classes), no SLF4J 2 provider of log4j (log4j-slf4j2-impl).
  bad_jars=('slf4j-reload4j-*.jar' 'reload4j-*.jar' 'log4j-1.2.[0-9]*.jar' 'slf4j-log4j12-*.jar' 'logback-classic-*.jar'
    'log4j-slf4j2-impl-*.jar' 'slf4j-simple-*.jar' 'slf4j-jdk14-*.jar' 'slf4j-nop-*.jar')
  [ "$(compgen -G "$libs/log4j-slf4j-impl-*.jar" | wc -l)" = 1 ] || die "more than one log4j-slf4j-impl jar"
fi
for bad in "${bad_jars[@]}"; do
  if compgen -G "$libs/$bad" >/dev/null; then die "unexpected logging jar(s): $(compgen -G "$libs/$bad" | tr '\n' ' ')"; fi
done

# --- bin/ ----------------------------------------------------------------------------------
# Class index of the jars the launchers' main classes live in.
index_jars=("$libs/kafka_$scala-$version.jar" "$libs/kafka-tools-$version.jar")
if [ "$major" = 3 ]; then index_jars+=("$libs"/zookeeper-[0-9]*.jar); fi
for jar in "${index_jars[@]}"; do
  list_jar "$jar"
done | sed -n 's/\.class$//p' | tr / . | LC_ALL=C sort -u >"$work/classes"
has_class() { grep -qxF "$1" "$work/classes"; }

cp "$assets/$launcher_dir"/*.sh "$stage/bin/"
if [ "$major" = 3 ]; then
  server_classes=(kafka.Kafka org.apache.zookeeper.server.quorum.QuorumPeerMain org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka)
else
  server_classes=(kafka.Kafka)
fi
for cls in "${server_classes[@]}"; do
  has_class "$cls" || die "main class $cls not found in the Kafka $version jars"
done

launchers=""
while read -r launcher heap candidates; do
  case $launcher in '' | '#'*) continue ;; esac
  cls="" optional=false
  for c in $candidates; do
    if [ "$c" = optional ]; then optional=true; continue; fi
    if has_class "$c"; then cls=$c; break; fi
  done
  if [ -z "$cls" ] && $optional; then continue; fi
  [ -n "$cls" ] || die "$launcher: none of [$candidates] exists in Kafka $version"
  {
    echo '#!/usr/bin/env bash'
    echo "# $launcher: runs $cls (generated by kafka-dist.sh for Kafka $version)."
    echo 'set -euo pipefail'
    if [ "$heap" != - ]; then echo "export KAFKA_HEAP_OPTS=\${KAFKA_HEAP_OPTS:-$heap}"; fi
    echo "exec \"\$(dirname \"\$(readlink -f \"\$0\")\")/kafka-run-class.sh\" $cls \"\$@\""
  } >"$stage/bin/$launcher"
  launchers+="  $launcher -> $cls"$'\n'
done <"$assets/$launcher_list"
log "launchers:"$'\n'"${launchers%$'\n'}"

# --- config/ and provenance -------------------------------------------------------------------
if [ "$major" = 3 ]; then
  cp "$assets"/config/*.properties "$stage/config/"
  backend="slf4j-reload4j $slf4j_version and reload4j $reload4j_version"
else
  cp "$assets"/config-4/*.properties "$assets"/config-4/*.yaml "$stage/config/"
  backend="log4j-slf4j-impl $log4j_version and log4j-1.2-api $log4j_version"
fi
{
  echo "kafka_$scala-$version assembled by kafka-dist.sh (kafka-cluster project)"
  echo
  echo "This is NOT the Apache Kafka binary release. It stands in for it where the Apache download"
  echo "site is unreachable: libs/ holds the published Maven artifacts of Kafka $version (broker"
  echo "org.apache.kafka:kafka_$scala and org.apache.kafka:kafka-tools) with their runtime dependencies,"
  echo "plus $backend; bin/ and config/ are small"
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
