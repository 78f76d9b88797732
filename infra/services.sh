#!/usr/bin/env bash
# services.sh -- phase 1 of the lab: starts, stops and shows the three backing
# services (PostgreSQL, Redis, Kafka in KRaft mode) as plain processes of this
# machine, with data, logs and pid files under .lab/, on the ports of
# infra/lab.env. No Docker needed; `up` is idempotent and `down` stops only
# what `up` started (found through the pid files).
#
# Access: PostgreSQL asks for a password (scram-sha-256) on every TCP
# connection, the superuser's included, and lets only the cluster's own OS
# user in as postgres over the Unix socket (peer); Redis asks for one
# (requirepass). The passwords are generated at the first `up` into
# .lab/pgpass and .lab/redis.pass (mode 0600); a cluster made before, with
# trust, is given them in place. Kafka listens on loopback only.
# `secrets` only writes those files (and .lab/compose.env for Docker).
#
#   bash infra/services.sh up|down|status|pid|secrets [pg|redis|kafka ...]   (default: all)
#   bash infra/services.sh exec CMD...    CMD with the running topology's addresses
#
# With LAB_TOPOLOGY=replicated, or while a replicated topology runs, every
# command is infra/cluster.sh's: three Kafka nodes, a PostgreSQL primary
# and standby, a Redis primary and replica behind three Sentinels.
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/svclib.sh"

PG_DIR=$LAB_RUN/pg   # pg_paths may move these three: see there
PG_RUN=$LAB_PIDS
PG_LOGS=$LAB_LOGS
REDIS_DIR=$LAB_RUN/redis
KAFKA_DIR=$LAB_RUN/kafka

# ---------------------------------------------------------------- PostgreSQL

