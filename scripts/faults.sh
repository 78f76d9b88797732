#!/usr/bin/env bash
# faults.sh -- the fault matrix (`make faults`): every phase under every
# fault, one run each (scripts/nemesis.sh), and a table of what each cost:
# oversold, lost, duplicated, counter drift, undersold, availability in the
# fault window, time to recover, the checker's verdict.
#
#   bash scripts/faults.sh [--phases "3 4 5 6"] [--faults "kill-service ..."]
#                          [--label NAME] [--bin-dir DIR]
#
# Writes results/faults/NAME.md (default NAME: matrix), its metadata in
# results/faults/NAME.json (when, revision, machine, versions: the report
# shows them), and keeps each run's checker figures in
# results/faults/runs/NAME-pP-FAULT.json. --bin-dir
# attacks other builds of the services (the harness is always build/):
# docs/faults.md measures the services before the fixes that way.
set -euo pipefail
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$LAB_ROOT/scripts/compare-lib.sh"   # common.sh, write_metadata

phases="3 4 5 6"
faults="kill-service kill-worker restart-redis restart-kafka restart-postgres pause-postgres pause-redis"
label=matrix
bin_dir=build
while [ $# -gt 0 ]; do
    case $1 in
        --phases) phases=${2:?}; shift 2 ;;
        --faults) faults=${2:?}; shift 2 ;;
        --label) label=${2:?}; shift 2 ;;
        --bin-dir) bin_dir=${2:?}; shift 2 ;;
        -h | --help) script_help "$0"; exit 0 ;;
        *) echo "faults.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[[ $label =~ ^[A-Za-z0-9_-]+$ ]] || { echo "faults.sh: --label is letters, digits, - and _" >&2; exit 2; }
out=$LAB_ROOT/results/faults
mkdir -p "$out/runs"
table=$out/$label.md
stamp=$(utc_stamp)

{
    echo "| phase | fault | oversold | lost | duplicated | false conf. | drift | undersold | availability | recover | verdict |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$table.tmp"
for p in $phases; do
    for f in $faults; do
        if [ "$f" = kill-worker ] && [ "$p" != 5 ] && [ "$p" != 6 ]; then
            continue   # no worker process in a synchronous phase
        fi
        run=${label//[^A-Za-z0-9]/}$(date +%s)p$p
        say "faults: phase $p, $f"
        NEMESIS_RUN_ID=$run NEMESIS_BIN_DIR=$bin_dir bash "$LAB_ROOT/scripts/nemesis.sh" \
            --phase "$p" --fault "$f" --harness-dir build >"$out/runs/$label-p$p-$f.log" 2>&1 || true
        json=$LAB_ROOT/results/$run-check.json
        if [ -s "$json" ]; then
            cp "$json" "$out/runs/$label-p$p-$f.json"
            jq -r --arg p "$p" --arg f "$f" '"| \($p) | \($f) | \(.check_oversold) | \(.check_lost) | \(.check_duplicated) | \(.check_false_confirmations) | \(.check_drift // "n/a") | \(.check_undersold) | \(if .check_availability_pct == null then "n/a" else "\(.check_availability_pct) %" end) | \(if .check_recover_s == null then "n/a" else "\(.check_recover_s) s" end) | \(.check_verdict) |"' \
                "$json" >>"$table.tmp"
        else
            echo "| $p | $f | | | | | | | | | no result: see runs/$label-p$p-$f.log |" >>"$table.tmp"
        fi
        tail -n 1 "$table.tmp"
    done
done
mv "$table.tmp" "$table"
write_metadata "$out/$label.json" faults "$stamp" \
    "$(printf '{"phases": %s, "faults": %s, "label": %s, "bin_dir": %s}' "$(json_str "$phases")" \
        "$(json_str "$faults")" "$(json_str "$label")" "$(json_str "$bin_dir")")" \
    "$(printf '{"table": %s, "runs": %s}' "$(json_str "$label.md")" "$(json_str "runs/$label-p*-*.json")")"
say "faults: $table"
