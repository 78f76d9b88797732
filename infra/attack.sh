#!/usr/bin/env bash
# attack.sh -- what `make phaseN attack` runs: make sure the services are up,
# start phase N's service, attack it with the harness (which resets the event
# and audits the database afterwards), show the service's own audit, and stop
# the service again, whatever happened.
#
#   bash infra/attack.sh --phase N [--bin-dir build] [--harness-dir DIR]
#                        [--service-arg ARG]... [--split-roles] [attack options...]
#
# --split-roles (phases 5, 6): the API and the Kafka worker as two processes
# (--role api, --role worker), so that a fault can kill the worker alone.
# The services' pids and command lines are kept in .lab/run/service.pid,
# service.cmd (and worker.*) for infra/fault.sh, the harness's --fault.
set -euo pipefail
source "$(dirname "$0")/common.sh"

phase=2
event=1
bin_dir=build
harness_dir=
service_args=()
attack_args=()
split_roles=false
while [ $# -gt 0 ]; do
    case "$1" in
        --phase) phase=${2:?--phase needs a number}; shift 2 ;;
        --bin-dir) bin_dir=${2:?}; shift 2 ;;
        --harness-dir) harness_dir=${2:?}; shift 2 ;;
        --service-arg) service_args+=("${2:?}"); shift 2 ;;
        --split-roles) split_roles=true; shift ;;
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

mkdir -p "$LAB_RUN/log" "$LAB_PIDS"
log="$LAB_RUN/log/phase$phase.log"

# start_role ROLE ARGS...: start a service process, keep its pid and its
# command line (for infra/fault.sh to start it again after killing it).
start_role() {
    local role=$1
    shift
    printf '%q ' "$@" >"$LAB_PIDS/$role.cmd"
    printf '\n%s\n' "$log" >>"$LAB_PIDS/$role.cmd"
    "$@" >>"$log" 2>&1 &
    echo $! >"$LAB_PIDS/$role.pid"
}
: >"$log"
if $split_roles; then
    start_role service "$LAB_ROOT/$bin_dir/phase$phase" ${service_args[@]+"${service_args[@]}"} --role api
    start_role worker "$LAB_ROOT/$bin_dir/phase$phase" ${service_args[@]+"${service_args[@]}"} --role worker
else
    rm -f "$LAB_PIDS/worker.pid" "$LAB_PIDS/worker.cmd"
    start_role service "$LAB_ROOT/$bin_dir/phase$phase" ${service_args[@]+"${service_args[@]}"}
fi
service_pid=$(cat "$LAB_PIDS/service.pid")

# stop_service ends the services with SIGTERM and waits for them, so that
# the port is free again when this script returns; a fault may have
# replaced them, so their pids are read from the pid files again.
stop_service() {
    local role pid
    for role in service worker; do
        pid=$(head -n 1 "$LAB_PIDS/$role.pid" 2>/dev/null) || continue
        [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *phase[0-9]* ]] || continue
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        while [ -e "/proc/$pid" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
            sleep 0.1
        done
        rm -f "$LAB_PIDS/$role.pid"
    done
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
