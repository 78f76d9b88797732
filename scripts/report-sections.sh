# report-sections.sh -- sourced (not run) by scripts/report.sh: the
# report's sections, one function each, in the order of the page. Each
# finds the latest results of its kind (find_*, run once, before either
# format is written) and writes itself in $fmt with report-lib.sh's
# writers: the command that makes it, the run's environment, its figures
# and charts; or, when its results are missing, the make target that
# produces them.
#
# Globals the driver sets: results (the results folder), charts (the
# charts of make plots and make nemesis), matrix_md (make matrix's table),
# compare and sweep (the files chosen), out (the report's folder), drawn
# (where the report draws the charts it makes itself).

# The sections: id|title|the make target that produces their results.
section_list() {
    cat <<'EOF'
compare|The phases compared|make compare
explain|Why the tickets went wrong|make phase2 attack
live|The live page's last state|make live PHASE=2 LIVE_SAVE=1
sweep|Concurrency sweep|make sweep
openloop|Closed and open loop|make openloop
bench|Against the physical limits|make bench
matrix|The strategy matrix|make matrix
faults|Faults during the sale|make faults
zoo|The zoo of planted bugs|make zoo
EOF
}

# csv_col FILE NAME...: the named columns of a CSV with a header, tab-separated.
csv_col() {
    local file=$1
    shift
    tr -d '\r' <"$file" | awk -F, -v want="$*" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; n = split(want, w, " "); next }
        { line = ""
          for (i = 1; i <= n; i++) line = line (i > 1 ? "\t" : "") (w[i] in col ? $col[w[i]] : "")
          print line }'
}

# ===========================================================================
# compare: make compare, make plots
# ===========================================================================

# find_compare: the file given, else results/latest-compare.csv, else the
# newest compare-<stamp>.csv.
find_compare() {
    if [ -z "$compare" ]; then
        compare=$results/latest-compare.csv
        if [ ! -f "$compare" ]; then
            local list=()
            mapfile -t list < <(compgen -G "$results/compare-*.csv" | grep -v -- '-timeline\.csv$' || true)
            compare=$(newest ${list[@]+"${list[@]}"})
        fi
    fi
    compare_json=""
    [ -z "$compare" ] || [ ! -f "${compare%.csv}.json" ] || compare_json=${compare%.csv}.json
    compare_explained=()
}

# cfield NAME: a field of the compare run's metadata, "unknown" when absent.
cfield() {
    local v
    v=$(json_field "$compare_json" "$1")
    printf '%s' "${v:-unknown}"
}

# off_zero names the phases whose burst left wrong tickets (oversold or
# phantom), what the headline chart shows off its zero line.
off_zero() {
    tr -d '\r' <"$compare" | awk -F, "$(cat "$LAB_ROOT/scripts/phases.awk")"'
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["mode"] == "burst" && ($col["oversold"] > 0 || $col["phantom"] != 0) {
            list = list (list == "" ? "" : ", ") phase_label($col["phase"])
        }
        END { print list }'
}

# compare_charts: the charts of make plots, file name|title|what to look at.
compare_charts() {
    local wrong note
    wrong=$(off_zero)
    if [ -n "$wrong" ]; then
        note="Off the zero line in this run: $wrong."
    else
        note="Every phase is on the zero line in this run."
    fi
    cat <<EOF
headline|Wrong tickets against throughput|One point per phase: the tickets that went wrong in the burst (oversold: tickets beyond the seats; phantom: sales the seat counter missed) against the throughput of the sustained run. $note
latency|Latency per phase|p50, p90, p99 and the slowest answer, burst and sustained run, log scale. For phases 5 and 6 this is the time to the 202 answer, not to the decision.
drain|The queue draining|Asynchronous phases only: requests accepted (dashed) and decided in the database (solid) over time. The gap is the queue.
EOF
}

