#!/usr/bin/env bash
# faultplot.sh -- the chart of one fault run: throughput and p99 per 100 ms
# with the fault windows shaded (plots/fault.gp).
#
#   bash scripts/faultplot.sh HISTORY.jsonl CHECK.json OUT.png|OUT.svg
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 3 ] || { echo "usage: scripts/faultplot.sh HISTORY.jsonl CHECK.json OUT.png" >&2; exit 2; }
history=$1 check=$2 out=$3
command -v gnuplot >/dev/null || { echo "faultplot.sh: gnuplot is missing" >&2; exit 1; }
[ -s "$history" ] || { echo "faultplot.sh: no history in $history" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -f "$root/scripts/faultbins.awk" "$history" >"$work/bins.dat"
windows=$(jq -r '[.windows[] | map(tostring) | join(",")] | join(" ")' "$check" 2>/dev/null || true)
title=$(jq -r '"phase \(.phase), \(.faults): \(.check_verdict)"' "$check" 2>/dev/null | tr -d "'" || echo fault)
fmt=${out##*.}
gnuplot -e "fmt='$fmt'; out='$out'; data='$work/bins.dat'; windows='$windows'; title='$title'; plotdir='$root/plots'" \
    "$root/plots/fault.gp"
echo "faultplot: $out"
