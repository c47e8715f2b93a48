#!/usr/bin/env bash
# Ensure the Pulumi CLI, the Node.js language host and the command provider plugin exist at the
# versions pinned in package.json (@pulumi/pulumi and @pulumi/command).
#
# Usage:
#   export PATH="$(scripts/pulumi-tools.sh | tail -n1):$PATH"
#
# - If matching `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-command` are already on PATH,
#   their directory is printed.
# - Otherwise they are built with the Go toolchain from the Go module proxy (whatever `go env GOPROXY`
#   says) into
#     ${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}/pulumi/<pulumiVersion>-command<commandVersion>/bin
#   and that directory is reused on later runs.
# The LAST line of stdout is the bin directory; all progress goes to stderr. The exit status is non-zero
# when the tools cannot be provided: with `set -o pipefail`, `bin=$(scripts/pulumi-tools.sh | tail -n1)`
# catches that, whereas the one-liner above would silently prepend an empty entry to PATH.
#
# Environment:
#   KAFKA_CLUSTER_CACHE         cache root (default /var/cache/kafka-cluster)
#   PULUMI_TOOLS_PACKAGE_JSON   package.json to read the versions from (default: <repo>/package.json)
#   PULUMI_TOOLS_IGNORE_PATH=1  do not accept binaries found on PATH; always use/build the cache
set -euo pipefail

log() { printf '[pulumi-tools] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

usage() {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  "") ;;
  *)
    usage
    die "unknown argument: $1"
    ;;
esac

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
package_json=${PULUMI_TOOLS_PACKAGE_JSON:-$repo_root/package.json}

command -v node >/dev/null 2>&1 || die "node is required to read $package_json"
[[ -f $package_json ]] || die "no package.json at $package_json"

# --- versions from package.json ------------------------------------------------------------------
read_pinned_version() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const p = require(process.argv[1]);
    const name = process.argv[2];
    const v = (p.dependencies || {})[name] || (p.devDependencies || {})[name];
    if (!v) { console.error(`${name} is not a dependency in ${process.argv[1]}`); process.exit(1); }
    if (!/^\d+\.\d+\.\d+$/.test(v)) {
      console.error(`${name} must be pinned to an exact version in ${process.argv[1]} (found "${v}")`);
      process.exit(1);
    }
    console.log(v);
  ' "$package_json" "$1"
}

pulumi_version=$(read_pinned_version @pulumi/pulumi) || die "cannot read the @pulumi/pulumi version"
command_version=$(read_pinned_version @pulumi/command) || die "cannot read the @pulumi/command version"
log "wanted: pulumi v$pulumi_version, pulumi-language-nodejs v$pulumi_version, pulumi-resource-command v$command_version"

# --- version probes --------------------------------------------------------------------------------
# Each probe prints the version (without a leading "v") of the binary given as $1, or fails.
probe_pulumi() {
  local out
  out=$(PULUMI_SKIP_UPDATE_CHECK=1 "$1" version 2>/dev/null) || return 1
  printf '%s\n' "${out#v}" | head -n1
}

probe_language_nodejs() {
  local out
  out=$("$1" -version 2>/dev/null) || return 1
  printf '%s\n' "${out#v}" | head -n1
}

# The provider has no --version flag: start it and ask it over gRPC (GetPluginInfo), using the
# grpc client and generated stubs shipped in the repo's node_modules (@pulumi/pulumi).
probe_resource_command() {
  local out
  # shellcheck disable=SC2016 # JavaScript, not shell
  out=$(timeout 60 node -e '
    const [bin, root] = process.argv.slice(1);
    const req = (m) => require(require.resolve(m, { paths: [root] }));
    const grpc = req("@grpc/grpc-js");
    const { ResourceProviderClient } = req("@pulumi/pulumi/proto/provider_grpc_pb.js");
    const { Empty } = req("google-protobuf/google/protobuf/empty_pb.js");
    const child = require("child_process").spawn(bin, [], { stdio: ["ignore", "pipe", "ignore"] });
    const fail = (msg) => { console.error(msg); child.kill(); process.exit(1); };
    const timer = setTimeout(() => fail("timed out"), 30000);
    child.on("error", (e) => fail(String(e)));
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const m = buf.match(/^\s*(\d+)\s*\n/);
      if (!m) return;
      child.stdout.removeAllListeners("data");
      const client = new ResourceProviderClient(`127.0.0.1:${m[1]}`, grpc.credentials.createInsecure());
      client.getPluginInfo(new Empty(), (err, info) => {
        clearTimeout(timer);
        client.close();
        child.kill();
        if (err) fail(String(err));
        console.log(info.getVersion());
        process.exit(0);
      });
    });
  ' "$1" "$repo_root" 2>/dev/null) || return 1
  printf '%s\n' "${out#v}" | head -n1
}

