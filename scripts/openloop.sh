#!/usr/bin/env bash
# openloop.sh -- the closed loop and the open loop side by side (make compare
# runs it after the phases' table; `make openloop` alone). For each phase
# listed: a closed-loop sustained run, then open-loop runs (--rate) at half
# and at 1.5 times the rate the closed loop reached. Below capacity the two
# loops agree; above it the closed loop slows down with the server and its
# percentiles stay small, while the open loop's latency, measured from each
# request's due time, shows the queue that builds up (coordinated omission,
# docs/glossary.md).
#
#   bash scripts/openloop.sh [--phases "3 6"] [--requests N] [--connections C]
#
# Event 901, its own: the tests and the other runs keep event 1. Writes
# results/openloop-<stamp>.csv, its metadata results/openloop-<stamp>.json
# (revision, machine, versions: compare-lib.sh's write_metadata), and prints
# the table.
set -euo pipefail
source "$(dirname "$0")/compare-lib.sh"   # common.sh, write_metadata

phases="3 6"
requests=6000
conns=50
while [ $# -gt 0 ]; do
    case "$1" in
        --phases) phases=${2:?}; shift 2 ;;
        --requests) requests=${2:?}; shift 2 ;;
        --connections) conns=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "openloop.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
url="http://$LAB_HTTP"
bin=$LAB_ROOT/build
mkdir -p "$LAB_ROOT/results" "$LAB_LOGS"
stamp=$(utc_stamp)
csv=$LAB_ROOT/results/openloop-$stamp.csv
log=$LAB_LOGS/openloop.log
curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 && die "something already answers on $url: stop it first"
bash "$LAB_ROOT/infra/services.sh" up >/dev/null

trap phase_stop EXIT

# one LOOP RATE: a sustained run, the columns of the table
one() {
    local loop=$1 rate=$2 extra=()
    [ "$rate" -gt 0 ] && extra=(--rate "$rate")
    "$bin/attack" --url "$url" --event 901 --json --no-csv --mode sustained --connections "$conns" \
        --requests "$requests" --seats 100000 --drain-timeout-ms 100 "${extra[@]}" 2>>"$log" |
        jq -r --arg p "$phase" --arg loop "$loop" \
            '[$p, $loop, .rate, .req_per_s, .p50_us, .p99_us, .p999_us, .p9999_us] | @csv' |
        tr -d '"'
}

echo "phase,loop,rate,req_per_s,p50_us,p99_us,p999_us,p9999_us" >"$csv"
for phase in $phases; do
    phase_start "$bin" "$log" "$phase" --think-ms 0 --topic "openloop-$$-$phase" \
        --group "openloop-$$-$phase"
    closed=$(one closed 0)
    echo "$closed" >>"$csv"
    reached=$(echo "$closed" | cut -d, -f4 | cut -d. -f1)
    for factor in 0.5 1.5; do
        rate=$(awk -v r="$reached" -v f="$factor" 'BEGIN { printf "%d", r * f < 1 ? 1 : r * f }')
        one open "$rate" >>"$csv"
    done
    phase_stop
done
write_metadata "${csv%.csv}.json" openloop "$stamp" \
    "$(printf '{"phases": [%s], "event": 901, "connections": %s, "requests": %s, "seats": 100000, "think_ms": 0}' \
        "$(tr -s ' ' ',' <<<"$phases")" "$conns" "$requests")" \
    "$(printf '{"csv": %s}' "$(json_str "${csv##*/}")")"
say "closed and open loop, $conns connections, $requests requests each (${csv#"$LAB_ROOT"/})"
awk -F, 'NR == 1 { printf "%-6s %-7s %8s %9s %9s %9s %9s %9s\n", "phase", "loop", "rate", "req/s",
                   "p50 ms", "p99 ms", "p99.9 ms", "p99.99 ms"; next }
         { printf "%-6s %-7s %8s %9.0f %9.1f %9.1f %9.1f %9.1f\n", $1, $2, ($3 > 0 ? $3 : "-"), $4,
                  $5 / 1000, $6 / 1000, $7 / 1000, $8 / 1000 }' "$csv"
