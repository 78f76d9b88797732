#!/usr/bin/env bash
# bench.sh -- what `make bench` runs: each phase's figure beside its physical
# limit, both measured in the same run, back to back, and their ratio.
#
#   bash scripts/bench.sh [--bin-dir DIR] [--label NAME] [--out DIR]
#                         [--batch N] [--gate-memo-ms MS] [--seconds S] [--smoke] [--only 1,3,...]
#
#   #  figure                                 limit
#   1  phase 3 bookings/s, 8 and 32 conns     pgbench, the same statements, 8 / 32 clients
#   2  consumer decisions/s, 20k backlog      pgbench, the consumer's transaction, 1 client
#        (all booked, all refused)
#   3  sold-out answers/s, phases 4 and 6     wrk on the same service's /healthz
#   4  phase 4 burst p50 (think 20 ms)        the same burst of 500 on /healthz
#   5  accepted/s (202), phases 5 and 6,      wrk on the same service's /healthz
#        50 and 200 conns
#   6  harness on /healthz                    wrk on /healthz, same connections
#   7  RSS with 10,000 open connections       the same process's RSS idle
#   8  phase 6 on the demo's workload:        wrk on the same service's /healthz
#        all answers/s (201/202/409 alike),
#        100 seats, think 50 ms, 50 conns
#
# Think time 0 except in 4 (20 ms) and 8 (50 ms). Writes
# results/bench-<stamp>.csv and .json (with the machine: CPU, versions, git
# revision); a row that comes from a harness run also has that run's p99
# (p99_ms, the last column). Prints the ratio table, then the targets of
# scripts/bench/targets.conf with pass or miss (they never fail the script).
# --bin-dir measures other binaries (an older build, for a before/after);
# --batch passes the consumer's --batch N to phases 5 and 6, --gate-memo-ms
# the gate's sold-out memo to phases 4 and 6, when their binaries know them; --smoke runs a tiny version of everything (the tests);
# --only runs the numbered measurements listed (1..8, as in this file).
set -euo pipefail
source "$(dirname "$0")/compare-lib.sh"   # common.sh; the versions of the metadata

bin_dir=$LAB_ROOT/build
label=
out_dir=$LAB_ROOT/results
batch=
seconds=5
smoke=0
only=
memo=
while [ $# -gt 0 ]; do
    case "$1" in
        --bin-dir) bin_dir=$(cd "${2:?}" && pwd); shift 2 ;;
        --label) label=${2:?}; shift 2 ;;
        --out) out_dir=${2:?}; shift 2 ;;
        --batch) batch=${2:?}; shift 2 ;;
        --gate-memo-ms) memo=${2:?}; shift 2 ;;
        --seconds) seconds=${2:?}; shift 2 ;;
        --smoke) smoke=1; seconds=1; shift ;;
        --only) only=,${2:?}, ; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for tool in wrk pgbench psql jq curl; do
    command -v "$tool" >/dev/null || die "bench needs $tool (bash infra/install.sh installs it)"
done
holdconns=$LAB_ROOT/build/holdconns

# sizes: a full run takes a few minutes, --smoke a few seconds
if [ "$smoke" = 1 ]; then
    reqs=600; backlog=300; hold=200; pg_secs=1
else
    reqs=20000; backlog=20000; hold=10000; pg_secs=$seconds
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
name=bench-${label:+$label-}$stamp
mkdir -p "$out_dir" "$LAB_LOGS"
csv=$out_dir/$name.csv
json=$out_dir/$name.json
rows=$LAB_RUN/$name.rows             # the rows, tab-separated (a measure may hold a comma)
last_json=$LAB_RUN/$name.last.json   # the last harness run's JSON (for its p99)
: >"$rows"
event=900                 # an event of its own: no other run's tickets
url="http://$LAB_HTTP"
psql_q() { psql -X -q -t -A "$LAB_PG" -c "$1"; }
# reset SEATS: the event with SEATS seats, no tickets, no decisions.
reset_event() {
    psql_q "INSERT INTO events (id, name, total_seats, available_seats) VALUES ($event, 'bench', $1, $1)
            ON CONFLICT (id) DO UPDATE SET total_seats = $1, available_seats = $1;
            DELETE FROM tickets WHERE event_id = $event; DELETE FROM decisions WHERE event_id = $event;
            DELETE FROM requests WHERE event_id = $event;" >/dev/null
}

