#!/usr/bin/env bash
# attack.sh -- what `make phaseN attack` runs: make sure the services are up,
# start phase N's service, attack it with the harness (which resets the event
# and audits the database afterwards), show the service's own audit, and stop
# the service again, whatever happened.
#
#   bash infra/attack.sh --phase N [--bin-dir build] [--harness-dir DIR]
#                        [--service-arg ARG]... [--strategy NAME] [--without NAME]
#                        [--instances K] [--workers W] [--partitions P]
#                        [--events E] [--split-roles] [--service-env NAME=VALUE]...
#                        [attack options...]
#
#   --strategy NAME   the service's --strategy (phase 2: unsafe, local-mutex;
#                     phase 3: for-update, atomic, optimistic, serializable,
#                     advisory; the zoo's planted ones: docs/zoo.md)
#   --without NAME    the service's --without: a safeguard switched off, a
#                     planted bug of the zoo (docs/zoo.md)
#   --instances K     K service processes on consecutive ports from LAB_HTTP's
#                     (port, port+1, ...; an instance after the first whose
#                     port is held moves to the next free one); the harness
#                     spreads its connections over them (default 1)
#   --workers W       phases 5 and 6: the K processes take requests only
#                     (--role api) and W more decide them (--role worker), all
#                     in one consumer group (default 0: each does both)
#   --partitions P    phases 5 and 6: partitions of the topic, when it is made
#   --events E        E events on sale at once (1 or 2): one harness per event,
#                     side by side; in phases 5-6 the event id is the message
#                     key, so each event keeps its own partition's order:
#                     with the default 3 partitions events 1 and 2 hash to
#                     partitions 2 and 1 (CRC32 of the key), with 2 partitions
#                     both to partition 1
#   --split-roles     phases 5 and 6: the same as --workers 1, so that a fault
#                     can kill the worker alone
#   --service-env NAME=VALUE   an environment variable for the service's
#                     processes alone, not the harness's (scripts/nemesis.sh
#                     gives a partition fault's service the proxy's addresses
#                     in LAB_PG, LAB_REDIS or LAB_KAFKA, while the harness
#                     audits the servers directly); kept in the command line
#                     that infra/fault.sh restarts a killed process with
#
# The pid and command line of the first instance and of the first worker are
# kept in .lab/run/service.pid, service.cmd, worker.pid and worker.cmd, for
# infra/fault.sh (the harness's --fault) to kill one and start it again.
set -euo pipefail
source "$(dirname "$0")/common.sh"

phase=2
event=1
bin_dir=build
harness_dir=
instances=1
workers=0
events=1
split_roles=false
service_args=()
service_env=()
attack_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --phase) phase=${2:?--phase needs a number}; shift 2 ;;
        --bin-dir) bin_dir=${2:?}; shift 2 ;;
        --harness-dir) harness_dir=${2:?}; shift 2 ;;
        --service-arg) service_args+=("${2:?}"); shift 2 ;;
        --strategy) service_args+=(--strategy "${2:?--strategy needs a name}"); shift 2 ;;
        --without) service_args+=(--without "${2:?--without needs a safeguard}"); shift 2 ;;
        --partitions) service_args+=(--partitions "${2:?--partitions needs a number}"); shift 2 ;;
        --instances) instances=${2:?--instances needs a number}; shift 2 ;;
        --workers) workers=${2:?--workers needs a number}; shift 2 ;;
        --events) events=${2:?--events needs a number}; shift 2 ;;
        --split-roles) split_roles=true; shift ;;
        --service-env)
            [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] ||
                { echo "attack.sh: --service-env takes NAME=VALUE, not '${2:-}'" >&2; exit 2; }
            service_env+=("$2"); shift 2 ;;
        --event) event=${2:?--event needs an id}; attack_args+=("$1" "$2"); shift 2 ;;
        -h|--help)
            script_help "$0"
            echo "attack options (passed to the harness):"
            exec "$LAB_ROOT/${harness_dir:-$bin_dir}/attack" --help ;;
        *) attack_args+=("$1"); shift ;;
    esac
done
lab_is_phase "$phase" || { echo "attack.sh: --phase must be $(lab_phase_range), not '$phase'" >&2; exit 2; }
[[ $instances =~ ^[0-9]+$ ]] && [ "$instances" -ge 1 ] && [ "$instances" -le 16 ] ||
    { echo "attack.sh: --instances must be 1 to 16, not '$instances'" >&2; exit 2; }
