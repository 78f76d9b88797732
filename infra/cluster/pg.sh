# shellcheck shell=bash
# cluster/pg.sh -- sourced by infra/cluster.sh: the replicated topology's
# PostgreSQL, a primary and one streaming standby on loopback (pg1 on the
# base port P, pg2 on P+1; which of the two is the primary changes with
# each failover).
#
#   - The standby is made by pg_basebackup -R from the primary and streams
#     its WAL (physical replication, as the superuser postgres, scram over
#     TCP); it answers reads (hot_standby) and refuses writes, so the
#     lab's multi-host LAB_PG with target_session_attrs=read-write always
#     lands on the primary.
#   - LAB_PG_SYNC=on: synchronous_standby_names names the standby and
#     synchronous_commit=on: a commit returns once the standby has the
#     WAL. off: neither, and synchronous_commit=off as in the single
#     topology: the WAL writer flushes every 200 ms, the standby is sent
#     only flushed WAL, so it misses the last commits of a primary that
#     dies (docs/cluster.md).
#   - failover-postgres: kill -9 of the primary's postmaster and of every
#     process of it, pg_ctl promote of the standby. The lab records which
#     node is the primary in $PGC_HOME/primary (written at the first start
#     and by each promotion): `up` starts the nodes in the roles the data
#     and that record say, and a node whose data says primary while the
#     other is the primary is rebuilt as its standby, never started.

PGC_NODES=(pg1 pg2)

# pgc_paths sets where the nodes live: PGC_HOME (one folder per node: its
# data, its socket folder), PGC_LOGS (a log per node) and PGC_PIDS (a pid
# file per node). Under .lab/cluster as the frame says, unless the postgres
# user cannot reach it (a checkout under a private folder, as pg_paths of
# infra/services.sh): then /var/tmp/ticketlab-pg-<checksum of the state
# folder>/cluster, the same folder on every call.
pgc_paths() {
    PGC_HOME=$CLUSTER_DIR
    PGC_LOGS=$CLUSTER_LOGS
    PGC_PIDS=$CLUSTER_PIDS
    if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
        mkdir -p "$LAB_RUN"
        if ! runuser -u postgres -- test -x "$LAB_RUN" 2>/dev/null; then
            PGC_HOME=/var/tmp/ticketlab-pg-$(printf %s "$LAB_RUN" | cksum | cut -d' ' -f1)/cluster
            PGC_LOGS=$PGC_HOME/log
        fi
    fi
}
pgc_paths

# pgc_port NODE prints the node's port: pg1 the base port, pg2 the next.
pgc_port() {
    case $1 in pg1) echo "$CLUSTER_PG_PORT" ;; pg2) echo $((CLUSTER_PG_PORT + 1)) ;; esac
}

# pgc_other NODE prints the other node's name.
pgc_other() {
    if [ "$1" = pg1 ]; then echo pg2; else echo pg1; fi
}

# pgc_data NODE, pgc_sock NODE, pgc_pidfile NODE, pgc_log NODE: the node's
# data folder, socket folder, pid file (written by us from postmaster.pid)
# and server log.
pgc_data() { echo "$PGC_HOME/$1/data"; }
pgc_sock() { echo "$PGC_HOME/$1/run"; }
pgc_pidfile() { echo "$PGC_PIDS/$1.pid"; }
pgc_log() { echo "$PGC_LOGS/$1.log"; }

# pgc_pid NODE prints the node's postmaster pid when it runs (pid_of: the
# process of our pid file, whose command line names the node's data).
pgc_pid() {
    pid_of "$(pgc_pidfile "$1")" "$(pgc_data "$1")"
}

# pgc_psql NODE ARGS... runs psql as the superuser on NODE, over its Unix
# socket as the cluster's OS user (peer): no password needed, none shown.
pgc_psql() {
    local node=$1
    shift
    "${as_pg[@]}" psql -X -q -w -v ON_ERROR_STOP=1 -h "$(pgc_sock "$node")" -p "$(pgc_port "$node")" \
        -U postgres -d postgres "$@"
}

