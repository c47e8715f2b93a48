#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, type-checks, then runs
#   unit   mocha with Pulumi mocks (fast, no network)
#   hosts  the rendered provisioning over SSH on three local systemd hosts (real ZooKeeper and Kafka)
#   e2e    real `pulumi up` / `pulumi destroy` lifecycle on the local hosts (Automation API)
# Usage: scripts/test.sh [unit] [hosts] [e2e]   (default: all three). Ends with "tests: N passed, N failed"
# (", N skipped" when a suite could not run here, with the reason printed above it).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
suites=("$@")
(( ${#suites[@]} )) || suites=(unit hosts e2e)

scripts/setup.sh || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
skipped=0
run() {
  local t0=$SECONDS
  echo "== $1 ==" >&2
  shift
  "$@" 2>&1 | tee -a "$out"
  local rc=${PIPESTATUS[0]}
  echo "== done in $((SECONDS - t0)) s (exit $rc) ==" >&2
  (( rc == 0 )) || status=1
}
run build npm run --silent build
for s in "${suites[@]}"; do
  case $s in
    unit) run unit npm test --silent ;;
    hosts) run hosts npm run --silent test:hosts ;;
    e2e)
      # The e2e suite needs the Pulumi engine and the command provider plugin. Where scripts/pulumi-tools.sh
      # cannot provide them (e.g. the module proxy refuses their modules), the suite is reported as skipped.
      if why=$(scripts/pulumi-tools.sh 2>&1 >/dev/null); then
        run e2e npm run --silent test:e2e
      else
        echo "e2e: SKIPPED, no Pulumi engine/command provider on this machine: $(tail -n1 <<<"$why")" | tee -a "$out"
        skipped=$((skipped + $(cat tests/e2e/*.test.ts | grep -c "^ *it(")))
      fi
      ;;
    *) echo "unknown suite $s (unit, hosts, e2e)" >&2; exit 2 ;;
  esac
done
passed=$(sed -n 's/^ *\([0-9][0-9]*\) passing.*/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
failed=$(sed -n 's/^ *\([0-9][0-9]*\) failing.*/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
(( passed > 0 )) || status=1
(( failed == 0 )) || status=1
if (( skipped )); then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
exit "$status"
