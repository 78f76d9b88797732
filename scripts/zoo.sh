#!/usr/bin/env bash
# zoo.sh -- the zoo of planted bugs (`make zoo`, docs/zoo.md). For every bug
# of regress/zoo.conf, the scenario or fault that exposes it runs twice: with
# the bug planted (a safeguard switched off by the service's --without, or a
# planted --strategy) and without it. A bug is caught when the audit or the
# checker says BUG with it on; its row is sound when the same run without it
# is clean. A bug the checker misses is a defect of the checker, and this
# script fails until it is fixed.
#
#   bash scripts/zoo.sh [--fast] [--bugs NAME,NAME] [--conf FILE] [--out DIR]
#                       [--no-docs]
#
#   --fast      only the rows marked fast (what `make regress` runs)
#   --bugs      only these bugs
#   --tables    run nothing: write the tables again from DIR/zoo.json
#   --no-docs   leave docs/zoo.md's table as it is (the default with --fast,
#               --bugs, --conf or --out: only a full run rewrites the docs)
#
# Writes DIR/zoo.json (default results/zoo, with --fast results/zoo/fast:
# one object per bug) and DIR/zoo.md
# (the table); a full run also puts the table into docs/zoo.md between its
# markers. Prints PASS or FAIL per bug. Exit status: 0 every bug caught and
# every run without it clean, 1 otherwise, 2 bad usage or a bad conf.
set -euo pipefail
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$LAB_ROOT/scripts/compare-lib.sh"   # common.sh, write_metadata

conf=$LAB_ROOT/regress/zoo.conf
out=
fast=false
only=
docs=true
tables_only=false
while [ $# -gt 0 ]; do
    case $1 in
        --fast) fast=true; docs=false; shift ;;
        --bugs) only=,${2:?--bugs needs a list},; docs=false; shift 2 ;;
        --conf) conf=${2:?}; docs=false; shift 2 ;;
        --out) out=${2:?}; docs=false; shift 2 ;;
        --no-docs) docs=false; shift ;;
        --tables) tables_only=true; shift ;;
        -h | --help) script_help "$0"; exit 0 ;;
        *) echo "zoo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
# the fast half (make regress) keeps its figures apart: results/zoo/ holds
# the last full run, which docs/zoo.md quotes
[ -n "$out" ] || if $fast; then out=$LAB_ROOT/results/zoo/fast; else out=$LAB_ROOT/results/zoo; fi
command -v jq >/dev/null || die "zoo.sh needs jq (infra/install.sh installs it)"
[ -r "$conf" ] || { echo "zoo.sh: cannot read $conf" >&2; exit 2; }
mkdir -p "$out/runs"

# ---------------------------------------------------------------------------
# The conf: "bug NAME PHASE SPEED RUNNER | ON | OFF | ARGS" (regress/zoo.conf)
# ---------------------------------------------------------------------------

rows=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line=${line%%#*}
    [[ $line =~ [^[:space:]] ]] || continue
    read -r word name phase speed runner _ <<<"${line%%|*}"
    if [ "$word" != bug ] || ! [[ $name =~ ^[a-z0-9-]+$ ]] || ! lab_is_phase "$phase" ||
        ! [[ $speed =~ ^(fast|slow)$ ]] || ! [[ $runner =~ ^(attack|nemesis)$ ]] ||
        [ "$(tr -cd '|' <<<"$line" | wc -c)" -ne 3 ]; then
        echo "zoo.sh: $conf:$lineno: want 'bug NAME PHASE fast|slow attack|nemesis | ON | OFF | ARGS'" >&2
        exit 2
    fi
    rows+=("$line")
done <"$conf"
[ "${#rows[@]}" -gt 0 ] || { echo "zoo.sh: $conf has no bug" >&2; exit 2; }

# ---------------------------------------------------------------------------
# One run: the harness's JSON summary, the checker's figures in it
# ---------------------------------------------------------------------------

# run_one NAME PHASE RUNNER RUN_ID ARGS...: runs the scenario and prints the
# harness's JSON summary (one line), or nothing when it gave none. Phases 5
# and 6 get a Kafka topic and group of the run's own: a message an earlier
# run left in the queue (a worker killed) must not book into this one.
run_one() {
    local name=$1 phase=$2 runner=$3 run=$4 log
    shift 4
    local topic=()
    case $phase in 5 | 6) topic=(--service-arg --topic --service-arg "lab-zoo-$run"
                                 --service-arg --group --service-arg "lab-zoo-$run") ;; esac
    log=$out/runs/$run.log
    if [ "$runner" = attack ]; then
        bash "$LAB_ROOT/infra/attack.sh" --phase "$phase" ${topic[@]+"${topic[@]}"} \
            --run-id "$run" --json --no-csv "$@" >"$log" 2>&1 || true
    else
        # nemesis.sh makes its own topic and group per run
        NEMESIS_RUN_ID=$run bash "$LAB_ROOT/scripts/nemesis.sh" --phase "$phase" \
            --json --no-csv "$@" >"$log" 2>&1 || true
    fi
    grep '"verdict_text"' "$log" | tail -n 1 || true
}

