#!/usr/bin/env bash
# test_report_page.sh -- `make report` (scripts/report.sh) in a real
# browser. The test makes a small set of results of every kind in a scratch
# folder (the compare fixture, an explanation, the live page's last state,
# open loop, bench, the strategy matrix, a fault matrix with a run's
# history, the zoo; an older file of some kinds, which the report must not
# pick), writes the report from it, and loads REPORT.html in headless
# Chromium: every section is in the DOM with its id and its results, every
# image decodes (a script added to a copy of the page writes each image's
# naturalWidth into the DOM), the seat grid has a cell per seat and per
# ticket beyond the seats. A report from no results at all must have every
# section, each saying which make target produces it. A screenshot of the
# page goes to results/report-page.png. No service needed; skipped without
# Chromium (infra/install.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh

if ! command -v chromium >/dev/null; then
    echo "test_report_page: skipped: no chromium (bash infra/install.sh installs it)"
    exit 0
fi
sections="compare explain live sweep openloop bench matrix faults zoo"
fixture=tests/fixtures/compare
res=$tmp/results
charts=$tmp/charts
mkdir -p "$res/faults/runs" "$res/zoo" "$res/live" "$charts"

# dom HTML: the page's DOM after its scripts ran, from headless Chromium.
dom() {
    timeout 120 chromium --no-sandbox --headless --disable-gpu --virtual-time-budget=5000 \
        --dump-dom "file://$1" 2>/dev/null
}

# checked HTML OUT: a copy of the page with a script that writes, once the
# page has loaded, each image's decoded width into the DOM, and how many
# images there are and how many decoded.
checked() {
    sed 's|</body>|<script>window.addEventListener("load", function () { var ok = 0; for (var i = 0; i < document.images.length; i++) { var im = document.images[i]; im.setAttribute("data-natural-width", im.naturalWidth); if (im.complete \&\& im.naturalWidth > 0) ok++; } var d = document.createElement("div"); d.id = "imgcheck"; d.setAttribute("data-images", document.images.length); d.setAttribute("data-decoded", ok); document.body.appendChild(d); });</script></body>|' \
        "$1" >"$2"
}

# --- the fixture results ------------------------------------------------------------
# the compare run, with run ids, and the explanation of its phase 2 burst
cp "$fixture/compare.csv" "$res/latest-compare.csv"
cp "$fixture/compare-timeline.csv" "$res/latest-compare-timeline.csv"
jq '.files.runs = [{"phase": 2, "mode": "burst", "run_id": "cfixp2b"}, {"phase": 2, "mode": "sustained", "run_id": "cfixp2s"}]' \
    "$fixture/compare.json" >"$res/latest-compare.json"
jq -n '{runId: "cfixp2b", phase: 2, text: "382 decrements lost: 482 bookings read only 100 distinct values;\n17 of them read 67 and all wrote 66"}' \
    >"$res/cfixp2b-explain.json"
# another run's explanation, for the section of its own
jq -n '{runId: "m2x2", phase: 2, verdict_text: "OVERSOLD by 99 seats",
        text: "the 2 bookings that read 41 ran on two instances: srv-a & srv-b, each <mutex> its own"}' \
    >"$res/m2x2-explain.json"
cp "$fixture/sweep.csv" "$res/latest-sweep.csv"
cp "$fixture/sweep.json" "$res/latest-sweep.json"
bash scripts/plots.sh --compare "$res/latest-compare.csv" --sweep "$res/latest-sweep.csv" --out "$charts" >/dev/null
# open loop: the newer file must win
printf 'phase,loop,rate,req_per_s,p50_us,p99_us,p999_us,p9999_us\n3,closed,0,999.0,1000,2000,3000,4000\n' \
    >"$res/openloop-20261101T000000Z.csv"
printf 'phase,loop,rate,req_per_s,p50_us,p99_us,p999_us,p9999_us\n3,closed,0,1077.1,40576,110336,158208,208384\n3,open,538,538.1,1772,3080,5520,8345\n' \
    >"$res/openloop-20261201T000000Z.csv"