[[ $workers =~ ^[0-9]+$ ]] && [ "$workers" -le 16 ] ||
    { echo "attack.sh: --workers must be 0 to 16, not '$workers'" >&2; exit 2; }
[[ $events =~ ^[12]$ ]] || { echo "attack.sh: --events must be 1 or 2, not '$events'" >&2; exit 2; }
if $split_roles && [ "$workers" -eq 0 ]; then workers=1; fi
if [ "$workers" -gt 0 ] && [ "$phase" -lt 5 ]; then
    echo "attack.sh: --workers is for phases 5 and 6 (a Kafka consumer group)" >&2; exit 2
fi

split_hostport LAB_HTTP "$LAB_HTTP" HTTP
urls=() ports=()
for ((i = 0; i < instances; i++)); do
    ports+=($((HTTP_PORT + i)))
    urls+=("http://$HTTP_HOST:${ports[$i]}")
done
url_list=$(IFS=,; echo "${urls[*]}")
for url in "${urls[@]}"; do
    if curl -fsS -m 2 "$url/healthz" >/dev/null 2>&1; then
        die "something already answers on $url: stop it first (a service left running?)"
    fi
done

bash "$LAB_ROOT/infra/services.sh" up >/dev/null

mkdir -p "$LAB_RUN/log" "$LAB_PIDS"
rm -f "$LAB_PIDS"/service.pid "$LAB_PIDS"/service.cmd "$LAB_PIDS"/worker.pid "$LAB_PIDS"/worker.cmd
service_pids=()

