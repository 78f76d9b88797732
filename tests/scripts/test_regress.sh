#!/usr/bin/env bash
# test_regress.sh -- tests scripts/regress.sh without any service: its checker
# is fed fixture JSON summaries (a clean phase 3 burst, the same with 3 seats
# oversold, a phase 2 burst that oversells) and must print the right PASS and
# FAIL lines, exit 0, 1 or 2 as documented, and write a JUnit report that
# names the failing figure. Also checks that the real expectations file loads.
set -euo pipefail
cd "$(dirname "$0")/../.."

regress=scripts/regress.sh
conf=regress/expectations.conf
source tests/scripts/lib.sh

# run CMD... runs a command, keeping its stdout in $out, its stderr in $err
# and its exit status in $status.
run() {
    status=0
    "$@" >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
    out=$(cat "$tmp/stdout")
    err=$(cat "$tmp/stderr")
}

# expect_status N says what the last `run` must have exited with.
expect_status() {
    [ "$status" -eq "$1" ] || fail "$2: exit status $status, expected $1 (stderr: $err)"
}

# expect_line PATTERN: some line of the last run's stdout matches the ERE.
expect_line() {
    grep -Eq -- "$1" <<<"$out" || fail "$2: no line matches /$1/ in: $out"
}

# ---------------------------------------------------------------------------
# Fixtures: summaries as build/attack --json prints them
# ---------------------------------------------------------------------------

# summary PHASE SOLD OVERSOLD PHANTOM prints a burst summary of 500 users on 100 seats.
summary() {
    printf '{"verdict":"%s","verdict_text":"x, y","phase":%d,"name":"n","async":false,' \
        "$([ "$3" -eq 0 ] && echo clean || echo BUG)" "$1"
    printf '"event_id":51,"seats":100,"users":500,"attempted":500,"booked":%d,' "$2"
    printf '"errors":0,"sold":%d,"available":0,"oversold":%d,"phantom":%d,' "$2" "$3" "$4"
    printf '"duplicates":0,"booked_decisions":%d,"mismatch":0,"lost":0,"wall_s":2.1}\n' "$2"
}
mkdir -p "$tmp/pass" "$tmp/mixed"
summary 3 100 0 0 >"$tmp/clean3.json"
summary 3 103 3 0 >"$tmp/oversold3.json"
summary 2 500 400 400 >"$tmp/race2.json"
cp "$tmp/race2.json" "$tmp/pass/burst-phase2.json"
cp "$tmp/clean3.json" "$tmp/pass/burst-phase3.json"
cp "$tmp/race2.json" "$tmp/mixed/burst-phase2.json"
cp "$tmp/oversold3.json" "$tmp/mixed/burst-phase3.json"

# ---------------------------------------------------------------------------
# --check: one summary, one line
# ---------------------------------------------------------------------------

run bash "$regress" --check "$conf" 3 burst "$tmp/clean3.json"
expect_status 0 "clean phase 3"
expect_line '^PASS burst phase3: attempted = 500, sold = 100, oversold = 0, phantom = 0' \
    "clean phase 3"

run bash "$regress" --check "$conf" 3 burst "$tmp/oversold3.json"
expect_status 1 "oversold phase 3"
expect_line '^FAIL burst phase3: sold = 103, expected 100; oversold = 3, expected 0 \(passed: ' \
    "oversold phase 3"
grep -q '^PASS' <<<"$out" && fail "oversold phase 3 also printed a PASS line"

run bash "$regress" --check "$conf" 2 burst "$tmp/race2.json"
expect_status 0 "phase 2 oversells"
expect_line '^PASS burst phase2: .*oversold = 400' "phase 2 oversells"

# a phase 2 that stopped overselling is a failure too
run bash "$regress" --check "$conf" 2 burst <(summary 2 100 0 0)
expect_status 1 "phase 2 without its race"
expect_line '^FAIL burst phase2: oversold = 0, expected > 0' "phase 2 without its race"

# the summary of another phase than the one checked
run bash "$regress" --check "$conf" 4 burst "$tmp/clean3.json"
expect_status 1 "wrong phase"
expect_line '^FAIL burst phase4: the summary is of phase 3, expected 4' "wrong phase"

# an attack that said nothing, or something that is not JSON
run bash "$regress" --check "$conf" 3 burst "$tmp/missing.json"
expect_status 1 "missing summary"
expect_line '^FAIL burst phase3: no summary' "missing summary"
echo 'connection refused' >"$tmp/garbage.json"
run bash "$regress" --check "$conf" 3 burst "$tmp/garbage.json"
expect_status 1 "not JSON"
expect_line '^FAIL burst phase3: the summary .* is not one JSON object' "not JSON"

# a figure the summary lacks (reads: only in runs with --reads-per-booking)
run bash "$regress" --check "$conf" 4 reads <(summary 4 100 0 0)
expect_status 1 "missing figure"
expect_line 'reads missing from the summary, expected 1500' "missing figure"

# ---------------------------------------------------------------------------
# --summaries: the whole run without attacking, JUnit included
# ---------------------------------------------------------------------------

run bash "$regress" --summaries "$tmp/mixed" --scenarios burst --phases 2,3 \
    --junit "$tmp/mixed.xml"
expect_status 1 "one of two failing"
expect_line '^PASS burst phase2: ' "one of two failing"
expect_line '^FAIL burst phase3: sold = 103, expected 100; oversold = 3, expected 0' \
    "one of two failing"