# bench: the newer run, its CSV beside its JSON (the report draws its chart)
for stamp in 20261101T000000Z 20261201T000000Z; do
    ratio=0.11
    [ "$stamp" = 20261101T000000Z ] || ratio=0.85
    printf 'phase,measure,connections,figure,unit,limit,limit_is,ratio,p99_ms\n3,bookings/s,8,1334.6,req/s,1566.4,pgbench same tx,%s,24.51\n4,sold-out answers/s,50,52886.8,req/s,125213,wrk /healthz,0.42,1.72\n' \
        "$ratio" >"$res/bench-fix-$stamp.csv"
    jq -n --arg r "$ratio" '{name: "bench-fix", label: "fix", bin_dir: "build", batch: "",
        environment: {cpu: "Test CPU 9000", cores: 2, kernel: "6.1.0-test", git: "abc1234", memory_mib: 8192,
                      postgresql: "15.18", redis: "v=7.0.15", kafka: "3.9.1", librdkafka: "2.0.2", libmicrohttpd: "0.9.75"},
        rows: [{phase: "3", measure: "bookings/s", connections: "8", figure: 1334.6, unit: "req/s", limit: 1566.4,
                limit_is: "pgbench same tx", ratio: ($r | tonumber), p99_ms: 24.51},
               {phase: "4", measure: "sold-out answers/s", connections: "50", figure: 52886.8, unit: "req/s",
                limit: 125213, limit_is: "wrk /healthz", ratio: 0.42, p99_ms: 1.72}]}' >"$res/bench-fix-$stamp.json"
done
# the strategy matrix: its table, chart and metadata side by side
cat >"$tmp/matrix.md" <<'EOF'
# The strategy matrix

Generated by `make matrix` (scripts/matrix.sh) on 2026-12-01T00:00Z, git abc1234.

## Who oversells

| strategy (phase) | burst x1 | burst x2 |
|---|---:|---:|
| local-mutex (2) | ok | **OVERSOLD 99** |
| atomic (3) | ok | ok |
EOF
cp "$charts/latency.png" "$tmp/matrix.png"
jq -n '{kind: "matrix", started: "2026-12-01T00:00:00Z", stamp: "20261201T000000Z", git_rev: "abc1234",
        machine: {nproc: 2, cpu_model: "Test CPU 9000", kernel: "Linux 6.1.0-test", memory_mib: 8192},
        versions: {postgresql: "15.18", redis: "7.0.15", kafka: "3.9.1", librdkafka: "2.0.2", libmicrohttpd: "0.9.75"}}' \
    >"$tmp/matrix.json"
# a fault matrix of one run, whose chart the report draws from its history
cat >"$res/faults/matrix.md" <<'EOF'
| phase | fault | oversold | lost | duplicated | false conf. | drift | undersold | availability | recover | verdict |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
| 3 | kill-service | 0 | 0 | 0 | 0 | n/a | 0 | 16.3 % | 0.116 s | clean |
EOF
jq -n '{runId: "ffix1p3", phase: 3, faults: "kill-service", windows: [[0.5, 1.0, 1.2]], check_verdict: "clean"}' \
    >"$res/faults/runs/matrix-p3-kill-service.json"
awk 'BEGIN { for (i = 1; i <= 300; i++) {
        t = i * 6000
        printf "{\"requestId\":\"ffix1p3-%d\",\"userId\":%d,\"try\":1,\"invokeUs\":%d,\"completeUs\":%d,\"status\":201,\"outcome\":\"booked\",\"class\":\"ok\",\"answer\":\"booked\",\"ticketId\":%d}\n", i, i, t, t + 4000, i } }' \
    >"$res/ffix1p3-history.jsonl"
# the zoo: one bug caught, one missed
jq -n '[{bug: "for-update", phase: 3, scenario: "attack --users 500 --seats 100", planted: "--without for-update",
         caught: true, clean_without_bug: true, oversold: 400, lost: 0, duplicated: 0, drift: null, phantom: 466,
         undersold: 0, false_confirmations: null, verdict: "OVERSOLD by 400 seats"},
        {bug: "give-back", phase: 4, scenario: "nemesis --fault kill-service", planted: "--without give-back",
         caught: false, clean_without_bug: true, oversold: 0, lost: 0, duplicated: 0, drift: 0, phantom: 0,
         undersold: 0, false_confirmations: 0, verdict: "clean"}]' >"$res/zoo/zoo.json"
# the live page's last state: 20 seats, 26 tickets, values read twice
jq -n '{runId: "lfix", phase: 2, seats: 20, tickets: 26, counter: 7,
        seatHits: [0,0,0,0,0,0,0,0,1,1,2,1,1,3,1,1,2,1,4,1,3],
        verdictText: "OVERSOLD by 6 seats; PHANTOM: counter is 13 off", checkVerdict: null,
        explainText: "13 decrements lost: 26 bookings read only 13 distinct values",
        series: [{t: 0.1, accepted: 5, decided: 5, refused: 0, failed: 0, rps: 50, p99Ms: 20},
                 {t: 0.2, accepted: 26, decided: 26, refused: 0, failed: 0, rps: 210, p99Ms: 41}],
        faultWindows: [[0.12, 0.15]]}' >"$res/live/latest.json"

