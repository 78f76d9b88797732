#!/usr/bin/env bash
# regress.sh -- the lab as a CI gate (`make regress`). Runs every scenario of
# regress/expectations.conf against every phase it lists, through
# infra/attack.sh on one port and one event; checks each JSON summary against
# the expected figures; prints one PASS or FAIL line per scenario and phase,
# with its figures; writes a JUnit XML report; exits 1 if anything failed.
#
#   scripts/regress.sh [options]             attack, then check
#   scripts/regress.sh --summaries DIR [options]
#                                            check saved summaries
#                                            DIR/SCENARIO-phaseN.json, no attack
#   scripts/regress.sh --check EXPECTATIONS PHASE SCENARIO FILE.json
#                                            check one summary: one line, exit 0/1
#
# Exit status: 0 every check passed, 1 a check failed, 2 bad usage or a bad
# expectations file. Needs jq.
set -euo pipefail
set -f # no file names expanded from the phase and scenario lists

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$LAB_ROOT/infra/phases.sh"

# usage prints the help text; with an argument, to stderr, and exits 2.
usage() {
    local text="usage: scripts/regress.sh [options]
       scripts/regress.sh --check EXPECTATIONS PHASE SCENARIO FILE.json

options (each also read from the environment variable in brackets)
  --phases LIST          phases to run, e.g. 3 or 2,3 (REGRESS_PHASES; default all)
  --scenarios LIST       scenarios to run, e.g. burst,reads (REGRESS_SCENARIOS; default all)
  --event E              event id the attacks reset and use (REGRESS_EVENT; default 1)
  --http HOST:PORT       where each phase's service listens (LAB_HTTP; default infra/lab.env)
  --topic T, --group G   Kafka topic and group of phases 5 and 6
                         (REGRESS_TOPIC, REGRESS_GROUP; default the service's own)
  --bin-dir DIR          the services and the harness (REGRESS_BIN_DIR; default build)
  --expectations FILE    (REGRESS_EXPECTATIONS; default regress/expectations.conf)
  --out DIR              keep each run's summary and output there
                         (REGRESS_OUT; default results/regress)
  --junit FILE           the JUnit XML report (REGRESS_JUNIT; default results/regress-junit.xml)
  --summaries DIR        attack nothing: check DIR/SCENARIO-phaseN.json instead
  -h, --help             this text"
    if [ $# -gt 0 ]; then
        echo "regress: $*" >&2
        echo "$text" >&2
        exit 2
    fi
    echo "$text"
}

# ---------------------------------------------------------------------------
# The expectations file
# ---------------------------------------------------------------------------

scenario_names=()          # in file order
declare -A scenario_phases # name -> "2 3 4"
declare -A scenario_flags  # name -> the attack flags, one string
exp_scenario=() exp_phases=() exp_figure=() exp_op=() exp_value=()

# conf_error reports a mistake in the expectations file and exits 2.
conf_error() {
    echo "regress: $conf_file:$conf_line: $*" >&2
    exit 2
}

# phase_list turns "2,3" (or "2 3") into "2 3", or fails on anything that is
# not a phase from 2 to 6, and on a repeated phase.
phase_list() {
    local p out=" "
    for p in ${1//,/ }; do
        lab_is_phase "$p" || return 1
        [[ $out == *" $p "* ]] && return 1
        out+="$p "
    done
    [ "$out" != " " ] || return 1
    out=${out# }
    echo "${out% }"
}

# load_expectations reads FILE into the arrays above, checking every line,
# then checks that the expectations and the scenarios fit together.
load_expectations() {
    local line words name phases flag s p i found
    conf_file=$1
    conf_line=0
    [ -r "$conf_file" ] || usage "cannot read the expectations file $conf_file"
    while IFS= read -r line || [ -n "$line" ]; do
        conf_line=$((conf_line + 1))
        line=${line%%#*}
        read -ra words <<<"$line"
        [ ${#words[@]} -gt 0 ] || continue
        case ${words[0]} in
        scenario)
            [ ${#words[@]} -ge 3 ] || conf_error "scenario NAME PHASES FLAGS..."
            name=${words[1]}
            [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]] || conf_error "bad scenario name '$name'"
            [ -z "${scenario_phases[$name]+x}" ] || conf_error "scenario $name is defined twice"
            phases=$(phase_list "${words[2]}") || conf_error "bad phase list '${words[2]}'"
            for flag in "${words[@]:3}"; do
                case $flag in
                --event | --url | --json | --csv | --no-csv | --phase | --bin-dir)
                    conf_error "$flag is regress.sh's to set, not a scenario's" ;;
                esac
            done
            scenario_names+=("$name")
            scenario_phases[$name]=$phases
            scenario_flags[$name]="${words[*]:3}"
            ;;
        expect)
            [ ${#words[@]} -eq 6 ] || conf_error "expect NAME PHASES FIGURE OP VALUE"
            name=${words[1]}
            [ -n "${scenario_phases[$name]+x}" ] || conf_error "expect before scenario $name"
            phases=$(phase_list "${words[2]}") || conf_error "bad phase list '${words[2]}'"
            for p in $phases; do
                [[ " ${scenario_phases[$name]} " == *" $p "* ]] ||
                    conf_error "scenario $name does not run against phase $p"
            done
            [[ ${words[3]} =~ ^[a-z_]+$ ]] || conf_error "bad figure '${words[3]}'"
            case ${words[4]} in
            '=' | '!=' | '>' | '>=' | '<' | '<=') ;;
            *) conf_error "bad operator '${words[4]}' (= != > >= < <=)" ;;
            esac
            if [[ ${words[5]} =~ ^(true|false)$ ]]; then
                [[ ${words[4]} == '=' || ${words[4]} == '!=' ]] ||
                    conf_error "true and false take = or != only"
            elif ! [[ ${words[5]} =~ ^-?[0-9]+$ ]]; then
                conf_error "bad value '${words[5]}' (a whole number, true or false)"
            fi
            exp_scenario+=("$name")
            exp_phases+=("$phases")
            exp_figure+=("${words[3]}")
            exp_op+=("${words[4]}")
            exp_value+=("${words[5]}")
            ;;
        *) conf_error "unknown statement '${words[0]}' (scenario or expect)" ;;
        esac
    done <"$conf_file"
    [ ${#scenario_names[@]} -gt 0 ] || conf_error "no scenario"
    for s in "${scenario_names[@]}"; do
        for p in ${scenario_phases[$s]}; do
            found=0
            for i in "${!exp_scenario[@]}"; do
                [[ ${exp_scenario[$i]} == "$s" && " ${exp_phases[$i]} " == *" $p "* ]] && found=1
            done
            [ "$found" -eq 1 ] || conf_error "scenario $s has no expectation for phase $p"
        done
    done
}

# ---------------------------------------------------------------------------
# Checking one summary
# ---------------------------------------------------------------------------

# expected_text says what OP VALUE wanted: "0", "> 0", "!= false".
expected_text() {
    if [ "$1" = "=" ]; then echo "$2"; else echo "$1 $2"; fi
}

# figure_holds succeeds when GOT OP WANT: numbers compared as numbers, true
# and false as words; a figure that is not a whole number fails a numeric check.
figure_holds() {
    local got=$1 op=$2 want=$3
    if [[ $want =~ ^(true|false)$ ]]; then
        if [ "$op" = "=" ]; then [ "$got" = "$want" ]; else [ "$got" != "$want" ]; fi
        return
    fi
    [[ $got =~ ^-?[0-9]+$ ]] || return 1
    case $op in
    '=') ((got == want)) ;;
    '!=') ((got != want)) ;;
    '>') ((got > want)) ;;
    '>=') ((got >= want)) ;;
    '<') ((got < want)) ;;
    '<=') ((got <= want)) ;;
    esac
}

