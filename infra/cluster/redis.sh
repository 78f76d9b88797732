# shellcheck shell=bash
# cluster/redis.sh -- sourced by infra/cluster.sh: the replicated topology's
# Redis. Two data nodes, redis1 on R and redis2 on R+1 (R: the topology's
# Redis base port, CLUSTER_REDIS_PORT), one the primary and the other its
# replica, and three Sentinels on R+2, R+3, R+4 that watch the primary
# named LAB_REDIS_MASTER (ticketlab), agree (a quorum of 2) when it is
# down, and promote the replica. Programs find the primary by asking a
# Sentinel (LAB_REDIS=sentinel://...: lib/sentinel.c), again after every
# lost connection.
#
# Every node wants the lab's password (.lab/redis.pass): requirepass on
# all five, masterauth on the data nodes (a replica authenticates to its
# primary), auth-pass on the Sentinels (to talk to the data nodes) and
# sentinel-pass (to talk to each other). The configuration files hold it:
# owner-only. No persistence, as the single Redis: the lab's counters and
# claims are rebuilt from PostgreSQL.
#
# A fresh start (no data node running) makes redis1 the primary; a data
# node started while the other runs joins the current primary as its
# replica, so a node that was killed never comes back as a second primary.

REDIS_NODES=(redis1 redis2)
SENTINELS=(sentinel1 sentinel2 sentinel3)
# A primary unreachable for this long is down for a Sentinel; two Sentinels
# agreeing start a failover, which may take this long before it is tried
# again. Not 1 s: a Sentinel PINGs a node once a second, and starts counting
# a freshly promoted primary's silence at the switch, before its first
# PING: with 1 s one Sentinel took the new primary for down a second after
# the failover and failed back to the old node (seen on the first try).
REDIS_DOWN_AFTER_MS=2000
REDIS_FAILOVER_TIMEOUT_MS=5000
REDIS_FAILOVER_WAIT_S=30   # break waits this long for the promotion

# redis_node_port NAME prints the port of a node of the layout (common.sh).
redis_node_port() {
    local r=$CLUSTER_REDIS_PORT
    case $1 in
    redis1) echo "$r" ;;
    redis2) echo $((r + 1)) ;;
    sentinel1) echo $((r + 2)) ;;
    sentinel2) echo $((r + 3)) ;;
    sentinel3) echo $((r + 4)) ;;
    *) die "redis: no node '$1'" ;;
    esac
}

# redis_node_of_port PORT prints the data node that listens on PORT.
redis_node_of_port() {
    local n
    for n in "${REDIS_NODES[@]}"; do
        [ "$(redis_node_port "$n")" != "$1" ] || { echo "$n"; return 0; }
    done
    return 1
}

# redis_node_pattern NAME: what the node's command line holds (Redis sets
# its process title to the program and its address), for pid_of.
redis_node_pattern() {
    case $1 in
    sentinel*) echo "redis-sentinel $LAB_CLUSTER_HOST:$(redis_node_port "$1")" ;;
    *) echo "redis-server $LAB_CLUSTER_HOST:$(redis_node_port "$1")" ;;
    esac
}

# redis_node_pid NAME prints the node's pid when it runs and is ours.
redis_node_pid() {
    pid_of "$CLUSTER_PIDS/$1.pid" "$(redis_node_pattern "$1")"
}

# rcli PORT ARGS... runs redis-cli against a node of the topology with the
# lab's password (in REDISCLI_AUTH, never on the command line), bounded by
# timeout: a node that was just killed must not hang the caller.
rcli() {
    local port=$1
    shift
    REDISCLI_AUTH=$(redis_password) timeout 3 redis-cli --no-auth-warning \
        -h "$LAB_CLUSTER_HOST" -p "$port" "$@" 2>/dev/null
}

# redis_node_role NAME prints what the data node says it is: master or
# slave (ROLE's first word), nothing when it does not answer.
redis_node_role() {
    rcli "$(redis_node_port "$1")" role | head -n 1
}

