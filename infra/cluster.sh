#!/usr/bin/env bash
# cluster.sh -- the replicated topology (LAB_TOPOLOGY=replicated make
# services): what a team runs once it outgrows one server each, on the
# loopback of one machine, every node a real server on its own port
# (common.sh lists the ports):
#   Kafka       three KRaft nodes, each a broker and a controller (a
#               three-voter quorum); topics of replication factor 3 with
#               min.insync.replicas=2
#   PostgreSQL  a primary and one streaming standby, synchronous or not
#               (LAB_PG_SYNC=on|off), promoted by pg_ctl promote
#   Redis       a primary, one replica and three Sentinels
# Data, logs and pid files under .lab/cluster/; while it runs,
# .lab/topology.env tells every script and program of the lab how to reach
# it (a bootstrap list, a multi-host libpq URL, the Sentinels). infra/
# services.sh hands every command here when the topology is replicated.
#
#   bash infra/cluster.sh up|down|status|pid [pg|redis|kafka ...]   (default: all)
#   bash infra/cluster.sh sync             LAB_PG_SYNC applied to the running primary
#                                          (scripts/nemesis.sh, before each run)
#   bash infra/cluster.sh fault break|heal KIND
#
# status prints every node, its address, state, role, pid and memory (RSS,
# the process and its children), and the total; up prints it at the end,
# with the seconds it took. KIND: kill-broker, kill-controller,
# failover-postgres, failover-redis (docs/faults.md).
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/svclib.sh"

CLUSTER_DIR=$LAB_RUN/cluster     # one folder per node under it
CLUSTER_PIDS=$LAB_PIDS/cluster   # one pid file per node
CLUSTER_LOGS=$LAB_LOGS/cluster   # one log per node

# ------------------------------------------------------------------ Helpers

# node_rss_kb PID prints the resident memory of PID and of its children
# (PostgreSQL's backends are the postmaster's), in kB; 0 when it is gone.
node_rss_kb() {
    local pid=$1 total=0 kb p
    for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || kb=0
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

# node_line NAME ADDRESS ROLE PIDFILE PATTERN prints one line of `status`
# and adds the node's memory to cluster_rss_kb: up when its port answers,
# its pid when the process of PIDFILE is alive and ours (pid_of).
cluster_rss_kb=0
node_line() {
    local name=$1 addr=$2 role=$3 state=down pid rss=0
    ! port_open "${addr%:*}" "${addr##*:}" || state=up
    if pid=$(pid_of "$4" "$5"); then
        rss=$(node_rss_kb "$pid")
    else
        pid=-
    fi
    cluster_rss_kb=$((cluster_rss_kb + rss))
    printf '%-10s %-22s %-5s %-12s pid %-8s rss %5d MB\n' "$name" "$addr" "$state" "$role" "$pid" \
        $((rss / 1024))
}

# cluster_env_write SERVICES... writes .lab/topology.env for the
# replicated services SERVICES: from then on every script of the lab
# reaches them (common.sh), until `down`. With no service it removes the
# file: the lab is one server each again.
cluster_env_write() {
    local list
    list=$(IFS=,; echo "$*")
    mkdir -p "$LAB_RUN"
    if [ -z "$list" ]; then
        rm -f "$LAB_RUN/topology.env"
        return
    fi
    LAB_CLUSTER_SERVICES=$list lab_cluster_env >"$LAB_RUN/topology.env.new"
    mv -f "$LAB_RUN/topology.env.new" "$LAB_RUN/topology.env"
}

# cluster_running prints the services topology.env lists, one a line.
cluster_running() {
    [ -r "$LAB_RUN/topology.env" ] || return 0
    sed -n 's/^LAB_CLUSTER_SERVICES=//p' "$LAB_RUN/topology.env" | tr ',' '\n' | grep -v '^$' || true
}

# ------------------------------------------------------------ The services
# Each file defines, for its service S: S_cluster_up, S_cluster_down,
# S_cluster_status (node_line for each node), S_cluster_pid (the primary's
# or leader's pid) and S_cluster_fault break|heal KIND.
source "$LAB_ROOT/infra/cluster/pg.sh"
source "$LAB_ROOT/infra/cluster/redis.sh"
source "$LAB_ROOT/infra/cluster/kafka.sh"

# ---------------------------------------------------------------------- main

cluster_usage() {
    echo "usage: bash infra/cluster.sh up|down|status|pid [pg|redis|kafka ...] | sync | fault break|heal KIND" >&2
    exit 2
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case $cmd in
fault)
    action=${1:-} kind=${2:-}
    case $action in break | heal) ;; *) cluster_usage ;; esac
    case $kind in
    kill-broker | kill-controller) kafka_cluster_fault "$action" "$kind" ;;
    failover-postgres) pg_cluster_fault "$action" "$kind" ;;
    failover-redis) redis_cluster_fault "$action" "$kind" ;;
    *) echo "cluster.sh: unknown fault '$kind'" >&2; cluster_usage ;;
    esac
    exit 0
    ;;