# check_summary checks FILE, the summary of SCENARIO on PHASE, against every
# expectation for them, prints the PASS or FAIL line, and leaves the line and
# the failures in check_line and check_failures (for JUnit). WHY explains a
# missing summary; STATUS is the attack's exit status (non-zero fails too).
# Returns 0 on PASS, 1 on FAIL.
check_summary() {
    local scenario=$1 phase=$2 file=$3 why=${4:-} status=${5:-0}
    local json data key value i figure got want
    local -A fig=()
    local fails=() passed=()

    json=$(cat -- "$file" 2>/dev/null || true) # once: FILE may be a pipe
    if [ -z "$json" ]; then
        fails+=("no summary${why:+ ($why)}")
    elif ! data=$(jq -r 'if type == "object" then to_entries[]
                         | "\(.key)\t\(.value | if type == "string" then . else tojson end
                                       | gsub("[\t\n\r]"; " "))"
                         else error("not an object") end' <<<"$json" 2>/dev/null); then
        fails+=("the summary $file is not one JSON object")
    else
        while IFS=$'\t' read -r key value; do
            [ -n "$key" ] && fig[$key]=$value
        done <<<"$data"
        [ "${fig[phase]:-}" = "$phase" ] ||
            fails+=("the summary is of phase ${fig[phase]:-none}, expected $phase")
        for i in "${!exp_scenario[@]}"; do
            [[ ${exp_scenario[$i]} == "$scenario" && " ${exp_phases[$i]} " == *" $phase "* ]] ||
                continue
            figure=${exp_figure[$i]}
            want=$(expected_text "${exp_op[$i]}" "${exp_value[$i]}")
            if [ -z "${fig[$figure]+x}" ]; then
                fails+=("$figure missing from the summary, expected $want")
                continue
            fi
            got=${fig[$figure]}
            if figure_holds "$got" "${exp_op[$i]}" "${exp_value[$i]}"; then
                passed+=("$figure = $got")
            else
                fails+=("$figure = $got, expected $want")
            fi
        done
    fi
    [ "$status" -eq 0 ] || fails+=("the attack exited with status $status")

    if [ ${#fails[@]} -eq 0 ]; then
        check_line="PASS $scenario phase$phase: $(printf '%s, ' "${passed[@]}")"
        check_line=${check_line%, }
        check_failures=""
    else
        check_failures=$(printf '%s; ' "${fails[@]}")
        check_failures=${check_failures%; }
        check_line="FAIL $scenario phase$phase: $check_failures"
        if [ ${#passed[@]} -gt 0 ]; then
            local rest
            rest=$(printf '%s, ' "${passed[@]}")
            check_line+=" (passed: ${rest%, })"
        fi
    fi
    echo "$check_line"
    [ -z "$check_failures" ]
}

# ---------------------------------------------------------------------------
# Running one attack
# ---------------------------------------------------------------------------

# run_attack runs SCENARIO against PHASE with infra/attack.sh and saves what
# it printed: OUT/NAME.out (stdout), OUT/NAME.err (stderr) and the summary,
# the JSON line, as OUT/NAME.json. Leaves the exit status in attack_status
# and, when there is no summary, the last thing it said in attack_why.
run_attack() {
    local scenario=$1 phase=$2 base=$3
    local flags=() extra=()
    read -ra flags <<<"${scenario_flags[$scenario]}"
    if [[ $phase == 5 || $phase == 6 ]]; then
        [ -z "$topic" ] || extra+=(--service-arg --topic --service-arg "$topic")
        [ -z "$group" ] || extra+=(--service-arg --group --service-arg "$group")
    fi
    attack_status=0
    LAB_HTTP=$http bash "$LAB_ROOT/infra/attack.sh" --phase "$phase" --bin-dir "$bin_dir" \
        --event "$event" --json --no-csv "${flags[@]}" "${extra[@]}" \
        >"$base.out" 2>"$base.err" </dev/null || attack_status=$?
    grep -m 1 '^{"verdict":' "$base.out" >"$base.json" || true
    attack_why=""
    if [ ! -s "$base.json" ]; then
        attack_why="attack.sh exited with status $attack_status"
        local said
        said=$(cat "$base.err" "$base.out" | tr -d '\r' | grep -v '^[[:space:]]*$' | tail -n 1)
        [ -z "$said" ] || attack_why+=": $said"
    fi
}

# ---------------------------------------------------------------------------
# The JUnit report
# ---------------------------------------------------------------------------

# xml_escape prints its argument fit for an XML attribute or text: the five
# special characters as entities, control characters dropped.
xml_escape() {
    printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037' |
        sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
            -e 's/"/\&quot;/g' -e "s/'/\&apos;/g"
}

junit_cases=() # per run: "scenario<TAB>xml of its testcase"
junit_failed=0

# junit_add records the testcase of SCENARIO on PHASE from check_line and
# check_failures; FILE is where its summary is.
junit_add() {
    local scenario=$1 phase=$2 file=$3 xml
    xml="    <testcase classname=\"regress.$(xml_escape "$scenario")\" name=\"phase$phase\">"$'\n'
    if [ -n "$check_failures" ]; then
        junit_failed=$((junit_failed + 1))
        xml+="      <failure type=\"regression\" message=\"$(xml_escape "$check_failures")\">"
        xml+="$(xml_escape "$check_line")"$'\n'"summary: $(xml_escape "$file")</failure>"$'\n'
    fi
    xml+="      <system-out>$(xml_escape "$check_line")</system-out>"$'\n'
    xml+="    </testcase>"
    junit_cases+=("$scenario"$'\t'"$xml")
}

# junit_write writes FILE: one testsuite per scenario that ran, one testcase
# per phase, a <failure> whose message holds the failing figures.
junit_write() {
    local file=$1 s entry tests failures body
    mkdir -p "$(dirname "$file")"
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo "<testsuites name=\"regress\" tests=\"${#junit_cases[@]}\" failures=\"$junit_failed\">"
        for s in "${scenario_names[@]}"; do
            tests=0 failures=0 body=""
            for entry in "${junit_cases[@]}"; do
                [ "${entry%%$'\t'*}" = "$s" ] || continue
                tests=$((tests + 1))
                [[ $entry != *"<failure "* ]] || failures=$((failures + 1))
                body+="${entry#*$'\t'}"$'\n'
            done
            [ "$tests" -gt 0 ] || continue
            printf '  <testsuite name="%s" tests="%d" failures="%d" errors="0" skipped="0">\n' \
                "$(xml_escape "$s")" "$tests" "$failures"
            printf '    <properties><property name="flags" value="%s"/></properties>\n' \
                "$(xml_escape "${scenario_flags[$s]}")"
            printf '%s' "$body"
            echo "  </testsuite>"
        done
        echo "</testsuites>"
    } >"$file.tmp"
    mv "$file.tmp" "$file"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

if [ "${1:-}" = "--check" ]; then
    [ $# -eq 5 ] || usage "--check takes EXPECTATIONS PHASE SCENARIO FILE.json"
    load_expectations "$2"
    lab_is_phase "$3" || usage "PHASE must be $(lab_phase_range), not '$3'"
    [[ " ${scenario_phases[$4]-} " == *" $3 "* ]] ||
        usage "$2 has no scenario '$4' running against phase $3"
    check_summary "$4" "$3" "$5" "$5 is missing or empty" && exit 0 || exit 1
fi

expectations=${REGRESS_EXPECTATIONS:-$LAB_ROOT/regress/expectations.conf}
phases_wanted=${REGRESS_PHASES:-}
scenarios_wanted=${REGRESS_SCENARIOS:-}
event=${REGRESS_EVENT:-1}
http=${LAB_HTTP:-$(sed -n 's/^LAB_HTTP ?= //p' "$LAB_ROOT/infra/lab.env")}
topic=${REGRESS_TOPIC:-}
group=${REGRESS_GROUP:-}
bin_dir=${REGRESS_BIN_DIR:-build}
out_dir=${REGRESS_OUT:-$LAB_ROOT/results/regress}
junit=${REGRESS_JUNIT:-$LAB_ROOT/results/regress-junit.xml}
summaries=""
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --phases | --scenarios | --event | --http | --topic | --group | --bin-dir | \
        --expectations | --out | --junit | --summaries)
        [ $# -ge 2 ] || usage "$1 needs a value"
        case $1 in
        --phases) phases_wanted=$2 ;;
        --scenarios) scenarios_wanted=$2 ;;
        --event) event=$2 ;;
        --http) http=$2 ;;
        --topic) topic=$2 ;;
        --group) group=$2 ;;
        --bin-dir) bin_dir=$2 ;;
        --expectations) expectations=$2 ;;
        --out) out_dir=$2 ;;
        --junit) junit=$2 ;;
        --summaries) summaries=$2 ;;
        esac
        shift 2
        ;;
    --check) usage "--check comes first and alone" ;;
    *) usage "unknown argument '$1'" ;;
    esac
