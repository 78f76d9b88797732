#!/usr/bin/env bash
# sweep.sh -- what `make sweep` runs: throughput and latency of every phase
# against the number of concurrent users. For each phase and each N of
# SWEEP_USERS (50 100 200 400 800), a sustained attack on COMPARE_SEATS seats
# (100): N connections, each a user that keeps clicking Buy, until
# SWEEP_REQUESTS requests (4000, the same at every N so that the points
# compare) are answered. With SWEEP_MODE=burst, N users click once each, all
# together, instead.
#
# It writes, under COMPARE_RESULTS (results/), with a UTC stamp:
#   sweep-<stamp>.csv    one row per attack, the harness's columns
#                        (concurrency is N)
#   sweep-<stamp>.json   metadata: parameters, revision, machine, versions
# and copies them to latest-sweep.csv and .json, what `make plots` reads.
# The other settings are compare.sh's: COMPARE_PHASES, COMPARE_EVENT,
# COMPARE_TOPIC, COMPARE_GROUP, LAB_HTTP.
set -euo pipefail
source "$(dirname "$0")/compare-lib.sh"

SWEEP_USERS=${SWEEP_USERS:-50 100 200 400 800}
SWEEP_REQUESTS=${SWEEP_REQUESTS:-4000}
SWEEP_MODE=${SWEEP_MODE:-sustained}

if [ $# -gt 0 ]; then
    case "$1" in
        -h|--help) script_help "$0"; exit 0 ;;
        *) echo "usage: sweep.sh   (settings by environment: see --help)" >&2; exit 2 ;;
    esac
fi
check_settings
for n in $SWEEP_USERS $SWEEP_REQUESTS; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || {
        echo "SWEEP_USERS and SWEEP_REQUESTS are positive whole numbers, not '$n'" >&2
        exit 2
    }
done
case "$SWEEP_MODE" in
    burst|sustained) ;;
    *) echo "SWEEP_MODE is burst or sustained, not '$SWEEP_MODE'" >&2; exit 2 ;;
esac

stamp=$(utc_stamp)
base=$COMPARE_RESULTS/sweep-$stamp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$COMPARE_RESULTS" "$LAB_LOGS"

say "sweeping phases $COMPARE_PHASES over $SWEEP_USERS users ($SWEEP_MODE, service on $LAB_HTTP)"
bash "$LAB_ROOT/infra/services.sh" up >/dev/null
failed=()
for phase in $COMPARE_PHASES; do
    for n in $SWEEP_USERS; do
        if [ "$SWEEP_MODE" = burst ]; then
            args=(--users "$n")
        else
            args=(--mode sustained --connections "$n" --requests "$SWEEP_REQUESTS")
        fi
        printf '[lab] phase %s, %s users ... ' "$phase" "$n"
        started=$SECONDS
        if attack_phase "$phase" "$work/runs.csv" "$LAB_LOGS/sweep-phase$phase-$n.log" "${args[@]}"; then
            echo "$((SECONDS - started)) s"
        else
            echo "failed"
            failed+=("phase $phase at $n users")
        fi
    done
done
[ -s "$work/runs.csv" ] || die "no attack finished: nothing to write"

users_json=$(printf '%s\n' $SWEEP_USERS | paste -sd, - | sed 's/,/, /g')
params=$(printf '{"phases": %s, "event": %s, "seats": %s, "mode": %s, "users": [%s], "requests": %s, "client_threads": 2, "topic": %s, "group": %s}' \
    "$(phases_json)" "$COMPARE_EVENT" "$COMPARE_SEATS" "$(json_str "$SWEEP_MODE")" \
    "$users_json" "$SWEEP_REQUESTS" \
    "$(json_str "${COMPARE_TOPIC:-default}")" "$(json_str "${COMPARE_GROUP:-default}")")
cp "$work/runs.csv" "$base.csv"
write_metadata "$base.json" sweep "$stamp" "$params" "$(printf '{"csv": %s}' "$(json_str "${base##*/}.csv")")"
publish "$base.csv" "$COMPARE_RESULTS/latest-sweep.csv"
publish "$base.json" "$COMPARE_RESULTS/latest-sweep.json"

echo
bash "$LAB_ROOT/scripts/table.sh" --sweep "$base.csv"
echo
say "results: ${base#"$LAB_ROOT"/}.csv and .json (copied to latest-sweep.*); charts: make plots"
if [ ${#failed[@]} -gt 0 ]; then
    die "these attacks failed: ${failed[*]} (logs in ${LAB_LOGS#"$LAB_ROOT"/})"
fi
