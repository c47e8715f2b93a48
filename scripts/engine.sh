#!/usr/bin/env bash
# Provides the Pulumi engine for the local tooling and prints the environment to run it with.
#
# Usage:  scripts/engine.sh            progress on stderr; on stdout, KEY=VALUE lines (one per variable)
#         . scripts/env.sh             (what the scripts do: exports those variables)
#
# - A `pulumi` already on PATH is used as it is (a normal user's setup): it installs the real command
#   provider plugin itself, in the user's own PULUMI_HOME.
# - Otherwise the CLI and the Node.js language host are built with Go from the module proxy (whatever
#   `go env GOPROXY` says) from the wrapper modules in scripts/engine/{cli,language-nodejs} (committed go.mod
#   and go.sum, -mod=readonly) into a cache keyed by their versions, and the stand-in command provider
#   (scripts/engine/command-provider, test equipment: the real plugin cannot be had here) is registered as
#   `command` 1.2.1 in a private PULUMI_HOME under the cache, so it never shadows a real plugin in ~/.pulumi and
#   nothing tries a download.
# Either way state goes to a local file backend under the cache (one per checkout) with the passphrase
# secrets provider; nothing talks to a Pulumi service.
#
# Env: KAFKA_CLUSTER_CACHE (cache root, default /var/cache/kafka-cluster),
#      KAFKA_CLUSTER_STATE_DIR (file backend directory, default <cache>/state/<checkout hash>),
#      PULUMI_CONFIG_PASSPHRASE (default: the local tooling's fixed passphrase; local stacks hold no secret config)
set -euo pipefail

CLI_VERSION=3.259.0
LANGUAGE_VERSION=3.68.0
COMMAND_VERSION=1.2.1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}
checkout=$(printf '%s' "$root" | sha256sum | cut -c1-12)
log() { printf '[engine] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

emit_common() {
  local state=${KAFKA_CLUSTER_STATE_DIR:-$cache/state/$checkout}
  mkdir -p "$state"
  printf 'PULUMI_BACKEND_URL=file://%s\n' "$state"
  printf 'PULUMI_CONFIG_PASSPHRASE=%s\n' "${PULUMI_CONFIG_PASSPHRASE:-kafka-cluster-local}"
  printf 'PULUMI_SKIP_UPDATE_CHECK=1\n'
}

# --- 1. an installed pulumi -----------------------------------------------------------------------------
installed=$(command -v pulumi || true)
if [[ -n $installed && $installed != "$cache"/engine/* ]]; then
  # Which command plugin will run: what the user's PULUMI_HOME holds (the stand-in carries its provider.js, marked as
  # test equipment; the real plugin is one Go binary), or none yet (pulumi then installs the real one on first use).
  plugin=${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-command-v$COMMAND_VERSION
  if [[ -f $plugin/provider.js ]] && grep -q 'TEST EQUIPMENT' "$plugin/provider.js"; then
    provider=stand-in
    note="the stand-in command provider in $plugin (test equipment: remove it and run 'pulumi plugin install resource command $COMMAND_VERSION' for the real one)"
  elif [[ -x $plugin/pulumi-resource-command ]]; then
    provider=real
    note="the real command provider v$COMMAND_VERSION in $plugin"
  else
    provider=real
    note="the real command provider v$COMMAND_VERSION, which pulumi installs on first use (or now: pulumi plugin install resource command $COMMAND_VERSION)"
  fi
  log "using the installed $installed ($(PULUMI_SKIP_UPDATE_CHECK=1 pulumi version 2>/dev/null || echo '?')), with $note"
  printf 'KAFKA_CLUSTER_COMMAND_PROVIDER=%s\n' "$provider"
  emit_common
  exit 0
fi

# --- 2. built from the module proxy, cached by version ---------------------------------------------------
bin=$cache/engine/pulumi-v$CLI_VERSION-nodejs-v$LANGUAGE_VERSION/bin
home=$cache/engine/home-$checkout
mkdir -p "$bin" "$home" || die "cannot create $bin (set KAFKA_CLUSTER_CACHE to a writable directory)"
exec 9>"$bin/.lock"
flock 9

# build <wrapper dir> <package> <version> <output name>
build() {
  local dir=$root/scripts/engine/$1 t0=$SECONDS
  command -v go >/dev/null || die "no pulumi on PATH and no Go to build it: install the Pulumi CLI (https://www.pulumi.com/docs/install/) or Go 1.24+"
  log "building $4 v$3 from the Go module proxy ($(go env GOPROXY)); a cold build (empty Go caches) took 6 min on 2 cores here"
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$3" -o "$bin/$4.tmp" "$2") >&2 ||
    die "building $4 failed (see above); install the Pulumi CLI instead (https://www.pulumi.com/docs/install/)"
  mv -f "$bin/$4.tmp" "$bin/$4"
  log "built $4 in $((SECONDS - t0)) s"
}
[[ -x $bin/pulumi ]] || build cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$CLI_VERSION" pulumi
[[ -x $bin/pulumi-language-nodejs ]] ||
  build language-nodejs github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$LANGUAGE_VERSION" pulumi-language-nodejs

# The stand-in command provider, registered in the private PULUMI_HOME; rebuilt when its source changes.
provider_src=$root/scripts/engine/command-provider
stamp=$(cat "$provider_src"/* "$root/package-lock.json" | sha256sum | cut -c1-16)
marker=$home/.command-standin
if [[ "$(cat "$marker" 2>/dev/null)" != "$stamp" ]]; then
  [[ -d $root/node_modules/@pulumi/pulumi ]] || die "node_modules is missing: run scripts/setup.sh first"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$provider_src/build.sh" "$work" "$root" >&2
  PULUMI_HOME=$home PULUMI_SKIP_UPDATE_CHECK=1 "$bin/pulumi" plugin install resource command "$COMMAND_VERSION" \
    -f "$work/pulumi-resource-command-v$COMMAND_VERSION-standin.tgz" --reinstall >&2
  printf '%s\n' "$stamp" >"$marker"
  log "registered the stand-in command provider v$COMMAND_VERSION in $home"
fi
log "using pulumi v$CLI_VERSION and pulumi-language-nodejs v$LANGUAGE_VERSION from $bin, with the stand-in command provider (the real plugin cannot be had here)"
printf 'KAFKA_CLUSTER_COMMAND_PROVIDER=stand-in\n'
printf 'PATH=%s:%s\n' "$bin" "$PATH"
printf 'PULUMI_HOME=%s\n' "$home"
printf 'PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
emit_common
