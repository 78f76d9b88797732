#!/usr/bin/env bash
# reference.sh -- what `make reference` runs: makes the latest comparison
# and sweep the committed reference run, the one the README shows. It copies
# results/latest-compare.{csv,json}, latest-compare-timeline.csv and
# latest-sweep.{csv,json} into results/reference/ (as compare.csv, ...,
# sweep.json), draws their charts into results/reference/ and writes
# results/reference/REPORT.md and REPORT.html beside them (the comparison
# and the sweep alone: make report has every result). Runs no attack.
set -euo pipefail
source "$(dirname "$0")/compare-lib.sh"

if [ $# -gt 0 ]; then
    case "$1" in
        -h|--help) script_help "$0"; exit 0 ;;
        *) echo "usage: reference.sh" >&2; exit 2 ;;
    esac
fi
from=$LAB_ROOT/results
to=$LAB_ROOT/results/reference
for f in latest-compare.csv latest-compare.json latest-compare-timeline.csv; do
    [ -f "$from/$f" ] || die "results/$f is missing: run make compare first"
done
mkdir -p "$to"
cp "$from/latest-compare.csv" "$to/compare.csv"
cp "$from/latest-compare.json" "$to/compare.json"
cp "$from/latest-compare-timeline.csv" "$to/compare-timeline.csv"
if [ -f "$from/latest-sweep.csv" ]; then
    cp "$from/latest-sweep.csv" "$to/sweep.csv"
    [ ! -f "$from/latest-sweep.json" ] || cp "$from/latest-sweep.json" "$to/sweep.json"
else
    say "no sweep results: the reference has no sweep (make sweep first for one)"
    rm -f "$to/sweep.csv" "$to/sweep.json"
fi
bash "$LAB_ROOT/scripts/plots.sh" --compare "$to/compare.csv" --sweep "$to/sweep.csv" --out "$to"
bash "$LAB_ROOT/scripts/report.sh" --compare "$to/compare.csv" --sweep "$to/sweep.csv" \
    --charts "$to" --out "$to" --sections compare,sweep
say "reference: results/reference/ (the README shows headline.png and the table)"
