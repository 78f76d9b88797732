#!/usr/bin/env bash
# fault.sh -- the nemesis's hands: break one part of the lab, or heal it.
# build/attack --fault runs it; docs/faults.md tells what each fault teaches.
#
#   bash infra/fault.sh break|heal KIND
#
# KIND: kill-service, kill-worker (kill -9; heal starts a new one with the
# same command line), restart-redis, restart-kafka, restart-postgres (break
# stops the lab's server, heal starts it), pause-postgres, pause-redis,
# pause-service (SIGSTOP; heal sends SIGCONT); in the replicated topology
# (infra/cluster.sh) also kill-broker, kill-controller, failover-postgres,
# failover-redis; partition-pg, partition-redis, partition-kafka (break
# cuts the service off through the lab's TCP proxy, heal forwards again:
# only while scripts/nemesis.sh runs one, whose control address it keeps in
# .lab/run/proxy.addr).
#
# It acts only on processes the lab started, found through their pid files:
# .lab/run/service.pid and worker.pid (written by infra/attack.sh, with the
# command lines in service.cmd and worker.cmd), and the servers' own pid
# files (infra/services.sh pid). Never by a process name. LAB_FAULT_DIR
# names another folder for the service's pid files (the tests start their
# own services and keep them apart from attack.sh's).
set -euo pipefail
source "$(dirname "$0")/common.sh"
LAB_PIDS=${LAB_FAULT_DIR:-$LAB_PIDS}

action=${1:-}
kind=${2:-}
usage() { echo "usage: bash infra/fault.sh break|heal KIND" >&2; exit 2; }
case $action in break | heal) ;; *) usage ;; esac

# role_pid ROLE prints the pid of .lab/run/ROLE.pid when that process is
# alive and is one of the lab's phases (a recycled pid is never taken).
role_pid() {
    local pid cmd
    pid=$(head -n 1 "$LAB_PIDS/$1.pid" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) && [[ $cmd == *phase[0-9]* ]] || return 1
    echo "$pid"
}

# gone PID: the process has exited (or is a zombie waiting for its parent).
gone() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
    [ "$state" = Z ]
}

# kill_role ROLE: kill -9 and wait until it is gone (10 s at most).
kill_role() {
    local pid
    pid=$(role_pid "$1") || die "no running $1 of this checkout (.lab/run/$1.pid)"
    kill -9 "$pid"
    for _ in $(seq 1 100); do gone "$pid" && { say "fault: $1 (pid $pid) killed"; return; }; sleep 0.1; done
    die "$1 (pid $pid) still there 10 s after kill -9"
}

# start_role ROLE: start ROLE again with the command line attack.sh kept,
# its output appended to the same log, and wait until it serves (/healthz
# for a service with an API; alive after a second for a worker).
start_role() {
    local role=$1 line log pid
    [ -s "$LAB_PIDS/$role.cmd" ] || die "no command line kept for $role (.lab/run/$role.cmd)"
    line=$(head -n 1 "$LAB_PIDS/$role.cmd")
    log=$(sed -n 2p "$LAB_PIDS/$role.cmd")
    eval "local cmd=($line)"
    # shellcheck disable=SC2154 # cmd is set by the eval above
    "${cmd[@]}" >>"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$LAB_PIDS/$role.pid"
    if [ "$role" = worker ]; then
        sleep 1
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "the new worker exited"; }
    else
        for _ in $(seq 1 300); do
            curl -fsS -m 1 "http://$LAB_HTTP/healthz" >/dev/null 2>&1 && break
            kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "the restarted service exited"; }
            sleep 0.1
        done
    fi
    say "fault: $role restarted (pid $pid)"
}