expect_line '^regress: 1 passed, 1 failed' "one of two failing"
[ "$(grep -Ec '^(PASS|FAIL) ' <<<"$out")" -eq 2 ] || fail "not one line per run: $out"

xml=$(cat "$tmp/mixed.xml" 2>/dev/null || true)
grep -q '<testsuites name="regress" tests="2" failures="1">' <<<"$xml" ||
    fail "JUnit totals: $xml"
grep -q '<testsuite name="burst" tests="2" failures="1" errors="0" skipped="0">' <<<"$xml" ||
    fail "JUnit suite: $xml"
grep -q '<testcase classname="regress.burst" name="phase2">' <<<"$xml" || fail "JUnit phase2: $xml"
grep -q '<failure type="regression" message="sold = 103, expected 100; oversold = 3, expected 0">' \
    <<<"$xml" || fail "JUnit failure message: $xml"
[ "$(grep -c '<failure ' <<<"$xml")" -eq 1 ] || fail "JUnit: not exactly one failure: $xml"
if command -v python3 >/dev/null; then
    python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' \
        "$tmp/mixed.xml" || fail "JUnit report is not well-formed XML"
fi

# the same with REGRESS_* from the environment, everything passing
status=0
REGRESS_SCENARIOS=burst REGRESS_PHASES=2,3 REGRESS_JUNIT=$tmp/pass.xml \
    bash "$regress" --summaries "$tmp/pass" >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
out=$(cat "$tmp/stdout") err=$(cat "$tmp/stderr")
expect_status 0 "all passing"
expect_line '^regress: 2 passed, 0 failed' "all passing"
grep -q '<testsuites name="regress" tests="2" failures="0">' "$tmp/pass.xml" ||
    fail "JUnit of a passing run: $(cat "$tmp/pass.xml")"
grep -q '<failure' "$tmp/pass.xml" && fail "JUnit of a passing run has a failure"

# a run whose summary is missing fails, and says which file it wanted
run bash "$regress" --summaries "$tmp/pass" --scenarios burst --phases 4 --junit "$tmp/x.xml"
expect_status 1 "missing run"
expect_line "^FAIL burst phase4: no summary \\($tmp/pass/burst-phase4.json not found\\)" \
    "missing run"

# ---------------------------------------------------------------------------
# Bad usage and bad expectations: exit 2
# ---------------------------------------------------------------------------

for args in "--phases 7" "--phases 3,3" "--scenarios nope" "--event x" "--http nowhere" \
    "--bogus" "--junit" "--check $conf 3 burst" "--check $conf 9 burst $tmp/clean3.json" \
    "--check $conf 3 reads $tmp/clean3.json" \
    "--summaries $tmp/mixed --phases 2 --scenarios reads"; do
    read -ra words <<<"$args"
    run bash "$regress" "${words[@]}"
    expect_status 2 "regress.sh $args"
    grep -q 'usage\|regress:' <<<"$err" || fail "regress.sh $args: no message on stderr"
done

# bad_conf TEXT MESSAGE: an expectations file holding TEXT is refused with MESSAGE
bad_conf() {
    printf '%s\n' "$1" >"$tmp/bad.conf"
    run bash "$regress" --check "$tmp/bad.conf" 3 burst "$tmp/clean3.json"
    expect_status 2 "bad expectations ($2)"
    grep -q -- "$2" <<<"$err" || fail "bad expectations: no '$2' in: $err"
}
bad_conf $'scenario burst 3 --users 5\nexpect burst 3 oversold => 0' "bad operator"
bad_conf $'scenario burst 3 --users 5\nexpect burst 4 oversold = 0' "does not run against phase 4"
bad_conf $'scenario burst 3,4 --users 5\nexpect burst 3 oversold = 0' "no expectation for phase 4"
bad_conf $'scenario burst 3 --event 2\nexpect burst 3 oversold = 0' "regress.sh's to set"
bad_conf $'scenario burst 3 --users 5\nexpect burst 3 oversold = lots' "bad value"
bad_conf $'scenario burst 3 --users 5\nexpect burst 3 oversold > true' "true and false"
bad_conf $'scenario burst 3 --users 5\nexpect other 3 oversold = 0' "expect before scenario"
bad_conf $'scenario burst 3 --users 5\nexpect burst 3 oversold = 0\nassert x' "unknown statement"

# a value that is neither a number nor true/false is refused
printf '%s\n' 'scenario burst 3 --users 5' 'expect burst 3 verdict = clean' >"$tmp/word.conf"
run bash "$regress" --check "$tmp/word.conf" 3 burst "$tmp/clean3.json"
expect_status 2 "a word value"

# a good small file: comments, several phases per line, a true/false figure
printf '%s\n' '# a comment' 'scenario burst 2,3 --users 5   # trailing comment' \
    'expect burst 2,3 errors = 0' 'expect burst 3 oversold <= 0' \
    'expect burst 3 async = false' >"$tmp/small.conf"
run bash "$regress" --check "$tmp/small.conf" 3 burst "$tmp/clean3.json"
expect_status 0 "small expectations file"
expect_line '^PASS burst phase3: errors = 0, oversold = 0, async = false$' \
    "small expectations file"
summary 3 100 0 0 | sed 's/"async":false/"async":true/' >"$tmp/async3.json"
run bash "$regress" --check "$tmp/small.conf" 3 burst "$tmp/async3.json"
expect_status 1 "a true/false figure that differs"
expect_line '^FAIL burst phase3: async = true, expected false' "a true/false figure that differs"

echo
finish test_regress
