#!/usr/bin/env bash
# A Maven repository (Maven's directory layout) of the artifacts the lab's hosts download with kafka:mavenUrl: the
# Prometheus JMX exporter agent the monitoring steps install. The local hosts reach no registry, so the lab's HTTP
# server serves this directory at <httpBase>/maven (scripts/local/hosts.sh), as a mirror of Maven Central would.
#
#   scripts/local/maven-dist.sh group:artifact:version ...
#
# Writes ${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}/maven/<group as path>/<artifact>/<version>/<artifact>-<version>.jar,
# fetched by `mvn dependency:copy` with mvn's default settings and local repository (so a second run is served from
# ~/.m2, and the registry is whatever this machine's Maven configuration names). An existing jar is kept.
# Optional environment: KAFKA_CLUSTER_CACHE, KAFKA_DIST_MVN_ARGS (extra mvn arguments, e.g. "-o").
# stdout: the repository's directory (its last line).
set -euo pipefail

die() { echo "maven-dist: error: $*" >&2; exit 1; }
log() { echo "maven-dist: $*" >&2; }

(($#)) || die "usage: $0 group:artifact:version ..."
command -v mvn >/dev/null 2>&1 || die "mvn (Apache Maven) is required"
repo=${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}/maven
read -r -a mvn_extra <<<"${KAFKA_DIST_MVN_ARGS:-}"

for coords in "$@"; do
  [[ $coords =~ ^([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+)$ ]] || die "\"$coords\" is not group:artifact:version"
  group=${BASH_REMATCH[1]} artifact=${BASH_REMATCH[2]} version=${BASH_REMATCH[3]}
  dir=$repo/${group//.//}/$artifact/$version
  jar=$dir/$artifact-$version.jar
  if [[ -s $jar ]]; then
    log "$coords: kept $jar"
    continue
  fi
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
  if ! mvn -B -q "${mvn_extra[@]}" dependency:copy -Dartifact="$coords" -DoutputDirectory="$tmp" >"$tmp/mvn.log" 2>&1; then
    tail -n 20 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn could not resolve $coords (see above)"
  fi
  [[ -s $tmp/$artifact-$version.jar ]] || { rm -rf "$tmp"; die "mvn wrote no $artifact-$version.jar"; }
  mv -f "$tmp/$artifact-$version.jar" "$jar"
  rm -rf "$tmp"
  log "$coords: fetched into $jar"
done
echo "$repo"
