#!/usr/bin/env bash
# test_plots.sh -- tests scripts/plots.sh without any service: on the small
# fixture run of tests/fixtures/compare it must make every chart, as a real
# PNG and a real SVG, not empty, with the phases named and the bugs marked;
# without a sweep file it must skip only the sweep chart (and remove an old
# one); bad usage exits 2 and missing results exit 1.
set -euo pipefail
cd "$(dirname "$0")/../.."

fixture=tests/fixtures/compare
source tests/scripts/lib.sh

# is_png and is_svg check a file's first bytes, not only its name.
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_svg() { grep -q '<svg' "$1" && grep -q '</svg>' "$1"; }

# --- every chart from the full fixture --------------------------------------
run bash scripts/plots.sh --compare "$fixture/compare.csv" --sweep "$fixture/sweep.csv" --out "$tmp/all"
[ "$status" -eq 0 ] || fail "plots.sh on the fixture exited $status: $out"
for chart in headline latency drain sweep; do
    png=$tmp/all/$chart.png
    svg=$tmp/all/$chart.svg
    [ -s "$png" ] || fail "$chart.png is missing or empty"
    [ -s "$svg" ] || fail "$chart.svg is missing or empty"
    [ ! -s "$png" ] || is_png "$png" || fail "$chart.png is not a PNG"
    [ ! -s "$svg" ] || is_svg "$svg" || fail "$chart.svg is not an SVG"
    # a chart of a few points is still several kilobytes: an empty plot is not
    [ ! -s "$png" ] || [ "$(stat -c %s "$png")" -gt 5000 ] || fail "$chart.png is suspiciously small"
done

# The SVGs hold their text: phase names, titles, the sweep's bug marks.
if [ -s "$tmp/all/headline.svg" ]; then
    for label in "2 unsafe" "3 lock" "4 redis" "5 kafka" "6 combined" "Test CPU 9000" \
                 "oversold: tickets beyond the seats"; do
        grep -q "$label" "$tmp/all/headline.svg" || fail "headline.svg does not show '$label'"
    done
fi
if [ -s "$tmp/all/latency.svg" ]; then
    for label in p50 p90 p99 max "500 users at once, 100 seats" "5000 requests over 50 connections"; do
        grep -q "$label" "$tmp/all/latency.svg" || fail "latency.svg does not show '$label'"
    done
fi
if [ -s "$tmp/all/drain.svg" ]; then
    # only the asynchronous phases (5, 6) are drawn, not phase 2's timeline
    grep -q "5 kafka accepted" "$tmp/all/drain.svg" || fail "drain.svg has no '5 kafka accepted'"
    grep -q "6 combined decided" "$tmp/all/drain.svg" || fail "drain.svg has no '6 combined decided'"
    ! grep -q "2 unsafe" "$tmp/all/drain.svg" || fail "drain.svg shows the synchronous phase 2"
fi
if [ -s "$tmp/all/sweep.svg" ]; then
    grep -q "audit: BUG" "$tmp/all/sweep.svg" || fail "sweep.svg does not mark the bugs"
    grep -q "concurrent users" "$tmp/all/sweep.svg" || fail "sweep.svg has no axis label"
fi

# --- no sweep file: no sweep chart, and an old one is removed ----------------
mkdir -p "$tmp/nosweep"
echo stale >"$tmp/nosweep/sweep.png"
run bash scripts/plots.sh --compare "$fixture/compare.csv" --sweep "$tmp/none.csv" --out "$tmp/nosweep"
[ "$status" -eq 0 ] || fail "plots.sh without a sweep exited $status: $out"
[[ $out == *"make sweep"* ]] || fail "plots.sh without a sweep does not say to run make sweep: $out"
[ ! -e "$tmp/nosweep/sweep.png" ] || fail "a stale sweep.png was left in place"
[ -s "$tmp/nosweep/headline.png" ] || fail "without a sweep, headline.png was not made"

# --- bad usage and missing results -------------------------------------------
run bash scripts/plots.sh --bogus
[ "$status" -eq 2 ] || fail "an unknown option exited $status, not 2"
[[ $out == *usage:* ]] || fail "an unknown option printed no usage: $out"
run bash scripts/plots.sh --out
[ "$status" -eq 2 ] || fail "--out without a value exited $status, not 2"
run bash scripts/plots.sh --compare "$tmp/missing.csv" --out "$tmp/x"
[ "$status" -eq 1 ] || fail "missing results exited $status, not 1"
[[ $out == *"make compare"* ]] || fail "missing results do not say to run make compare: $out"
echo "a,b" >"$tmp/other.csv"
run bash scripts/plots.sh --compare "$tmp/other.csv" --out "$tmp/y"
[ "$status" -ne 0 ] || fail "a CSV of other columns was plotted"
[[ $out == *"no column"* ]] || fail "a CSV of other columns: no word of the missing column: $out"

finish test_plots
