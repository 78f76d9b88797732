#!/usr/bin/env bash
# demo.sh -- what `make demo` runs: a narrated walk through phases 2 to 6.
# For each phase it says in a few sentences what is about to happen, runs the
# attack through infra/attack.sh (which starts the phase's service, runs the
# harness with its live progress line, prints the audit and stops the
# service), then says in one line what to notice, with the figures of the run
# just made. At the end, one table compares the phases.
#
# On a terminal it waits for Enter before each phase; with DEMO_PAUSE=0, or
# when stdin is not a terminal, it runs straight through.
#
#   bash scripts/demo.sh [PHASE...]        (default: 2 3 4 5 6)
#
# Environment: DEMO_USERS (500), DEMO_SEATS (100), DEMO_EVENT (1),
# DEMO_PAUSE (0: never wait), DEMO_TOPIC and DEMO_GROUP (the Kafka topic and
# consumer group of phases 5 and 6; unset: the service's defaults; a topic
# without a group gets the group <topic>-workers, so that it never shares the
# default group), and LAB_HTTP etc. as everywhere (infra/lab.env).
# The lesson that goes with it: docs/classroom.md.
set -euo pipefail
source "$(dirname "$0")/../infra/common.sh"

# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------

# usage prints the one-line usage and exits 2, as for any bad command line.
usage() {
    echo "usage: bash scripts/demo.sh [PHASE...]   (PHASE: 2 to 6; environment:" \
         "DEMO_USERS, DEMO_SEATS, DEMO_EVENT, DEMO_PAUSE, DEMO_TOPIC, DEMO_GROUP)" >&2
    exit 2
}

DEMO_USERS=${DEMO_USERS:-500}
DEMO_SEATS=${DEMO_SEATS:-100}
DEMO_EVENT=${DEMO_EVENT:-1}
DEMO_PAUSE=${DEMO_PAUSE:-1}
DEMO_TOPIC=${DEMO_TOPIC:-}
DEMO_GROUP=${DEMO_GROUP:-${DEMO_TOPIC:+$DEMO_TOPIC-workers}}

phases=()
for arg in "$@"; do
    case "$arg" in
        -h|--help) usage ;;
        *) lab_is_phase "$arg" || { echo "demo.sh: '$arg' is not a phase from $(lab_phase_range)" >&2; usage; }
           phases+=("$arg") ;;
    esac