# --- the full report -------------------------------------------------------------------
export REPORT_RESULTS_DIR=$res REPORT_CHARTS_DIR=$charts REPORT_MATRIX=$tmp/matrix.md
run bash scripts/report.sh --out "$tmp/full"
[ "$status" -eq 0 ] || fail "report.sh exited $status: $out"
grep -q "(9 of 9 sections with results)" <<<"$out" || fail "not every section has its results: $out"
md=$tmp/full/REPORT.md
html=$tmp/full/REPORT.html
[ -s "$md" ] || fail "REPORT.md is missing"
[ -s "$html" ] || fail "REPORT.html is missing"

# the Markdown: the latest file of each kind, the figures, the environment
grep -qF '| 2 unsafe | burst | 482 | 382 | 382 | 0 | 0 | 236 | 2105.3 | - | **BUG** |' "$md" ||
    fail "REPORT.md lacks the compare table"
grep -qF '382 decrements lost: 482 bookings read only 100 distinct values;' "$md" ||
    fail "REPORT.md lacks the explanation of phase 2's burst"
grep -qF 'Phase 2, sustained: no explanation was written for this BUG' "$md" ||
    fail "REPORT.md does not say that phase 2's sustained run has no explanation"
grep -qF 'the 2 bookings that read 41 ran on two instances' "$md" || fail "REPORT.md lacks the other run's explanation"
grep -qF '| 3 | closed | - | 1077 | 40.6 | 110.3 | 158.2 | 208.4 |' "$md" || fail "REPORT.md lacks the newest open loop"
! grep -qF '| 3 | closed | - | 999 |' "$md" || fail "REPORT.md shows an older open loop"
grep -qF '| 3 | bookings/s | 8 | 1334.6 req/s | 1566.4 | pgbench same tx | 0.85x | 24.51 |' "$md" ||
    fail "REPORT.md lacks the newest bench"
grep -qF '| librdkafka | 2.0.2 |' "$md" || fail "REPORT.md lacks the bench's librdkafka"
grep -qF '| memory | 8 GiB |' "$md" || fail "REPORT.md lacks the bench's memory"
grep -qF '| local-mutex (2) | ok | **OVERSOLD 99** |' "$md" || fail "REPORT.md lacks the strategy matrix"
grep -qF '| 3 | kill-service | 0 | 0 | 0 | 0 | n/a | 0 | 16.3 % | 0.116 s | clean |' "$md" || fail "REPORT.md lacks the fault matrix"
grep -qF '1 of 2 planted bugs caught with the bug on and clean without it.' "$md" || fail "REPORT.md lacks the zoo's count"
grep -qF '| `--without give-back` | 4 | nemesis --fault kill-service | **MISSED** |' "$md" || fail "REPORT.md lacks the missed bug"
grep -qF '| tickets | 26 (6 beyond the seats) |' "$md" || fail "REPORT.md lacks the live state's tickets"
grep -qxF 'XoXoXooXooXoo.......' "$md" || fail "REPORT.md's seat grid is not the state's"
for target in "make compare" "make matrix" "make faults" "make zoo" "make bench" "make openloop" "make sweep"; do
    grep -qF "Made by \`$target\`" "$md" || fail "REPORT.md does not say that $target makes its section"
done
! grep -q 'Missing' "$md" || fail "REPORT.md says something is missing: $(grep Missing "$md")"
links=$(grep -o '!\[[^]]*\]([^)]*)' "$md" | sed 's/.*(\(.*\))/\1/')
for link in $links; do
    [ -s "$tmp/full/$link" ] || fail "REPORT.md links $link, which is not there"
done
grep -q '(report-charts/ffix1p3-fault.png)' "$md" || fail "REPORT.md lacks the fault chart drawn from the history"
grep -q '(report-charts/bench.png)' "$md" || fail "REPORT.md lacks the bench chart"

# the HTML escapes text, the report's own and the results'
grep -qF 'srv-a &amp; srv-b, each &lt;mutex&gt; its own' "$html" || fail "REPORT.html does not escape an explanation"
grep -qF 'results/live/&lt;run&gt;-state.json' "$html" || fail "REPORT.html does not escape its own words"