# redis_sentinel_primary SENTINEL prints the port of the primary that
# SENTINEL names (SENTINEL get-master-addr-by-name); fails when it does not
# answer.
redis_sentinel_primary() {
    local out
    out=$(rcli "$(redis_node_port "$1")" sentinel get-master-addr-by-name "$LAB_REDIS_MASTER") || return 1
    out=$(sed -n 2p <<<"$out")
    [[ $out =~ ^[0-9]+$ ]] || return 1
    echo "$out"
}

# redis_primary_port prints the port of the current primary: what the
# first Sentinel that answers says, else the data node that says it is a
# master; fails when neither knows.
redis_primary_port() {
    local s n
    for s in "${SENTINELS[@]}"; do
        redis_sentinel_primary "$s" && return 0
    done
    for n in "${REDIS_NODES[@]}"; do
        [ "$(redis_node_role "$n")" != master ] || { redis_node_port "$n"; return 0; }
    done
    return 1
}

# redis_wait_ping PORT NAME PID: until the node answers PING (20 s at
# most), or dies.
redis_wait_ping() {
    local deadline=$((SECONDS + 20))
    until [ "$(rcli "$1" ping)" = PONG ]; do
        kill -0 "$3" 2>/dev/null || { log_tail "cluster/$2"; die "redis: $2 exited at start"; }
        [ "$SECONDS" -lt "$deadline" ] || { log_tail "cluster/$2"; die "redis: $2 does not answer PING on port $1 after 20 s"; }
        sleep 0.1
    done
}

# redis_start_conf NAME CONF: starts a daemonized node of the topology with
# CONF (redis-server or redis-sentinel by its name), records its pid and
# waits until it answers. 10000 clients need as many file descriptors.
redis_start_conf() {
    local name=$1 conf=$2 port pid='' deadline prog=redis-server
    port=$(redis_node_port "$name")
    [[ $name != sentinel* ]] || prog=redis-sentinel
    rm -f "$CLUSTER_PIDS/$name.pid"
    (ulimit -n 10240 2>/dev/null || true; "$prog" "$conf") >/dev/null ||
        { log_tail "cluster/$name"; die "redis: $name did not start"; }
    # the daemon writes its pid file once it runs
    deadline=$((SECONDS + 10))
    until pid=$(redis_node_pid "$name"); do
        [ "$SECONDS" -lt "$deadline" ] || { log_tail "cluster/$name"; die "redis: $name wrote no pid file"; }
        sleep 0.05
    done
    redis_wait_ping "$port" "$name" "$pid"
    say "redis: $name up on $LAB_CLUSTER_HOST:$port (pid $pid)"
}

# redis_node_conf NAME WHO prints what every node's configuration starts
# with, data node or Sentinel: who writes the file (WHO), the address, the
# daemon's files under the cluster's folders, the lab's password.
redis_node_conf() {
    cat <<EOF
# written by $2: edit that, not this
bind $LAB_CLUSTER_HOST
port $(redis_node_port "$1")
daemonize yes
pidfile "$CLUSTER_PIDS/$1.pid"
logfile "$CLUSTER_LOGS/$1.log"
dir "$CLUSTER_DIR/$1"
requirepass "$(redis_password)"
EOF
}

# redis_data_conf NAME PRIMARY_PORT prints a data node's configuration:
# the replica of PRIMARY_PORT, or a primary when that is its own port.
redis_data_conf() {
    local name=$1 port
    port=$(redis_node_port "$name")
    redis_node_conf "$name" "infra/cluster.sh at every start of the node"
    cat <<EOF
save ""
appendonly no
maxclients 10000
masterauth "$(redis_password)"
# a replica's full sync starts at once (the default waits 5 s for others)
repl-diskless-sync-delay 0
EOF
    [ "$2" = "$port" ] || echo "replicaof $LAB_CLUSTER_HOST $2"
}