done
[ ${#phases[@]} -gt 0 ] || read -ra phases <<<"$LAB_PHASES"

# the ranges are the harness's to check; here, only that they are numbers
for name in DEMO_USERS DEMO_SEATS DEMO_EVENT; do
    [[ ${!name} =~ ^[1-9][0-9]{0,15}$ ]] ||
        { echo "demo.sh: $name must be a positive whole number, not '${!name}'" >&2; usage; }
done
[ -x "$LAB_ROOT/build/attack" ] || die "build/attack is missing: run make first"

# Pausing needs someone to press Enter: a terminal on stdin. DEMO_PAUSE=0
# turns it off; any other value leaves it on.
pausing=false
if [ "$DEMO_PAUSE" != 0 ] && [ -t 0 ]; then
    pausing=true
fi

out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT

# ---------------------------------------------------------------------------
# Narration helpers
# ---------------------------------------------------------------------------

# banner TITLE prints the heading of a phase.
banner() {
    echo
    echo "=================================================================="
    echo "  $1"
    echo "=================================================================="
}

# tell TEXT... prints narration, folded to the terminal's width.
tell() {
    echo "$*" | fold -s -w 78
}

# wait_for_enter WHAT waits for Enter on a terminal (unless DEMO_PAUSE=0).
# An Enter pressed while the previous attack ran is thrown away first, so
# that it cannot start the next phase before anyone has read the text.
wait_for_enter() {
    if $pausing; then
        while read -r -t 0.05 _; do :; done
        read -r -p "-- press Enter to $1 -- " _ || true
    fi
}

# figure PHASE KEY prints the value of "KEY = value" in the phase's output,
# or "?" when the harness did not print it (a failed run).
figure() {
    local v
    v=$(sed -n "s/^$2 = //p" "$out_dir/phase$1.out" 2>/dev/null | head -n 1)
    echo "${v:-?}"
}

# seconds US prints microseconds as seconds with two decimals.
seconds() {
    if [[ $1 =~ ^[0-9]+$ ]]; then
        awk -v us="$1" 'BEGIN { printf "%.2f s", us / 1e6 }'
    else
        echo "?"
    fi
}

# ---------------------------------------------------------------------------
# The phases: what to say before, and what to notice after
# ---------------------------------------------------------------------------

# say_before N prints phase N's heading and what is about to happen.
say_before() {
    local u=$DEMO_USERS s=$DEMO_SEATS
    case "$1" in
    2) banner "Phase 2: the crash (read, think, write back)"
       tell "The naive service. A booking reads the seat count, thinks for 20 ms" \
            "(the payment checks of a real shop), writes back the count it read" \
            "minus one, and inserts a ticket. No transaction, no lock."
       tell "$u users will press Buy at the same instant for $s seats. While one" \
            "booking thinks, others read the same count and will write back the" \
            "same value. Watch the first line of the summary: the verdict." ;;
    3) banner "Phase 3: the lock (SELECT ... FOR UPDATE)"
       tell "The same steps inside one transaction, and the read now locks the" \
            "event's row. Every other booking of this event waits at its read" \
            "until the holder commits, think time included."
       tell "Expect a clean audit, and a sale that cannot be shorter than" \
            "$s seats x 20 ms: the bookings now run one after the other." ;;
    4) banner "Phase 4: a Redis gate in front of the lock"
       tell "Redis holds a second seat counter. A Lua script checks and takes a" \
            "seat in one atomic step; only a request that got one goes on to" \
            "phase 3's transaction. The others are told 'sold out' without" \
            "PostgreSQL hearing of them."
       tell "Expect the same clean audit as phase 3. Compare the latencies." ;;
    5) banner "Phase 5: Kafka (202 Accepted, a consumer decides)"
       tell "The API no longer books. It writes the request to Kafka and answers" \
            "202 'queued' once the broker has acknowledged it. One consumer decides" \
            "the requests in order, a batch per transaction."
       tell "The harness waits for the queue to drain before it audits." ;;
    6) banner "Phase 6: combined (Redis gate, then Kafka, then the lock)"
       tell "Redis turns the latecomers away at the API with 409; only the" \
            "requests that got a seat are queued to Kafka; the consumer's row" \
            "lock has the last word."
       tell "Expect $s requests queued, the rest sold out at once, and $s" \
            "decisions for the consumer instead of $u." ;;
    esac
}

# say_after N prints the one thing to notice in phase N's run, with its
# figures (a phase 4 run compares itself with phase 3's, if that ran).
say_after() {
    local p=$1
    echo
    case "$p" in
    2) local should="?"
       [[ "$(figure 2 seats)$(figure 2 sold)" =~ ^[0-9]+$ ]] &&
           should=$(( $(figure 2 seats) - $(figure 2 sold) ))
       tell "NOTICE: $(figure 2 booked) users were told 'booked' for $(figure 2 seats) seats" \
            "(oversold = $(figure 2 oversold)). The counter says $(figure 2 available) seats" \
            "left where $(figure 2 sold) tickets mean it should say $should:" \
            "phantom = $(figure 2 phantom) decrements were overwritten (lost updates)." ;;
    3) tell "NOTICE: clean, but the last answer came after $(seconds "$(figure 3 max_us)")" \
            "(p50 $(seconds "$(figure 3 p50_us)")): everyone queued on one row lock," \
            "even the $(figure 3 sold_out) users who only learned it was sold out." ;;
    4) local versus=""
       [ ! -s "$out_dir/phase3.out" ] || versus=" (phase 3: $(seconds "$(figure 3 p50_us)"))"
       tell "NOTICE: clean again, and PostgreSQL saw only the $(figure 4 booked) admitted" \
            "requests. p50 is $(seconds "$(figure 4 p50_us)")$versus: the 'sold out'" \
            "answers come from Redis at once; p99 is still $(seconds "$(figure 4 p99_us)"):" \
            "the admitted buyers queue on the row lock as in phase 3." ;;
    5) tell "NOTICE: the API answered all $(figure 5 attempted) in $(figure 5 wall_s) s" \
            "($(figure 5 req_per_s) req/s); the consumer had decided them $(figure 5 drain_s) s" \
            "later: a 202 is a promise, not a seat. lost = $(figure 5 lost)." ;;
    6) tell "NOTICE: $(figure 6 queued) queued, $(figure 6 sold_out) sold out straight from" \
            "Redis, p99 $(seconds "$(figure 6 p99_us)"); the queue carried $(figure 6 decided)" \
            "decisions, drained in $(figure 6 drain_s) s." ;;
    esac
}

