#!/usr/bin/env bash
# run.sh -- what `make test` runs after `make services`: builds every test
# and the sanitized services, runs the unit tests, then the integration tests
# against the real PostgreSQL, Redis and Kafka, and ends with one line
# "tests: N passed, N failed" counting test programs.
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
unit=$(ls tests/unit/test_*.c 2>/dev/null | sed 's|tests/unit/\(.*\)\.c|build/san/\1|')
integration=$(ls tests/integration/test_*.c 2>/dev/null | sed 's|tests/integration/\(.*\)\.c|build/san/\1|')
scripts=$(ls tests/scripts/test_*.sh 2>/dev/null || true) # tests of the shell and gnuplot tools
make -s -j"$jobs" $unit $integration build/san/phase2 build/san/phase3 build/san/phase4 \
    build/san/phase5 build/san/phase6 build/san/attack || { echo "tests: build failed"; exit 1; }

# The services and the harness under test are the sanitized builds; a
# sanitizer report makes the service exit non-zero, which the tests check.
export LAB_TEST_BIN_DIR=build/san
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failed_names=()
for t in $unit $integration $scripts; do
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