# redis_sentinel_conf NAME PRIMARY_PORT prints a Sentinel's configuration,
# watching the primary on PRIMARY_PORT. The Sentinel rewrites the file as
# it learns (the replica, the other Sentinels, the epoch of a failover).
redis_sentinel_conf() {
    local name=$1 pw m=$LAB_REDIS_MASTER
    pw=$(redis_password)
    redis_node_conf "$name" "infra/cluster.sh at every start of the node, then by the Sentinel"
    cat <<EOF
sentinel sentinel-pass "$pw"
sentinel monitor $m $LAB_CLUSTER_HOST $2 2
sentinel auth-pass $m $pw
sentinel down-after-milliseconds $m $REDIS_DOWN_AFTER_MS
sentinel failover-timeout $m $REDIS_FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $m 1
EOF
}

# redis_write_conf FILE: standard input into FILE, owner-only (it holds
# the password) before anything is written.
redis_write_conf() {
    (umask 077 && : >"$1") && chmod 600 "$1"
    cat >"$1"
}

# redis_start_node NAME PRIMARY_PORT writes the node's configuration and
# starts it: a data node as the primary (PRIMARY_PORT its own) or a
# replica of PRIMARY_PORT, a Sentinel watching PRIMARY_PORT.
redis_start_node() {
    local name=$1 conf=$CLUSTER_DIR/$1/$1.conf
    mkdir -p "$CLUSTER_DIR/$name" "$CLUSTER_PIDS" "$CLUSTER_LOGS"
    case $name in
    sentinel*) redis_sentinel_conf "$name" "$2" | redis_write_conf "$conf" ;;
    *) redis_data_conf "$name" "$2" | redis_write_conf "$conf" ;;
    esac
    redis_start_conf "$name" "$conf"
}

# redis_stop_node NAME stops the node of NAME's pid file (SIGTERM; no data
# to save), SIGKILL after 10 s, and removes the pid file.
redis_stop_node() {
    local pid
    if pid=$(redis_node_pid "$1"); then
        kill -TERM "$pid" 2>/dev/null || true
        redis_wait_gone "$pid" 10 || { kill -KILL "$pid" 2>/dev/null || true; redis_wait_gone "$pid" 5 || true; }
        say "redis: $1 stopped"
    fi
    rm -f "$CLUSTER_PIDS/$1.pid"
}

# redis_link_up NAME succeeds when the replica NAME's link to its primary
# is up (INFO replication: master_link_status:up).
redis_link_up() {
    rcli "$(redis_node_port "$1")" info replication | tr -d '\r' | grep -qx 'master_link_status:up'
}

# redis_wait_link NAME SECONDS waits until the replica NAME is in sync.
redis_wait_link() {
    local deadline=$((SECONDS + $2))
    until redis_link_up "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || { log_tail "cluster/$1"; die "redis: $1's link to its primary is not up after $2 s"; }
        sleep 0.1
    done
}

# redis_check_ports dies when a port of the layout answers and its node is
# not one of ours (the single Redis of services.sh on the same base port,
# another checkout): up would otherwise take it for a node.
redis_check_ports() {
    local n port
    for n in "${REDIS_NODES[@]}" "${SENTINELS[@]}"; do
        port=$(redis_node_port "$n")
        if port_open "$LAB_CLUSTER_HOST" "$port" && ! redis_node_pid "$n" >/dev/null; then
            die "redis: port $port ($n of the replicated topology) answers, and it is not this topology's $n: stop that server first (bash infra/services.sh down redis?)"
        fi
    done
}