bash "$LAB_ROOT/infra/services.sh" up >/dev/null
curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 &&
    die "something already answers on $url: stop it first"

# ---------------------------------------------------------------------------
# Services, the harness, wrk, pgbench
# ---------------------------------------------------------------------------

# start_svc PHASE ARGS... starts build's phaseN with think 0 (phase_start,
# infra/common.sh); start_worker PHASE ARGS... a consumer-only process.
start_svc() {
    local phase=$1; shift
    phase_start "$bin_dir" "$LAB_LOGS/$name.log" "$phase" --think-ms 0 "$@"
}
start_worker() {
    local phase=$1; shift
    "$bin_dir/phase$phase" --think-ms 0 --role worker "$@" >>"$LAB_LOGS/$name.log" 2>&1 &
    phase_pid=$!
}
trap phase_stop EXIT

# has_flag PHASE FLAG: does this build of the phase know FLAG?
has_flag() { "$bin_dir/phase$1" --help 2>&1 | grep -q -- "$2"; }
# batch_args PHASE: --batch N for the phase, if asked and known
batch_args() {
    if [ -n "$batch" ] && has_flag "$1" --batch; then echo "--batch $batch"; fi
    if [ -n "$memo" ] && [ "$1" != 5 ] && has_flag "$1" --gate-memo-ms; then echo "--gate-memo-ms $memo"; fi
}