# ---------------------------------------------------------------------------
# Running one phase
# ---------------------------------------------------------------------------

# run_phase N attacks phase N through infra/attack.sh. Its stdout (the
# summary and the service's audit) is shown and kept for the figures; its
# stderr, where the live progress line goes, stays on the terminal.
run_phase() {
    local p=$1 status=0
    local args=(--phase "$p" --event "$DEMO_EVENT" --users "$DEMO_USERS" --seats "$DEMO_SEATS")
    if [ "$p" -ge 5 ]; then
        [ -z "$DEMO_TOPIC" ] || args+=(--service-arg --topic --service-arg "$DEMO_TOPIC")
        [ -z "$DEMO_GROUP" ] || args+=(--service-arg --group --service-arg "$DEMO_GROUP")
    fi
    echo
    bash "$LAB_ROOT/infra/attack.sh" "${args[@]}" | tee "$out_dir/phase$p.out" || status=$?
    return "$status"
}

# summary_table prints one line per phase run: the figures to compare.
summary_table() {
    local p
    banner "The phases side by side ($DEMO_USERS users, $DEMO_SEATS seats)"
    printf '%-6s %-8s %7s %7s %8s %9s %9s %9s %8s %8s\n' phase verdict booked queued \
        sold_out oversold p50 p99 wall_s drain_s
    for p in "${phases[@]}"; do
        printf '%-6s %-8s %7s %7s %8s %9s %9s %9s %8s %8s\n' "$p" \
            "$(grep -q '^clean' "$out_dir/phase$p.out" 2>/dev/null && echo clean ||
               { grep -q '^attempted = ' "$out_dir/phase$p.out" 2>/dev/null && echo BUG ||
                 echo failed; })" \
            "$(figure "$p" booked)" "$(figure "$p" queued)" "$(figure "$p" sold_out)" \
            "$(figure "$p" oversold)" "$(seconds "$(figure "$p" p50_us)")" \
            "$(seconds "$(figure "$p" p99_us)")" "$(figure "$p" wall_s)" "$(figure "$p" drain_s)"
    done
}

# ---------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------

banner "The ticket race lab: $DEMO_USERS users, $DEMO_SEATS seats"
tell "Each phase below is the same sale: event $DEMO_EVENT is reset to $DEMO_SEATS" \
     "seats, $DEMO_USERS users open their connections, and all of them press Buy" \
     "at the same instant. Afterwards the harness audits the database itself:" \
     "ticket rows against seats (oversold), the counter against the rows" \
     "(phantom), and the answers against the rows (mismatch, lost)."
tell "Every figure is defined in docs/glossary.md."

failed=()
for p in "${phases[@]}"; do
    say_before "$p"
    wait_for_enter "attack phase $p"
    status=0
    run_phase "$p" || status=$?
    if [ "$status" -eq 0 ]; then
        say_after "$p"
    else
        echo
        tell "Phase $p did not run through (exit status $status); the service's log is" \
             ".lab/log/phase$p.log."
        failed+=("$p")
    fi
done

summary_table
echo
tell "Next: the race step by step with 'make replay' (docs/replay.md), and the" \
     "exercises in docs/exercises.md."
if [ ${#failed[@]} -gt 0 ]; then
    echo "demo.sh: phase(s) ${failed[*]} failed" >&2
    exit 1
fi
