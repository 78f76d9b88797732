#!/usr/bin/env bash
# table.sh -- prints a table of results as text for the terminal, or as
# Markdown or HTML for the report: the comparison table of a compare CSV
# (one line per attack), or with --sweep the sweep's table (one line per
# phase, one column per number of users, each cell "req/s, p99 ms").
#
#   bash scripts/table.sh [--sweep] FILE.csv [text|md|html]
set -euo pipefail

here=$(dirname "$0")
export LAB_ROOT=${LAB_ROOT:-$(cd "$here/.." && pwd)}   # phases.awk reads phases/phases.list
program=table.awk
if [ "${1:-}" = --sweep ]; then
    program=sweeptable.awk
    shift
fi
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -f "$1" ]; then
    echo "usage: table.sh [--sweep] FILE.csv [text|md|html]" >&2
    exit 2
fi
fmt=${2:-text}
case "$fmt" in
    text|md|html) ;;
    *) echo "table.sh: the format is text, md or html, not '$fmt'" >&2; exit 2 ;;
esac
# tr: a CSV written on Windows would leave a \r on the last column
tr -d '\r' <"$1" | awk -F, -v fmt="$fmt" -v file="$1" -f "$here/phases.awk" -f "$here/$program"