# tool_ok <probe> <binary> <wanted version>
tool_ok() {
  local got
  [[ -x $2 ]] || return 1
  got=$("$1" "$2") || {
    log "  $2: could not determine its version"
    return 1
  }
  if [[ $got == "$3" ]]; then
    log "  $2: v$got (ok)"
    return 0
  fi
  log "  $2: v$got (want v$3)"
  return 1
}

# --- 1. binaries already on PATH? -------------------------------------------------------------------
if [[ ${PULUMI_TOOLS_IGNORE_PATH:-} != 1 ]]; then
  log "checking PATH"
  p_pulumi=$(command -v pulumi || true)
  p_lang=$(command -v pulumi-language-nodejs || true)
  p_cmd=$(command -v pulumi-resource-command || true)
  if [[ -n $p_pulumi && -n $p_lang && -n $p_cmd ]] &&
    tool_ok probe_pulumi "$p_pulumi" "$pulumi_version" &&
    tool_ok probe_language_nodejs "$p_lang" "$pulumi_version" &&
    tool_ok probe_resource_command "$p_cmd" "$command_version"; then
    log "using the binaries on PATH"
    dirname "$p_pulumi"
    exit 0
  fi
  [[ -n $p_pulumi ]] || log "  pulumi: not on PATH"
  [[ -n $p_lang ]] || log "  pulumi-language-nodejs: not on PATH"
  [[ -n $p_cmd ]] || log "  pulumi-resource-command: not on PATH"
  log "no complete matching set on PATH"
fi

# --- 2. cache ---------------------------------------------------------------------------------------
cache_root=${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}
tool_dir=$cache_root/pulumi/$pulumi_version-command$command_version
bin_dir=$tool_dir/bin
mkdir -p "$tool_dir" 2>/dev/null || die "cannot create $tool_dir (set KAFKA_CLUSTER_CACHE to a writable directory)"

# Serialise concurrent runs on the same cache entry.
exec 9>"$tool_dir/.lock"
if ! flock -n 9; then
  log "waiting for another pulumi-tools.sh run on $tool_dir"
  flock 9
fi

need_pulumi=1 need_lang=1 need_cmd=1
log "checking cache $bin_dir"
tool_ok probe_pulumi "$bin_dir/pulumi" "$pulumi_version" && need_pulumi=0
tool_ok probe_language_nodejs "$bin_dir/pulumi-language-nodejs" "$pulumi_version" && need_lang=0
tool_ok probe_resource_command "$bin_dir/pulumi-resource-command" "$command_version" && need_cmd=0
if ((need_pulumi + need_lang + need_cmd == 0)); then
  log "using cached binaries"
  printf '%s\n' "$bin_dir"
  exit 0
fi

# --- 3. build with Go -------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is required to build the Pulumi binaries (none matching on PATH or in $bin_dir)"

export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
jobs=$(nproc 2>/dev/null || echo 2)
export GOMAXPROCS=${GOMAXPROCS:-$jobs}
log "go: $(go version), GOPROXY=$(go env GOPROXY), -p $jobs"

