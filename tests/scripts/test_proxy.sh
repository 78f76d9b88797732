#!/usr/bin/env bash
# test_proxy.sh -- the lab's TCP proxy (tools/labproxy.c) in front of the
# lab's real PostgreSQL and Redis (make services; their addresses from the
# environment, as every test): a SELECT and a PING pass through it; `cut`
# resets an open connection and makes new ones fail at once (no hang);
# `heal` lets them pass again; `delay 200` makes a round trip take at least
# 200 ms; `drop 100` refuses every new connection; `route` retargets one;
# a bad command gets an error line, bad flags exit 2 with the usage; SIGTERM
# ends it (exit 0, ports closed). Then one partition fault end to end
# (scripts/nemesis.sh, phase 3, partition-pg, a short run on the test's
# HTTP port): the service crosses the proxy, the cut and the heal happen,
# the checker says clean, and the proxy is gone afterwards.
#
# The proxy listens on the layout's ports (infra/common.sh): LAB_PG's port
# + 20, LAB_REDIS's + 20, its control on LAB_PG's + 29.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/scripts/lib.sh
source infra/common.sh
bin=${LAB_TEST_BIN_DIR:-build/san}
make -s "$bin/labproxy" || { echo "test_proxy: cannot build $bin/labproxy" >&2; exit 1; }

pg_via=$((PG_PORT + LAB_PROXY_OFFSET))
redis_via=$((REDIS_PORT + LAB_PROXY_OFFSET))
ctl=127.0.0.1:$((PG_PORT + LAB_PROXY_OFFSET + 9))
for p in "$pg_via" "$redis_via" "${ctl##*:}"; do
    ! port_open 127.0.0.1 "$p" || { echo "test_proxy: port $p already answers (a proxy left running?)" >&2; exit 1; }
done

# ms: the monotonic-enough wall clock in milliseconds
ms() { date +%s%3N; }
# pg SQL: one query through the proxy; redis ARGS: one command through it
pg() { timeout 10 psql -X -w -At "postgresql://$PG_USER@127.0.0.1:$pg_via/$PG_DB" -c "$1" 2>&1; }
redis() {
    REDISCLI_AUTH=$(head -n 1 "$LAB_REDIS_PASSFILE") timeout 10 \
        redis-cli --no-auth-warning -h 127.0.0.1 -p "$redis_via" "$@" 2>&1
}
# field NAME: a number or boolean of the proxy's status line
field() { proxy_ctl "$ctl" status | jq -r ".$1"; }

# --- bad flags: usage, exit 2 ------------------------------------------------
for args in "" "--route 127.0.0.1:1" "--route 127.0.0.1:1=127.0.0.1:2" "--control 127.0.0.1:3" \
    "--route 10.0.0.1:1=127.0.0.1:2 --control 127.0.0.1:3" "--route 127.0.0.1:1=127.0.0.1:99999 --control 127.0.0.1:3" \
    "--route 127.0.0.1:1=127.0.0.1:2 --control 127.0.0.1:3 --verbose"; do
    # shellcheck disable=SC2086 # the flags, split
    run "$bin/labproxy" $args
    [ "$status" -eq 2 ] && [[ $out == *usage:* ]] || fail "labproxy $args: exit $status, not 2 with the usage: $out"
done

# --- the proxy in front of PostgreSQL and Redis ---------------------------------
"$bin/labproxy" --route "127.0.0.1:$pg_via=$PG_HOST:$PG_PORT" --route "127.0.0.1:$redis_via=$REDIS_HOST:$REDIS_PORT" \
    --control "$ctl" 2>"$tmp/proxy.log" &
proxy=$!
trap 'kill -TERM "$proxy" 2>/dev/null; rm -rf "$tmp"' EXIT
deadline=$((SECONDS + 10))
until proxy_ctl "$ctl" status >/dev/null; do
    kill -0 "$proxy" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] ||
        { cat "$tmp/proxy.log" >&2; fail "the proxy never answered on $ctl"; finish test_proxy; }
    sleep 0.1
done