# pgc_query NODE SQL prints the one-line, unaligned answer of SQL on NODE;
# fails after 10 s (a paused node, pause-postgres, never answers).
pgc_query() {
    "${as_pg[@]}" timeout 10 psql -X -q -w -At -v ON_ERROR_STOP=1 -h "$(pgc_sock "$1")" \
        -p "$(pgc_port "$1")" -U postgres -d postgres -c "$2" 2>/dev/null
}

# pgc_role NODE prints primary or standby (pg_is_in_recovery) for a node
# that answers; fails when it does not.
pgc_role() {
    local r
    r=$(pgc_query "$1" "SELECT pg_is_in_recovery()") || return 1
    case $r in f) echo primary ;; t) echo standby ;; *) return 1 ;; esac
}

# pgc_recorded prints the node the lab recorded as the primary (the
# first one started, then each promoted one); fails when none is recorded.
pgc_recorded() {
    local n
    n=$(head -n 1 "$PGC_HOME/primary" 2>/dev/null) || return 1
    case $n in pg1 | pg2) echo "$n" ;; *) return 1 ;; esac
}

# pgc_record NODE records NODE as the primary (one rename: never half written).
pgc_record() {
    echo "$1" >"$PGC_HOME/primary.new" && mv -f "$PGC_HOME/primary.new" "$PGC_HOME/primary"
}

# pgc_primary prints the running primary: the recorded node when it runs
# and says so; fails otherwise.
pgc_primary() {
    local n
    n=$(pgc_recorded) && pgc_pid "$n" >/dev/null && [ "$(pgc_role "$n")" = primary ] && echo "$n"
}

# pgc_conf NODE writes the node's lab.conf (included by postgresql.conf;
# pg_basebackup copies the primary's, so each start rewrites it with the
# node's own port and folders), pg_hba.conf and pg_ident.conf. As in
# services.sh: fsync and full_page_writes off (a lab's data may be lost in
# a crash of the machine, not of a process), no trust anywhere, scram over
# TCP, peer for the cluster's own OS user over the socket; plus what
# streaming needs: WAL for a replica, WAL senders, a hot standby, and a
# replication line for the superuser (scram). synchronous_commit and
# synchronous_standby_names are set by ALTER SYSTEM (pgc_apply_sync).
pgc_conf() {
    local node=$1 data
    data=$(pgc_data "$1")
    cat >"$data/lab.conf" <<EOF
# written by infra/cluster/pg.sh at every start: edit that, not this
cluster_name = '$node'
listen_addresses = '$LAB_CLUSTER_HOST'
port = $(pgc_port "$node")
unix_socket_directories = '$(pgc_sock "$node")'
max_connections = 200
fsync = off
full_page_writes = off
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '128MB'
wal_writer_delay = '200ms'
hot_standby = on
EOF
    cat >"$data/pg_hba.conf" <<EOF
# written by infra/cluster/pg.sh at every start: edit that, not this
# TYPE  DATABASE     USER      ADDRESS       METHOD
local   all          postgres                peer map=lab_owner
local   all          all                     scram-sha-256
host    replication  postgres  127.0.0.1/32  scram-sha-256
host    all          all       all           scram-sha-256
EOF
    cat >"$data/pg_ident.conf" <<EOF
# written by infra/cluster/pg.sh at every start: edit that, not this
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
lab_owner  $(pg_owner)  postgres
EOF
    [ "$(id -u)" -ne 0 ] || chown postgres: "$data/lab.conf" "$data/pg_hba.conf" "$data/pg_ident.conf"
}

# pgc_dirs NODE makes the node's folder, socket folder and log file, owned
# by the cluster's OS user, and checks that this user can write them.
pgc_dirs() {
    local node=$1 d
    mkdir -p "$PGC_HOME/$node" "$(pgc_sock "$node")" "$PGC_LOGS" "$PGC_PIDS"
    touch "$(pgc_log "$node")"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$PGC_HOME/$node" "$(pgc_sock "$node")" "$(pgc_log "$node")"
        for d in "$PGC_HOME/$node" "$(pgc_sock "$node")"; do
            runuser -u postgres -- test -w "$d" ||
                die "the postgres user cannot write $d: are all its parent folders world-traversable (chmod o+x)?"
        done
    fi
}

