#!/usr/bin/env bash
# test_report.sh -- tests the report generator (scripts/report.sh) and the
# table it shares with the terminal (scripts/table.sh) without any service:
# on the fixture run of tests/fixtures/compare the report must carry the
# fixture's own figures in its table, its metadata, its sweep, and its
# charts (linked from REPORT.md, inlined in a self-contained REPORT.html);
# a missing sweep is said, a missing comparison too (without failing), and
# bad usage exits 2. The other sections of the report read an empty results
# folder here (tests/scripts/test_report_page.sh tests them).
set -euo pipefail
cd "$(dirname "$0")/../.."

fixture=tests/fixtures/compare
source tests/scripts/lib.sh
export REPORT_RESULTS_DIR=$tmp/no-results REPORT_MATRIX=$tmp/no-results/matrix.md

# has FILE LINE: FILE holds LINE as a whole line.
has() {
    grep -qxF -- "$2" "$1" || fail "${1##*/} lacks the line: $2"
}

# --- the terminal table --------------------------------------------------------
run bash scripts/table.sh "$fixture/compare.csv"
[ "$status" -eq 0 ] || fail "table.sh exited $status: $out"
echo "$out" >"$tmp/table.txt"
has "$tmp/table.txt" "2 unsafe     burst        482      382     382    0      0     236   2105.3       - BUG"
has "$tmp/table.txt" "5 kafka      burst        100        0       0    0      0    2328    201.2    2.71 clean"
has "$tmp/table.txt" "6 combined   burst        100        0       0    0      3    7986     58.5    2.12 clean"
[ "$(wc -l <"$tmp/table.txt")" -eq 11 ] || fail "the table has not 1 header + 10 runs"
run bash scripts/table.sh "$fixture/compare.csv" pdf
[ "$status" -eq 2 ] || fail "table.sh with format pdf exited $status, not 2"

# --- the report, with charts made from the same fixture ----------------------------
bash scripts/plots.sh --compare "$fixture/compare.csv" --sweep "$fixture/sweep.csv" \
    --out "$tmp/charts" >/dev/null
run bash scripts/report.sh --compare "$fixture/compare.csv" --sweep "$fixture/sweep.csv" \
    --charts "$tmp/charts" --out "$tmp/out"
[ "$status" -eq 0 ] || fail "report.sh exited $status: $out"
md=$tmp/out/REPORT.md
html=$tmp/out/REPORT.html
[ -s "$md" ] || fail "REPORT.md is missing"
[ -s "$html" ] || fail "REPORT.html is missing"

if [ -s "$md" ]; then
    # the table, with the fixture's figures
    has "$md" "| phase | run | booked | oversold | phantom | lost | failed | req/s | p99 ms | drain s | verdict |"
    has "$md" "| 2 unsafe | burst | 482 | 382 | 382 | 0 | 0 | 236 | 2105.3 | - | **BUG** |"
    has "$md" "| 2 unsafe | sustained | 793 | 693 | 690 | 0 | 0 | 2145 | 363.5 | - | **BUG** |"
    has "$md" "| 3 lock | burst | 100 | 0 | 0 | 0 | 0 | 227 | 2197.8 | - | clean |"
    has "$md" "| 5 kafka | sustained | 100 | 0 | 0 | 0 | 0 | 5673 | 22.1 | 5.56 | clean |"
    # the metadata, from the fixture's JSON
    has "$md" "| started | 2026-11-25T09:01:30Z |"
    has "$md" "| revision | abc1234 |"
    has "$md" "| machine | 2 CPUs (nproc), Test CPU 9000, Linux 6.1.0-test |"
    has "$md" "| PostgreSQL | 15.18 |"
    has "$md" "| Kafka | 3.9.1 (kafka_2.13-3.9.1.jar) |"
    has "$md" "| burst | 500 users at once on 100 seats (event 1) |"
    has "$md" "| sustained | 5000 requests over 50 connections, 100 seats |"
    # the sweep: users in increasing order though the fixture shuffles them
    has "$md" "| phase | 50 users | 200 users | 800 users |"
    has "$md" "| 2 unsafe | 931, 351.2 **BUG** | 938, 2084.9 **BUG** | 1800, 2011.1 **BUG** |"
    has "$md" "| 6 combined | 30806, 14.6 | 19252, 50.8 | 26792, 112.9 |"
    # every chart is linked, and each link leads to the chart
    links=$(grep -o '!\[[^]]*\]([^)]*)' "$md" | sed 's/.*(\(.*\))/\1/')
    [ "$(echo "$links" | grep -c .)" -eq 4 ] || fail "REPORT.md links $(echo "$links" | grep -c .) charts, not 4"
    for link in $links; do
        [ -s "$tmp/out/$link" ] || fail "REPORT.md links $link, which is not there"
    done
    ! grep -q "No chart" "$md" || fail "REPORT.md says a chart is missing"
    # the headline's caption names the phases off the zero line, from the data
    grep -q "Off the zero line in this run: 2 unsafe\.$" "$md" ||
        fail "the headline's caption does not name phase 2 alone as off the zero line"
fi

if [ -s "$html" ]; then
    grep -q '<tr class="bug"><td>2 unsafe</td><td>burst</td><td class="num">482</td><td class="num">382</td>' "$html" ||
        fail "REPORT.html lacks phase 2's burst row, marked as a bug"
    grep -q '<td>2 CPUs (nproc), Test CPU 9000, Linux 6.1.0-test</td>' "$html" || fail "REPORT.html lacks the machine"
    [ "$(grep -o 'src="data:image/png;base64,' "$html" | wc -l)" -eq 4 ] ||
        fail "REPORT.html does not inline the 4 charts"
    # self-contained: no image, style or script fetched from elsewhere
    ! grep -Eq '(src|href)="[^d#]' "$html" || fail "REPORT.html refers to an outside file"
    # the inlined PNG is the chart itself, byte for byte
    sed -n 's/.*src="data:image\/png;base64,\([^"]*\)".*/\1/p' "$html" | head -n 1 |
        base64 -d >"$tmp/first.png" 2>/dev/null || true
    cmp -s "$tmp/first.png" "$tmp/charts/headline.png" || fail "the first inlined image is not headline.png"
fi

# --- no sweep and no charts: the report says so ---------------------------------------
run bash scripts/report.sh --compare "$fixture/compare.csv" --sweep "$tmp/none.csv" \
    --charts "$tmp/empty" --out "$tmp/bare"
[ "$status" -eq 0 ] || fail "report.sh without sweep and charts exited $status: $out"
grep -q "no sweep results yet: run make sweep" "$tmp/bare/REPORT.md" ||
    fail "a report without a sweep does not say to run make sweep"
has "$tmp/bare/REPORT.md" "| 2 unsafe | burst | 482 | 382 | 382 | 0 | 0 | 236 | 2105.3 | - | **BUG** |"

# --- bad usage and missing results -------------------------------------------
run bash scripts/report.sh --nope
[ "$status" -eq 2 ] || fail "an unknown option exited $status, not 2"
run bash scripts/report.sh --compare "$tmp/missing.csv" --out "$tmp/z"
[ "$status" -eq 0 ] || fail "missing results exited $status, not 0"
grep -qx '\*\*Missing:\*\* no comparison of the phases yet: run make compare, then make plots for its charts\.' \
    "$tmp/z/REPORT.md" || fail "a report without a comparison does not say to run make compare"

finish test_report
