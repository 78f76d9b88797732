#!/usr/bin/env bash
# test_live.sh -- `make live` in a real browser. Phase 2 is attacked on a
# live page (a small burst with a think time, so the race is sure); during
# the linger headless Chromium loads the page and the DOM must show one
# element of class "seat" per seat, the counters (more tickets than seats,
# the counter the service believes), the final BUG verdict in words (and
# the explanation of the wrong tickets once the service reports the counter
# values it read); a screenshot goes to results/live-phase2.png. The bad
# requests: an unknown path is 404, a second stream of one client id 409,
# a bad id 400, the 257th stream 503, all with a JSON reason; SIGTERM ends
# the linger and the harness exits with the run's status. Then a client
# that never reads is dropped by the harness while a sustained attack goes
# on, and the attack still finishes and reports.
#
# Needs the services (make integration) and Chromium (infra/install.sh);
# without Chromium it says so and passes. Ports from LAB_LIVE and LAB_HTTP.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh
bin=${LAB_TEST_BIN_DIR:-build/san}
addr=${LAB_LIVE:-127.0.0.1:18088}

if ! command -v chromium >/dev/null; then
    echo "test_live: skipped: chromium is not installed (infra/install.sh installs it)"
    exit 0
fi
make -s build/liveprobe || { echo "test_live: cannot build build/liveprobe" >&2; exit 1; }
chrome=(chromium --no-sandbox --headless --disable-gpu --virtual-time-budget=8000)

