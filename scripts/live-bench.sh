#!/usr/bin/env bash
# live-bench.sh -- what the live page costs the attack (`make live-bench`).
#
#   bash scripts/live-bench.sh [--phase N] [--rounds K] [--requests R]
#                              [--clients C] [--rate B]
#
# One service (phase 6 by default, the fastest) is started once and
# attacked again and again by the release harness, sustained, 50
# connections, R requests (default 100000), 1000 seats (most answers are the
# gate's sold-out: the harness's own path is what is measured):
#
#   throughput  K rounds (default 4), each three attacks in turn (each round
#               starting with the next of the three): without
#               --live ("off"), with --live and no client ("none"), with
#               --live and C streams reading it (default 60, build/liveprobe):
#               each attack's req/s and the harness's CPU seconds (user +
#               system, bash's time); the means, the spread (min-max), the
#               ratio of the means C-streams / none, which should be at least
#               0.95, and the median of each round's own ratio (the rounds
#               of a shared machine drift: a round's three attacks are
#               closest in time);
#   delay       one open-loop attack at B bookings/s (default 5000, --rate)
#               for 10 s with C streams: each "tick" event carries the
#               harness's wall clock when it was made (sentUs), the probe
#               takes its own when the event's last byte arrives; the p50,
#               p99 and max of the difference, which should be at most 250 ms.
#
# Writes results/live-bench.json. The machine is shared: run it on a quiet
# one, and read the spread before the means.
set -euo pipefail
source "$(dirname "$0")/../infra/common.sh"

phase=6
rounds=4
requests=100000
clients=60
rate=5000
while [ $# -gt 0 ]; do
    case $1 in
        --phase) phase=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --requests) requests=${2:?}; shift 2 ;;
        --clients) clients=${2:?}; shift 2 ;;
        --rate) rate=${2:?}; shift 2 ;;
        -h | --help) script_help "$0"; exit 0 ;;
        *) echo "live-bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
lab_is_phase "$phase" || { echo "live-bench.sh: --phase $(lab_phase_range)" >&2; exit 2; }
for n in "$rounds" "$requests" "$clients" "$rate"; do
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "live-bench.sh: numbers must be positive" >&2; exit 2; }
done
addr=${LAB_LIVE:-127.0.0.1:18088}
url="http://$LAB_HTTP"
out=$LAB_ROOT/results/live-bench.json
log=$LAB_LOGS/live-bench.log
mkdir -p "$LAB_LOGS" "$LAB_ROOT/results"
bash "$LAB_ROOT/infra/services.sh" up >/dev/null
curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 && die "something already answers on $url: stop it first"

topic=livebench-$$
"$LAB_ROOT/build/phase$phase" --listen "$LAB_HTTP" --topic "$topic" --group "$topic" >"$log" 2>&1 &
service=$!
trap 'kill -TERM "$service" 2>/dev/null; wait "$service" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 && break
    kill -0 "$service" 2>/dev/null || die "phase $phase did not start (see $log)"
    sleep 0.2
done

# attack KIND [HARNESS ARGS...]: one attack; prints its req/s and the
# harness's CPU seconds, and with KIND=streams the probe's line (to $log.probe)
attack() {
    local kind=$1 probe= json status=0
    shift
    local live=()
    [ "$kind" != off ] && live=(--live "$addr" --live-linger 0)
    rm -f "$log.err" "$log.probe"   # the wait below must not read the last attack's
    {
        TIMEFORMAT='%U %S'
        time "$LAB_ROOT/build/attack" --url "$url" --no-csv --json --seats 1000 "$@" \
            ${live[@]+"${live[@]}"} >"$log.json" 2>"$log.err"
    } 2>"$log.time" &
    local pid=$!
    if [ "$kind" = streams ]; then
        for _ in $(seq 1 200); do
            grep -qs "the race is shown at" "$log.err" && break
            sleep 0.05
        done
        "$LAB_ROOT/build/liveprobe" --addr "$addr" --clients "$clients" --seconds 600 \
            --until-final --id bench >"$log.probe" 2>&1 &
        probe=$!
    fi
    wait "$pid" || status=$?
    [ -z "$probe" ] || wait "$probe" || die "the probe failed: $(cat "$log.probe")"
    [ "$status" -eq 0 ] || die "the harness exited $status: $(tail -n 3 "$log.err")"
    json=$(cat "$log.json")
    echo "$(jq -r .req_per_s <<<"$json") $(awk '{ print $1 + $2 }' "$log.time")"
}

