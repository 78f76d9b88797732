#!/usr/bin/env bash
# test_byo.sh -- the harness attacks and audits a service the lab did not
# build (docs/bring-your-own.md): a tiny Python service (tests/fixtures/byo)
# speaking the lab's API over the lab's PostgreSQL, with no /healthz. Its
# safe mode must come out clean with every seat sold, its unsafe mode (read,
# think 200 ms, write back, all buyers released together by the harness's
# barrier) must be caught overselling, and a --path run needs no /healthz.
# Needs the lab's PostgreSQL (make services) and LAB_TEST_HTTP's port.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh
source infra/common.sh

bin=${LAB_TEST_BIN_DIR:-build/san}
addr=${LAB_TEST_HTTP:-127.0.0.1:18181}
event=9012
pid=

# serve MODE: the fixture on the test port, ready when it answers a POST
serve() {
    python3 tests/fixtures/byo/server.py --listen "$addr" --pg "$LAB_PG" --mode "$1" \
        --think-ms 200 >"$tmp/byo.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        curl -s -m 1 -o /dev/null -X POST "http://$addr/nothing" && return 0
        sleep 0.1
    done
    fail "the fixture did not start: $(cat "$tmp/byo.log")"
    return 1
}
# stop: the fixture ends, and its port is free again (checked)
stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if curl -s -m 1 -o /dev/null -X POST "http://$addr/nothing"; then
        fail "the fixture still answers on $addr after it was stopped"
    fi
}
field() { sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" <<<"$out" | tr -d '"'; }

if curl -s -m 1 -o /dev/null "http://$addr/"; then
    echo "test_byo: something already answers on $addr" >&2
    exit 1
fi

# --- safe: clean, every seat sold, no /healthz needed --------------------------
serve safe
run "$bin/attack" --url "http://$addr" --event "$event" --users 40 --seats 10 --json --no-csv
stop
[ "$status" -eq 0 ] || fail "safe: the harness exited $status: $out"
out=$(grep '^{' <<<"$out" || true)
[ "$(field verdict)" = clean ] || fail "safe: verdict is not clean: $out"
[ "$(field sold)" = 10 ] || fail "safe: sold $(field sold), not 10"
[ "$(field oversold)" = 0 ] || fail "safe: oversold $(field oversold)"
[ "$(field undersold)" = 0 ] || fail "safe: undersold $(field undersold)"
[ "$(field phase)" = 0 ] || fail "safe: phase should be unknown (0): $out"

# --- unsafe: the audit catches the lost updates -------------------------------
serve unsafe
run "$bin/attack" --url "http://$addr" --event "$event" --users 40 --seats 10 --json --no-csv \
    --expect-oversell
stop
[ "$status" -eq 0 ] || fail "unsafe: --expect-oversell not met (exit $status): $out"
out=$(grep '^{' <<<"$out" || true)
[ "$(field verdict)" = BUG ] || fail "unsafe: verdict is not BUG: $out"
[ "${out:+$(field oversold)}" -gt 0 ] 2>/dev/null || fail "unsafe: nothing oversold: $out"

# --- --path: any endpoint, no /healthz, no audit --------------------------------
serve safe
run "$bin/attack" --url "http://$addr" --path /anything --mode sustained --connections 4 \
    --requests 20 --json --no-csv
stop
[ "$status" -eq 0 ] || fail "--path: the harness exited $status: $out"
out=$(grep '^{' <<<"$out" || true)
[ "$(field errors_http_4xx)" = 20 ] || fail "--path: 20 answers 404 expected: $out"

psql -X -q "$LAB_PG" -c "DELETE FROM tickets WHERE event_id = $event; DELETE FROM events WHERE id = $event" \
    >/dev/null 2>&1 || true
finish test_byo