# figures JSON: the zoo's figures of one summary; the checker's (check_*)
# when a fault was checked, else the audit's.
figures() {
    jq -c '{
        verdict: .verdict,
        verdict_text: .verdict_text,
        check_verdict: (.check_verdict // null),
        caught: (.verdict == "BUG" or .check_bug == true),
        clean: (.verdict == "clean" and (.check_bug // false) == false),
        oversold: (.check_oversold // .oversold),
        lost: (.check_lost // .lost),
        duplicated: (.check_duplicated // .duplicates),
        drift: (.check_drift // .cache_drift),
        phantom: .phantom,
        undersold: (.check_undersold // .undersold),
        false_confirmations: (.check_false_confirmations // null),
        other_runs: .other_runs,
        stuck_claims: .stuck_claims,
        sold: .sold,
        errors: .errors,
        req_per_s: .req_per_s,
        p99_us: .p99_us,
        planted: .planted
    }' <<<"$1"
}

# ---------------------------------------------------------------------------
# Every bug, on and off
# ---------------------------------------------------------------------------

stamp=$(date -u +%Y%m%dT%H%M%SZ)
if $tables_only; then
    [ -s "$out/zoo.json" ] || die "no $out/zoo.json: run make zoo first"
    rows=()
    stamp=$(jq -r '.stamp // empty' "$out/zoo.meta.json" 2>/dev/null || true)
fi
results=$out/zoo.json.tmp
: >"$results"
passed=0
failed=0
for line in "${rows[@]}"; do
    IFS='|' read -r head on off args <<<"$line"
    read -r _ name phase speed runner _ <<<"$head"
    $fast && [ "$speed" != fast ] && continue
    [ -n "$only" ] && [[ $only != *,$name,* ]] && continue
    # shellcheck disable=SC2206 # the conf's words are meant to be split
    on_args=($on) off_args=($off) run_args=($args)
    say "zoo: $name, phase $phase: $runner ${run_args[*]} (bug on: ${on_args[*]})"
    json_on=$(run_one "$name" "$phase" "$runner" "z$(date +%s)${name//-/}on" \
        ${on_args[@]+"${on_args[@]}"} ${run_args[@]+"${run_args[@]}"})
    say "zoo: $name, phase $phase: the same without the bug (${off_args[*]:-the phase defaults})"
    json_off=$(run_one "$name" "$phase" "$runner" "z$(date +%s)${name//-/}off" \
        ${off_args[@]+"${off_args[@]}"} ${run_args[@]+"${run_args[@]}"})
    [ -n "$json_on" ] || json_on='{"verdict":"none","verdict_text":"no summary: see the run log"}'
    [ -n "$json_off" ] || json_off='{"verdict":"none","verdict_text":"no summary: see the run log"}'
    fig_on=$(figures "$json_on")
    fig_off=$(figures "$json_off")
    jq -c -n --arg bug "$name" --argjson phase "$phase" --arg speed "$speed" \
        --arg scenario "$runner ${run_args[*]}" --arg plant "${on_args[*]}" \
        --arg base "${off_args[*]}" --argjson on "$fig_on" --argjson off "$fig_off" '{
            bug: $bug, phase: $phase, speed: $speed, scenario: $scenario,
            planted: $plant, without_bug: $base,
            caught: $on.caught, clean_without_bug: $off.clean,
            oversold: $on.oversold, lost: $on.lost, duplicated: $on.duplicated,
            drift: $on.drift, phantom: $on.phantom, undersold: $on.undersold,
            false_confirmations: $on.false_confirmations, other_runs: $on.other_runs,
            verdict: ($on.check_verdict // $on.verdict_text),
            run_on: $on, run_off: $off
        }' >>"$results"
    row=$(tail -n 1 "$results")
    verdict_on=$(jq -r '.verdict' <<<"$row")
    verdict_off=$(jq -r '.run_off.verdict_text' <<<"$row")
    if jq -e '.caught and .clean_without_bug' >/dev/null <<<"$row"; then
        passed=$((passed + 1))
        echo "PASS  zoo $name phase $phase: caught: $verdict_on; clean without it"
    else
        failed=$((failed + 1))
        caught=$(jq -r '.caught' <<<"$row")
        clean=$(jq -r '.clean_without_bug' <<<"$row")
        echo "FAIL  zoo $name phase $phase: caught=$caught: $verdict_on; clean without it=$clean: $verdict_off"
    fi
done
if ! $tables_only; then
    jq -s '.' "$results" >"$out/zoo.json"
    # what it ran on, for make report (zoo.meta.json, written after the list)
    write_metadata "$out/zoo.meta.json" zoo "$stamp" \
        "{\"fast\": $fast, \"conf\": $(json_str "${conf#"$LAB_ROOT"/}")}" '["zoo.json", "zoo.md"]'
else
    passed=$(jq '[.[] | select(.caught and .clean_without_bug)] | length' "$out/zoo.json")
    failed=$(jq '[.[] | select((.caught and .clean_without_bug) | not)] | length' "$out/zoo.json")
fi
rm -f "$results"


# ---------------------------------------------------------------------------
# The table: results/zoo/zoo.md, and docs/zoo.md between its markers
# ---------------------------------------------------------------------------

table=$out/zoo.md
{
    echo "| bug | phase | exposed by | caught with it on | oversold | lost | duplicated | drift | phantom | undersold | false conf. | without it |"
    echo "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    jq -r '.[] | "| `\(.planted)` | \(.phase) | \(.scenario) | \(if .caught then "**caught**: " else "MISSED: " end)\(.verdict | gsub("\\|"; "/")) | \(.oversold // "n/a") | \(.lost // "n/a") | \(.duplicated // "n/a") | \(.drift // "n/a") | \(.phantom // "n/a") | \(.undersold // "n/a") | \(.false_confirmations // "n/a") | \(if .clean_without_bug then "clean" else "NOT CLEAN: \(.run_off.verdict_text | gsub("\\|"; "/"))" end) |"' "$out/zoo.json"
    echo
    echo "Measured by \`make zoo\` ($stamp, $(nproc) cores): $passed of $((passed + failed)) bugs caught with the bug on and clean without it."
} >"$table"
# what each safeguard costs to keep: the same run with it (the bug off) and
# without it, throughput and p99 side by side; one run each, so a difference
# of less than about 10 % is noise on a 2-core machine
costs=$out/zoo-costs.md
{
    echo "| bug | phase | exposed by | req/s with the safeguard | req/s without | p99 with | p99 without |"
    echo "| --- | ---: | --- | ---: | ---: | ---: | ---: |"
    jq -r 'def ms: if . == null then "n/a" else "\(. / 1000 | floor) ms" end;
           .[] | "| `\(.planted)` | \(.phase) | \(.scenario) | \(.run_off.req_per_s // "n/a") | \(.run_on.req_per_s // "n/a") | \(.run_off.p99_us | ms) | \(.run_on.p99_us | ms) |"' "$out/zoo.json"
} >"$costs"
if $docs && [ -f "$LAB_ROOT/docs/zoo.md" ] && grep -q '<!-- zoo:begin -->' "$LAB_ROOT/docs/zoo.md"; then
    awk -v table="$table" -v costs="$costs" '
        /<!-- zoo:begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
        /<!-- costs:begin -->/ { print; while ((getline l < costs) > 0) print l; skip = 1; next }
        /<!-- (zoo|costs):end -->/ { skip = 0 }
        !skip' "$LAB_ROOT/docs/zoo.md" >"$LAB_ROOT/docs/zoo.md.tmp"
    mv "$LAB_ROOT/docs/zoo.md.tmp" "$LAB_ROOT/docs/zoo.md"
fi
say "zoo: $passed passed, $failed failed: $out/zoo.json, $table"
[ "$failed" -eq 0 ]