# the HTML is self-contained
! grep -Eq '(src|href)="[^d#]' "$html" || fail "REPORT.html refers to an outside file"
! grep -Eiq '@import|url\(|<link ' "$html" || fail "REPORT.html fetches a style or a font"
[ "$(grep -o 'src="data:image/png;base64,' "$html" | wc -l)" -eq 7 ] ||
    fail "REPORT.html does not inline 7 images (headline, latency, drain, sweep, bench, matrix, fault)"

# --- in the browser --------------------------------------------------------------------
checked "$html" "$tmp/full/checked.html"
page=$(dom "$tmp/full/checked.html")
[ -n "$page" ] || fail "Chromium printed no DOM"
for id in $sections; do
    grep -q "<section id=\"$id\" class=\"present\">" <<<"$page" || fail "the DOM lacks section $id with results"
done
images=$(grep -o '<div id="imgcheck" data-images="[0-9]*" data-decoded="[0-9]*"' <<<"$page" || true)
[ "$images" = '<div id="imgcheck" data-images="7" data-decoded="7"' ] ||
    fail "not every image decoded in Chromium: ${images:-no check ran}"
! grep -q 'data-natural-width="0"' <<<"$page" || fail "an image has no width in Chromium"
# 20 seats, 6 tickets beyond them, 4 cells of the legend
[ "$(grep -o '<i class="seat s[012x]"></i>' <<<"$page" | wc -l)" -eq 30 ] ||
    fail "the seat grid has not 20 seats + 6 beyond + 4 in the legend"
[ "$(grep -o '<i class="seat s2"></i>' <<<"$page" | wc -l)" -eq 6 ] ||
    fail "the seat grid has not 5 seats sold twice (+ 1 in the legend)"
grep -q '<svg class="chart"' <<<"$page" || fail "the live state has no chart"
grep -q '<a href="#explain">' <<<"$page" || fail "the contents do not link the sections"

# the check itself sees a broken image: the same page, one PNG's signature
# spoiled
sed '0,/src="data:image\/png;base64,iVBORw0KGgo/s//src="data:image\/png;base64,AAAAAAAAAAA/' \
    "$html" >"$tmp/full/broken.html"
checked "$tmp/full/broken.html" "$tmp/full/broken-checked.html"
images=$(dom "$tmp/full/broken-checked.html" | grep -o '<div id="imgcheck" data-images="[0-9]*" data-decoded="[0-9]*"' || true)
[ "$images" = '<div id="imgcheck" data-images="7" data-decoded="6"' ] ||
    fail "the image check missed a broken image: ${images:-no check ran}"

# the screenshot, for people
mkdir -p results
timeout 120 chromium --no-sandbox --headless --disable-gpu --hide-scrollbars --virtual-time-budget=5000 \
    --screenshot="$PWD/results/report-page.png" --window-size=1280,5200 "file://$html" >/dev/null 2>&1 || true
[ "$(head -c 8 results/report-page.png 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "no screenshot in results/report-page.png"

# --- no results at all: every section says what makes it ---------------------------------
run env REPORT_RESULTS_DIR="$tmp/none" REPORT_CHARTS_DIR="$tmp/none" REPORT_MATRIX="$tmp/none/matrix.md" \
    bash scripts/report.sh --out "$tmp/empty"
[ "$status" -eq 0 ] || fail "report.sh without results exited $status: $out"
grep -q "(0 of 9 sections with results)" <<<"$out" || fail "a report without results says: $out"
[ "$(grep -c '^\*\*Missing:\*\* .*: run make ' "$tmp/empty/REPORT.md")" -eq 9 ] ||
    fail "REPORT.md without results has not 9 sections saying which make target makes them"
page=$(dom "$tmp/empty/REPORT.html")
for id in $sections; do
    grep -q "<section id=\"$id\" class=\"missing\">" <<<"$page" || fail "the empty report's DOM lacks section $id"
done
for target in "make compare" "make phase2 attack" "make live PHASE=2 LIVE_SAVE=1" "make sweep" "make openloop" \
    "make bench" "make matrix" "make faults" "make zoo"; do
    grep -q "<p class=\"missing\" data-make=\"${target}[^\"]*\">" <<<"$page" ||
        fail "the empty report does not say to run $target"
done
! grep -q '<img' <<<"$page" || fail "the empty report shows an image"

# --- some results: the rest still says what makes it ------------------------------------
mkdir -p "$tmp/some"
cp "$res/latest-compare.csv" "$res/latest-compare.json" "$tmp/some/"
run env REPORT_RESULTS_DIR="$tmp/some" REPORT_CHARTS_DIR="$tmp/none" REPORT_MATRIX="$tmp/none/matrix.md" \
    bash scripts/report.sh --out "$tmp/some-out" --sections compare,explain,zoo
[ "$status" -eq 0 ] || fail "report.sh with some results exited $status: $out"
grep -q "(1 of 3 sections with results)" <<<"$out" || fail "a report of three sections says: $out"
grep -qF 'Phase 2, burst: no explanation was written for this BUG' "$tmp/some-out/REPORT.md" ||
    fail "without its explanation file, phase 2's burst is not said to have none"
grep -q '^\*\*Missing:\*\* no zoo results yet (results/zoo/zoo.json): run make zoo\.$' "$tmp/some-out/REPORT.md" ||
    fail "the zoo's section does not say to run make zoo"
! grep -q 'id="bench"' "$tmp/some-out/REPORT.html" || fail "--sections let another section in"
run bash scripts/report.sh --sections compare,nope --out "$tmp/bad"
[ "$status" -eq 2 ] || fail "an unknown section exited $status, not 2"

finish test_report_page
