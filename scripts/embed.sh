#!/usr/bin/env bash
# embed.sh -- a text file as a C string, for a page the harness serves
# (mk/live.mk: harness/live_page.html -> live_page_html[]).
#
#   bash scripts/embed.sh NAME FILE > FILE.c
#
# Each line becomes one string literal ending in "\n"; backslashes, double
# quotes, tabs and question marks (so that no trigraph forms) are escaped.
set -euo pipefail
name=${1:?usage: embed.sh NAME FILE}
file=${2:?usage: embed.sh NAME FILE}
[ -r "$file" ] || { echo "embed.sh: cannot read $file" >&2; exit 2; }
echo "/* generated from $file by scripts/embed.sh: do not edit */"
echo "#include <stddef.h>"
echo
echo "const char $name[] ="
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/\t/\\t/g' \
    -e 's/^/    "/' -e 's/$/\\n"/' "$file"
echo '    "";'
echo "const size_t ${name}_len = sizeof $name - 1;"