sync)
    # for this run: topology.env keeps the mode `up` started with, which a
    # later `make nemesis` without LAB_PG_SYNC applies again
    pg_cluster_sync
    exit 0
    ;;
esac
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(pg redis kafka)
for s in "${services[@]}"; do
    case $s in pg | redis | kafka) ;; *) die "unknown service '$s': pg, redis or kafka" ;; esac
done
case $LAB_CLUSTER_HOST in 127.*) ;; *) die "the replicated topology listens on loopback only" ;; esac

case $cmd in
up)
    started=$SECONDS
    bash "$LAB_ROOT/infra/install.sh"
    LAB_TOPOLOGY=replicated
    secrets_ensure
    # a topology that runs keeps the mode it was started with (`make
    # nemesis` runs `up` first: LAB_PG_SYNC=off for one run must not stay)
    recorded_sync=$(sed -n 's/^LAB_PG_SYNC=//p' "$LAB_RUN/topology.env" 2>/dev/null || true)
    if [ -n "$recorded_sync" ] && [ -n "$(cluster_running)" ]; then
        LAB_PG_SYNC=$recorded_sync
    fi
    # an up that fails (a port of the layout held by another server) puts
    # topology.env back as it was: the lab stays as it ran before
    up_services_before=$(cluster_running | tr '\n' ' ')
    trap 'st=$?; [ "$st" -eq 0 ] || cluster_env_write $up_services_before' EXIT
    # shellcheck disable=SC2046 # one word per service
    cluster_env_write $( (cluster_running; printf '%s\n' "${services[@]}") | sort -u)
    mkdir -p "$CLUSTER_DIR" "$CLUSTER_PIDS" "$CLUSTER_LOGS"
    # Kafka's three JVMs take longest: they start in the background while
    # PostgreSQL and Redis come up, and are waited for last
    kafka_job=
    for s in "${services[@]}"; do
        if [ "$s" = kafka ]; then
            kafka_cluster_up &
            kafka_job=$!
        fi
    done
    for s in "${services[@]}"; do [ "$s" = kafka ] || "${s}_cluster_up"; done
    [ -z "$kafka_job" ] || wait "$kafka_job" || die "the Kafka nodes did not start"
    for s in "${services[@]}"; do "${s}_cluster_status"; done
    trap - EXIT
    say "replicated topology up in $((SECONDS - started)) s; memory (RSS) $((cluster_rss_kb / 1024)) MB"
    ;;
down)
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do "${services[i]}_cluster_down"; done
    # topology.env goes when every replicated service is down; a service
    # stopped alone stays replicated, to come back so, and so does one a
    # fault stops (LAB_KEEP_TOPOLOGY, set by infra/fault.sh's restart-*:
    # the only replicated service stopped, the lab's programs must still
    # look for it there, not at lab.env's single address)
    if [ -z "${LAB_KEEP_TOPOLOGY:-}" ] &&
        [ -z "$(cluster_running | grep -vxF -f <(printf '%s\n' "${services[@]}"))" ]; then
        cluster_env_write
        say "replicated topology stopped"
    fi
    ;;
status)
    printf '%-10s %-22s %-5s %-12s %-12s %s\n' node address state role pid memory
    for s in "${services[@]}"; do "${s}_cluster_status"; done
    echo "total memory (RSS): $((cluster_rss_kb / 1024)) MB"
    ;;
pid)
    for s in "${services[@]}"; do "${s}_cluster_pid"; done
    ;;
*)
    cluster_usage
    ;;
esac