[ "$(pg 'SELECT 41 + 1')" = 42 ] || fail "SELECT through the proxy: $(pg 'SELECT 41 + 1')"
[ "$(redis PING)" = PONG ] || fail "PING through the proxy: $(redis PING)"
[ "$(field bytes_to_client)" -gt 0 ] || fail "the proxy counted no bytes: $(proxy_ctl "$ctl" status)"

# cut: an open connection is reset at once, a new one fails fast
exec 3<>"/dev/tcp/127.0.0.1/$redis_via"
printf 'PING\r\n' >&3
read -r -t 5 line <&3 || line=
[[ $line == [-+]* ]] || fail "a raw connection through the proxy got no answer from Redis: '$line'"
run proxy_ctl "$ctl" cut
[ "$status" -eq 0 ] && [[ $out == "ok cut:"* ]] || fail "cut answered: $out"
read_status=0
{ read -r -t 5 line <&3; } 2>/dev/null || read_status=$?
[ "$read_status" -ne 0 ] && [ "$read_status" -le 128 ] ||
    fail "the open connection was not closed by cut (read: status $read_status, '$line')"
exec 3<&-
t0=$(ms)
out=$(pg 'SELECT 1')
t1=$(ms)
[ "$out" != 1 ] || fail "a SELECT passed during the cut"
[ $((t1 - t0)) -lt 3000 ] || fail "a SELECT during the cut took $((t1 - t0)) ms to fail: it should fail at once"
[ "$(redis PING)" != PONG ] || fail "a PING passed during the cut"
[ "$(field cut)" = true ] && [ "$(field refused)" -ge 2 ] ||
    fail "status during the cut: $(proxy_ctl "$ctl" status)"

# heal: through again
run proxy_ctl "$ctl" heal
[ "$status" -eq 0 ] && [[ $out == ok* ]] || fail "heal answered: $out"
[ "$(pg 'SELECT 1')" = 1 ] || fail "a SELECT fails after heal: $(pg 'SELECT 1')"
[ "$(redis PING)" = PONG ] || fail "a PING fails after heal"

# delay: every chunk held; a lower bound only (the machine may be slow)
proxy_ctl "$ctl" delay 200 >/dev/null || fail "delay 200 refused"
t0=$(ms)
out=$(redis PING)
t1=$(ms)
[ "$out" = PONG ] || fail "a PING with a delay: $out"
[ $((t1 - t0)) -ge 200 ] || fail "a round trip with delay 200 took $((t1 - t0)) ms"
proxy_ctl "$ctl" delay 0 >/dev/null || fail "delay 0 refused"

# drop 100: every new connection closed at once; drop 0: none
refused=$(field refused)
proxy_ctl "$ctl" drop 100 >/dev/null || fail "drop 100 refused"
[ "$(redis PING)" != PONG ] || fail "a PING passed with drop 100"
[ "$(pg 'SELECT 1')" != 1 ] || fail "a SELECT passed with drop 100"
[ "$(field refused)" -ge $((refused + 2)) ] || fail "drop 100 refused fewer than 2 new connections"
proxy_ctl "$ctl" drop 0 >/dev/null || fail "drop 0 refused"
[ "$(redis PING)" = PONG ] || fail "a PING fails after drop 0"

# route: new connections of a route go to the new target
free_port=$((REDIS_PORT + LAB_PROXY_OFFSET + 9))
! port_open 127.0.0.1 "$free_port" || fail "port $free_port answers: the route test needs it free"
run proxy_ctl "$ctl" route "$redis_via" "127.0.0.1:$free_port"
[ "$status" -eq 0 ] || fail "route answered: $out"
[ "$(redis PING)" != PONG ] || fail "a PING passed through a route to a closed port"
[ "$(field failed)" -ge 1 ] || fail "a connection to a closed target is not counted as failed"
proxy_ctl "$ctl" route "127.0.0.1:$redis_via" "$REDIS_HOST:$REDIS_PORT" >/dev/null || fail "route back refused"
[ "$(redis PING)" = PONG ] || fail "a PING fails after routing back"