done

[[ $event =~ ^[1-9][0-9]*$ ]] || usage "the event must be a positive whole number, not '$event'"
[[ $http =~ ^[^:/]+:[0-9]+$ ]] || usage "the service address must be HOST:PORT, not '$http'"
if [ -n "$phases_wanted" ]; then
    phases_given=$phases_wanted
    phases_wanted=$(phase_list "$phases_given") ||
        usage "phases must be a list of 2 to 6, not '$phases_given'"
fi
[ -z "$summaries" ] || [ -d "$summaries" ] || usage "no folder $summaries"
command -v jq >/dev/null || { echo "regress: jq is missing (make deps installs it)" >&2; exit 2; }
load_expectations "$expectations"
for s in ${scenarios_wanted//,/ }; do
    [ -n "${scenario_phases[$s]+x}" ] || usage "no scenario '$s' in $expectations"
done

# the runs: every selected scenario on every selected phase it lists
runs=()
for s in "${scenario_names[@]}"; do
    [[ -z $scenarios_wanted || " ${scenarios_wanted//,/ } " == *" $s "* ]] || continue
    for p in ${scenario_phases[$s]}; do
        [[ -z $phases_wanted || " $phases_wanted " == *" $p "* ]] && runs+=("$s $p")
    done
done
[ ${#runs[@]} -gt 0 ] || usage "no scenario runs against the phases chosen"

[ -n "$summaries" ] || mkdir -p "$out_dir"
passed=0
failed=0
for run in "${runs[@]}"; do
    read -r s p <<<"$run"
    if [ -n "$summaries" ]; then
        file=$summaries/$s-phase$p.json
        attack_status=0
        attack_why="$file not found"
    else
        file=$out_dir/$s-phase$p.json
        run_attack "$s" "$p" "${file%.json}"
    fi
    if check_summary "$s" "$p" "$file" "$attack_why" "$attack_status"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
    junit_add "$s" "$p" "${file#"$LAB_ROOT"/}"
done
junit_write "$junit"
echo "regress: $passed passed, $failed failed (JUnit report: ${junit#"$LAB_ROOT"/})"
[ "$failed" -eq 0 ]