# pgc_stale_locks NODE removes the lock files of a postmaster of NODE that
# is dead: the socket's lock and postmaster.pid name its pid, and
# PostgreSQL refuses to start while that pid exists, which a killed
# postmaster still does as a zombie until whoever adopted it reaps it.
pgc_stale_locks() {
    local f pid state
    for f in "$(pgc_sock "$1")/.s.PGSQL.$(pgc_port "$1").lock" "$(pgc_data "$1")/postmaster.pid"; do
        pid=$(head -n 1 "$f" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] || continue
        state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || state=gone
        case $state in gone | Z) rm -f "$f" ;; esac
    done
}

# pgc_start NODE starts the node's server (pg_ctl start -w: a standby
# answers once it is consistent), writes our pid file from postmaster.pid
# and checks that the port answers.
pgc_start() {
    local node=$1 bin data pid
    bin=$(pg_bindir)
    data=$(pgc_data "$node")
    pgc_conf "$node"
    pgc_stale_locks "$node"
    say "pg: starting $node on $LAB_CLUSTER_HOST:$(pgc_port "$node")"
    "${as_pg[@]}" "$bin/pg_ctl" -D "$data" -l "$(pgc_log "$node")" -w -t 60 start >/dev/null ||
        { LAB_LOGS=$PGC_LOGS log_tail "$node"; die "pg: $node did not start"; }
    pid=$(head -n 1 "$data/postmaster.pid")
    echo "$pid" >"$(pgc_pidfile "$node")"
    wait_port "$LAB_CLUSTER_HOST" "$(pgc_port "$node")" 10 "$node" "$pid"
}

# pgc_wait_dead PID SECONDS waits until PID has exited or is a zombie
# (killed, waiting for whoever adopted it to reap it); fails after SECONDS.
pgc_wait_dead() {
    local deadline=$((SECONDS + $2)) state
    while state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# pgc_kill NODE: kill -9 of the node's postmaster and of every process it
# started (backends, WAL writer, WAL sender: killed with it, nothing of the
# node survives to flush or send one more byte). The postmaster is stopped
# first so that it forks no child between the listing and the kill. Fails
# when a process is still there 10 s later.
pgc_kill() {
    local node=$1 pid kids p
    pid=$(pgc_pid "$node") || return 0
    kill -STOP "$pid" 2>/dev/null || true
    kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -s ' \n' ' ') || kids=
    # shellcheck disable=SC2086 # a list of pids
    kill -9 "$pid" $kids 2>/dev/null || true
    for p in $pid $kids; do
        pgc_wait_dead "$p" 10 || die "pg: $node's process $p still there 10 s after kill -9"
    done
    rm -f "$(pgc_pidfile "$node")"
}

# pgc_stop NODE stops the node (pg_ctl stop -m fast, 30 s at most; kill -9
# of all of it after that) and removes its pid file.
pgc_stop() {
    local node=$1 bin pid
    if ! pid=$(pgc_pid "$node"); then
        rm -f "$(pgc_pidfile "$node")"
        return 1
    fi
    bin=$(pg_bindir)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$(pgc_data "$node")" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    if ! pgc_wait_dead "$pid" 5; then
        say "pg: $node (pid $pid) still there after pg_ctl stop: kill -9"
        pgc_kill "$node"
    fi
    rm -f "$(pgc_pidfile "$node")"
}

# pgc_init NODE makes a new primary's data (initdb: peer on the socket,
# nothing over TCP until pgc_conf writes pg_hba.conf).
pgc_init() {
    local node=$1 bin data
    bin=$(pg_bindir)
    data=$(pgc_data "$node")
    say "pg: initdb of $node into ${data#"$LAB_ROOT"/}"
    "${as_pg[@]}" "$bin/initdb" -D "$data" --auth-local=peer --auth-host=reject -U postgres --encoding=UTF8 \
        --locale=C >"$PGC_LOGS/$node.initdb.log" 2>&1 || { LAB_LOGS=$PGC_LOGS log_tail "$node"; die "pg: initdb failed"; }
    echo "include 'lab.conf'" >>"$data/postgresql.conf"
}