# redis_cluster_up starts what is missing. No data node running: a fresh
# start, redis1 the primary (Sentinels of an earlier topology are stopped
# first: they would remember another primary). Otherwise the current
# primary stays, and a missing node joins it.
redis_cluster_up() {
    local n primary='' running=0 started=$SECONDS
    command -v redis-sentinel >/dev/null || die "no redis-sentinel on PATH: run infra/install.sh"
    redis_check_ports
    for n in "${REDIS_NODES[@]}"; do
        ! redis_node_pid "$n" >/dev/null || running=$((running + 1))
    done
    if [ "$running" -eq 0 ]; then
        for n in "${SENTINELS[@]}"; do redis_stop_node "$n"; done
        primary=$(redis_node_port redis1)
        redis_start_node redis1 "$primary"
    else
        primary=$(redis_primary_port) || die "redis: a data node runs but none is the primary; bash infra/cluster.sh down redis, then up"
        # the primary the Sentinels name is down: a failover under way;
        # starting that node now would make it a second primary
        if ! n=$(redis_node_of_port "$primary") || ! redis_node_pid "$n" >/dev/null; then
            die "redis: the Sentinels name port $primary as the primary and it is down (a failover under way?): try again in a few seconds"
        fi
    fi
    for n in "${REDIS_NODES[@]}"; do
        if [ "$running" -eq 0 ] && [ "$n" = redis1 ]; then
            continue   # just started, the primary
        elif redis_node_pid "$n" >/dev/null; then
            say "redis: $n already up"
        else
            redis_start_node "$n" "$primary"
        fi
    done
    for n in "${SENTINELS[@]}"; do
        if redis_node_pid "$n" >/dev/null; then
            say "redis: $n already up"
        else
            redis_start_node "$n" "$primary"
        fi
    done
    for n in "${REDIS_NODES[@]}"; do
        [ "$(redis_node_port "$n")" = "$primary" ] || redis_wait_link "$n" 20
    done
    redis_wait_sentinels "$primary" 20
    say "redis: primary on port $primary, up in $((SECONDS - started)) s"
}

# redis_wait_sentinels PORT SECONDS waits until every Sentinel names the
# primary on PORT and knows the other two Sentinels: before then a kill of
# the primary would find no quorum.
redis_wait_sentinels() {
    local deadline=$((SECONDS + $2)) s ok
    while :; do
        ok=1
        for s in "${SENTINELS[@]}"; do
            [ "$(redis_sentinel_primary "$s")" = "$1" ] &&
                [ "$(rcli "$(redis_node_port "$s")" sentinel master "$LAB_REDIS_MASTER" |
                    awk 'prev == "num-other-sentinels" { print; exit } { prev = $0 }')" = 2 ] || ok=0
        done
        [ "$ok" -eq 0 ] || return 0
        [ "$SECONDS" -lt "$deadline" ] || die "redis: the Sentinels do not agree on the primary (port $1) after $2 s"
        sleep 0.2
    done
}

# redis_cluster_down stops the Sentinels first (they would fail over as
# the primary goes), then the data nodes, each checked gone.
redis_cluster_down() {
    local n any=0
    for n in "${SENTINELS[@]}" redis2 redis1; do
        ! redis_node_pid "$n" >/dev/null || any=1
        redis_stop_node "$n"
    done
    [ "$any" -eq 1 ] || say "redis not running"
}

# redis_cluster_status prints one line per node: a data node's role is
# what it says (primary for master, replica for slave).
redis_cluster_status() {
    local n role
    for n in "${REDIS_NODES[@]}"; do
        case $(redis_node_role "$n") in
        master) role=primary ;;
        slave) role=replica ;;
        *) role=- ;;
        esac
        node_line "$n" "$LAB_CLUSTER_HOST:$(redis_node_port "$n")" "$role" \
            "$CLUSTER_PIDS/$n.pid" "$(redis_node_pattern "$n")"
    done
    for n in "${SENTINELS[@]}"; do
        node_line "$n" "$LAB_CLUSTER_HOST:$(redis_node_port "$n")" sentinel \
            "$CLUSTER_PIDS/$n.pid" "$(redis_node_pattern "$n")"
    done
}

# redis_cluster_pid prints the primary's pid (the node the Sentinels name).
redis_cluster_pid() {
    local port n
    port=$(redis_primary_port) || die "redis: no primary"
    n=$(redis_node_of_port "$port") || die "redis: the primary on port $port is not a node of the topology"
    redis_node_pid "$n" || die "redis: the primary $n is not running"
}

# redis_gone PID: exited, or a zombie nobody reaps yet.
redis_gone() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
    [ "$state" = Z ]
}

