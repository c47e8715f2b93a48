#!/usr/bin/env bash
# Builds the stand-in `command` provider plugin v1.2.1 (test equipment; see provider.ts) into
#   <out-dir>/pulumi-resource-command-v1.2.1-standin.tgz
# holding the launcher `pulumi-resource-command` at its root and the compiled provider.js, ready for
#   PULUMI_HOME=<private dir> pulumi plugin install resource command 1.2.1 -f <tgz> --reinstall
# The launcher records absolute paths: the node binary and <repo-root>/node_modules (npm ci must have run).
#
# Usage: scripts/engine/command-provider/build.sh <out-dir> <repo-root>
# Env:   NODE  node binary to record in the launcher (default: the node found on PATH)
set -euo pipefail

usage() { echo "usage: $0 <out-dir> <repo-root>" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out_dir=$(cd "$1" && pwd -P)
repo_root=$(cd "$2" && pwd -P)
node_modules="$repo_root/node_modules"
tsc="$node_modules/.bin/tsc"
for need in "$tsc" "$node_modules/@pulumi/pulumi/provider/index.js" "$node_modules/@types/node"; do
  [[ -e $need ]] || { echo "build.sh: $need missing; run 'npm ci' in $repo_root" >&2; exit 1; }
done
node_bin=${NODE:-$(command -v node || true)}
[[ -n $node_bin && -x $node_bin ]] || { echo "build.sh: no node binary (set NODE)" >&2; exit 1; }
node_bin=$(cd "$(dirname "$node_bin")" && pwd -P)/$(basename "$node_bin")

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
"$tsc" --outDir "$staging" --rootDir "$here" --target es2020 --module commonjs --moduleResolution node \
  --strict --esModuleInterop --skipLibCheck --types node --typeRoots "$node_modules/@types" "$here/provider.ts"

launcher=$(<"$here/pulumi-resource-command")
launcher=${launcher//"'@NODE_BIN@'"/$(printf '%q' "$node_bin")}
launcher=${launcher//"'@NODE_MODULES@'"/$(printf '%q' "$node_modules")}
printf '%s\n' "$launcher" > "$staging/pulumi-resource-command"
chmod 755 "$staging/pulumi-resource-command"
chmod 644 "$staging/provider.js"

tgz="$out_dir/pulumi-resource-command-v1.2.1-standin.tgz"
tar -C "$staging" --owner=0 --group=0 --numeric-owner -czf "$tgz.tmp" pulumi-resource-command provider.js
mv "$tgz.tmp" "$tgz"
echo "$tgz"
