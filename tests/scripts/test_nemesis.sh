#!/usr/bin/env bash
# test_nemesis.sh -- the nemesis's scripts without any fault: bad usage of
# scripts/nemesis.sh, infra/fault.sh and the harness's --fault exits 2;
# fault.sh refuses to act without a pid file of the lab's (it never looks a
# process up by name) and refuses a pid file pointing at a process that is
# not a phase; faultbins.awk bins a small history right; faultplot.sh draws
# a real PNG with the fault window.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh
bin=${LAB_TEST_BIN_DIR:-build/san}

# --- bad usage: exit 2 ---------------------------------------------------
run bash scripts/nemesis.sh --fault kill-service
[ "$status" -eq 2 ] || fail "nemesis.sh without --phase exited $status"
run bash scripts/nemesis.sh --phase 3
[ "$status" -eq 2 ] || fail "nemesis.sh without --fault exited $status"
run bash scripts/nemesis.sh --phase 3 --fault kill-worker
[ "$status" -eq 2 ] || fail "kill-worker on phase 3 exited $status"
[[ $out == *"5 or 6"* ]] || fail "kill-worker on phase 3 does not say which phases: $out"
run bash infra/fault.sh smash redis
[ "$status" -eq 2 ] || fail "fault.sh smash exited $status"
run bash infra/fault.sh break kill-everything
[ "$status" -eq 2 ] || fail "fault.sh with an unknown kind exited $status"
for bad in "kill-service" "kill-service@soon" "explode@1" "pause-redis@1:x"; do
    run "$bin/attack" --url http://127.0.0.1:1 --fault "$bad"
    [ "$status" -eq 2 ] || fail "attack --fault '$bad' exited $status, not 2"
    [[ $out == *usage:* ]] || fail "attack --fault '$bad' printed no usage"
done

# --- pid files only --------------------------------------------------------
export LAB_FAULT_DIR=$tmp/pids
mkdir -p "$LAB_FAULT_DIR"
run bash infra/fault.sh break kill-service
[ "$status" -ne 0 ] || fail "fault.sh killed a service without a pid file"
[[ $out == *"pid"* ]] || fail "fault.sh without a pid file does not say so: $out"
sleep 300 &
victim=$!
echo "$victim" >"$LAB_FAULT_DIR/service.pid"
run bash infra/fault.sh break kill-service
[ "$status" -ne 0 ] || fail "fault.sh killed a process that is not a phase"
kill -0 "$victim" 2>/dev/null || fail "fault.sh killed pid $victim, a 'sleep', not a phase"
kill "$victim"
wait "$victim" 2>/dev/null || true

# --- the chart's bins ------------------------------------------------------
cat >"$tmp/h.jsonl" <<'JSON'
{"requestId":"r-1","userId":1,"invokeUs":0,"completeUs":10000,"status":201,"outcome":"booked","class":"ok"}
{"requestId":"r-2","userId":2,"invokeUs":0,"completeUs":50000,"status":201,"outcome":"booked","class":"ok"}
{"requestId":"r-3","userId":3,"invokeUs":100000,"completeUs":150000,"status":0,"outcome":"connect","class":"fail"}
{"requestId":"r-4","userId":4,"invokeUs":190000,"completeUs":250000,"status":409,"outcome":"sold_out","class":"ok"}
JSON
awk -f scripts/faultbins.awk "$tmp/h.jsonl" >"$tmp/bins.dat"
expected='t_s ok_per_s other_per_s p99_ms
0.0 20 0 50.0
0.1 0 10 NaN
0.2 10 0 60.0'
[ "$(cat "$tmp/bins.dat")" = "$expected" ] || fail "faultbins.awk: got $(cat "$tmp/bins.dat")"

if command -v gnuplot >/dev/null && command -v jq >/dev/null; then
    echo '{"phase":6,"faults":"restart-redis","windows":[[0.1,0.2,0.25]],"check_verdict":"clean"}' >"$tmp/c.json"
    run bash scripts/faultplot.sh "$tmp/h.jsonl" "$tmp/c.json" "$tmp/f.png"
    [ "$status" -eq 0 ] || fail "faultplot.sh exited $status: $out"
    [ "$(head -c 8 "$tmp/f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "faultplot.sh made no PNG"
fi
finish test_nemesis