# redis_wait_gone PID SECONDS waits until PID is gone (redis_gone: a
# daemon's exit leaves a zombie until the machine's init reaps it, which
# kill -0 still finds); fails after SECONDS.
redis_wait_gone() {
    local deadline=$((SECONDS + $2))
    until redis_gone "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# redis_failover_break: kill -9 of the primary the Sentinels name, then
# wait (bounded) until every Sentinel names the other node and that node
# says it is a master.
redis_failover_break() {
    local port old new pid t0=$SECONDS deadline
    port=$(redis_primary_port) || die "redis: no primary to fail over"
    old=$(redis_node_of_port "$port") || die "redis: the primary on port $port is not a node of the topology"
    pid=$(redis_node_pid "$old") || die "redis: the primary $old is not running"
    new=redis1
    [ "$old" != redis1 ] || new=redis2
    redis_node_pid "$new" >/dev/null || die "redis: no replica ($new is not running) to fail over to"
    kill -9 "$pid"
    redis_wait_gone "$pid" 10 || die "redis: $old (pid $pid) still there 10 s after kill -9"
    rm -f "$CLUSTER_PIDS/$old.pid"
    say "fault: redis primary $old (pid $pid) killed"
    deadline=$((SECONDS + REDIS_FAILOVER_WAIT_S))
    until redis_promoted "$new"; do
        [ "$SECONDS" -lt "$deadline" ] ||
            { log_tail cluster/sentinel1; die "redis: $new not promoted ${REDIS_FAILOVER_WAIT_S} s after the kill"; }
        sleep 0.1
    done
    say "fault: redis failed over to $new in $((SECONDS - t0)) s (the Sentinels name it, ROLE master)"
}

# redis_promoted NAME: every Sentinel names NAME, and NAME says master.
redis_promoted() {
    local s port
    port=$(redis_node_port "$1")
    for s in "${SENTINELS[@]}"; do
        [ "$(redis_sentinel_primary "$s")" = "$port" ] || return 1
    done
    [ "$(redis_node_role "$1")" = master ]
}

# redis_failover_heal starts the data node that is down again, as a
# replica of the current primary, and waits until its link is up and the
# Sentinels count it among the replicas again.
redis_failover_heal() {
    local n primary t0=$SECONDS healed=0
    primary=$(redis_primary_port) || die "redis: no primary to rejoin"
    for n in "${REDIS_NODES[@]}"; do
        redis_node_pid "$n" >/dev/null && continue
        redis_start_node "$n" "$primary"
        redis_wait_link "$n" 30
        redis_wait_replica_known "$n" 30
        healed=1
        say "fault: redis $n back as a replica of port $primary in $((SECONDS - t0)) s"
    done
    [ "$healed" -eq 1 ] || say "fault: redis: every data node was running already"
}

# redis_wait_replica_known NAME SECONDS waits until every Sentinel lists
# NAME as a replica that is not down (flags "slave" alone): then a next
# failover can choose it.
redis_wait_replica_known() {
    local deadline=$((SECONDS + $2)) port s ok
    port=$(redis_node_port "$1")
    while :; do
        ok=1
        for s in "${SENTINELS[@]}"; do
            rcli "$(redis_node_port "$s")" sentinel replicas "$LAB_REDIS_MASTER" |
                awk -v p="$port" '$0 == "port" { getline; port = $0 }
                                  $0 == "flags" { getline; if (port == p && $0 == "slave") found = 1 }
                                  END { exit !found }' || ok=0
        done
        [ "$ok" -eq 0 ] || return 0
        [ "$SECONDS" -lt "$deadline" ] || die "redis: the Sentinels do not see $1 as a healthy replica after $2 s"
        sleep 0.2
    done
}

# redis_cluster_fault break|heal failover-redis (cluster.sh fault).
redis_cluster_fault() {
    case $1:$2 in
    break:failover-redis) redis_failover_break ;;
    heal:failover-redis) redis_failover_heal ;;
    *) die "redis: no cluster fault '$2'" ;;
    esac
}