# pg_paths: as root, PostgreSQL runs as the postgres user, which must be
# able to reach its data folder. A checkout under a private folder (/root is
# mode 700) is out of its reach: then the cluster, its socket and its log
# live in /var/tmp/ticketlab-pg-<checksum of the checkout's path> instead,
# the same folder on every call for the same checkout.
pg_paths() {
    local home
    [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 || return 0
    mkdir -p "$LAB_RUN"
    runuser -u postgres -- test -x "$LAB_RUN" 2>/dev/null && return 0
    home=/var/tmp/ticketlab-pg-$(printf %s "$LAB_ROOT" | cksum | cut -d' ' -f1)
    PG_DIR=$home/data
    PG_RUN=$home/run
    PG_LOGS=$home/log
}


# pg_log_tail prints the end of PostgreSQL's logs, wherever pg_paths put them.
pg_log_tail() {
    LAB_LOGS=$PG_LOGS log_tail postgres
}


# pg_auth_files writes pg_hba.conf and pg_ident.conf: no trust anywhere.
# Over TCP every role, the superuser included, gives its password
# (scram-sha-256); over the Unix socket the superuser postgres is only the
# cluster's own OS user (peer, through the map lab_owner: that user can
# read the data folder anyway), any other role gives its password. It
# succeeds when a file changed (the server must reload them) and fails
# when both were right already. Writing into the existing files keeps
# their owner and mode.
pg_auth_files() {
    local hba ident changed=1
    hba="# written by infra/services.sh at every start: edit that, not this
# TYPE  DATABASE  USER      ADDRESS  METHOD
local   all       postgres           peer map=lab_owner
local   all       all                scram-sha-256
host    all       all       all      scram-sha-256"
    ident="# written by infra/services.sh at every start: edit that, not this
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
lab_owner  $(pg_owner)  postgres"
    if [ "$hba" != "$(cat "$PG_DIR/pg_hba.conf" 2>/dev/null)" ]; then
        printf '%s\n' "$hba" >"$PG_DIR/pg_hba.conf"
        changed=0
    fi
    if [ "$ident" != "$(cat "$PG_DIR/pg_ident.conf" 2>/dev/null)" ]; then
        printf '%s\n' "$ident" >"$PG_DIR/pg_ident.conf"
        changed=0
    fi
    return "$changed"
}

# pg_ours succeeds when the server of this checkout's cluster is running.
pg_ours() {
    local bin
    pg_paths
    [ -f "$PG_DIR/postmaster.pid" ] && bin=$(pg_bindir) &&
        "${as_pg[@]}" "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1
}

# pg_start creates the cluster once (initdb: peer on the socket, nothing
# over TCP until pg_auth_files), writes lab.conf (included by
# postgresql.conf) with the address, socket folder and pid file, and the
# authentication files, and starts the server with pg_ctl.
pg_start() {
    local bin d
    bin=$(pg_bindir)
    pg_paths
    mkdir -p "$PG_DIR" "$PG_RUN" "$PG_LOGS" "$LAB_PIDS" "$LAB_LOGS"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$PG_DIR" "$PG_RUN" "$PG_LOGS"
        for d in "$PG_DIR" "$PG_RUN" "$PG_LOGS"; do
            runuser -u postgres -- test -w "$d" ||
                die "the postgres user cannot write $d: are all its parent folders world-traversable (chmod o+x)?"
        done
    fi
    if [ ! -s "$PG_DIR/PG_VERSION" ]; then
        say "initdb into ${PG_DIR#"$LAB_ROOT"/}"
        "${as_pg[@]}" "$bin/initdb" -D "$PG_DIR" --auth-local=peer --auth-host=reject -U postgres --encoding=UTF8 --locale=C \
            >"$PG_LOGS/postgres.initdb.log" 2>&1 || { pg_log_tail; die "initdb failed"; }
        echo "include 'lab.conf'" >>"$PG_DIR/postgresql.conf"
    fi
    # fsync, synchronous_commit and full_page_writes off: a lab's data may be
    # lost in a crash (it is reset before every attack), and commits are faster.
    cat >"$PG_DIR/lab.conf" <<EOF
# written by infra/services.sh at every start: edit that, not this
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
external_pid_file = '$PG_RUN/postgres.pid'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
EOF
    pg_auth_files || true
    say "starting postgres on $PG_HOST:$PG_PORT"
    "${as_pg[@]}" "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_LOGS/postgres.log" -w -t 60 start >/dev/null ||
        { pg_log_tail; die "postgres did not start"; }
    wait_port "$PG_HOST" "$PG_PORT" 10 postgres
}

# pg_admin_psql ARGS... runs psql as the superuser: over the Unix socket as
# the cluster's OS user (peer) when the cluster is this checkout's, else
# over TCP with the superuser's password from the lab's passfile (a
# PostgreSQL started by docker-compose.yml).
pg_admin_psql() {
    if pg_ours; then
        "${as_pg[@]}" psql -X -q -w -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres \
            -d postgres "$@"
    else
        PGPASSFILE=$LAB_PGPASS psql -X -q -w -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" \
            -U postgres -d postgres "$@"
    fi
}

# pg_provision gives the lab's cluster its passwords, role, database and
# schema (pg_provision_sql of svclib.sh) through pg_admin_psql.
pg_provision() {
    pg_provision_sql "$LAB_PG" pg_admin_psql
}

# pg_up starts this checkout's cluster when nothing answers on its port, or
# brings a running one's authentication files up to date (a reload: a
# cluster started with trust is closed at once), then provisions.
pg_up() {
    local bin
    if port_open "$PG_HOST" "$PG_PORT"; then
        say "postgres already up on $PG_HOST:$PG_PORT"
        if pg_ours && pg_auth_files; then
            bin=$(pg_bindir)
            say "postgres: pg_hba.conf rewritten (scram-sha-256, no trust): reloading"
            "${as_pg[@]}" "$bin/pg_ctl" -D "$PG_DIR" reload >/dev/null || die "pg_ctl reload failed"
        fi
    else
        pg_start
    fi
    pg_provision
}

pg_down() {
    local bin
    pg_paths
    [ -f "$PG_DIR/postmaster.pid" ] && bin=$(pg_bindir) &&
        "${as_pg[@]}" "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1 ||
        { say "postgres not running"; return; }
    "${as_pg[@]}" "$bin/pg_ctl" -D "$PG_DIR" -m fast -w -t 60 stop >/dev/null
    say "postgres stopped"
}

# --------------------------------------------------------------------- Redis

# redis_cli ARGS... runs redis-cli against the lab's Redis with the lab's
# password (lab_redis_cli: never on the command line).
redis_cli() {
    LAB_REDIS_PASSWORD=$(redis_password) LAB_REDIS_USER= lab_redis_cli "$@"
}

# redis_secure gives a running Redis of ours that still has no password
# (started before the lab had one) the lab's password, at once and without
# a restart: CONFIG SET on redis-cli's standard input, not its command line.
redis_secure() {
    pid_of "$LAB_PIDS/redis.pid" redis-server >/dev/null || return 0
    [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] || return 0
    say "redis: setting the lab's password (requirepass)"
    printf 'CONFIG SET requirepass %s\n' "$(redis_password)" |
        redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" >/dev/null || die "redis: CONFIG SET requirepass failed"
}

# redis_up writes redis.conf (no persistence: a counter and a cache for the
# lab; maxclients high for the attacks; the lab's password, so the file is
# owner-only) and starts a daemonized redis-server.
redis_up() {
    local conf=$REDIS_DIR/redis.conf deadline
    if port_open "$REDIS_HOST" "$REDIS_PORT"; then
        say "redis already up on $REDIS_HOST:$REDIS_PORT"
        redis_secure
        return
    fi
    mkdir -p "$REDIS_DIR" "$LAB_PIDS" "$LAB_LOGS"
    (umask 077 && : >"$conf") && chmod 600 "$conf"
    cat >"$conf" <<EOF
# written by infra/services.sh at every start: edit that, not this
bind $REDIS_HOST
port $REDIS_PORT
daemonize yes
pidfile "$LAB_PIDS/redis.pid"
logfile "$LAB_LOGS/redis.log"
dir "$REDIS_DIR"
save ""
appendonly no
maxclients 10000
requirepass "$(redis_password)"
EOF
    say "starting redis on $REDIS_HOST:$REDIS_PORT"
    # 10000 clients need as many file descriptors (Redis lowers maxclients otherwise)
    (ulimit -n 10240 2>/dev/null || true; redis-server "$conf") || { log_tail redis; die "redis-server did not start"; }
    deadline=$((SECONDS + 20))
    until [ "$(redis_cli ping 2>/dev/null)" = PONG ]; do
        [ "$SECONDS" -lt "$deadline" ] || { log_tail redis; die "redis does not answer PING on $REDIS_HOST:$REDIS_PORT after 20 s"; }
        sleep 0.1
    done
}

# redis_down shuts our redis down with SHUTDOWN NOSAVE, after checking that
# the server answering on the port is the process of our pid file.
redis_down() {
    local pid answering
    if ! pid=$(pid_of "$LAB_PIDS/redis.pid" redis-server); then
        say "redis not running"
        return
    fi
    answering=$(redis_cli info server 2>/dev/null |
        sed -n 's/^process_id:\([0-9]*\).*/\1/p') || true
    if [ "$answering" = "$pid" ]; then
        redis_cli shutdown nosave >/dev/null 2>&1 || true
    else
        kill -TERM "$pid" 2>/dev/null || true
    fi
    wait_gone "$pid" 10 || kill -9 "$pid" 2>/dev/null || true
    rm -f "$LAB_PIDS/redis.pid"
    say "redis stopped"
}

# --------------------------------------------------------------------- Kafka

# kafka_config prints server.properties: one KRaft node that is both broker
# and controller, the controller on the next port, topics created on use.
# A third listener, PROXIED, on K+10, is advertised as K+20, where the lab's
# TCP proxy listens during a partition fault (scripts/nemesis.sh) and
# forwards to K+10: a client that bootstraps through the proxy is told to
# come back through it, so that all its traffic crosses the proxy.
kafka_config() {
    local ctl=$((KAFKA_PORT + 1)) proxied=$((KAFKA_PORT + 10)) via=$((KAFKA_PORT + LAB_PROXY_OFFSET))
    cat <<EOF
# written by infra/services.sh at every start: edit that, not this
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$ctl
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$ctl,PROXIED://$KAFKA_HOST:$proxied
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,PROXIED://$KAFKA_HOST:$via
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
EOF
}

# kafka_up formats the storage once, starts the broker with nohup and waits
# until it answers on its port and has logged that it started.
kafka_up() {
    local props=$KAFKA_DIR/server.properties log=$LAB_LOGS/kafka.log offset=0 pid id deadline
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        say "kafka already up on $KAFKA_HOST:$KAFKA_PORT"
        return
    fi
    # the lab's broker has no authentication (PLAINTEXT): it listens on
    # loopback only; a shared machine needs SASL (docs/bring-your-own.md)
    case $KAFKA_HOST in
    127.* | localhost | ::1) ;;
    *) die "the lab's Kafka has no authentication and listens on loopback only, not on $KAFKA_HOST (LAB_KAFKA): see docs/bring-your-own.md" ;;
    esac
    compgen -G "$KAFKA_JARS/kafka_2.13-*.jar" >/dev/null || die "Kafka's jars are missing: run infra/install.sh"
    command -v java >/dev/null || die "no java on PATH: run infra/install.sh"
    mkdir -p "$KAFKA_DIR/data" "$LAB_PIDS" "$LAB_LOGS"
    kafka_config >"$props"
    if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
        say "formatting kafka's storage in ${KAFKA_DIR#"$LAB_ROOT"/}/data"
        id=$(java "${KAFKA_OPTS[@]}" -cp "$KAFKA_CP" kafka.tools.StorageTool random-uuid)
        java "${KAFKA_OPTS[@]}" -cp "$KAFKA_CP" kafka.tools.StorageTool format -t "$id" -c "$props" \
            >"$LAB_LOGS/kafka.format.log" 2>&1 || { log_tail kafka; die "formatting kafka's storage failed"; }
    fi
    if pid=$(pid_of "$LAB_PIDS/kafka.pid" kafka.Kafka); then
        say "kafka (pid $pid) is still starting; waiting for it"
    else
        [ ! -f "$log" ] || offset=$(stat -c %s "$log")
        say "starting kafka on $KAFKA_HOST:$KAFKA_PORT"
        nohup java -Xms256m -Xmx512m "${KAFKA_OPTS[@]}" -cp "$KAFKA_CP" kafka.Kafka "$props" \
            >"$LAB_LOGS/kafka.out" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$LAB_PIDS/kafka.pid"
    fi
    wait_port "$KAFKA_HOST" "$KAFKA_PORT" 60 kafka "$pid"
    # the port opens before the broker is ready to serve: wait for its word
    deadline=$((SECONDS + 90))
    until kafka_started "$log" "$offset"; do
        kill -0 "$pid" 2>/dev/null || { log_tail kafka; die "kafka (pid $pid) exited while starting"; }
        [ "$SECONDS" -lt "$deadline" ] || { log_tail kafka; die "kafka did not log that it started within 90 s"; }
        sleep 0.2
    done
}

