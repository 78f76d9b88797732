#!/usr/bin/env bash
# bench-plot.sh -- what `make bench-plot` runs: the chart of a make bench run
# (ratio to the limit per measure) as PNG and SVG, plots/out/bench.{png,svg}.
#
#   bash scripts/bench-plot.sh [FILE.csv] [--out DIR]
#
# FILE defaults to the newest results/bench-*.csv. Rows without a limit
# that means a ceiling (the RSS and the burst latency) are left out.
set -euo pipefail
source "$(dirname "$0")/../infra/common.sh"

csv=
out=$LAB_ROOT/plots/out
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench-plot.sh: unknown option '$1'" >&2; exit 2 ;;
        *) csv=$1; shift ;;
    esac
done
if [ -z "$csv" ]; then
    csv=$(ls -t "$LAB_ROOT"/results/bench-*.csv 2>/dev/null | head -n 1 || true)
fi
[ -n "$csv" ] && [ -f "$csv" ] || { echo "bench-plot.sh: no results/bench-*.csv: run make bench" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -F, 'NR > 1 && $8 != "" && $5 != "MiB" && $5 != "ms" {
    # the phase colours of plots/style.gp, as numbers (0xRRGGBB)
    color = $1 == 3 ? 2062260 : $1 == 4 ? 2924588 : $1 == 5 ? 16744206 : $1 == 6 ? 9725885 : 5592405
    printf "\"%s %s, %s conns\" %s %d\n", ($1 ~ /^[0-9]+$/ ? "phase " $1 ":" : $1 ":"), $2, $3, $8, color
}' "$csv" >"$tmp/bench.dat"
[ -s "$tmp/bench.dat" ] || { echo "bench-plot.sh: no ratios in $csv" >&2; exit 1; }
for fmt in png svg; do
    gnuplot -e "plotdir='$LAB_ROOT/plots'; dir='$tmp'; fmt='$fmt'; out='$out/bench.$fmt'; subtitle='$(basename "$csv" .csv)'" \
        "$LAB_ROOT/plots/bench.gp"
done
echo "bench-plot.sh: $out/bench.png and .svg from ${csv#"$LAB_ROOT"/}"