# harness FIELD ARGS...: run build/attack --json and print one field; the
# whole JSON stays in $last_json for last_p99_ms.
harness() {
    local field=$1 v; shift
    : >"$last_json"
    "$bin_dir/attack" --url "$url" --event "$event" --json --no-csv "$@" \
        >"$last_json" 2>>"$LAB_LOGS/$name.log" || true
    v=$(jq -r ".$field // 0" "$last_json" 2>/dev/null) || v=0
    echo "${v:-0}"
}
# last_p99_ms: the p99 of the last harness run in ms (nothing if it has none).
last_p99_ms() {
    { jq -r '.p99_us // empty' "$last_json" 2>/dev/null || true; } |
        awk 'NR == 1 && $1 + 0 > 0 { printf "%.2f", $1 / 1000 }'
}
# wrk_rps CONNS: wrk's requests/s on /healthz for $seconds.
wrk_rps() {
    local threads=2
    [ "$1" -lt 2 ] && threads=1
    wrk -t"$threads" -c"$1" -d"${seconds}s" "$url/healthz" 2>/dev/null |
        awk '/^Requests\/sec:/ { print $2 }'
}
# pgbench_tps CLIENTS [SCRIPT]: tps of scripts/bench/SCRIPT.pgbench (default
# booking: the API's booking of phase 3; decide: the consumer's) for $pg_secs.
pgbench_tps() {
    reset_event 1000000000
    { pgbench -n -M extended -c "$1" -j "$(( $1 < 2 ? 1 : 2 ))" -T "$pg_secs" -D event="$event" \
        -f "$LAB_ROOT/scripts/bench/${2:-booking}.pgbench" "$LAB_PG" 2>>"$LAB_LOGS/$name.log" || true; } |
        awk '/^tps = / { print $3; exit }'
}
# row PHASE WHAT CONNS FIGURE UNIT LIMIT LIMIT_NAME [P99_MS]: one line of the
# results. P99_MS is the p99 of the figure's run, in ms: none for the
# consumer's rows (timed from the database) and the RSS.
row() {
    local ratio
    ratio=$(awk -v f="$4" -v l="$6" 'BEGIN { if (l + 0 > 0) printf "%.2f", f / l; else print "" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$ratio" "${8:-}" >>"$rows"
    printf '  %-8s %-45s %5s %12s %-10s %12s %-22s %6s %8s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" \
        "${ratio:+${ratio}x}" "${8:-}"
}
topic_n=0
# new_topic: a Kafka topic and group of their own for each asynchronous run,
# so that no backlog of one run reaches the next.
new_topic() {
    topic_n=$((topic_n + 1))
    topic=bench-$stamp-$topic_n
    group=$topic
}

# ---------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------


# want K: is measurement K to run?
want() { [ -z "$only" ] || [[ $only == *,$1,* ]]; }
if want 7 && [ ! -x "$holdconns" ]; then
    die "build/holdconns is missing: run make bench (it builds it)"
fi

say "make bench: $name (think 0 unless said; each figure beside its limit, back to back)"
printf '  %-8s %-45s %5s %12s %-10s %12s %-22s %6s %8s\n' phase measure conns figure unit limit "limit is" ratio \
    "p99 ms"

if want 1; then
# 1. phase 3 against pgbench, same concurrency
for conns in 8 32; do
    start_svc 3 --threads "$conns"
    fig=$(harness req_per_s --mode sustained --connections "$conns" --requests "$reqs" --seats 100000)
    p99=$(last_p99_ms)
    phase_stop
    lim=$(pgbench_tps "$conns")
    row 3 "bookings/s" "$conns" "$fig" "req/s" "$lim" "pgbench same tx" "$p99"
done
fi

# 2. the consumer: a backlog queued by an API-only process, decided by a
#    worker started afterwards; decisions/s from its first to its last.
consumer_rate() {   # SEATS -> decisions/s
    local seats=$1 t0= t1= d=0 start
    new_topic
    reset_event "$seats"
    start_svc 5 --role api --topic "$topic" --threads 16
    "$bin_dir/attack" --url "$url" --event "$event" --no-reset --json --no-csv --mode sustained \
        --connections 50 --requests "$backlog" --drain-timeout-ms 100 >/dev/null 2>>"$LAB_LOGS/$name.log" || true
    phase_stop
    # shellcheck disable=SC2046
    start_worker 5 --topic "$topic" --group "$group" $(batch_args 5)
    start=$(date +%s.%N)
    while :; do
        d=$(psql_q "SELECT (SELECT count(*) FROM tickets WHERE event_id = $event) + (SELECT count(*) FROM decisions WHERE event_id = $event)")
        now=$(date +%s.%N)
        if [ -z "$t0" ] && [ "$d" -gt 0 ]; then t0=$now; d0=$d; fi
        if [ "$d" -ge "$backlog" ]; then t1=$now; break; fi
        awk -v a="$now" -v b="$start" 'BEGIN { exit !(a - b > 120) }' && break
        sleep 0.05
    done
    phase_stop
    if [ -n "$t1" ] && [ -n "$t0" ] && [ "$d" -gt "$d0" ]; then
        awk -v n="$((d - d0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b > a) ? n / (b - a) : 0 }'
    else
        echo 0
    fi
}
if want 2; then
lim=$(pgbench_tps 1 decide)
fig=$(consumer_rate 1000000)
row 5 "consumer decisions/s (all booked)" 1 "$fig" "dec/s" "$lim" "pgbench same tx 1 client"
fig=$(consumer_rate 1)
row 5 "consumer decisions/s (all refused)" 1 "$fig" "dec/s" "$lim" "pgbench same tx 1 client"
fi

# 3. the sold-out path of phases 4 and 6 against the same process's /healthz
if want 3; then
for phase in 4 6; do
    new_topic
    extra=()
    [ "$phase" = 6 ] && extra=(--topic "$topic" --group "$group")
    # shellcheck disable=SC2046
    start_svc "$phase" "${extra[@]}" $(batch_args "$phase")
    fig=$(harness req_per_s --mode sustained --connections 50 --requests "$reqs" --seats 1 --drain-timeout-ms 5000)
    p99=$(last_p99_ms)
    lim=$(wrk_rps 50)
    phase_stop
    row "$phase" "sold-out answers/s" 50 "$fig" "req/s" "$lim" "wrk /healthz" "$p99"
done
fi

# 4. phase 4 burst: 500 users, 100 seats, think 20 ms (the bookings hold the
#    row lock 2 s in all); 400 are refused, so the burst's p50 is a refused
#    user's wait. Its limit: the p50 of the same burst of 500 new connections
#    on /healthz, which the polling thread answers without any backing service.
if want 4; then
    # shellcheck disable=SC2046
    start_svc 4 --think-ms 20 $(batch_args 4)
    lim=$("$bin_dir/attack" --url "$url" --json --no-csv --mode burst --users 500 --path /healthz \
          2>>"$LAB_LOGS/$name.log" | jq -r '.p50_us // 0')
    fig=$(harness p50_us --mode burst --users 500 --seats 100)
    p99=$(last_p99_ms)
    phase_stop
    row 4 "burst p50 ms (400 of 500 refused)" 500 "$(awk -v u="$fig" 'BEGIN { printf "%.1f", u / 1000 }')" ms \
        "$(awk -v u="$lim" 'BEGIN { printf "%.1f", u / 1000 }')" "burst p50 on /healthz" "$p99"
fi

# 5. accepted/s of phases 5 and 6 against /healthz
if want 5; then
for spec in 5:50 5:200 6:50 6:200; do
    phase=${spec%%:*}; conns=${spec##*:}
    new_topic
    # shellcheck disable=SC2046
    start_svc "$phase" --topic "$topic" --group "$group" $(batch_args "$phase")
    fig=$(harness req_per_s --mode sustained --connections "$conns" --requests "$reqs" --seats 100000 --drain-timeout-ms 100)
    p99=$(last_p99_ms)
    lim=$(wrk_rps "$conns")
    phase_stop
    row "$phase" "accepted/s (202)" "$conns" "$fig" "req/s" "$lim" "wrk /healthz" "$p99"
done
fi

# 6. the harness itself against wrk, on /healthz, same connections
if want 6; then
start_svc 3
fig=$(harness req_per_s --path /healthz --mode sustained --connections 50 --requests "$((reqs * 5))")
p99=$(last_p99_ms)
lim=$(wrk_rps 50)
row harness "/healthz req/s" 50 "$fig" "req/s" "$lim" "wrk /healthz" "$p99"
    phase_stop
fi

# 7. the service's resident memory, idle and with 10,000 open connections
if want 7; then
start_svc 3
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$phase_pid/status"; }
idle=$(rss)
coproc HOLD { "$holdconns" "${LAB_HTTP%:*}" "${LAB_HTTP##*:}" "$hold"; }
read -r _ held <&"${HOLD[0]}" || held=0
busy=$(rss)
exec {HOLD[1]}>&-
wait "$HOLD_PID" 2>/dev/null || true
phase_stop
row 3 "RSS MiB with $held connections" "$held" "$(awk -v k="$busy" 'BEGIN { printf "%.1f", k / 1024 }')" MiB \
    "$(awk -v k="$idle" 'BEGIN { printf "%.1f", k / 1024 }')" "RSS idle (MiB)"
fi

# 8. phase 6 on the demo's workload: the Java demo's 50 ms of "payment
#    check" (the later --think-ms wins over start_svc's 0), 100 seats, a new
#    user per request (the harness's userId), 50 connections. The figure is
#    every answer alike, 201, 202 and 409 (the harness's req_per_s); the
#    queue has 5 s to drain, so that the consumer is idle when wrk measures.
if want 8; then
    new_topic
    # shellcheck disable=SC2046
    start_svc 6 --think-ms 50 --topic "$topic" --group "$group" $(batch_args 6)
    fig=$(harness req_per_s --mode sustained --connections 50 --requests "$reqs" --seats 100 --drain-timeout-ms 5000)
    p99=$(last_p99_ms)
    lim=$(wrk_rps 50)
    phase_stop
    row 6 "demo workload answers/s (100 seats, think 50)" 50 "$fig" "req/s" "$lim" "wrk /healthz" "$p99"
fi

# ---------------------------------------------------------------------------
# Results: CSV, JSON with the machine
# ---------------------------------------------------------------------------
# The CSV quotes a field that holds a comma or a quote (RFC 4180); the JSON
# is made from the tab-separated rows.
{
    echo "phase,measure,connections,figure,unit,limit,limit_is,ratio,p99_ms"
    awk -F '\t' -v OFS=, '{
        $1 = $1
        for (i = 1; i <= NF; i++)
            if ($i ~ /[",]/) { gsub(/"/, "\"\"", $i); $i = "\"" $i "\"" }
        print
    }' "$rows"
} >"$csv"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
jq -R -s --arg name "$name" --arg lbl "$label" --arg cpu "$cpu" --arg cores "$(nproc)" \
    --arg kernel "$(uname -r)" --arg rev "$(git -C "$LAB_ROOT" rev-parse --short HEAD 2>/dev/null || echo none)" \
    --arg pg "$(psql_q 'SHOW server_version')" --arg redis "$(redis-server --version 2>/dev/null | awk '{ print $3 }')" \
    --arg wrk "$(wrk -v 2>&1 | head -n 1)" --arg bin "$bin_dir" --arg batch "$batch" \
    --arg started "$(sed -E 's/^(....)(..)(..)T(..)(..)(..)Z$/\1-\2-\3T\4:\5:\6Z/' <<<"$stamp")" \
    --arg dirty "$(git_dirty)" --arg mem "$(memory_mib)" --arg kafka "$(kafka_version)" \
    --arg rdkafka "$(librdkafka_version)" --arg mhd "$(libmicrohttpd_version)" '
    { "name": $name, "label": $lbl, "bin_dir": $bin, "batch": $batch, "started": $started,
      "environment": { "cpu": $cpu, "cores": ($cores | tonumber), "kernel": $kernel, "git": $rev,
                       "git_dirty": ($dirty == "true"), "memory_mib": ($mem | tonumber),
                       "postgresql": $pg, "redis": $redis, "kafka": $kafka,
                       "librdkafka": $rdkafka, "libmicrohttpd": $mhd, "wrk": $wrk },
      "rows": (split("\n") | map(select(length > 0) | split("\t")) |
               map({ "phase": .[0], "measure": .[1], "connections": .[2],
                     "figure": (.[3] | tonumber? // null), "unit": .[4],
                     "limit": (.[5] | tonumber? // null), "limit_is": .[6],
                     "ratio": (.[7] | tonumber? // null),
                     "p99_ms": ((.[8] // "") | tonumber? // null) })) }' "$rows" >"$json"
say "results: ${csv#"$LAB_ROOT"/} and ${json#"$LAB_ROOT"/}"

# ---------------------------------------------------------------------------
# The targets: each line of scripts/bench/targets.conf against this run's
# rows, with pass or miss. They only print: a benchmark is not a test.
# ---------------------------------------------------------------------------
say "targets (scripts/bench/targets.conf; they only print):"
awk -v full="$([ -z "$only" ] && echo 1 || echo 0)" -f "$LAB_ROOT/scripts/bench/targets.awk" \
    "$LAB_ROOT/scripts/bench/targets.conf" "$rows" || true
rm -f "$rows" "$last_json"