# pgc_rebuild NODE PRIMARY makes NODE a new standby of PRIMARY: its data
# removed, a fresh copy by pg_basebackup (-R: standby.signal and a
# primary_conninfo naming PRIMARY's port, application_name NODE, the name
# synchronous_standby_names uses; -c fast: no wait for a checkpoint),
# started. The superuser's password reaches pg_basebackup through its
# environment, never its command line; -R keeps it in the node's
# postgresql.auto.conf (owner-only, in an owner-only folder).
pgc_rebuild() {
    local node=$1 primary=$2 bin data super
    bin=$(pg_bindir)
    data=$(pgc_data "$node")
    super=$(pgpass_get postgres) || die "no password for postgres in $LAB_PGPASS"
    ! pgc_pid "$node" >/dev/null || pgc_stop "$node" || true
    pgc_dirs "$node"
    rm -rf "$data"
    say "pg: $node made a standby of $primary (pg_basebackup)"
    PGPASSWORD=$super "${as_pg[@]}" "$bin/pg_basebackup" -D "$data" -R -X stream -c fast -w \
        -d "host=$LAB_CLUSTER_HOST port=$(pgc_port "$primary") user=postgres application_name=$node" \
        >"$PGC_LOGS/$node.basebackup.log" 2>&1 ||
        { lab_mask "$(tail -n 20 "$PGC_LOGS/$node.basebackup.log")" >&2; die "pg: pg_basebackup of $node failed"; }
    pgc_start "$node"
}

# pgc_follows NODE PRIMARY succeeds when NODE's data is a standby's
# (standby.signal) whose primary_conninfo names PRIMARY's port.
pgc_follows() {
    local data
    data=$(pgc_data "$1")
    [ -f "$data/standby.signal" ] &&
        grep -q "^primary_conninfo = .*port=$(pgc_port "$2")[ ']" "$data/postgresql.auto.conf" 2>/dev/null
}

