#!/usr/bin/env bash
# nemesis.sh -- one fault under sustained load (`make nemesis PHASE=N FAULT=...`):
# starts phase N (API and worker as two processes for kill-worker), runs a
# closed-loop attack long enough to span the fault, with more seats than the
# fault window can sell (half the requests: the sale goes on after the
# fault and sells out later, so a gate that lost seats shows as undersold
# and one that kept too many as refusals by the database), breaks and heals
# the lab through the harness's --fault, and prints the audit and the
# checker's table. Writes results/<run>-history.jsonl, -check.json,
# -timeline.csv and, with gnuplot, plots/out/<run>-fault.png.
#
#   bash scripts/nemesis.sh --phase N --fault KIND[@WHEN[:DURATION]]
#                           [--requests R] [--connections C] [--json] [extra attack options]
#
# WHEN defaults to accepted=R/4 (a quarter of the requests accepted, so the
# fault comes at the same point of the sale whatever the phase's speed),
# DURATION to 2 s. The services run with --think-ms 1 (NEMESIS_THINK_MS); each
# of the 16 connections (NEMESIS_CONNECTIONS) pauses 80 ms after a booking
# (NEMESIS_PACE_MS): about 200 requests a second that every phase, and the
# queue's consumer, keep up with, so 3000 requests (--requests) last about
# 15 s, long enough to span a fault and the recovery after it.
set -euo pipefail
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$LAB_ROOT/infra/common.sh"

phase=
fault=
requests=
connections=${NEMESIS_CONNECTIONS:-16}
think_ms=${NEMESIS_THINK_MS:-1}
pace_ms=${NEMESIS_PACE_MS:-80}
bin_dir=${NEMESIS_BIN_DIR:-build}
harness_dir=build
extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --phase) phase=${2:?}; shift 2 ;;
        --fault) fault=${2:?}; shift 2 ;;
        --requests) requests=${2:?}; shift 2 ;;
        --connections) connections=${2:?}; shift 2 ;;
        --bin-dir) bin_dir=${2:?}; shift 2 ;;
        --harness-dir) harness_dir=${2:?}; shift 2 ;;
        -h | --help) script_help "$0"; exit 0 ;;
        *) extra+=("$1"); shift ;;
    esac
done
[ -n "$phase" ] && lab_is_phase "$phase" || { echo "nemesis.sh: --phase $(lab_phase_range) is needed" >&2; exit 2; }
[ -n "$fault" ] || { echo "nemesis.sh: --fault KIND[@WHEN[:DURATION]] is needed" >&2; exit 2; }
requests=${requests:-3000}
[[ $requests =~ ^[0-9]+$ ]] && [ "$requests" -ge 100 ] || { echo "nemesis.sh: --requests >= 100" >&2; exit 2; }
kind=${fault%%@*}
[[ $fault == *@* ]] || fault="$fault@accepted=$((requests / 4)):2"
split=()
if [ "$kind" = kill-worker ]; then
    case $phase in 5 | 6) split=(--split-roles) ;;
        *) echo "nemesis.sh: kill-worker needs a phase with a worker (5 or 6)" >&2; exit 2 ;; esac
fi

run=${NEMESIS_RUN_ID:-f$(date +%s)p$phase}
# phases 5 and 6: a Kafka topic and group of the run's own, as the tests
# do: a request an earlier run left in the queue (its worker killed) must
# not be booked into this run's event
topic=()
case $phase in 5 | 6) topic=(--service-arg --topic --service-arg "lab-nemesis-$run"
                             --service-arg --group --service-arg "lab-nemesis-$run")
    # kill-broker kills the leader of this topic's booking partition
    export LAB_FAULT_TOPIC=lab-nemesis-$run ;; esac
mkdir -p "$LAB_ROOT/results"
say "phase $phase, $fault, $requests requests over $connections connections (run $run)"
status=0
bash "$LAB_ROOT/infra/attack.sh" --phase "$phase" --bin-dir "$bin_dir" --harness-dir "$harness_dir" ${split[@]+"${split[@]}"} \
    --service-arg --think-ms --service-arg "$think_ms" ${topic[@]+"${topic[@]}"} \
    --mode sustained --connections "$connections" --requests "$requests" --pace-ms "$pace_ms" \
    --seats $((requests / 2)) --timeout-ms 3000 --drain-timeout-ms 30000 \
    --run-id "$run" --fault "$fault" --timeline "$LAB_ROOT/results/$run-timeline.csv" \
    ${extra[@]+"${extra[@]}"} || status=$?
if command -v gnuplot >/dev/null && [ -s "$LAB_ROOT/results/$run-history.jsonl" ]; then
    bash "$LAB_ROOT/scripts/faultplot.sh" "$LAB_ROOT/results/$run-history.jsonl" \
        "$LAB_ROOT/results/$run-check.json" "$LAB_ROOT/plots/out/$run-fault.png" || true
fi
exit "$status"
