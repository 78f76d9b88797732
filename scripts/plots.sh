#!/usr/bin/env bash
# plots.sh -- what `make plots` runs first: the charts of the latest results
# (or of the files given), each as PNG (pngcairo) and SVG, into plots/out/.
# It runs no attack: it only reads results files.
#
#   bash scripts/plots.sh [--compare FILE.csv] [--sweep FILE.csv] [--out DIR]
#
#   headline  wrong tickets against throughput, one point per phase
#   latency   p50, p90, p99 and max per phase, burst and sustained
#   sweep     throughput and p99 against concurrent users (needs a sweep file)
#   drain     accepted and decided requests over time, asynchronous phases
#
# --compare defaults to results/latest-compare.csv, whose -timeline.csv and
# .json are read beside it; --sweep to results/latest-sweep.csv (no sweep
# file: no sweep chart, and an older one is removed rather than left to
# mislead). Exit 1 when there is nothing to plot, 2 on bad usage.
set -euo pipefail

source "$(dirname "$0")/compare-lib.sh"   # json_field
root=$LAB_ROOT
compare=$root/results/latest-compare.csv
sweep=$root/results/latest-sweep.csv
out=$root/plots/out

usage() {
    echo "usage: plots.sh [--compare FILE.csv] [--sweep FILE.csv] [--out DIR]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --compare) [ $# -ge 2 ] || usage; compare=$2; shift 2 ;;
        --sweep) [ $# -ge 2 ] || usage; sweep=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        -h|--help) script_help "$0"; exit 0 ;;
        *) usage ;;
    esac
done
if [ ! -f "$compare" ]; then
    echo "plots.sh: no results in $compare: run make compare first" >&2
    exit 1
fi
command -v gnuplot >/dev/null || { echo "plots.sh: gnuplot is missing (make deps)" >&2; exit 1; }
timeline=${compare%.csv}-timeline.csv
json=${compare%.csv}.json

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" "$work/out"

# chartdata WHAT FILE writes the data files of WHAT (chartdata.awk).
chartdata() {
    tr -d '\r' <"$2" | awk -F, -v what="$1" -v dir="$work/data" -v file="$2" \
        -f "$root/scripts/phases.awk" -f "$root/scripts/chartdata.awk"
}

# clean_text makes a value safe inside a gnuplot '...' string.
clean_text() { tr -d "'\\\\\n" <<<"$1"; }

# shape MODE describes the attack of MODE from the compare CSV: its users
# or requests, connections and seats, for the panels' titles.
shape() {
    tr -d '\r' <"$compare" | awk -F, -v mode="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["mode"] == mode {
            if (mode == "burst")
                printf "%d users at once, %d seats", $col["users"], $col["seats"]
            else
                printf "%d requests over %d connections, %d seats", $col["users"],
                       $col["concurrency"], $col["seats"]
            exit
        }'
}

chartdata compare "$compare"
async=$(cat "$work/data/async.txt")
machine=""
if [ -n "$(json_field "$json" nproc)" ]; then
    machine="$(json_field "$json" nproc) cores, $(json_field "$json" cpu_model)"
fi
burst_shape=$(clean_text "$(shape burst)")
sustained_shape=$(clean_text "$(shape sustained)")
subtitle=$(clean_text "burst: $burst_shape${machine:+ — $machine}")

# render NAME [VARIABLES] runs plots/NAME.gp twice, for PNG and SVG, and
# checks that each file came out and is not empty.
render() {
    local name=$1 vars=${2:-} fmt
    for fmt in png svg; do
        gnuplot -e "fmt='$fmt'; out='$work/out/$name.$fmt'; dir='$work/data'; plotdir='$root/plots'; burst_shape='$burst_shape'; sustained_shape='$sustained_shape'; $vars" \
            "$root/plots/$name.gp"
        [ -s "$work/out/$name.$fmt" ] || { echo "plots.sh: $name.$fmt came out empty" >&2; exit 1; }
    done
    echo "[lab] plots: $name.png, $name.svg"
}

render headline "subtitle='$subtitle'"
render latency
if [ -n "$async" ] && [ -f "$timeline" ] && chartdata timeline "$timeline"; then
    render drain "async='$async'"
else
    echo "[lab] plots: no asynchronous phase with a timeline in $compare: no drain chart"
fi
stale=()
if [ -f "$sweep" ]; then
    chartdata sweep "$sweep"
    sweep_json=${sweep%.csv}.json
    sweep_subtitle=""
    mode=$(json_field "$sweep_json" mode)
    [ -z "$mode" ] ||
        sweep_subtitle="$mode attacks on $(json_field "$sweep_json" seats) seats${machine:+ — $machine}"
    render sweep "phases='$(cat "$work/data/phases.txt")'; subtitle='$(clean_text "$sweep_subtitle")'"
else
    echo "[lab] plots: no sweep results ($sweep): run make sweep for the sweep chart"
    stale+=(sweep.png sweep.svg)
fi

mkdir -p "$out"
for f in "${stale[@]}" drain.png drain.svg; do
    [ -e "$work/out/$f" ] || rm -f "$out/$f"
done
mv "$work/out/"* "$out/"
echo "[lab] plots: charts in ${out#"$root"/}/"