sustained=(--mode sustained --connections 50 --requests "$requests")
declare -a off none streams cpu_off cpu_none cpu_streams
say "live-bench: phase $phase, $rounds rounds of three attacks ($requests requests each)"
kinds=(off none streams)
for ((i = 1; i <= rounds; i++)); do
    # each round starts with another of the three: no kind always goes first
    for ((k = 0; k < 3; k++)); do
        kind=${kinds[$(((i + k) % 3))]}
        read -r v cpu < <(attack "$kind" "${sustained[@]}")
        case $kind in
            off) off+=("$v"); cpu_off+=("$cpu") ;;
            none) none+=("$v"); cpu_none+=("$cpu") ;;
            streams) streams+=("$v"); cpu_streams+=("$cpu") ;;
        esac
    done
    echo "  round $i: off ${off[-1]}  none ${none[-1]}  $clients streams ${streams[-1]} req/s;" \
         "harness CPU ${cpu_off[-1]} / ${cpu_none[-1]} / ${cpu_streams[-1]} s"
done
say "live-bench: $rate bookings/s for 10 s with $clients streams: how late each tick arrives"
attack streams --mode sustained --connections 100 --rate "$rate" --requests $((rate * 10)) >/dev/null
delay=$(cat "$log.probe")
echo "  $delay"

# stats NAME VALUES...: {"mean":..,"min":..,"max":..,"runs":[...]}
stats() {
    printf '%s\n' "$@" | jq -s '{mean: (add / length), min: min, max: max, runs: .}'
}
jq -n --argjson off "$(stats "${off[@]}")" --argjson none "$(stats "${none[@]}")" \
    --argjson streams "$(stats "${streams[@]}")" --arg delay "$delay" \
    --argjson cpu_off "$(stats "${cpu_off[@]}")" --argjson cpu_none "$(stats "${cpu_none[@]}")" \
    --argjson cpu_streams "$(stats "${cpu_streams[@]}")" \
    --argjson phase "$phase" --argjson clients "$clients" --argjson rate "$rate" \
    --argjson requests "$requests" --arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg rev "$(git -C "$LAB_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" '
    ($delay | split(" ") | map(split("=") | {(.[0]): (.[1] | tonumber? // .)}) | add) as $d |
    {when: $when, git: $rev, phase: $phase, requests: $requests, clients: $clients,
     throughput: {off: $off, none: $none, streams: $streams,
                  ratio_streams_none: ($streams.mean / $none.mean),
                  ratio_none_off: ($none.mean / $off.mean),
                  round_ratios_streams_none: ([$streams.runs, $none.runs] | transpose
                                              | map(.[0] / .[1])),
                  median_round_ratio: ([$streams.runs, $none.runs] | transpose | map(.[0] / .[1])
                                       | sort | if length % 2 == 1 then .[length / 2 | floor]
                                         else (.[length / 2 - 1] + .[length / 2]) / 2 end)},
     harness_cpu_s: {off: $cpu_off, none: $cpu_none, streams: $cpu_streams},
     delay: {rate: $rate, ticks: $d.ticks, p50_ms: $d.p50_ms, p99_ms: $d.p99_ms, max_ms: $d.max_ms,
             streams: $d.streams}}' >"$out"
jq -r '"harness CPU s per attack, mean: off \(.harness_cpu_s.off.mean*100|floor/100), none \(.harness_cpu_s.none.mean*100|floor/100), \(.clients) streams \(.harness_cpu_s.streams.mean*100|floor/100)",
        "throughput req/s, mean (min-max): off \(.throughput.off.mean|floor) (\(.throughput.off.min|floor)-\(.throughput.off.max|floor)), none \(.throughput.none.mean|floor) (\(.throughput.none.min|floor)-\(.throughput.none.max|floor)), \(.clients) streams \(.throughput.streams.mean|floor) (\(.throughput.streams.min|floor)-\(.throughput.streams.max|floor)); streams/none = \(.throughput.ratio_streams_none*1000|floor/1000), median of the rounds \(.throughput.median_round_ratio*1000|floor/1000) (target >= 0.95)",
        "tick delay at \(.delay.rate) bookings/s, \(.delay.streams) streams, \(.delay.ticks) ticks: p50 \(.delay.p50_ms) ms, p99 \(.delay.p99_ms) ms, max \(.delay.max_ms) ms (target p99 <= 250 ms)"' "$out"
say "live-bench: results/live-bench.json"
