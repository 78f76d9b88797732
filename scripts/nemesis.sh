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
#
# partition-pg, partition-redis, partition-kafka: this script starts the
# lab's TCP proxy (build/labproxy, docs/cluster.md) in front of that
# service's servers for the run, and only then; the service reaches them
# through it, the harness directly (its audit must not be cut off); the
# fault cuts the proxy and heals it. NEMESIS_PROXY_DELAY_MS and
# NEMESIS_PROXY_DROP_PCT make it hold every chunk that long, or close that
# share of new connections, for the whole run; NEMESIS_PROXY=pg|redis|kafka
# puts the proxy in front of that service with any other fault too.
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

# a replicated PostgreSQL runs in the mode LAB_PG_SYNC asks for this run
# (LAB_PG_SYNC=off make nemesis ...: an asynchronous standby)
! lab_clustered pg || bash "$LAB_ROOT/infra/cluster.sh" sync

# ------------------------------------------------------------- the proxy
proxy_for=${NEMESIS_PROXY:-}
case $kind in partition-pg | partition-redis | partition-kafka) proxy_for=${kind#partition-} ;; esac
case $proxy_for in '' | pg | redis | kafka) ;;
*) echo "nemesis.sh: NEMESIS_PROXY is pg, redis or kafka, not '$proxy_for'" >&2; exit 2 ;; esac
proxy_delay=${NEMESIS_PROXY_DELAY_MS:-0}
proxy_drop=${NEMESIS_PROXY_DROP_PCT:-0}
[[ $proxy_delay =~ ^[0-9]+$ ]] && [ "$proxy_delay" -le 60000 ] ||
    { echo "nemesis.sh: NEMESIS_PROXY_DELAY_MS is 0 to 60000, not '$proxy_delay'" >&2; exit 2; }
[[ $proxy_drop =~ ^[0-9]+$ ]] && [ "$proxy_drop" -le 100 ] ||
    { echo "nemesis.sh: NEMESIS_PROXY_DROP_PCT is 0 to 100, not '$proxy_drop'" >&2; exit 2; }
proxy_pids=${LAB_FAULT_DIR:-$LAB_PIDS}   # where infra/fault.sh looks for proxy.addr
proxy_ctl_addr=127.0.0.1:${NEMESIS_PROXY_CONTROL_PORT:-$((CLUSTER_PG_PORT + LAB_PROXY_OFFSET + 9))}
proxy_pid=
proxy_routes=()
proxy_env=()

# redis_primary prints host:port of the Redis primary the Sentinels name
# (the replicated topology), asked with the lab's password, then without.
redis_primary() {
    local out
    out=$(lab_redis_cli SENTINEL get-master-addr-by-name "$REDIS_MASTER_NAME" 2>/dev/null) &&
        [ "$(wc -l <<<"$out")" -eq 2 ] ||
        out=$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" SENTINEL get-master-addr-by-name "$REDIS_MASTER_NAME")
    [ "$(wc -l <<<"$out")" -eq 2 ] || die "the Sentinels on $REDIS_HOST:$REDIS_PORT name no primary for $REDIS_MASTER_NAME"
    echo "$(head -n 1 <<<"$out"):$(tail -n 1 <<<"$out")"
}

# plan_proxy SERVICE fills proxy_routes (LISTEN=TARGET) and proxy_env (the
# service's addresses through the proxy). The proxy listens on loopback,
# LAB_PROXY_OFFSET above the port it stands for (the layout of
# infra/common.sh): PostgreSQL's i-th host (the replicated topology's pg1,
# pg2, or the hosts of your own LAB_PG) on P+20+i, where P is the first
# host's port; the Redis server, or the primary the Sentinels name, on
# R+20; the i-th Kafka broker's PROXIED listener (K+10+i) on K+20+i, the
# address that listener advertises.
plan_proxy() {
    local h=$LAB_CLUSTER_HOST i=0 n=1 list='' hp
    proxy_routes=()
    case $1 in
    pg)
        for hp in ${PG_HOSTS//,/ }; do
            [[ $hp == *:* ]] || hp=$hp:5432
            proxy_routes+=("$h:$((PG_PORT + LAB_PROXY_OFFSET + i))=$hp")
            list+=${list:+,}$h:$((PG_PORT + LAB_PROXY_OFFSET + i))
            i=$((i + 1))
        done
        proxy_env=(--service-env "LAB_PG=${LAB_PG/"$PG_HOSTS"/"$list"}") ;;
    redis)
        if [ -n "$REDIS_SENTINELS" ]; then
            proxy_routes=("$h:$((REDIS_PORT + LAB_PROXY_OFFSET))=$(redis_primary)")
        else
            proxy_routes=("$h:$((REDIS_PORT + LAB_PROXY_OFFSET))=$REDIS_HOST:$REDIS_PORT")
        fi
        proxy_env=(--service-env "LAB_REDIS=$h:$((REDIS_PORT + LAB_PROXY_OFFSET))") ;;
    kafka)
        # only the lab's brokers have the PROXIED listener: through any
        # other, a client would leave the proxy after the bootstrap
        ! lab_clustered kafka || n=3
        for ((i = 0; i < n; i++)); do
            port_open "$KAFKA_HOST" $((CLUSTER_KAFKA_PORT + 10 + i)) ||
                die "partition-kafka needs the lab's Kafka: nothing answers on its PROXIED listener $KAFKA_HOST:$((CLUSTER_KAFKA_PORT + 10 + i)) (docs/cluster.md)"
            proxy_routes+=("$h:$((CLUSTER_KAFKA_PORT + LAB_PROXY_OFFSET + i))=$KAFKA_HOST:$((CLUSTER_KAFKA_PORT + 10 + i))")
            list+=${list:+,}$h:$((CLUSTER_KAFKA_PORT + LAB_PROXY_OFFSET + i))
        done
        proxy_env=(--service-env "LAB_KAFKA=$list") ;;
    esac
}