# bad commands: an error line each, nothing changed
for bad in "frobnicate" "delay" "delay -1" "delay 1x" "drop 101" "route 1 127.0.0.1:2" \
    "route $redis_via 127.0.0.1:0" "cut now" ""; do
    run proxy_ctl "$ctl" "$bad"
    [ "$status" -ne 0 ] && [[ $out == error:* ]] || fail "command '$bad': answered '$out'"
done
[ "$(field cut)" = false ] && [ "$(field delay_ms)" = 0 ] && [ "$(field drop_pct)" = 0 ] ||
    fail "a bad command changed the proxy: $(proxy_ctl "$ctl" status)"

# SIGTERM: a clean exit, the ports closed
kill -TERM "$proxy"
deadline=$((SECONDS + 10))
while [ "$(awk '{ print $3 }' "/proc/$proxy/stat" 2>/dev/null || echo gone)" != Z ] &&
    [ -e "/proc/$proxy" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
proxy_status=0
wait "$proxy" || proxy_status=$?
[ "$proxy_status" -eq 0 ] || fail "the proxy exited $proxy_status after SIGTERM: $(tail -n 3 "$tmp/proxy.log")"
! port_open 127.0.0.1 "$redis_via" || fail "port $redis_via still answers after SIGTERM"
grep -q 'stopped' "$tmp/proxy.log" || fail "the proxy did not say it stopped"

# --- nemesis.sh and fault.sh ------------------------------------------------------
run env NEMESIS_PROXY=mongo bash scripts/nemesis.sh --phase 3 --fault kill-service
[ "$status" -eq 2 ] || fail "NEMESIS_PROXY=mongo: exit $status, not 2"
run env LAB_FAULT_DIR="$tmp/pids" bash infra/fault.sh break partition-pg
[ "$status" -ne 0 ] && [[ $out == *scripts/nemesis.sh* ]] ||
    fail "partition-pg without a proxy: exit $status, '$out'"

# one partition end to end, short: a 0.5 s cut of PostgreSQL under phase 3
run_id=tproxy$$
export LAB_HTTP=${LAB_TEST_HTTP:-127.0.0.1:18181}
NEMESIS_RUN_ID=$run_id run bash scripts/nemesis.sh --phase 3 --fault partition-pg@accepted=150:0.5 \
    --requests 600 --bin-dir "$bin" --harness-dir "$bin" --no-csv
rm -f "plots/out/$run_id-fault.png" "results/$run_id-history.jsonl" "results/$run_id-timeline.csv"
[ "$status" -eq 0 ] || fail "nemesis partition-pg exited $status: $(tail -n 20 <<<"$out")"
grep -q 'fault: pg partition, proxy: ok cut' <<<"$out" || fail "nemesis: no cut: $(grep '\[lab\]' <<<"$out")"
grep -q 'fault: pg partition, proxy: ok healed' <<<"$out" || fail "nemesis: no heal"
accepted=$(sed -n 's/^\[lab\] proxy at the end: //p' <<<"$out" | jq -r .accepted 2>/dev/null)
[ "${accepted:-0}" -gt 1 ] 2>/dev/null || fail "the service did not cross the proxy (accepted '$accepted')"
jq -e '.check_verdict == "clean" and .check_lost == 0 and .check_false_confirmations == 0
       and (.windows | length) == 1' "results/$run_id-check.json" >/dev/null 2>&1 ||
    fail "partition-pg's checker: $(cat "results/$run_id-check.json" 2>&1)"
rm -f "results/$run_id-check.json" "results/$run_id"*
pid=$(sed -n 's/^\[lab\] proxy (pid \([0-9]*\)).*/\1/p' <<<"$out")
[ -n "$pid" ] || fail "nemesis did not say the proxy's pid"
[ -z "$pid" ] || [[ $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) != *labproxy* ]] ||
    fail "the proxy (pid $pid) still runs after the nemesis"
[ ! -e "$LAB_PIDS/proxy.pid" ] && [ ! -e "$LAB_PIDS/proxy.addr" ] || fail "nemesis left proxy.pid or proxy.addr"
finish test_proxy
