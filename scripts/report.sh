#!/usr/bin/env bash
# report.sh -- what `make report` runs (and `make plots` second): one page
# of every result there is, written from the results files and the charts,
# never by hand:
#
#   REPORT.md    the page in Markdown (the charts linked)
#   REPORT.html  the same as one self-contained page: the charts inlined
#                as data: URIs, the style inline, nothing fetched
#
#   bash scripts/report.sh [--results DIR] [--charts DIR] [--matrix FILE.md]
#                          [--compare FILE.csv] [--sweep FILE.csv]
#                          [--sections LIST] [--out DIR]
#
# A section per kind of result, the latest of each: the phases compared
# (make compare, its charts by make plots), why the tickets went wrong
# (the harness's explanations), the live page's last state (make live
# LIVE_SAVE=1), the sweep, open loop, the bench ratios, the strategy
# matrix, the fault matrix with fault charts, the zoo of planted bugs.
# Each says the command that makes it and the run's environment (when,
# revision, machine, versions, as the run recorded them); a section whose
# results are missing says which make target produces them.
#
#   --results   the results folder (results/; env REPORT_RESULTS_DIR)
#   --charts    make plots' and make nemesis' charts (plots/out/; env
#               REPORT_CHARTS_DIR)
#   --matrix    make matrix's table, its .png and .json beside it
#               (docs/matrix.md; env REPORT_MATRIX)
#   --compare   the comparison (default: latest-compare.csv of the results,
#               else the newest compare-<stamp>.csv); --sweep likewise
#   --sections  the sections to write, comma-separated ids (default all:
#               compare,explain,live,sweep,openloop,bench,matrix,faults,zoo;
#               env REPORT_SECTIONS)
#   --out       where REPORT.md and REPORT.html go (results/); the charts
#               the report draws itself go to its report-charts/ folder
#
# Missing results never fail the report: exit 0, 1 when it cannot be
# written (jq missing), 2 on bad usage.
set -euo pipefail
source "$(dirname "$0")/compare-lib.sh"   # json_field, LAB_ROOT
source "$LAB_ROOT/scripts/report-lib.sh"
source "$LAB_ROOT/scripts/report-sections.sh"

results=${REPORT_RESULTS_DIR:-$LAB_ROOT/results}
charts=${REPORT_CHARTS_DIR:-$LAB_ROOT/plots/out}
matrix_md=${REPORT_MATRIX:-$LAB_ROOT/docs/matrix.md}
sections=${REPORT_SECTIONS:-all}
compare=""
sweep=""
out=$LAB_ROOT/results

# usage says how to call the script, on bad usage (exit 2).
usage() {
    echo "usage: report.sh [--results DIR] [--charts DIR] [--matrix FILE.md] [--compare FILE.csv]" >&2
    echo "                 [--sweep FILE.csv] [--sections LIST] [--out DIR]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --results) [ $# -ge 2 ] || usage; results=$2; shift 2 ;;
        --charts) [ $# -ge 2 ] || usage; charts=$2; shift 2 ;;
        --matrix) [ $# -ge 2 ] || usage; matrix_md=$2; shift 2 ;;
        --compare) [ $# -ge 2 ] || usage; compare=$2; shift 2 ;;
        --sweep) [ $# -ge 2 ] || usage; sweep=$2; shift 2 ;;
        --sections) [ $# -ge 2 ] || usage; sections=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        -h|--help) script_help "$0"; exit 0 ;;
        *) usage ;;
    esac
done
all_ids=$(section_list | cut -d'|' -f1 | paste -sd, -)
[ "$sections" != all ] || sections=$all_ids
IFS=, read -ra wanted <<<"$sections"
for id in "${wanted[@]}"; do
    [[ ,$all_ids, == *,$id,* ]] || { echo "report.sh: no section '$id' (sections: $all_ids)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "report.sh: jq is missing (bash infra/install.sh installs it)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
drawn=$work/report-charts   # moved to $out/report-charts at the end

# wanted_section ID: whether the page has section ID.
wanted_section() { [[ ,$sections, == *,$1,* ]]; }

# ---------------------------------------------------------------------------
# The results, found once for both formats
# ---------------------------------------------------------------------------

# A section is present when its results file is there.
declare -A present
wanted_section compare && find_compare
wanted_section compare && [ -n "$compare" ] && [ -f "$compare" ] && present[compare]=1
wanted_section explain && find_explain
wanted_section live && find_live && [ -n "$live_json" ] && present[live]=1
wanted_section sweep && find_sweep && [ -n "$sweep" ] && [ -f "$sweep" ] && present[sweep]=1
wanted_section openloop && find_openloop && [ -n "$openloop_csv" ] && present[openloop]=1
wanted_section bench && find_bench && [ -n "$bench_json" ] && present[bench]=1
wanted_section matrix && find_matrix && [ -f "$matrix_md" ] && present[matrix]=1
wanted_section faults && find_faults && [ -n "$faults_md" ] && present[faults]=1
wanted_section zoo && find_zoo && [ -n "$zoo_json" ] && present[zoo]=1
# the explanations: the compare run's are written into its section first
compare_explained=()
if wanted_section compare && [ -n "${present[compare]:-}" ] && [ -n "$compare_json" ]; then
    fmt=md compare_explanations >/dev/null
fi
if wanted_section explain; then
    for f in ${explain_files[@]+"${explain_files[@]}"} ${compare_explained[@]+"${compare_explained[@]}"}; do
        present[explain]=1
    done
fi

# What each missing section lacks, in words.
missing_what() {
    case "$1" in
        compare) echo "no comparison of the phases yet" ;;
        explain) echo "no explanation of a BUG yet (the harness writes one for each BUG verdict of a booking run)" ;;
        live) echo "no saved state of the live page (results/live/latest.json)" ;;
        sweep) echo "no sweep results yet" ;;
        openloop) echo "no open-loop results yet" ;;
        bench) echo "no bench results yet" ;;
        matrix) echo "no strategy matrix yet ($(shown "$matrix_md"))" ;;
        faults) echo "no fault matrix yet (results/faults/NAME.md)" ;;
        zoo) echo "no zoo results yet (results/zoo/zoo.json)" ;;
    esac
}
# missing_make: the target, with what else helps.
missing_make() {
    case "$1" in
        sweep) echo "make sweep, then make plots for its chart" ;;
        compare) echo "make compare, then make plots for its charts" ;;
        explain) echo "make phase2 attack, or make compare" ;;
        faults) echo "make faults (one fault: make nemesis PHASE=6 FAULT=kill-service)" ;;
        *) section_list | awk -F'|' -v id="$1" '$1 == id { print $3 }' ;;
    esac
}