# pgc_wait_streaming PRIMARY STANDBY SYNC_STATE waits (30 s at most) until
# PRIMARY's pg_stat_replication shows STANDBY streaming with that
# sync_state (sync or async); dies otherwise.
pgc_wait_streaming() {
    local deadline=$((SECONDS + 30)) got=
    while :; do
        got=$(pgc_query "$1" "SELECT state || ' ' || sync_state FROM pg_stat_replication
                              WHERE application_name = '$2'") || got=
        [ "$got" != "streaming $3" ] || return 0
        [ "$SECONDS" -lt "$deadline" ] || die "pg: $2 is not streaming from $1 as $3 after 30 s (pg_stat_replication: '${got:-no row}')"
        sleep 0.1
    done
}

# pgc_apply_sync PRIMARY STANDBY applies LAB_PG_SYNC on PRIMARY (ALTER
# SYSTEM, reload): on names STANDBY in synchronous_standby_names with
# synchronous_commit=on; off clears it, with synchronous_commit=off. Then
# waits until pg_stat_replication agrees (sync or async).
pgc_apply_sync() {
    local primary=$1 standby=$2 names commit state
    if [ "$LAB_PG_SYNC" = on ]; then
        names=$standby commit=on state=sync
    else
        names='' commit=off state=async
    fi
    pgc_psql "$primary" >/dev/null <<SQL || die "pg: cannot set the replication mode on $primary"
ALTER SYSTEM SET synchronous_standby_names = '$names';
ALTER SYSTEM SET synchronous_commit = '$commit';
SELECT pg_reload_conf();
SQL
    pgc_wait_streaming "$primary" "$standby" "$state"
    say "pg: $primary is the primary, $standby a streaming standby ($state: LAB_PG_SYNC=$LAB_PG_SYNC)"
}

# pgc_sync_clear NODE empties NODE's synchronous_standby_names (ALTER
# SYSTEM, reload): a primary without a streaming standby must not wait
# for one, its commits would hang.
pgc_sync_clear() {
    pgc_psql "$1" >/dev/null <<SQL || die "pg: cannot clear synchronous_standby_names on $1"
ALTER SYSTEM SET synchronous_standby_names = '';
SELECT pg_reload_conf();
SQL
}

# pgc_foreign_check dies when a node's port answers and the process there
# is not that node of ours (the single server of services.sh on the same
# base port, another checkout's cluster).
pgc_foreign_check() {
    local node
    for node in "${PGC_NODES[@]}"; do
        if port_open "$LAB_CLUSTER_HOST" "$(pgc_port "$node")" && ! pgc_pid "$node" >/dev/null; then
            die "pg: something that is not this topology's $node answers on $LAB_CLUSTER_HOST:$(pgc_port "$node") (the single PostgreSQL of infra/services.sh? stop it first, or choose another LAB_PG port)"
        fi
    done
}

# pg_cluster_up starts the pair, idempotently. The first time: initdb of
# pg1, started as the primary, provisioned (the lab's role, database,
# passwords, infra/schema.sql), then pg2 made its standby. Later: the
# recorded primary started if it is not running, the other node started as
# its standby when its data is one that follows it, rebuilt otherwise (a
# former primary is never started as a primary again). Returns once the
# standby streams in the mode of LAB_PG_SYNC.
pg_cluster_up() {
    local primary standby role n
    pgc_foreign_check
    for n in "${PGC_NODES[@]}"; do pgc_dirs "$n"; done
    if ! primary=$(pgc_recorded); then
        # a new pair (or data of a run stopped before its record): the node
        # whose data says primary, pg1 first; a new pg1 when neither has data
        primary=
        for n in "${PGC_NODES[@]}"; do
            if [ -s "$(pgc_data "$n")/PG_VERSION" ] && [ ! -f "$(pgc_data "$n")/standby.signal" ]; then
                primary=$n
                break
            fi
        done
        if [ -z "$primary" ]; then
            primary=pg1
            pgc_init pg1
        fi
        pgc_record "$primary"
    fi
    standby=$(pgc_other "$primary")
    [ -s "$(pgc_data "$primary")/PG_VERSION" ] ||
        die "pg: $primary is recorded as the primary but has no data: remove ${PGC_HOME} to start afresh"
    [ ! -f "$(pgc_data "$primary")/standby.signal" ] || pgc_pid "$primary" >/dev/null ||
        die "pg: $primary is recorded as the primary but its data is a standby's: remove ${PGC_HOME} to start afresh"
    if pgc_pid "$primary" >/dev/null; then
        say "pg: $primary already up"
    else
        pgc_start "$primary"
    fi
    role=$(pgc_role "$primary") || die "pg: $primary does not answer"
    [ "$role" = primary ] || die "pg: $primary is recorded as the primary but runs as a $role"
    # a primary whose synchronous standby is not streaming would hold every
    # commit (the provisioning's too) until it is: no standby waited for
    # until pgc_apply_sync, once it streams
    [ -n "$(pgc_query "$primary" "SELECT 1 FROM pg_stat_replication WHERE application_name = '$standby'")" ] ||
        pgc_sync_clear "$primary"
    pg_provision_on "$primary"
    # the other node: left alone when it runs as our standby; otherwise
    # started from its data only when that data follows the primary
    if pgc_pid "$standby" >/dev/null && [ "$(pgc_role "$standby")" = standby ] &&
        pgc_follows "$standby" "$primary"; then
        say "pg: $standby already up"
    elif ! pgc_pid "$standby" >/dev/null && pgc_follows "$standby" "$primary"; then
        pgc_start "$standby"
    else
        pgc_rebuild "$standby" "$primary"
    fi
    pgc_apply_sync "$primary" "$standby"
}

# pg_provision_on NODE gives the primary NODE the lab's passwords, role,
# database and schema (pg_provision_sql of svclib.sh, through the node's
# socket and the lab's role over TCP on its port).
pg_provision_on() {
    pg_provision_sql "postgresql://$PG_USER@$LAB_CLUSTER_HOST:$(pgc_port "$1")/$PG_DB" pgc_psql "$1"
}

# pg_cluster_down stops the primary, then the standby (pg_ctl stop -m
# fast; kill -9 when one does not go): only the nodes of our pid files.
pg_cluster_down() {
    local n first stopped=0
    first=$(pgc_recorded) || first=pg1
    for n in "$first" "$(pgc_other "$first")"; do
        if pgc_stop "$n"; then
            say "pg: $n stopped"
            stopped=1
        fi
    done
    [ "$stopped" -eq 1 ] || say "pg not running"
}

# pg_cluster_status prints pg1's and pg2's lines: role primary or standby
# as the node itself says (pg_is_in_recovery), - when it does not answer.
pg_cluster_status() {
    local n role
    for n in "${PGC_NODES[@]}"; do
        role=$(pgc_role "$n") || role=-
        node_line "$n" "$LAB_CLUSTER_HOST:$(pgc_port "$n")" "$role" "$(pgc_pidfile "$n")" "$(pgc_data "$n")"
    done
}

# pg_cluster_pid prints the recorded primary's postmaster pid, without
# asking the server (pause-postgres stops it, then needs its pid again);
# fails when it does not run.
pg_cluster_pid() {
    local n
    n=$(pgc_recorded) && pgc_pid "$n" || { echo "pg: no primary running" >&2; return 1; }
}

# pg_cluster_sync applies LAB_PG_SYNC to the running primary and waits
# until its standby streams in that mode.
pg_cluster_sync() {
    local primary
    primary=$(pgc_primary) || die "pg: no primary running (bash infra/cluster.sh up pg)"
    pgc_apply_sync "$primary" "$(pgc_other "$primary")"
}

# pg_cluster_fault break|heal failover-postgres.
# break: the primary killed (kill -9 of all of it), the standby promoted
# (pg_ctl promote -w), recorded as the primary, its
# synchronous_standby_names emptied (it has no standby: a synchronous
# commit would wait forever), and checked to accept writes.
# heal: the old primary made a standby of the new one (a fresh
# pg_basebackup), streaming, then LAB_PG_SYNC applied on the new primary.
pg_cluster_fault() {
    local action=$1 kind=$2 old new bin started=$SECONDS deadline
    [ "$kind" = failover-postgres ] || die "pg: unknown fault '$kind'"
    bin=$(pg_bindir)
    case $action in
    break)
        old=$(pgc_primary) || die "pg: no primary running to fail over"
        new=$(pgc_other "$old")
        [ "$(pgc_role "$new")" = standby ] || die "pg: $new is not a running standby: nothing to promote"
        pgc_kill "$old"
        say "fault: pg primary $old killed (kill -9 of all its processes)"
        "${as_pg[@]}" "$bin/pg_ctl" -D "$(pgc_data "$new")" -w -t 60 promote >/dev/null ||
            die "pg: pg_ctl promote of $new failed"
        pgc_record "$new"
        pgc_sync_clear "$new"
        deadline=$((SECONDS + 30))
        until [ "$(pgc_query "$new" "SELECT pg_is_in_recovery()::text || ' ' ||
               current_setting('transaction_read_only') || ' <' || current_setting('synchronous_standby_names') || '>'")" = "false off <>" ]; do
            [ "$SECONDS" -lt "$deadline" ] || die "pg: $new does not accept writes 30 s after its promotion"
            sleep 0.1
        done
        say "fault: pg $new promoted, accepts writes ($((SECONDS - started)) s)"
        ;;
    heal)
        new=$(pgc_primary) || die "pg: no primary running"
        old=$(pgc_other "$new")
        if pgc_pid "$old" >/dev/null && [ "$(pgc_role "$old")" = standby ] && pgc_follows "$old" "$new"; then
            say "fault: pg $old is already a standby of $new"
        else
            pgc_rebuild "$old" "$new"
        fi
        pgc_apply_sync "$new" "$old"
        say "fault: pg $old back as a standby of $new ($((SECONDS - started)) s)"
        ;;
    esac
}
