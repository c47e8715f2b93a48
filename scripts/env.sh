#!/usr/bin/env bash
# Sourced by the local tooling: exports what scripts/engine.sh prints (the Pulumi engine on PATH, a local file
# backend and the passphrase secrets provider), so nothing talks to a Pulumi service or downloads a plugin.
# shellcheck disable=SC2034
KC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kc_engine_env=$("$KC_ROOT/scripts/engine.sh")
while IFS= read -r kc_line; do
  export "${kc_line?}"
done <<<"$kc_engine_env"
export PATH="$KC_ROOT/node_modules/.bin:$PATH"
unset kc_engine_env kc_line