generated="Generated by scripts/report.sh (make report) from $(shown "$results") on $(date -u +%Y-%m-%dT%H:%M:%SZ), git $(git_rev)$([ "$(git_dirty)" != true ] || echo ' (with uncommitted changes)'). Do not edit: run make report."

# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------

# contents: the sections, each linked, each saying whether its results are there.
contents() {
    local id title
    if [ "$fmt" = html ]; then echo '<nav id="contents"><h2>Contents</h2><ul>'; else printf '## Contents\n\n'; fi
    while IFS='|' read -r id title _; do
        wanted_section "$id" || continue
        local state=""
        [ -n "${present[$id]:-}" ] || state=" (missing: run $(missing_make "$id"))"
        if [ "$fmt" = html ]; then
            echo "<li><a href=\"#$id\">$(html_escape "$title")</a>$(html_escape "$state")</li>"
        else
            echo "- [$title](#$id)$state"
        fi
    done < <(section_list)
    if [ "$fmt" = html ]; then echo '</ul></nav>'; else echo; fi
}

# body: every wanted section, with its results or what makes them.
body() {
    local id title
    while IFS='|' read -r id title _; do
        wanted_section "$id" || continue
        if [ -n "${present[$id]:-}" ]; then
            section_start "$id" "$title" present
            "section_$id"
        else
            section_start "$id" "$title" missing
            missing "$(missing_what "$id")" "$(missing_make "$id")"
        fi
        section_end
    done < <(section_list)
}

# write_md: the page in Markdown, for reading on a forge or in a terminal.
write_md() {
    echo "# The ticket race lab: the results"
    echo
    echo "_${generated}_"
    echo
    contents
    body
}

# write_html: the same page as HTML, its style inline: the one file to
# mail or open offline.
write_html() {
    cat <<'EOF'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The ticket race lab: the results</title>
<style>
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1240px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bug td { background: #fde2e2; } .meta th { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; } .note { color: #555; font-size: 0.95em; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: 0.6em 0.9em; white-space: pre-wrap; }
p.missing { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.5em 0.8em; }
section.missing h2 { color: #777; }
nav ul { columns: 2; } code { background: #f2f2f2; padding: 0 0.2em; }
.seatgrid { display: flex; flex-wrap: wrap; gap: 2px; max-width: 520px; margin: 0.5em 0; }
.seatgrid.beyond { max-width: 1000px; }
.seat { display: inline-block; width: 14px; height: 14px; border-radius: 2px; background: #e3e3e3; }
.seat.s1 { background: #2b8a3e; } .seat.s2 { background: #d6336c; } .seat.sx { background: #f08c00; }
.legend .seat { vertical-align: middle; margin-left: 0.8em; }
svg.chart { display: block; margin: 0.6em 0; border: 1px solid #eee; max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>The ticket race lab: the results</h1>
EOF
    echo "<p class=\"note\"><em>$(html_escape "$generated")</em></p>"
    contents
    body
    echo "</body>"
    echo "</html>"
}

# Both files are written beside their final names and renamed at the end:
# a failed run leaves the previous report whole.
fmt=md write_md >"$out/REPORT.md.tmp"
fmt=html write_html >"$out/REPORT.html.tmp"
rm -rf "$out/report-charts"
if [ -d "$drawn" ]; then
    mv "$drawn" "$out/report-charts"
fi
mv "$out/REPORT.md.tmp" "$out/REPORT.md"
mv "$out/REPORT.html.tmp" "$out/REPORT.html"
n_present=0
for id in "${wanted[@]}"; do [ -z "${present[$id]:-}" ] || n_present=$((n_present + 1)); done
echo "[lab] report: $(shown "$out")/REPORT.md and REPORT.html ($n_present of ${#wanted[@]} sections with results)"