# is_phase PID: PID is alive (not a zombie) and runs one of the lab's phases,
# so that a pid recycled since is never signalled.
is_phase() {
    [[ $({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) == *phase[0-9]* ]] &&
        [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# keep_role ROLE PID LOG ARGS...: the pid and the command line of a process
# that infra/fault.sh may kill and start again (the same arguments, the same
# log, appended to).
keep_role() {
    local role=$1 pid=$2 log=$3
    shift 3
    printf '%q ' "$@" >"$LAB_PIDS/$role.cmd"
    printf '\n%s\n' "$log" >>"$LAB_PIDS/$role.cmd"
    echo "$pid" >"$LAB_PIDS/$role.pid"
}

# stop_service ends every process started here with SIGTERM (SIGCONT first:
# a fault may have paused one) and waits for each, so that the ports are free
# again when this script returns. A fault may have replaced the first
# instance or worker: those pids are read from the pid files again.
stop_service() {
    local pid role pids=(${service_pids[@]+"${service_pids[@]}"})
    for role in service worker; do
        pid=$(head -n 1 "$LAB_PIDS/$role.pid" 2>/dev/null) && pids+=("$pid")
        rm -f "$LAB_PIDS/$role.pid"
    done
    for pid in ${pids[@]+"${pids[@]}"}; do
        is_phase "$pid" || continue
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    # Each gets 30 s: a process that never exits (LeakSanitizer's exit check
    # of a sanitized build was seen spinning for minutes, its tracer
    # waiting) is killed and named rather than hanging this script.
    for pid in ${pids[@]+"${pids[@]}"}; do
        local waited=0
        while is_phase "$pid" && [ "$waited" -lt 300 ]; do   # a replacement is not our child
            sleep 0.1
            waited=$((waited + 1))
        done
        if is_phase "$pid"; then
            echo "[lab] service pid $pid did not exit 30 s after SIGTERM: killed" >&2
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_service EXIT

# The service's program, behind `env NAME=VALUE...` when --service-env
# gave it variables of its own (env execs it: the pid is the phase's).
service_bin=("$LAB_ROOT/$bin_dir/phase$phase")
[ ${#service_env[@]} -eq 0 ] || service_bin=(env "${service_env[@]}" "${service_bin[@]}")

# start_one NAME ARGS...: one service process, its log in .lab/log/NAME.log
start_one() {
    local name=$1
    shift
    "${service_bin[@]}" "$@" >"$LAB_RUN/log/$name.log" 2>&1 &
    service_pids+=($!)
    [ "$name" = "phase$phase-worker1" ] &&
        keep_role worker $! "$LAB_RUN/log/$name.log" "${service_bin[@]}" "$@"
    return 0
}
role=()
[ "$workers" -gt 0 ] && role=(--role api)
# start_instance I: instance I (0-based) on LAB_HTTP's port + I; its pid is
# service_pids[I]
instance_log() {
    if [ "$instances" -gt 1 ]; then echo "$LAB_RUN/log/phase$phase-$(($1 + 1)).log"
    else echo "$LAB_RUN/log/phase$phase.log"; fi
}
start_instance() {
    local cmd=("${service_bin[@]}" --listen "$HTTP_HOST:${ports[$1]}"
               ${role[@]+"${role[@]}"} ${service_args[@]+"${service_args[@]}"})
    "${cmd[@]}" >"$(instance_log "$1")" 2>&1 &
    service_pids[$1]=$!
    if [ "$1" -eq 0 ]; then keep_role service $! "$(instance_log 0)" "${cmd[@]}"; fi
}
for ((i = 0; i < instances; i++)); do
    start_instance "$i"
done
for ((i = 0; i < workers; i++)); do
    start_one "phase$phase-worker$((i + 1))" --role worker "${service_args[@]}"
done
log="$LAB_RUN/log/phase$phase*.log"

# wait until every instance answers, or give up with the logs. An instance
# after the first that could not bind its port moves to the port after the
# last one in use, up to 8 times in all: on a busy machine a port of the
# ephemeral range may be held by some client connection's end (TIME_WAIT).
restarts=0
for ((i = 0; i < instances; i++)); do
    for _ in $(seq 1 100); do
        curl -fsS -m 1 "${urls[$i]}/healthz" >/dev/null 2>&1 && break
        for ((j = 0; j < instances; j++)); do
            kill -0 "${service_pids[$j]}" 2>/dev/null && continue
            if [ "$j" -gt 0 ] && [ "$restarts" -lt 8 ] &&
                grep -q "cannot listen" "$(instance_log "$j")"; then
                wait "${service_pids[$j]}" 2>/dev/null || true
                restarts=$((restarts + 1))
                last=${ports[0]}
                for p in "${ports[@]}"; do [ "$p" -gt "$last" ] && last=$p; done
                ports[$j]=$((last + 1))
                urls[$j]="http://$HTTP_HOST:${ports[$j]}"
                start_instance "$j"
            else
                tail -n 20 "$(instance_log "$j")" >&2
                die "phase $phase did not start on ${urls[$j]}"
            fi
        done
        for pid in "${service_pids[@]:instances}"; do
            kill -0 "$pid" 2>/dev/null || { tail -n 20 $log >&2; die "a phase $phase worker did not start"; }
        done
        sleep 0.1
    done
    url=${urls[$i]}
    curl -fsS -m 1 "$url/healthz" >/dev/null 2>&1 || { tail -n 20 $log >&2; die "phase $phase does not answer on $url"; }
done

url_list=$(IFS=,; echo "${urls[*]}")
say "phase $phase is up on $url_list ($instances instance(s)$([ "$workers" -gt 0 ] && echo ", $workers worker(s)"); logs: .lab/log/phase$phase*.log); attacking"
status=0
if [ "$events" -eq 1 ]; then
    "$LAB_ROOT/${harness_dir:-$bin_dir}/attack" --url "$url_list" "${attack_args[@]}" || status=$?
else
    # two events at once: event E and E+1, users of the second offset so
    # that no user id is shared; each harness audits its own event
    harness_pids=()
    for ((e = 0; e < events; e++)); do
        "$LAB_ROOT/${harness_dir:-$bin_dir}/attack" --url "$url_list" "${attack_args[@]}" \
            --event $((event + e)) --user-base $((e * 1000000)) \
            >"$LAB_RUN/log/attack-event$((event + e)).out" 2>&1 &
        harness_pids+=($!)
    done
    for ((e = 0; e < events; e++)); do
        wait "${harness_pids[$e]}" || status=$?
        echo "== event $((event + e))"
        cat "$LAB_RUN/log/attack-event$((event + e)).out"
    done
fi
echo
for ((e = 0; e < events; e++)); do
    echo "the service's own audit (GET /api/bookings/audit?eventId=$((event + e))):"
    curl -sS -m 5 "${urls[0]}/api/bookings/audit?eventId=$((event + e))" || true
    echo
done
exit "$status"
