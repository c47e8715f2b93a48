#!/usr/bin/env bash
# A step with nothing left to do on this host, as the hosts reported at this preview or up (a ZooKeeper migration's
# roll into phase B on a broker that runs in KRaft mode already): says so and changes nothing.
# Env:
#   NOTE   what is done already, for the step's output
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${NOTE:?}"
echo "$NOTE"
