#!/usr/bin/env bash
# test_matrix.sh -- a tiny `make matrix` (scripts/matrix.sh): two strategies,
# 1 and 2 instances, the burst, against the real services on the test port.
# The table must be written with a row per run, local-mutex must be ok on
# one instance and OVERSOLD on two (a 20 ms think and the harness's barrier
# make the two processes' windows overlap), atomic ok on both; the chart must
# be a PNG; bad usage exits 2. Needs make services.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh

export LAB_HTTP=${LAB_TEST_HTTP:-127.0.0.1:18181}
bin=${LAB_TEST_BIN_DIR:-build/san}

run bash scripts/matrix.sh --strategies 2:local-mutex,3:atomic --instances 1,2 --scenarios burst \
    --bin-dir "$bin" --out "$tmp/matrix.md" --png "$tmp/matrix.png" --dir "$tmp/runs"
[ "$status" -eq 0 ] || fail "matrix.sh exited $status: $out"
[ -s "$tmp/matrix.md" ] || fail "no table written"
grep -q '^| local-mutex (2) | ok | \*\*OVERSOLD [0-9]*\*\* |$' "$tmp/matrix.md" ||
    fail "local-mutex is not ok x1 and OVERSOLD x2: $(cat "$tmp/matrix.md")"
grep -q '^| atomic (3) | ok | ok |$' "$tmp/matrix.md" || fail "atomic is not ok x1 and x2"
[ "$(grep -c '^| atomic (3) | [12] | 100 | 0 | 0 |' "$tmp/matrix.md")" -eq 2 ] ||
    fail "atomic's rows do not say 100 sold, 0 oversold, 0 undersold"
for k in 1 2; do
    [ -s "$tmp/runs/burst-local-mutex-x$k.json" ] || fail "no summary of local-mutex x$k"
done
# the metadata beside the table (make report shows it)
jq -e '.kind == "matrix" and (.git_rev | length > 0) and .machine.nproc >= 1 and .machine.memory_mib > 0
       and (.versions.postgresql | test("^[0-9]")) and .parameters.scenarios == "burst"' \
    "$tmp/matrix.json" >/dev/null 2>&1 || fail "matrix.json lacks the run's metadata: $(cat "$tmp/matrix.json" 2>&1)"
if command -v gnuplot >/dev/null; then
    [ "$(head -c 8 "$tmp/matrix.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "matrix.png is not a PNG"
fi

run bash scripts/matrix.sh --scenarios nope --out "$tmp/x.md"
[ "$status" -eq 2 ] || fail "an unknown scenario should exit 2, not $status"
run bash scripts/matrix.sh --strategies local-mutex --out "$tmp/x.md"
[ "$status" -eq 2 ] || fail "a strategy without its phase should exit 2, not $status"
[ ! -e "$tmp/x.md" ] || fail "a refused run wrote a table"
finish test_matrix