# explain_file RUN_ID: the harness's explanation of that run, beside the
# compare file or in the results folder.
explain_file() {
    local f
    for f in "${compare%/*}/$1-explain.json" "$results/$1-explain.json"; do
        [ -f "$f" ] && { printf '%s' "$f"; return 0; }
    done
    return 0
}

# explanation FILE: the text of an explanation file or of a JSON summary
# with one (contract: .text, or .explain.text).
explanation() {
    jq -r '(.explain.text // .text // empty) | tostring' "$1" 2>/dev/null || true
}

# compare_bug_rows: "phase<TAB>mode" of the attacks whose verdict was not clean.
compare_bug_rows() {
    csv_col "$compare" phase mode verdict | awk -F '\t' '$3 != "" && $3 != "clean" { print $1 "\t" $2 }'
}

# section_compare: the run, the table, the explanations of its BUG rows and
# the charts of make plots (each chart missing says so, not the section).
section_compare() {
    made_by "make compare" "the same burst and sustained attacks on every phase, each started fresh (scripts/compare.sh); the charts by \`make plots\`."
    h3 "The run"
    {
        if [ -n "$compare_json" ]; then
            env_rows "$compare_json"
        else
            env_rows "" "$(file_when "$compare")"
        fi
        echo "burst|$(cfield users) users at once on $(cfield seats) seats (event $(cfield event))"
        echo "sustained|$(cfield requests) requests over $(cfield connections) connections, $(cfield seats) seats"
        echo "service|$(cfield think_ms) ms of think time per booking; Kafka topic $(cfield topic)"
        echo "results|$(shown "$compare")"
    } | kv
    h3 "Results"
    if [ "$fmt" = md ]; then bash "$LAB_ROOT/scripts/table.sh" "$compare" md; echo; else bash "$LAB_ROOT/scripts/table.sh" "$compare" html; fi
    note "booked: ticket rows in the database. oversold: tickets beyond the seats. phantom: how far the seat counter is from the tickets sold. lost: requests accepted but never decided. failed: requests that got no answer of the API. req/s: answers per second during the attack (for phases 5 and 6, answers 202 before the queue has drained). p99: the 99th percentile of the time to an answer. drain: seconds after the attack until the queue had decided every accepted request."
    compare_explanations
    h3 "Charts"
    local name title text
    while IFS='|' read -r name title text; do
        if [ "$fmt" = md ]; then printf '#### %s\n\n' "$title"; else echo "<h4>$(html_escape "$title")</h4>"; fi
        if is_png "$charts/$name.png"; then
            image "$charts/$name.png" "$title"
            note "$text"
        elif [ "$name" = drain ]; then
            note "No chart: no asynchronous phase with a timeline in these results."
        else
            note "No chart: run make plots."
        fi
    done < <(compare_charts)
}

