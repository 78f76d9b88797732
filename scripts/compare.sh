#!/usr/bin/env bash
# compare.sh -- what `make compare` runs: the same two attacks on every
# phase, one after the other, each phase started fresh by infra/attack.sh:
#
#   burst      COMPARE_USERS users (500) click Buy at once on COMPARE_SEATS
#              seats (100): the race, and whether the phase survives it;
#   sustained  COMPARE_CONNECTIONS connections (50) keep booking until
#              COMPARE_REQUESTS requests (5000) are answered: the throughput.
#
# It writes, under COMPARE_RESULTS (results/), with a UTC stamp:
#   compare-<stamp>.csv           one row per attack, the harness's columns
#   compare-<stamp>-timeline.csv  phase,mode + the harness's --timeline rows
#   compare-<stamp>.json          metadata: parameters, revision, machine, versions,
#                                 each attack's run id
# copies them to latest-compare.csv, -timeline.csv and .json (what `make
# plots` reads), and prints the table. Settings come from the environment:
# COMPARE_PHASES, COMPARE_EVENT (1), COMPARE_TOPIC and COMPARE_GROUP (phases
# 5 and 6; default: the service's own), LAB_HTTP for the service's address.
set -euo pipefail
source "$(dirname "$0")/compare-lib.sh"

if [ $# -gt 0 ]; then
    case "$1" in
        -h|--help) script_help "$0"; exit 0 ;;
        *) echo "usage: compare.sh   (settings by environment: see --help)" >&2; exit 2 ;;
    esac
fi
check_settings

stamp=$(utc_stamp)
base=$COMPARE_RESULTS/compare-$stamp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$COMPARE_RESULTS" "$LAB_LOGS"

# run_one PHASE MODE runs one attack and adds its timeline, labelled with
# PHASE and MODE, to the run's timeline file. Each attack has a run id of
# its own, c<stamp>p<phase><b|s>, kept in the metadata: the harness names
# its explanation of a BUG results/<run id>-explain.json, which the report
# shows beside the attack's row.
run_one() {
    local phase=$1 mode=$2 shape started=$SECONDS
    local run_id=c${stamp}p$phase${mode:0:1}
    local args=(--timeline "$work/timeline.csv" --run-id "$run_id")
    runs+=("$(printf '{"phase": %s, "mode": "%s", "run_id": "%s"}' "$phase" "$mode" "$run_id")")
    if [ "$mode" = burst ]; then
        args+=(--users "$COMPARE_USERS")
        shape="$COMPARE_USERS users at once"
    else
        args+=(--mode sustained --connections "$COMPARE_CONNECTIONS" --requests "$COMPARE_REQUESTS")
        shape="$COMPARE_REQUESTS requests over $COMPARE_CONNECTIONS connections"
    fi
    printf '[lab] phase %s, %s: %s ... ' "$phase" "$mode" "$shape"
    rm -f "$work/timeline.csv"
    if ! attack_phase "$phase" "$work/runs.csv" "$LAB_LOGS/compare-phase$phase-$mode.log" "${args[@]}"; then
        echo "failed"
        return 1
    fi
    echo "$((SECONDS - started)) s"
    [ -s "$work/timeline.csv" ] &&
        tail -n +2 "$work/timeline.csv" | sed "s/^/$phase,$mode,/" >>"$work/timelines.csv"
    return 0
}

say "comparing phases $COMPARE_PHASES on event $COMPARE_EVENT (service on $LAB_HTTP)"
bash "$LAB_ROOT/infra/services.sh" up >/dev/null
echo "phase,mode,t_s,finished,accepted,decided" >"$work/timelines.csv"
failed=()
runs=()
for phase in $COMPARE_PHASES; do
    for mode in burst sustained; do
        run_one "$phase" "$mode" || failed+=("phase $phase $mode")
    done
done
[ -s "$work/runs.csv" ] || die "no attack finished: nothing to write"

params=$(printf '{"phases": %s, "event": %s, "seats": %s, "burst": {"users": %s}, "sustained": {"connections": %s, "requests": %s}, "think_ms": %s, "client_threads": 2, "topic": %s, "group": %s}' \
    "$(phases_json)" "$COMPARE_EVENT" "$COMPARE_SEATS" "$COMPARE_USERS" \
    "$COMPARE_CONNECTIONS" "$COMPARE_REQUESTS" \
    "$(awk -F, 'NR == 2 { print $8 }' "$work/runs.csv")" \
    "$(json_str "${COMPARE_TOPIC:-default}")" "$(json_str "${COMPARE_GROUP:-default}")")
runs_json=$(IFS=,; printf '[%s]' "${runs[*]}")
files=$(printf '{"csv": %s, "timeline": %s, "runs": %s}' \
    "$(json_str "${base##*/}.csv")" "$(json_str "${base##*/}-timeline.csv")" "$runs_json")
cp "$work/runs.csv" "$base.csv"
cp "$work/timelines.csv" "$base-timeline.csv"
write_metadata "$base.json" compare "$stamp" "$params" "$files"
publish "$base.csv" "$COMPARE_RESULTS/latest-compare.csv"
publish "$base-timeline.csv" "$COMPARE_RESULTS/latest-compare-timeline.csv"
publish "$base.json" "$COMPARE_RESULTS/latest-compare.json"

echo
bash "$LAB_ROOT/scripts/table.sh" "$base.csv"
echo
say "results: ${base#"$LAB_ROOT"/}.csv, -timeline.csv, .json (copied to latest-compare.*); charts: make plots"
if [ ${#failed[@]} -gt 0 ]; then
    die "these attacks failed: ${failed[*]} (logs in ${LAB_LOGS#"$LAB_ROOT"/})"
fi
