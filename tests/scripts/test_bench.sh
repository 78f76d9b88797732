#!/usr/bin/env bash
# test_bench.sh -- a smoke test of scripts/bench.sh (make bench): a tiny run
# (--smoke) of the phase-3-against-pgbench pair and of the harness against
# wrk, on the test port with the sanitized build. It checks the shape of
# what make bench writes, not any figure: a CSV with the header and one row
# per measure, each with a figure, a limit, their ratio and the p99 of the
# figure's run, a JSON with the machine and the same rows, and the targets
# (scripts/bench/targets.conf) printed with pass or miss after the table.
# Needs the services (make integration).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh

export LAB_HTTP=${LAB_TEST_HTTP:-127.0.0.1:18181}
run bash scripts/bench.sh --smoke --only 1,6 --bin-dir "${LAB_TEST_BIN_DIR:-build/san}" \
    --label smoke --out "$tmp"
[ "$status" -eq 0 ] || fail "bench.sh exited $status: $out"
csv=$(ls "$tmp"/bench-smoke-*.csv 2>/dev/null | head -n 1 || true)
json=${csv%.csv}.json
if [ -z "$csv" ] || [ ! -f "$json" ]; then
    fail "no CSV and JSON written in $tmp: $out"
else
    [ "$(head -n 1 "$csv")" = "phase,measure,connections,figure,unit,limit,limit_is,ratio,p99_ms" ] ||
        fail "CSV header: $(head -n 1 "$csv")"
    [ "$(tail -n +2 "$csv" | wc -l)" -eq 3 ] || fail "3 rows expected (3 at 8 and 32, harness): $(cat "$csv")"
    awk -F, 'NR > 1 && !(NF == 9 && $4 > 0 && $6 > 0 && $8 > 0 && $9 > 0) { bad = 1 } END { exit bad }' "$csv" ||
        fail "a row without figure, limit, ratio or p99: $(cat "$csv")"
    jq -e '.environment.cores >= 1 and (.environment.git | length > 0) and (.rows | length == 3)
           and all(.rows[]; .ratio > 0 and .p99_ms > 0)' "$json" >/dev/null || fail "JSON: $(cat "$json")"
    # the environment make report shows: memory, every version, the start
    jq -e '.environment.memory_mib > 0 and (.environment.postgresql | length > 0)
           and (.environment.librdkafka | test("^[0-9]")) and (.environment.libmicrohttpd | test("^[0-9]"))
           and (.environment.kafka | length > 0) and (.started | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))' \
        "$json" >/dev/null || fail "the JSON's environment lacks a figure: $(jq -c .environment "$json")"
    grep -q "bookings/s" <<<"$out" || fail "no table printed: $out"
    # the targets of phase 3 at 8 and 32 connections, the last lines printed
    [ "$(grep -cE '^  target  3 +bookings/s +(8|32) conns .* (pass|miss)$' <<<"$out")" -eq 2 ] ||
        fail "the two phase-3 targets, with pass or miss, expected: $out"
    tail -n 1 <<<"$out" | grep -q '^  target ' || fail "the targets are not the last lines: $out"
fi
finish test_bench