# compare_explanations: under the table, the harness's explanation of each
# attack whose verdict was BUG, found by the run id the metadata keeps.
compare_explanations() {
    local bugs runs=() phase mode run file text
    compare_explained=()
    bugs=$(compare_bug_rows)
    [ -n "$bugs" ] || return 0
    h3 "Why the wrong tickets"
    if [ -n "$compare_json" ]; then
        mapfile -t runs < <(jq -r '.files.runs[]? | "\(.phase)\t\(.mode)\t\(.run_id)"' "$compare_json" 2>/dev/null || true)
    fi
    if [ ${#runs[@]} -eq 0 ]; then
        note "This run kept no run ids (it was made before \`make compare\` recorded them), so its explanations cannot be told from others: the latest are in [Why the tickets went wrong](#explain)."
        return
    fi
    while IFS=$'\t' read -r phase mode; do
        run=$(printf '%s\n' "${runs[@]}" | awk -F '\t' -v p="$phase" -v m="$mode" '$1 == p && $2 == m { print $3; exit }')
        file=""
        [ -z "$run" ] || file=$(explain_file "$run")
        text=""
        [ -z "$file" ] || text=$(explanation "$file")
        if [ -n "$text" ]; then
            para "**Phase $phase, $mode** (run \`$run\`, $(shown "$file")):"
            pre "$text"
            compare_explained+=("$file")
        else
            note "Phase $phase, $mode: no explanation was written for this BUG (run \`${run:-unknown}\`; the harness writes results/<run id>-explain.json for each BUG it finds)."
        fi
    done <<<"$bugs"
}

# ===========================================================================
# explain: the harness's explanations of the latest BUG verdicts
# ===========================================================================

# find_explain: explanation files (results/<run>-explain.json), newest
# first, and the JSON summaries of make matrix that carry one; at most
# eight in all, the compare run's own shown in its section.
find_explain() {
    local list=() f
    explain_files=()
    mapfile -t list < <(ls -t "$results"/*-explain.json 2>/dev/null || true)
    for f in ${list[@]+"${list[@]}"}; do
        [ ${#explain_files[@]} -lt 8 ] || break
        [ -n "$(explanation "$f")" ] && explain_files+=("$f")
    done
    mapfile -t list < <(ls -t "$results"/matrix/*.json 2>/dev/null || true)
    for f in ${list[@]+"${list[@]}"}; do
        [ ${#explain_files[@]} -lt 8 ] || break
        jq -e '.verdict == "BUG" and ((.explain.text // "") != "")' "$f" >/dev/null 2>&1 && explain_files+=("$f")
    done
    return 0
}

# section_explain: each explanation found, with its run, where it comes
# from and when, the text as the harness wrote it.
section_explain() {
    made_by "make phase2 attack" "the harness explains each BUG verdict of a booking run: it groups the bookings by the seat counter they read (results/<run id>-explain.json, and \`explain\` in its JSON summary). \`make compare\`'s are beside its table."
    local f text run what when others=0
    for f in "${explain_files[@]}"; do
        if printf '%s\n' ${compare_explained[@]+"${compare_explained[@]}"} | grep -qxF -- "$f"; then
            continue
        fi
        others=$((others + 1))
        text=$(explanation "$f")
        run=$(jq -r '.runId // .run_id // .explain.runId // empty' "$f" 2>/dev/null || true)
        [ -n "$run" ] || { run=${f##*/}; run=${run%-explain.json}; run=${run%.json}; }
        what=$(jq -r '[(if .phase then "phase \(.phase)" else empty end),
                       (if .mode then .mode else empty end),
                       (if .strategy and .strategy != "unknown" then "strategy \(.strategy)" else empty end),
                       (if (.instances // 1) > 1 then "\(.instances) instances" else empty end)] | join(", ")' \
            "$f" 2>/dev/null || true)
        when=$(file_when "$f")
        h3 "Run $run${what:+: $what}"
        note "From $(shown "$f"), $when."
        local verdict
        verdict=$(jq -r '.verdict_text // .verdictText // .explain.verdict_text // empty' "$f" 2>/dev/null || true)
        [ -z "$verdict" ] || para "Verdict: $(plain "$verdict")"
        pre "$text"
    done
    if [ "$others" -eq 0 ]; then
        note "Every explanation found is the compare run's, shown under [its table](#compare)."
    fi
}

# ===========================================================================
# live: the live page's last state (make live ... LIVE_SAVE=1)
# ===========================================================================

# find_live: results/live/latest.json, when it is a JSON object.
find_live() {
    live_json=""
    if [ -f "$results/live/latest.json" ] && jq -e 'type == "object"' "$results/live/latest.json" >/dev/null 2>&1; then
        live_json=$results/live/latest.json
    fi
}

# live_part PART: a part of the state, drawn by scripts/report-live.jq.
live_part() {
    jq -r --arg fmt "$fmt" --arg part "$1" -f "$LAB_ROOT/scripts/report-live.jq" "$live_json"
}

# section_live: the live page as the run ended, drawn from its saved state
# (the page itself needs the harness running: this is what is left of it).
section_live() {
    made_by "make live PHASE=2 LIVE_SAVE=1" "the harness's live page, kept as it was when the run ended (results/live/<run>-state.json, copied to results/live/latest.json); drawn here from that file by the report itself."
    {
        env_rows "$live_json" "$(file_when "$live_json")"
        echo "results|$(shown "$live_json")"
    } | kv
    h3 "The figures"
    live_part figures | kv
    h3 "The seats"
    note "One cell per seat, in the order the sale fills them: a seat is named by the counter value a booking read (the first booking reads the top of the counter). Two bookings that read the same value sold the same seat twice; a phase whose answers carry no counter fills one seat per ticket."
    live_part grid
    h3 "Over time"
    live_part chart
    local text
    text=$(jq -r '.explainText // empty' "$live_json" 2>/dev/null || true)
    if [ -n "$text" ]; then
        h3 "The explanation"
        pre "$text"
    fi
}

# ===========================================================================
# sweep: make sweep, make plots
# ===========================================================================

# find_sweep: the file given, else results/latest-sweep.csv, else the
# newest sweep-<stamp>.csv.
find_sweep() {
    if [ -z "$sweep" ]; then
        sweep=$results/latest-sweep.csv
        if [ ! -f "$sweep" ]; then
            local list=()
            mapfile -t list < <(compgen -G "$results/sweep-*.csv" || true)
            sweep=$(newest ${list[@]+"${list[@]}"})
        fi
    fi
    sweep_json=""
    [ -z "$sweep" ] || [ ! -f "${sweep%.csv}.json" ] || sweep_json=${sweep%.csv}.json
}

# section_sweep: the run, the chart of make plots, the table per users.
section_sweep() {
    made_by "make sweep" "throughput and p99 latency against the number of concurrent users, every phase (scripts/sweep.sh); the chart by \`make plots\`."
    {
        if [ -n "$sweep_json" ]; then env_rows "$sweep_json"; else env_rows "" "$(file_when "$sweep")"; fi
        [ -z "$sweep_json" ] || echo "attacks|$(json_field "$sweep_json" mode) runs on $(json_field "$sweep_json" seats) seats, $(json_field "$sweep_json" requests) requests at every point"
        echo "results|$(shown "$sweep")"
    } | kv
    if is_png "$charts/sweep.png"; then
        image "$charts/sweep.png" "Concurrency sweep"
        note "Throughput and p99 latency against the number of concurrent users, a line per phase; a cross marks an attack whose audit found a bug."
    else
        note "No chart: run make plots."
    fi
    note "Sweep figures (req/s, p99 ms), from $(shown "$sweep"):"
    if [ "$fmt" = md ]; then bash "$LAB_ROOT/scripts/table.sh" --sweep "$sweep" md; echo; else bash "$LAB_ROOT/scripts/table.sh" --sweep "$sweep" html; fi
}

# ===========================================================================
# openloop: make openloop (and the end of make compare)
# ===========================================================================

# find_openloop: the newest openloop-<stamp>.csv and its metadata.
find_openloop() {
    local list=()
    mapfile -t list < <(compgen -G "$results/openloop-*.csv" || true)
    openloop_csv=$(newest ${list[@]+"${list[@]}"})
    openloop_json=""
    [ -z "$openloop_csv" ] || [ ! -f "${openloop_csv%.csv}.json" ] || openloop_json=${openloop_csv%.csv}.json
}

# section_openloop: the two loops side by side, in milliseconds.
section_openloop() {
    made_by "make openloop" "a closed-loop sustained run per phase, then open-loop runs (\`--rate\`) at half and 1.5 times the rate it reached (scripts/openloop.sh; also at the end of \`make compare\`)."
    {
        env_rows "$openloop_json" "$(file_when "$openloop_csv")"
        echo "results|$(shown "$openloop_csv")"
    } | kv
    {
        printf 'phase\tloop\trate asked\treq/s\tp50 ms\tp99 ms\tp99.9 ms\tp99.99 ms\n'
        csv_col "$openloop_csv" phase loop rate req_per_s p50_us p99_us p999_us p9999_us |
            awk -F '\t' -v OFS='\t' '{ printf "%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\n", $1, $2,
                ($3 > 0 ? $3 : "-"), $4, $5 / 1000, $6 / 1000, $7 / 1000, $8 / 1000 }'
    } | table
    note "Below capacity the two loops agree. Above it the closed loop slows down with the server and its percentiles stay small, while the open loop, which times each request from when it was due, shows the queue that builds up (coordinated omission, docs/glossary.md)."
}

# ===========================================================================
# bench: make bench (make bench-plot)
# ===========================================================================

# find_bench: the newest bench run (any --label), and its chart.
find_bench() {
    local list=()
    mapfile -t list < <(compgen -G "$results/bench-*.json" || true)
    bench_json=$(newest ${list[@]+"${list[@]}"})
    bench_chart=""
    [ -n "$bench_json" ] || return 0
    jq -e '.rows | type == "array"' "$bench_json" >/dev/null 2>&1 || { bench_json=""; return 0; }
    # its chart, drawn from its own CSV: plots/out/bench.png may be another run's
    local csv=${bench_json%.json}.csv
    if [ -f "$csv" ] && command -v gnuplot >/dev/null; then
        mkdir -p "$drawn"
        if bash "$LAB_ROOT/scripts/bench-plot.sh" "$csv" --out "$work/bench" >/dev/null 2>&1 &&
            is_png "$work/bench/bench.png"; then
            cp "$work/bench/bench.png" "$drawn/bench.png"
            bench_chart=$drawn/bench.png
        fi
    fi
}

# section_bench: the run, each measure beside its limit, the chart.
section_bench() {
    made_by "make bench" "each phase's figure beside its physical limit (pgbench on the same transaction, wrk on \`/healthz\`), measured back to back, as ratios (scripts/bench.sh); what bounds each figure and the targets: docs/bench.md."
    local stamp
    stamp=$(file_time "$bench_json")
    {
        env_rows "$bench_json" "$(iso_time "$stamp")"
        jq -r '"label|\(if (.label // "") == "" then "none" else .label end)"' "$bench_json"
        echo "services|$(shown "$(jq -r '.bin_dir // "build"' "$bench_json")")$(jq -r \
            'if (.batch // "") != "" then ", consumer --batch \(.batch)" else "" end' "$bench_json")"
        echo "results|$(shown "$bench_json")"
    } | kv
    {
        printf 'phase\tmeasure\tconnections\tfigure\tlimit\tlimit is\tratio\tp99 ms\n'
        jq -r '.rows[] | [.phase, .measure, .connections,
                ((.figure // "-" | tostring) + " " + (.unit // "")),
                (.limit // "-" | if type == "number" then (. * 10 | round / 10) else . end | tostring),
                (.limit_is // ""), (if .ratio == null then "-" else "\(.ratio)x" end),
                (.p99_ms // "-" | tostring)] | @tsv' "$bench_json"
    } | table
    if [ -n "$bench_chart" ]; then
        image "$bench_chart" "Ratio to the limit"
        note "Each measure's ratio to its limit (1 = the limit), drawn from $(shown "${bench_json%.json}.csv") as \`make bench-plot\` does."
    else
        note "No chart: \`make bench-plot\` draws it (needs gnuplot and the run's CSV)."
    fi
}

# ===========================================================================
# matrix: make matrix
# ===========================================================================

# find_matrix: make matrix's table, with its metadata and chart beside it.
find_matrix() {
    matrix_json=""
    matrix_png=""
    [ -f "$matrix_md" ] || return 0
    [ ! -f "${matrix_md%.md}.json" ] || matrix_json=${matrix_md%.md}.json
    ! is_png "${matrix_md%.md}.png" || matrix_png=${matrix_md%.md}.png
}

# section_matrix: the run, the chart, the generated table as it is.
section_matrix() {
    made_by "make matrix" "every strategy on 1 and 2 instances under the burst, last-seat and sustained scenarios (scripts/matrix.sh); what the figures mean: docs/strategies.md."
    {
        env_rows "$matrix_json" "$(file_when "$matrix_md")"
        echo "results|$(shown "$matrix_md")"
    } | kv
    if [ -n "$matrix_png" ]; then
        image "$matrix_png" "The strategy matrix"
    else
        note "No chart: \`make matrix\` draws it beside its table (needs gnuplot)."
    fi
    include_md "$matrix_md"
}

# ===========================================================================
# faults: make faults, make nemesis
# ===========================================================================

# find_faults: the newest fault matrix (results/faults/NAME.md, matrix.md
# first among equals), its runs, and up to four charts of them: one per
# phase, its kill-service run if it has one; a chart missing from the
# charts folder is drawn from the run's history when gnuplot is there.
find_faults() {
    local list=() f
    faults_md=""
    faults_json=""
    fault_charts=()
    [ -d "$results/faults" ] || return 0
    mapfile -t list < <({ [ ! -f "$results/faults/matrix.md" ] || echo "$results/faults/matrix.md"
                           compgen -G "$results/faults/*.md" | grep -v '/matrix\.md$'; } || true)
    faults_md=$(newest ${list[@]+"${list[@]}"})
    [ -n "$faults_md" ] || return 0
    [ ! -f "${faults_md%.md}.json" ] || faults_json=${faults_md%.md}.json
    local label=${faults_md##*/}
    label=${label%.md}
    local phase run png picked=""
    for phase in 2 3 4 5 6; do
        [ ${#fault_charts[@]} -lt 4 ] || break
        for f in "$results/faults/runs/$label-p$phase-kill-service.json" \
            $(compgen -G "$results/faults/runs/$label-p$phase-*.json" || true); do
            [ -f "$f" ] || continue
            run=$(jq -r '.runId // empty' "$f" 2>/dev/null || true)
            [ -n "$run" ] || continue
            png=$(fault_chart "$run" "$f")
            if [ -n "$png" ]; then
                fault_charts+=("$png|$(fault_caption "$f" "$run")")
                picked=1
                break
            fi
        done
    done
    if [ -z "$picked" ]; then
        # none of this table's runs has a chart: the newest fault chart there is
        png=$(ls -t "$charts"/*-fault.png 2>/dev/null | head -n 1 || true)
        if [ -n "$png" ] && is_png "$png"; then
            run=${png##*/}
            run=${run%-fault.png}
            f=$results/$run-check.json
            if [ -f "$f" ]; then
                fault_charts+=("$png|$(fault_caption "$f" "$run") The newest fault chart there is, not one of this table's runs.")
            else
                fault_charts+=("$png|Run $run ($(shown "$png")): the newest fault chart there is, not one of this table's runs.")
            fi
        fi
    fi
    return 0
}

# fault_chart RUN CHECK: the chart of a fault run, from the charts folder
# (make nemesis draws it there), else drawn now from the run's history.
fault_chart() {
    local run=$1 check=$2
    if is_png "$charts/$run-fault.png"; then
        printf '%s' "$charts/$run-fault.png"
    elif [ -s "$results/$run-history.jsonl" ] && command -v gnuplot >/dev/null; then
        mkdir -p "$drawn"
        if bash "$LAB_ROOT/scripts/faultplot.sh" "$results/$run-history.jsonl" "$check" \
            "$drawn/$run-fault.png" >/dev/null 2>&1 && is_png "$drawn/$run-fault.png"; then
            printf '%s' "$drawn/$run-fault.png"
        fi
    fi
}

# fault_caption CHECK RUN: what a fault chart shows, from the run's checker.
fault_caption() {
    jq -r --arg run "$2" '"Phase \(.phase), \(.faults): the checker says \(.check_verdict) (run \($run)). Throughput and p99 per 100 ms; the fault window shaded."' \
        "$1" 2>/dev/null || echo "Run $2."
}

# section_faults: the run, the generated table as it is, the charts.
section_faults() {
    made_by "make faults" "every phase under every fault, one run each (scripts/faults.sh); one fault alone: \`make nemesis PHASE=6 FAULT=kill-service\`. What the columns mean: docs/faults.md."
    {
        env_rows "$faults_json" "$(file_when "$faults_md")"
        echo "results|$(shown "$faults_md")"
    } | kv
    include_md "$faults_md"
    local chart png caption
    if [ ${#fault_charts[@]} -eq 0 ]; then
        missing "no fault chart (plots/out/<run>-fault.png, drawn by each fault run when gnuplot is there)" \
            "make nemesis PHASE=6 FAULT=kill-service"
    fi
    for chart in ${fault_charts[@]+"${fault_charts[@]}"}; do
        png=${chart%%|*}
        caption=${chart#*|}
        image "$png" "${caption%%:*}"
        note "$caption"
    done
}

# ===========================================================================
# zoo: make zoo
# ===========================================================================

# find_zoo: results/zoo/zoo.json, when it is a list.
find_zoo() {
    zoo_json=""
    if [ -f "$results/zoo/zoo.json" ] && jq -e 'type == "array"' "$results/zoo/zoo.json" >/dev/null 2>&1; then
        zoo_json=$results/zoo/zoo.json
    fi
}

# section_zoo: how many bugs were caught, then a row per bug.
section_zoo() {
    made_by "make zoo" "each safeguard of the safe phases switched off in turn (\`--without NAME\`), the scenario that needs it run with the bug and without; every bug must be caught by the audit or the checker (scripts/zoo.sh, docs/zoo.md)."
    local measured="" meta=""
    [ ! -f "${zoo_json%.json}.md" ] ||
        measured=$(sed -n 's/^Measured by `make zoo` (\(.*\)): .*/\1/p' "${zoo_json%.json}.md" | head -n 1)
    # zoo.json is a list: its metadata, when a run writes it (write_metadata),
    # is zoo.meta.json beside it, used only when not older than the list
    [ ! -f "${zoo_json%.json}.meta.json" ] || [ "$zoo_json" -nt "${zoo_json%.json}.meta.json" ] ||
        meta=${zoo_json%.json}.meta.json
    {
        env_rows "$meta" "$(file_when "$zoo_json")"
        [ -z "$measured" ] || echo "measured|$measured (zoo.md)"
        echo "results|$(shown "$zoo_json")"
    } | kv
    local caught total
    total=$(jq 'length' "$zoo_json")
    caught=$(jq '[.[] | select(.caught == true and .clean_without_bug == true)] | length' "$zoo_json")
    para "$caught of $total planted bugs caught with the bug on and clean without it."
    {
        printf 'bug\tphase\texposed by\tcaught\twithout it\toversold\tlost\tduplicated\tdrift\tundersold\tfalse conf.\tverdict with the bug\n'
        jq -r '.[] | def f: if . == null then "n/a" else tostring end;
            [("`" + (.planted // .bug // "?") + "`"), (.phase | f), (.scenario // "" | tostring),
             (if .caught == true then "caught" else "**MISSED**" end),
             (if .clean_without_bug == true then "clean" else "**NOT CLEAN**" end),
             (.oversold | f), (.lost | f), (.duplicated | f), (.drift | f), (.undersold | f),
             (.false_confirmations | f), (.verdict // "" | tostring | gsub("[\t\n]"; " "))] | @tsv' "$zoo_json"
    } | table
}
