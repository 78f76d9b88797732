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
# The columns by position (phase, measure, connections, figure, unit, limit,
# limit_is, ratio, then p99_ms in newer runs); a field in double quotes may
# hold a comma (the demo workload's measure).
awk '
function csv_split(line, f,    n, i, c, cur, q) {
    n = 0; cur = ""; q = 0
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (q && c == "\"" && substr(line, i + 1, 1) == "\"") { cur = cur c; i++ }
        else if (c == "\"") q = !q
        else if (c == "," && !q) { f[++n] = cur; cur = "" }
        else cur = cur c
    }
    f[++n] = cur
    return n
}
NR > 1 && csv_split($0, f) >= 8 && f[8] != "" && f[5] != "MiB" && f[5] != "ms" {
    # the phase colours of plots/style.gp, as numbers (0xRRGGBB)
    color = f[1] == 3 ? 2062260 : f[1] == 4 ? 2924588 : f[1] == 5 ? 16744206 : f[1] == 6 ? 9725885 : 5592405
    gsub(/"/, "", f[2])
    printf "\"%s %s, %s conns\" %s %d\n", (f[1] ~ /^[0-9]+$/ ? "phase " f[1] ":" : f[1] ":"), f[2], f[3], f[8], color
}' "$csv" >"$tmp/bench.dat"
[ -s "$tmp/bench.dat" ] || { echo "bench-plot.sh: no ratios in $csv" >&2; exit 1; }
for fmt in png svg; do
    gnuplot -e "plotdir='$LAB_ROOT/plots'; dir='$tmp'; fmt='$fmt'; out='$out/bench.$fmt'; subtitle='$(basename "$csv" .csv)'" \
        "$LAB_ROOT/plots/bench.gp"
done
echo "bench-plot.sh: $out/bench.png and .svg from ${csv#"$LAB_ROOT"/}"