# wait_for FILE PATTERN SECONDS: until a line of FILE matches, or fail
wait_for() {
    local deadline=$((SECONDS + $3))
    until grep -q -- "$2" "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# harness_pid RUN: the pid of the harness of run RUN (its command line names it)
harness_pid() {
    pgrep -f -- "$bin/attack --url .*--run-id $1 " | head -n 1
}

# --- a page that would leave the machine is refused -------------------------
LAB_LIVE=0.0.0.0:${addr##*:} run make -s live PHASE=2
[ "$status" -ne 0 ] && [[ $out == *"loopback only"* ]] && [[ $out == *usage:* ]] ||
    fail "make live on 0.0.0.0: status $status, $(head -n 3 <<<"$out")"
[[ $out != *"is up on"* ]] || fail "make live on 0.0.0.0 started the phase before refusing"
grep -q 'src=\|href=\|url(\|@import' harness/live_page.html &&
    fail "the page fetches something: $(grep -o 'src=[^ ]*\|href=[^ ]*' harness/live_page.html)"

# --- the page, during the linger ------------------------------------------
run=tlive$$
seats=20
LIVE_RUN_ID=$run LIVE_BIN_DIR=$bin LIVE_LINGER=120 LIVE_SAVE=1 \
    make -s live PHASE=2 USERS=80 SEATS=$seats \
    ATTACK_ARGS="--no-csv --service-arg --think-ms --service-arg 50" >"$tmp/live.log" 2>&1 &
make_pid=$!
if ! wait_for "$tmp/live.log" "the page stays at" 180; then
    fail "the run never reached its linger: $(tail -n 20 "$tmp/live.log")"
    kill "$make_pid" 2>/dev/null
    finish test_live
fi
grep -q "live: the race is shown at http://$addr/" "$tmp/live.log" ||
    fail "the page's URL was not printed before the attack"
awk '/the race is shown at/ { url = NR } /phase 2 \(unsafe\): burst/ { atk = NR }
     END { exit !(url && atk && url < atk) }' "$tmp/live.log" ||
    fail "the URL does not come before the attack starts"

"${chrome[@]}" --dump-dom "http://$addr/" >"$tmp/dom.html" 2>"$tmp/chrome.err" ||
    fail "chromium --dump-dom failed: $(tail -n 3 "$tmp/chrome.err")"
n=$(grep -o 'class="seat[ "]' "$tmp/dom.html" | wc -l)
[ "$n" -eq "$seats" ] || fail "$n elements of class seat, not $seats"
twice=$(grep -o 'class="seat twice"' "$tmp/dom.html" | wc -l)
[ "$twice" -ge 1 ] || fail "no seat is shown sold twice (phase 2's bookings read the same values)"
tickets=$(sed -n 's/.*id="tickets">\([0-9]*\)<.*/\1/p' "$tmp/dom.html")
counter=$(sed -n 's/.*id="counter">\(-\{0,1\}[0-9]*\)<.*/\1/p' "$tmp/dom.html")
[ -n "$tickets" ] && [ "$tickets" -gt "$seats" ] || fail "tickets shown: '$tickets', not more than $seats"
[ -n "$counter" ] && [ "$counter" -gt 0 ] || fail "the counter shown: '$counter' (phase 2 leaves seats 'free')"
grep -q 'data-verdict="BUG"' "$tmp/dom.html" || fail "the page shows no BUG verdict"
grep -q 'id="verdict">Wrong tickets! [0-9]* tickets were sold for '"$seats"' seats' "$tmp/dom.html" ||
    fail "the verdict in words is missing: $(grep -o 'id="verdict">[^<]*' "$tmp/dom.html")"
grep -q 'id="verdict-line">the audit: OVERSOLD by' "$tmp/dom.html" || fail "the audit's verdict line is missing"
grep -q '<canvas id="chart-rate"' "$tmp/dom.html" || fail "the charts are missing"
state=$(curl -sS -m 5 "http://$addr/state")
[ "$(jq -r .seatSource <<<"$state")" = counter ] ||
    fail "the seats are not placed by the counter value each 201 read"
hits=$(jq '[.seatHits[]] | add' <<<"$state")
[ "$hits" = "$tickets" ] || fail "the seats hold $hits bookings, the database $tickets tickets"
grep -q 'id="explain">[0-9]* decrements lost: [0-9]* bookings read only' "$tmp/dom.html" ||
    fail "the explanation of the wrong tickets is not shown: $(grep -o 'id="explain">[^<]*' "$tmp/dom.html")"
[ "$(jq -r .runId results/live/latest.json 2>/dev/null)" = "$run" ] ||
    fail "results/live/latest.json is not this run's state"
for key in runId phase seats seatHits tickets counter verdictText checkVerdict explainText series faultWindows; do
    jq -e "has(\"$key\")" "results/live/$run-state.json" >/dev/null 2>&1 ||
        fail "the saved state has no $key"
done
# make report draws the saved state (scripts/report-live.jq): the same seats as the page
fig=$(jq -r --arg fmt md --arg part figures -f scripts/report-live.jq "results/live/$run-state.json")
twice_report=$(sed -n 's/^seats|[0-9]*: [0-9]* sold once, \([0-9]*\) sold twice.*/\1/p' <<<"$fig")
[ "$twice_report" = "$twice" ] ||
    fail "the report's reading of the saved state has '$twice_report' seats sold twice, the page $twice"
mkdir -p results
"${chrome[@]}" --screenshot=results/live-phase2.png --window-size=1280,1000 "http://$addr/" \
    >/dev/null 2>&1 || fail "chromium --screenshot failed"
[ "$(head -c 8 results/live-phase2.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "results/live-phase2.png is not a PNG"

# --- bad requests ------------------------------------------------------------
code=$(curl -sS -m 5 -o "$tmp/404.json" -w '%{http_code}' "http://$addr/nope")
[ "$code" = 404 ] && jq -e '.reason | length > 0' "$tmp/404.json" >/dev/null ||
    fail "an unknown path: $code $(cat "$tmp/404.json")"
code=$(curl -sS -m 5 -o "$tmp/405.json" -w '%{http_code}' -X POST "http://$addr/")
[ "$code" = 405 ] || fail "a POST: $code, not 405"
build/liveprobe --addr "$addr" --id dup --seconds 30 >"$tmp/first.out" &
probe=$!
deadline=$((SECONDS + 20))
until [ "$(curl -sS -m 5 "http://$addr/state" | jq .streams)" -ge 1 ] 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { fail "the first stream never opened"; break; }
    sleep 0.2
done
code=$(curl -sS -m 5 -o "$tmp/409.json" -w '%{http_code}' "http://$addr/events?client=dup")
[ "$code" = 409 ] && jq -e '.reason | test("one per client")' "$tmp/409.json" >/dev/null ||
    fail "a second stream of client dup: $code $(cat "$tmp/409.json")"
code=$(curl -sS -m 5 -o "$tmp/400.json" -w '%{http_code}' "http://$addr/events?client=a.b")
[ "$code" = 400 ] || fail "a client id with a dot: $code, not 400"
run build/liveprobe --addr "$addr" --clients 260 --seconds 3 --id many
[[ $out == *"refused_503=5 "* ]] || fail "260 streams beside one: not 5 refused 503: $out"
kill "$probe" 2>/dev/null
wait "$probe" 2>/dev/null

# --- SIGTERM ends the linger; the exit status is the run's -----------------
pid=$(harness_pid "$run")
[ -n "$pid" ] && kill -TERM "$pid"
wait "$make_pid"
status=$?
[ "$status" -eq 0 ] || fail "make live exited $status after SIGTERM in the linger: $(tail -n 5 "$tmp/live.log")"
grep -q "^OVERSOLD by" "$tmp/live.log" || fail "the terminal summary has no OVERSOLD verdict"

# --- a client that never reads, during a sustained attack --------------------
# at least 1600 / 8 * 100 ms = 20 s of ticks, whatever the machine's speed:
# more than the stalled stream's 4 KB bound and the kernel's buffers hold
run=tslow$$
LIVE_RUN_ID=$run LIVE_BIN_DIR=$bin LIVE_LINGER=0 \
    make -s live PHASE=2 SEATS=200 ATTACK_ARGS="--no-csv --mode sustained --connections 8 \
    --requests 1600 --pace-ms 100 --live-buffer-kb 4" >"$tmp/slow.log" 2>&1 &
make_pid=$!
wait_for "$tmp/slow.log" "the race is shown at" 180 || fail "the slow run's page never came up"
build/liveprobe --addr "$addr" --id slow --stall --seconds 600 >"$tmp/stall.out" &
stall=$!
wait "$make_pid"
status=$?
[ "$status" -eq 0 ] || fail "the attack beside a client that does not read exited $status"
grep -q "^attempted = 1600" "$tmp/slow.log" || fail "the attack did not finish its 1600 requests"
grep -q "live: a client that does not read was dropped (.*client slow)" "$tmp/slow.log" ||
    fail "the client that never read was not dropped: $(grep 'live:' "$tmp/slow.log")"
kill "$stall" 2>/dev/null
wait "$stall" 2>/dev/null
finish test_live