work=$(mktemp -d "$tool_dir/.build.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# mod_download <module@query> <field...>: download the module metadata/source through the proxy and
# print the requested top-level fields of `go mod download -json` (Origin.Hash as "Hash"),
# tab-separated. Fails with the proxy's error message.
mod_download() {
  local json spec=$1
  shift
  json=$(cd "$work" && go mod download -json "$spec" 2>/dev/null) || true
  [[ -n $json ]] || json='{"Error":"go mod download produced no output"}'
  node -e '
    const j = JSON.parse(process.argv[1]);
    if (j.Error) { console.error(j.Error.replace(/\s*\n\s*/g, " ")); process.exit(1); }
    const out = process.argv.slice(2).map((f) => f === "Hash" ? ((j.Origin || {}).Hash || "") : (j[f] || ""));
    console.log(out.join("\t"));
  ' "$json" "$@"
}

# replaces_of <go.mod file>: print "-replace=old[@v]=new@v" for each non-local replace directive.
replaces_of() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  go mod edit -json "$1" | node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const r of JSON.parse(s).Replace || []) {
        if (!r.New.Version) continue; // local (filesystem) replace: satisfied by requiring the module
        const o = r.Old.Path + (r.Old.Version ? "@" + r.Old.Version : "");
        console.log(`-replace=${o}=${r.New.Path}@${r.New.Version}`);
      }
    });
  '
}

# new_wrapper <dir> <go.mod of required modules...>: generate a throw-away main module.
new_wrapper() {
  local dir=$1 modfile r
  shift
  mkdir -p "$dir"
  printf 'module kafka-cluster.invalid/pulumi-tools\n\ngo %s\n' "$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')" >"$dir/go.mod"
  for modfile in "$@"; do
    while IFS= read -r r; do
      (cd "$dir" && go mod edit "$r")
    done < <(replaces_of "$modfile")
  done
}

# check_selected <dir> <module> <version>: MVS must not have moved a pinned module.
check_selected() {
  local got
  got=$(cd "$1" && go list -m -f '{{.Version}}' "$2")
  [[ $got == "$3" ]] || die "$2 resolved to $got instead of $3 in $1/go.mod"
}

pkg_mod=github.com/pulumi/pulumi/pkg/v3
sdk_mod=github.com/pulumi/pulumi/sdk/v3
lang_mod=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
cmd_mod=github.com/pulumi/pulumi-command/provider
version_var=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
cmd_version_var=github.com/pulumi/pulumi-command/provider/pkg/version.Version

# Resolve everything first so that an unavailable module fails fast, before any long build.
if ((need_pulumi || need_lang)); then
  log "resolving $pkg_mod@v$pulumi_version"
  IFS=$'\t' read -r pkg_gomod pulumi_commit < <(mod_download "$pkg_mod@v$pulumi_version" GoMod Hash 2>&1) || true
  [[ -f ${pkg_gomod:-} ]] || die "the Go module proxy does not serve $pkg_mod@v$pulumi_version: ${pkg_gomod:-}${pulumi_commit:+ $pulumi_commit}"
  IFS=$'\t' read -r sdk_gomod sdk_commit < <(mod_download "$sdk_mod@v$pulumi_version" GoMod Hash 2>&1) || true
  [[ -f ${sdk_gomod:-} ]] || die "the Go module proxy does not serve $sdk_mod@v$pulumi_version: ${sdk_gomod:-}"
  # pkg/vX and sdk/vX tags point at the same release commit; the language host module has no tags
  # of its own, so it is taken at that commit (pseudo-version).
  pulumi_commit=${pulumi_commit:-${sdk_commit:-}}
  [[ -n $pulumi_commit ]] || die "the proxy did not report the commit of v$pulumi_version (no Origin in .info)"
  log "pulumi v$pulumi_version is commit $pulumi_commit"
  if ((need_lang)); then
    log "resolving $lang_mod@$pulumi_commit"
    IFS=$'\t' read -r lang_version lang_gomod < <(mod_download "$lang_mod@$pulumi_commit" Version GoMod 2>&1) || true
    [[ -f ${lang_gomod:-} ]] || die "the Go module proxy does not serve $lang_mod@$pulumi_commit: ${lang_version:-}"
    log "language host module version $lang_version"
  fi
fi