# proxy_start starts the lab's proxy (labproxy, beside the harness: build/
# or the tests' build/san/) with the planned routes, waits until its
# control port answers, sets the delay and the drop rate, and writes
# proxy.pid and proxy.addr (the control address and the service) for
# infra/fault.sh.
proxy_start() {
    local bin=$LAB_ROOT/$harness_dir/labproxy args=() r old deadline=$((SECONDS + 10))
    [ -x "$bin" ] || die "no $bin: run make (or make $harness_dir/labproxy)"
    if old=$(head -n 1 "$proxy_pids/proxy.pid" 2>/dev/null) && [[ $old =~ ^[0-9]+$ ]] &&
        [[ $({ tr '\0' ' ' <"/proc/$old/cmdline"; } 2>/dev/null) == *labproxy* ]]; then
        die "a proxy of the lab still runs (pid $old): another nemesis run?"
    fi
    for r in "${proxy_routes[@]}"; do args+=(--route "$r"); done
    mkdir -p "$LAB_LOGS" "$proxy_pids"
    "$bin" "${args[@]}" --control "$proxy_ctl_addr" >>"$LAB_LOGS/labproxy.log" 2>&1 </dev/null &
    proxy_pid=$!
    echo "$proxy_pid" >"$proxy_pids/proxy.pid"
    until proxy_ctl "$proxy_ctl_addr" status >/dev/null; do
        kill -0 "$proxy_pid" 2>/dev/null || { log_tail labproxy; die "the proxy exited at start (a port of it in use?)"; }
        [ "$SECONDS" -lt "$deadline" ] || { log_tail labproxy; die "the proxy does not answer on $proxy_ctl_addr"; }
        sleep 0.1
    done
    printf '%s\n%s\n' "$proxy_ctl_addr" "$proxy_for" >"$proxy_pids/proxy.addr"
    [ "$proxy_delay" -eq 0 ] || proxy_ctl "$proxy_ctl_addr" delay "$proxy_delay" >/dev/null || die "proxy: delay refused"
    [ "$proxy_drop" -eq 0 ] || proxy_ctl "$proxy_ctl_addr" drop "$proxy_drop" >/dev/null || die "proxy: drop refused"
    say "proxy (pid $proxy_pid) in front of $proxy_for: ${proxy_routes[*]}; control $proxy_ctl_addr$(
        [ "$proxy_delay" -eq 0 ] || echo ", delay $proxy_delay ms")$([ "$proxy_drop" -eq 0 ] || echo ", drop $proxy_drop%")"
}

# proxy_stop prints the proxy's last status, ends it with SIGTERM and
# checks that it went (SIGKILL after 10 s), and removes its files.
proxy_stop() {
    local state
    [ -n "$proxy_pid" ] || return 0
    say "proxy at the end: $(proxy_ctl "$proxy_ctl_addr" status || echo '(no answer)')"
    kill -TERM "$proxy_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        state=$(awk '{ print $3 }' "/proc/$proxy_pid/stat" 2>/dev/null) || break
        [ "$state" != Z ] || break
        sleep 0.1
    done
    if state=$(awk '{ print $3 }' "/proc/$proxy_pid/stat" 2>/dev/null) && [ "$state" != Z ]; then
        say "the proxy (pid $proxy_pid) did not exit 10 s after SIGTERM: killed"
        kill -KILL "$proxy_pid" 2>/dev/null || true
    fi
    wait "$proxy_pid" 2>/dev/null || true
    rm -f "$proxy_pids/proxy.pid" "$proxy_pids/proxy.addr"
    proxy_pid=
}
trap proxy_stop EXIT

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
if [ -n "$proxy_for" ]; then
    bash "$LAB_ROOT/infra/services.sh" up >/dev/null
    plan_proxy "$proxy_for"
    proxy_start
fi
status=0
bash "$LAB_ROOT/infra/attack.sh" --phase "$phase" --bin-dir "$bin_dir" --harness-dir "$harness_dir" ${split[@]+"${split[@]}"} \
    ${proxy_env[@]+"${proxy_env[@]}"} \
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
