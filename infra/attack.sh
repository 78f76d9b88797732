#!/usr/bin/env bash
# attack.sh -- what `make phaseN attack` runs: make sure the services are up,
# start phase N's service, attack it with the harness (which resets the event
# and audits the database afterwards), show the service's own audit, and stop
# the service again, whatever happened.
#
#   bash infra/attack.sh --phase N [--bin-dir build] [--harness-dir DIR]
#                        [--service-arg ARG]... [attack options...]
set -euo pipefail
source "$(dirname "$0")/common.sh"

phase=2
event=1
bin_dir=build
harness_dir=
service_args=()
attack_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --phase) phase=${2:?--phase needs a number}; shift 2 ;;
        --bin-dir) bin_dir=${2:?}; shift 2 ;;
        --harness-dir) harness_dir=${2:?}; shift 2 ;;
        --service-arg) service_args+=("${2:?}"); shift 2 ;;
        --event) event=${2:?--event needs an id}; attack_args+=("$1" "$2"); shift 2 ;;
        -h|--help)
            script_help "$0"
            echo "attack options (passed to the harness):"
            exec "$LAB_ROOT/${harness_dir:-$bin_dir}/attack" --help ;;
        *) attack_args+=("$1"); shift ;;
    esac
done
lab_is_phase "$phase" || { echo "attack.sh: --phase must be $(lab_phase_range), not '$phase'" >&2; exit 2; }

url="http://$LAB_HTTP"
if curl -fsS -m 2 "$url/healthz" >/dev/null 2>&1; then
    die "something already answers on $url: stop it first (a service left running?)"
fi

bash "$LAB_ROOT/infra/services.sh" up >/dev/null

mkdir -p "$LAB_RUN/log"
log="$LAB_RUN/log/phase$phase.log"
"$LAB_ROOT/$bin_dir/phase$phase" "${service_args[@]}" >"$log" 2>&1 &
service_pid=$!

# stop_service ends the service with SIGTERM and waits for it, so that the
# port is free again when this script returns.
stop_service() {
    kill -TERM "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
}
trap stop_service EXIT

# wait until the service answers, or give up with its log
for _ in $(seq 1 100); do
    curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 && break
    kill -0 "$service_pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "phase $phase did not start"; }
    sleep 0.1
done
curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 || { tail -n 20 "$log" >&2; die "phase $phase does not answer on $url"; }

say "phase $phase is up on $url (log: ${log#"$LAB_ROOT"/}); attacking"
status=0
"$LAB_ROOT/${harness_dir:-$bin_dir}/attack" --url "$url" "${attack_args[@]}" || status=$?
echo
echo "the service's own audit (GET /api/bookings/audit?eventId=$event):"
curl -sS -m 5 "$url/api/bookings/audit?eventId=$event" || true
exit "$status"