if ((need_cmd)); then
  # pulumi-command tags the provider module only as vX.Y.Z at the repo root (and sdk/vX.Y.Z), so
  # try provider/vX.Y.Z first and fall back to the commit of sdk/vX.Y.Z.
  log "resolving $cmd_mod for v$command_version"
  if ! IFS=$'\t' read -r cmd_mod_version cmd_gomod < <(mod_download "$cmd_mod@v$command_version" Version GoMod 2>/dev/null); then
    IFS=$'\t' read -r cmd_commit < <(mod_download "github.com/pulumi/pulumi-command/sdk@v$command_version" Hash 2>&1) || true
    [[ ${cmd_commit:-} =~ ^[0-9a-f]{40}$ ]] || die "cannot find the commit of pulumi-command v$command_version through the Go module proxy: ${cmd_commit:-}"
    IFS=$'\t' read -r cmd_mod_version cmd_gomod < <(mod_download "$cmd_mod@$cmd_commit" Version GoMod 2>&1) || true
  fi
  [[ -f ${cmd_gomod:-} ]] || die "the Go module proxy does not serve $cmd_mod for v$command_version: ${cmd_mod_version:-}"
  log "command provider module version $cmd_mod_version"
fi

mkdir -p "$bin_dir"
total_start=$SECONDS

if ((need_pulumi || need_lang)); then
  src=$work/pulumi
  gomods=("$pkg_gomod" "$sdk_gomod")
  pkgs=()
  ((need_pulumi)) && pkgs+=("$pkg_mod/cmd/pulumi")
  if ((need_lang)); then
    gomods+=("$lang_gomod")
    pkgs+=("$lang_mod")
  fi
  new_wrapper "$src" "${gomods[@]}"
  start=$SECONDS
  log "fetching dependencies for ${pkgs[*]}"
  reqs=("$pkg_mod@v$pulumi_version" "$sdk_mod@v$pulumi_version")
  ((need_lang)) && reqs+=("$lang_mod@$lang_version")
  (cd "$src" && go get "${reqs[@]}") >&2
  check_selected "$src" "$pkg_mod" "v$pulumi_version"
  check_selected "$src" "$sdk_mod" "v$pulumi_version"
  log "building ${pkgs[*]}"
  mkdir -p "$src/out"
  (cd "$src" && go build -p "$jobs" -trimpath -ldflags "-s -w -X $version_var=v$pulumi_version" -o "$src/out/" "${pkgs[@]}") >&2
  log "built pulumi v$pulumi_version tools in $((SECONDS - start))s"
  ((need_pulumi)) && mv -f "$src/out/pulumi" "$bin_dir/pulumi"
  ((need_lang)) && mv -f "$src/out/pulumi-language-nodejs" "$bin_dir/pulumi-language-nodejs"
fi

if ((need_cmd)); then
  src=$work/command
  new_wrapper "$src" "$cmd_gomod"
  start=$SECONDS
  log "fetching dependencies for $cmd_mod@$cmd_mod_version"
  (cd "$src" && go get "$cmd_mod@$cmd_mod_version") >&2
  check_selected "$src" "$cmd_mod" "$cmd_mod_version"
  log "building pulumi-resource-command"
  (cd "$src" && go build -p "$jobs" -trimpath -ldflags "-s -w -X $cmd_version_var=$command_version" \
    -o "$src/pulumi-resource-command" "$cmd_mod/cmd/pulumi-resource-command") >&2
  log "built pulumi-resource-command v$command_version in $((SECONDS - start))s"
  mv -f "$src/pulumi-resource-command" "$bin_dir/pulumi-resource-command"
fi

log "total build time $((SECONDS - total_start))s"

log "verifying $bin_dir"
tool_ok probe_pulumi "$bin_dir/pulumi" "$pulumi_version" || die "built pulumi does not report v$pulumi_version"
tool_ok probe_language_nodejs "$bin_dir/pulumi-language-nodejs" "$pulumi_version" ||
  die "built pulumi-language-nodejs does not report v$pulumi_version"
tool_ok probe_resource_command "$bin_dir/pulumi-resource-command" "$command_version" ||
  die "built pulumi-resource-command does not report v$command_version"

printf '%s\n' "$bin_dir"
