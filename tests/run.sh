#!/usr/bin/env bash
# run.sh -- runs the lab's tests and ends with one line "tests: N passed,
# N failed" counting test programs.
#
#   bash tests/run.sh unit          the unit tests: no service needed (make unit)
#   bash tests/run.sh integration   the integration tests against the real
#                                   PostgreSQL, Redis and Kafka (make services
#                                   first), and the tests of the scripts
#   bash tests/run.sh [all]         both (make test)
#
# Everything under test is the sanitized build (build/san): a sanitizer
# report makes a test or a service exit non-zero, which the tests check.
set -uo pipefail
cd "$(dirname "$0")/.."
source infra/phases.sh
# The tests run against one server each (their defaults are compiled in);
# a replicated topology of this checkout is tested by test_replicated.sh,
# on ports of its own.
if [ "${1:-all}" != unit ] && [ -r "${LAB_RUN_DIR:-.lab}/topology.env" ] &&
    grep -q '^LAB_TOPOLOGY=replicated' "${LAB_RUN_DIR:-.lab}/topology.env"; then
    echo "tests: the replicated topology runs (.lab/topology.env); the tests want one server" >&2
    echo "       each: make services-down, then make test" >&2
    exit 2
fi

what=${1:-all}
case $what in
    unit|integration|all) ;;
    *) echo "usage: bash tests/run.sh [unit|integration|all]" >&2; exit 2 ;;
esac

jobs=$(nproc 2>/dev/null || echo 2)
unit=$(ls tests/unit/test_*.c 2>/dev/null | sed 's|tests/unit/\(.*\)\.c|build/san/\1|')
integration=$(ls tests/integration/test_*.c 2>/dev/null | sed 's|tests/integration/\(.*\)\.c|build/san/\1|')
scripts=$(ls tests/scripts/test_*.sh 2>/dev/null || true) # tests of the shell and gnuplot tools
services=$(for p in $LAB_PHASES; do printf 'build/san/phase%s ' "$p"; done)

case $what in
    unit) programs=$unit; targets=$unit ;;
    integration) programs="$integration $scripts"; targets="$integration $services build/san/attack" ;;
    all) programs="$unit $integration $scripts"; targets="$unit $integration $services build/san/attack" ;;
esac
# shellcheck disable=SC2086 # word splitting of the lists is meant
make -s -j"$jobs" $targets || { echo "tests: build failed"; exit 1; }

export LAB_TEST_BIN_DIR=build/san
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failed_names=()
for t in $programs; do
    echo "== $t"
    case $t in *.sh) cmd=(bash "$t") ;; *) cmd=("$t") ;; esac
    if "${cmd[@]}"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names+=("$t")
    fi
done
echo
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
