#!/usr/bin/env bash
# Sourced by the local tooling: the Pulumi engine and plugins on PATH, a local file backend and the passphrase
# secrets provider, so nothing talks to a Pulumi service or downloads a plugin.
# shellcheck disable=SC2034
KC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools_bin=$("$KC_ROOT/scripts/pulumi-tools.sh" | tail -n1)
export PATH="$tools_bin:$KC_ROOT/node_modules/.bin:$PATH"
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$KC_ROOT/.pulumi-state}
# The local stacks hold no secret config (the SSH key is read from a file); this passphrase only seals state.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-kafka-cluster-local}
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
mkdir -p "$KC_ROOT/.pulumi-state"
