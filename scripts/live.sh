#!/usr/bin/env bash
# live.sh -- `make live PHASE=N`: the class watches the race. Starts the
# services and phase N (infra/attack.sh), and the harness with --live, which
# serves the page on LAB_LIVE (loopback only) and prints its URL before the
# attack starts. With --fault, the attack is make nemesis's (sustained load,
# one fault, the checker), so the page shades the fault window.
#
#   bash scripts/live.sh --phase N [--users U] [--seats S] [--fault KIND[@WHEN[:DUR]]]
#                        [--without NAME] [--instances K] [--strategy NAME]
#                        [attack options...]
#
#   LAB_LIVE=HOST:PORT  where the page is served (default 127.0.0.1:18088); a
#                       host that is not loopback is refused (exit 2)
#   LIVE_LINGER=S       the page stays S seconds after the audit (default: until
#                       Ctrl-C or SIGTERM)
#   LIVE_SAVE=1         the page's last state to results/live/<run>-state.json
#                       and results/live/latest.json (docs/results-format.md)
#   LIVE_RUN_ID=ID      the run's id (default live<epoch>p<N>)
#   LIVE_BIN_DIR=DIR    the builds to run (default build; the tests use build/san)
#
# With --fault, --users and --seats are make nemesis's (3000 requests over
# 16 paced connections, half as many seats): those given here are ignored.
set -euo pipefail
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$LAB_ROOT/infra/common.sh"

phase=
users=
seats=
fault=
service=()
extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --phase) phase=${2:?--phase needs a number}; shift 2 ;;
        --users) users=${2:?--users needs a number}; shift 2 ;;
        --seats) seats=${2:?--seats needs a number}; shift 2 ;;
        --fault) fault=${2:?--fault needs KIND[@WHEN[:DUR]]}; shift 2 ;;
        --without | --instances | --strategy) service+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        -h | --help) script_help "$0"; exit 0 ;;
        *) extra+=("$1"); shift ;;
    esac
done
[ -n "$phase" ] && lab_is_phase "$phase" || { echo "live.sh: --phase $(lab_phase_range) is needed" >&2; exit 2; }
bin_dir=${LIVE_BIN_DIR:-build}
addr=${LAB_LIVE:-127.0.0.1:18088}
# the harness's own check of the address: usage and exit 2 before any service starts
"$LAB_ROOT/$bin_dir/attack" --live "$addr" --help >/dev/null || exit 2
live=(--live "$addr")
if [ -n "${LIVE_LINGER:-}" ]; then
    [[ $LIVE_LINGER =~ ^[0-9]+$ ]] || { echo "live.sh: LIVE_LINGER is a number of seconds, not '$LIVE_LINGER'" >&2; exit 2; }
    live+=(--live-linger "$LIVE_LINGER")
fi
run=${LIVE_RUN_ID:-live$(date +%s)p$phase}
if [ "${LIVE_SAVE:-0}" = 1 ]; then
    mkdir -p "$LAB_ROOT/results/live"
    live+=(--live-save "$LAB_ROOT/results/live/$run-state.json")
fi
say "phase $phase on a live page at http://$addr/ (run $run)"
if [ -n "$fault" ]; then
    NEMESIS_RUN_ID=$run NEMESIS_BIN_DIR=$bin_dir exec bash "$LAB_ROOT/scripts/nemesis.sh" \
        --phase "$phase" --fault "$fault" --harness-dir "$bin_dir" \
        ${service[@]+"${service[@]}"} "${live[@]}" ${extra[@]+"${extra[@]}"}
fi
# a sustained attack (ATTACK_ARGS="--mode sustained ...") has no users
for a in ${extra[@]+"${extra[@]}"}; do
    if [ "$a" = sustained ] || [ "$a" = --mode=sustained ]; then users=; fi
done
exec bash "$LAB_ROOT/infra/attack.sh" --phase "$phase" --bin-dir "$bin_dir" \
    ${users:+--users "$users"} ${seats:+--seats "$seats"} --run-id "$run" \
    ${service[@]+"${service[@]}"} "${live[@]}" ${extra[@]+"${extra[@]}"}