# kafka_down sends SIGTERM (a clean shutdown), waits up to 30 s, then SIGKILL.
kafka_down() {
    local pid
    if ! pid=$(pid_of "$LAB_PIDS/kafka.pid" kafka.Kafka); then
        say "kafka not running"
        rm -f "$LAB_PIDS/kafka.pid"
        return
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 30; then
        say "kafka (pid $pid) still there after 30 s: SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || true
    fi
    rm -f "$LAB_PIDS/kafka.pid"
    say "kafka stopped"
}

# ---------------------------------------------------------------------- main

# status_line NAME HOST PORT PIDFILE PATTERN prints one line of `status`:
# up when the port answers; the pid when it is a process that we started.
status_line() {
    local state=down pid
    ! port_open "$2" "$3" || state=up
    pid=$(pid_of "$4" "$5") || pid=-
    printf '%-9s %-22s %-5s pid %s\n' "$1" "$2:$3" "$state" "$pid"
}

cmd=${1:-}
# exec CMD...: runs CMD with the topology's addresses in its environment
# (common.sh exported them): `make phaseN` starts its service that way.
if [ "$cmd" = exec ]; then
    shift
    exec "$@"
fi
[ $# -eq 0 ] || shift
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(pg redis kafka)
for s in "${services[@]}"; do
    case $s in pg | redis | kafka) ;; *) die "unknown service '$s': pg, redis or kafka" ;; esac
