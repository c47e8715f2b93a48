#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs (apt packages, npm packages, the Pulumi engine),
# type-checks, then runs
#   unit   mocha with Pulumi mocks, and the stand-in command provider against a loopback sshd
#   hosts  `pulumi up` on three local systemd hosts of lab test (kct1.. on kctbr0), and one of lab test2 (kcu1):
#          real ZooKeeper and Kafka, faults, rolling changes
#   e2e    the `pulumi up` / `pulumi destroy` lifecycle on the hosts of lab test3 (kcv1.. on kcvbr0; Automation API)
#   kraft  `pulumi up` of a KRaft cluster (Kafka 4.x, controllers) on three hosts of lab test4 (kcw1.. on kcwbr0)
#   migration  the ZooKeeper -> KRaft migration through `pulumi up` on three hosts of lab test5 (kcx1.. on kcxbr0)
# Never the quick start's hosts. Unit runs first; hosts, e2e, kraft and migration then run at the same time, each on its own lab;
# each suite's output is printed when it ends.
# Usage: scripts/test.sh [unit] [hosts] [e2e] [kraft] [migration]   (default: all five). Ends with each step's time and
# "tests: N passed, N failed".
# Env: TEST_BUDGET  seconds the whole run may take (default 5400); a suite still running 150 s before it is spent
#      is stopped and fails
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
budget=${TEST_BUDGET:-5400}
[[ $budget =~ ^[1-9][0-9]*$ ]] || { echo "TEST_BUDGET must be a number of seconds, not \"$budget\"" >&2; exit 2; }
suites=("$@")
(( ${#suites[@]} )) || suites=(unit hosts e2e kraft migration)
for s in "${suites[@]}"; do
  case $s in unit | hosts | e2e | kraft | migration) ;; *) echo "unknown suite $s (unit, hosts, e2e, kraft, migration)" >&2; exit 2 ;; esac
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
times=()
run() {
  local name=$1 t0=$SECONDS
  echo "== $name ==" >&2
  shift
  "$@" 2>&1 | tee -a "$out"
  local rc=${PIPESTATUS[0]}
  echo "== $name done in $((SECONDS - t0)) s (exit $rc) ==" >&2
  times+=("$name $((SECONDS - t0)) s")
  (( rc == 0 )) || status=1
  return "$rc"
}
run setup scripts/setup.sh || exit 1
# The engine (an installed pulumi, or built once from the Go module proxy) before any suite needs it.
run engine bash -c 'scripts/engine.sh >/dev/null' || exit 1  # its progress (stderr) stays in the log
run build npm run --silent build
# The suites: unit first, alone (its tests have mocha's 60 s hang guard and spawn CPU-heavy tools, the shell linter
# among them); then hosts, e2e, kraft and migration at the same time, each on its own lab. Each writes its own log, printed when it ends;
# its exit code and time go to <log>.rc.
# A suite still running 150 s before the run's TEST_BUDGET is spent (5400 s by default: what CI allows the whole
# run) is stopped with its process group (its tools among them), its labs are taken down, and it fails with what it
# printed so far: a hung or slow test shows in the output instead of the whole run being cut off with none printed.
declare -A logs=()
deadline=0
start_suite() {
  local s=$1 cmd labs=()
  case $s in
    unit) cmd=(npm test --silent) ;;
    hosts) cmd=(npm run --silent test:hosts) labs=(test test2) ;;
    e2e) cmd=(npm run --silent test:e2e) labs=(test3) ;;
    kraft) cmd=(npm run --silent test:kraft) labs=(test4) ;;
    migration) cmd=(npm run --silent test:migration) labs=(test5) ;;
  esac
  logs[$s]=$(mktemp)
  echo "== $s (started) ==" >&2
  (
    t0=$SECONDS
    timeout --kill-after=60 "$deadline" "${cmd[@]}" >"${logs[$s]}" 2>&1
    rc=$?
    if (( rc == 124 || rc == 137 )); then
      echo "== $s: stopped after $deadline s, 150 s before the run's TEST_BUDGET of $budget s was spent ==" >>"${logs[$s]}"
      for lab in "${labs[@]}"; do KAFKA_CLUSTER_LAB=$lab scripts/local/hosts.sh down >>"${logs[$s]}" 2>&1; done
    fi
    echo "$rc $((SECONDS - t0))" >"${logs[$s]}.rc"
  ) &
}
suite_deadline() {
  deadline=$(( budget - SECONDS - 150 ))
  (( deadline >= 60 )) || deadline=60
}
for s in "${suites[@]}"; do
  if [[ $s == unit ]]; then suite_deadline; start_suite unit; wait; fi
done
suite_deadline
for s in "${suites[@]}"; do
  if [[ $s != unit ]]; then start_suite "$s"; fi
done
wait
for s in "${suites[@]}"; do
  echo "== $s ==" >&2
  tee -a "$out" <"${logs[$s]}"
  read -r rc secs <"${logs[$s]}.rc" || { rc=1 secs=0; }
  echo "== $s done in $secs s (exit $rc) ==" >&2
  times+=("$s $secs s")
  (( rc == 0 )) || status=1
  rm -f "${logs[$s]}" "${logs[$s]}.rc"
done
passed=$(sed -n 's/^ *\([0-9][0-9]*\) passing.*/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
failed=$(sed -n 's/^ *\([0-9][0-9]*\) failing.*/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
pending=$(sed -n 's/^ *\([0-9][0-9]*\) pending.*/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
(( passed > 0 )) || status=1
(( failed == 0 )) || status=1
(( pending == 0 )) || status=1
summary=$(printf '%s, ' "${times[@]}")
echo "time: ${summary%, }"
echo "tests: $passed passed, $failed failed, $pending skipped"
exit "$status"