# signal_tree SIG PID: PID and its children (PostgreSQL's backends are the
# postmaster's children), the parent first on SIGSTOP so that it starts no
# new child, last on SIGCONT.
signal_tree() {
    local sig=$1 pid=$2 kids
    kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -s ' \n' ' ') || kids=
    if [ "$sig" = STOP ]; then
        kill -STOP "$pid"
        # shellcheck disable=SC2086 # a list of pids
        [ -z "${kids// /}" ] || kill -STOP $kids 2>/dev/null || true
    else
        # shellcheck disable=SC2086
        [ -z "${kids// /}" ] || kill -CONT $kids 2>/dev/null || true
        kill -CONT "$pid"
    fi
}

# stop_server NAME HOST PORT: the lab's server down, and checked down: a
# server of another checkout on the same port would make the fault a no-op.
stop_server() {
    bash "$LAB_ROOT/infra/services.sh" down "$1"
    ! port_open "$2" "$3" || die "$1 was stopped but something still answers on $2:$3"
}

# proxy_fault SERVICE COMMAND: COMMAND (cut, heal) to the lab's TCP proxy
# that scripts/nemesis.sh started for SERVICE, found through proxy.addr
# (its control address, the service it stands for) and proxy.pid.
proxy_fault() {
    local addr for pid reply
    { read -r addr && read -r for; } <"$LAB_PIDS/proxy.addr" 2>/dev/null &&
        pid=$(head -n 1 "$LAB_PIDS/proxy.pid" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] &&
        [[ $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) == *labproxy* ]] ||
        die "no proxy of the lab runs (.lab/run/proxy.addr, proxy.pid): partition faults run through scripts/nemesis.sh"
    [ "$for" = "$1" ] || die "the running proxy stands for $for, not $1: partition-$1 needs its own run of scripts/nemesis.sh"
    reply=$(proxy_ctl "$addr" "$2") || die "the proxy on $addr answered '$reply' to $2"
    say "fault: $1 partition, proxy: $reply"
}

server_pid() {
    bash "$LAB_ROOT/infra/services.sh" pid "$1" || die "the lab's $1 is not running"
}

case $action:$kind in
*:kill-broker | *:kill-controller | *:failover-postgres | *:failover-redis)
    [ "$LAB_TOPOLOGY" = replicated ] ||
        die "$kind needs the replicated topology: LAB_TOPOLOGY=replicated make services (docs/cluster.md)"
    exec bash "$LAB_ROOT/infra/cluster.sh" fault "$action" "$kind" ;;
*:partition-pg | *:partition-redis | *:partition-kafka)
    if [ "$action" = break ]; then proxy_fault "${kind#partition-}" cut
    else proxy_fault "${kind#partition-}" heal; fi ;;
break:kill-service) kill_role service ;;
heal:kill-service) start_role service ;;
break:kill-worker) kill_role worker ;;
heal:kill-worker) start_role worker ;;
break:restart-redis) stop_server redis "$REDIS_HOST" "$REDIS_PORT" ;;
heal:restart-redis) bash "$LAB_ROOT/infra/services.sh" up redis ;;
break:restart-kafka) stop_server kafka "$KAFKA_HOST" "$KAFKA_PORT" ;;
heal:restart-kafka) bash "$LAB_ROOT/infra/services.sh" up kafka ;;
break:restart-postgres) stop_server pg "$PG_HOST" "$PG_PORT" ;;
heal:restart-postgres) bash "$LAB_ROOT/infra/services.sh" up pg ;;
break:pause-postgres) signal_tree STOP "$(server_pid pg)"; say "fault: postgres paused" ;;
heal:pause-postgres) signal_tree CONT "$(server_pid pg)"; say "fault: postgres resumed" ;;
break:pause-redis) kill -STOP "$(server_pid redis)"; say "fault: redis paused" ;;
heal:pause-redis) kill -CONT "$(server_pid redis)"; say "fault: redis resumed" ;;
break:pause-service)
    pid=$(role_pid service) || die "no running service of this checkout"
    kill -STOP "$pid"; say "fault: service paused" ;;
heal:pause-service)
    pid=$(role_pid service) || die "no running service of this checkout"
    kill -CONT "$pid"; say "fault: service resumed" ;;
*) echo "fault.sh: unknown kind '$kind'" >&2; usage ;;
esac