done
# A replicated service is infra/cluster.sh's (LAB_TOPOLOGY, or the
# topology.env of a topology that runs: lab_clustered); one server each
# is this script's.
case $cmd in
up | down | status | pid)
    replicated=() single=()
    for s in "${services[@]}"; do
        if lab_clustered "$s"; then replicated+=("$s"); else single+=("$s"); fi
    done
    if [ ${#replicated[@]} -gt 0 ]; then
        [ "$cmd" != down ] || [ ${#single[@]} -eq 0 ] || bash "$0" down "${single[@]}"
        [ "$cmd" != pid ] || [ ${#single[@]} -eq 0 ] || bash "$0" pid "${single[@]}"
        [ "$cmd" != up ] || [ ${#single[@]} -eq 0 ] || bash "$0" up "${single[@]}"
        [ "$cmd" != status ] || [ ${#single[@]} -eq 0 ] || bash "$0" status "${single[@]}"
        exec bash "$LAB_ROOT/infra/cluster.sh" "$cmd" "${replicated[@]}"
    fi
    ;;
esac

case $cmd in
up)
    bash "$LAB_ROOT/infra/install.sh"
    secrets_ensure
    for s in "${services[@]}"; do "${s}_up"; done
    ;;
down)
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do "${services[i]}_down"; done
    ;;
status)
    for s in "${services[@]}"; do
        case $s in
        pg) pg_paths; status_line postgres "$PG_HOST" "$PG_PORT" "$PG_RUN/postgres.pid" postgres ;;
        redis) status_line redis "$REDIS_HOST" "$REDIS_PORT" "$LAB_PIDS/redis.pid" redis-server ;;
        kafka) status_line kafka "$KAFKA_HOST" "$KAFKA_PORT" "$LAB_PIDS/kafka.pid" kafka.Kafka ;;
        esac
    done
    ;;
pid)
    # the pids of the lab's own servers, one a line (infra/fault.sh's only
    # way to find them); fails when one is not running
    for s in "${services[@]}"; do
        case $s in
        pg) pg_paths; pid_of "$PG_RUN/postgres.pid" postgres ;;
        redis) pid_of "$LAB_PIDS/redis.pid" redis-server ;;
        kafka) pid_of "$LAB_PIDS/kafka.pid" kafka.Kafka ;;
        esac
    done
    ;;
secrets)
    secrets_ensure
    say "passwords in ${LAB_PGPASS#"$LAB_ROOT"/}, ${LAB_REDIS_PASS#"$LAB_ROOT"/} and .lab/compose.env (mode 0600)"
    ;;
*)
    echo "usage: bash infra/services.sh up|down|status|pid|secrets [pg|redis|kafka ...]" >&2
    exit 2
    ;;
esac
