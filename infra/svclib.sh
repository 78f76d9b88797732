# svclib.sh -- sourced (after common.sh) by the scripts that start and stop
# the lab's servers: infra/services.sh (one server each) and infra/cluster.sh
# (the replicated topology). What both need: the OS user PostgreSQL runs as,
# pid files that are never taken for a recycled pid, the lab's passwords,
# and where Debian keeps PostgreSQL and Maven keeps Kafka's jars.

KAFKA_JARS=$LAB_ROOT/infra/kafka/target/dependency
KAFKA_CP="$KAFKA_JARS/*" # expanded by java, not by the shell
KAFKA_OPTS=(-Djava.awt.headless=true -Dkafka.logs.dir="$LAB_LOGS"
            -Dlog4j.configuration="file:$LAB_ROOT/infra/kafka/log4j.properties")

# kafka_started LOG OFFSET succeeds when a Kafka broker (a node) has logged that it
# started, after byte OFFSET of LOG (what an earlier run wrote comes before).
kafka_started() {
    local from=$2
    [ -f "$1" ] || return 1
    [ "$(stat -c %s "$1")" -ge "$from" ] || from=0 # the log rolled over
    grep -q -e 'Kafka Server started' -e 'started (kafka.server.KafkaRaftServer)' < <(tail -c +$((from + 1)) "$1")
}

# PostgreSQL refuses to run as root: as root, its commands run as the
# postgres user (created by Debian's package); otherwise as the caller.
as_pg=()
[ "$(id -u)" -ne 0 ] || as_pg=(runuser -u postgres -- env --chdir=/)

# pid_of FILE PATTERN prints the pid kept in FILE when that process is alive
# and its command line contains PATTERN (so a recycled pid is never taken
# for ours); it fails otherwise.
pid_of() {
    local pid cmd
    pid=$(head -n 1 "$1" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) && [[ $cmd == *"$2"* ]] || return 1
    echo "$pid"
}

# wait_gone PID SECONDS waits until PID has exited; fails after SECONDS.
wait_gone() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# ------------------------------------------------------------------ Secrets

# secret_new prints a new password: 24 bytes of /dev/urandom in hex, 48
# characters with nothing to quote in a URI, a passfile or redis.conf.
secret_new() {
    od -An -N24 -tx1 /dev/urandom | tr -d ' \n'
}

# secret_write FILE writes its standard input to FILE, readable and
# writable by its owner only, replacing it in one step (rename).
secret_write() {
    (umask 077 && cat >"$1.new.$$") && chmod 600 "$1.new.$$" && mv -f "$1.new.$$" "$1"
}

# pgpass_get ROLE prints ROLE's password from the lab's passfile; fails
# when there is none.
pgpass_get() {
    local pw
    [ -r "$LAB_PGPASS" ] || return 1
    pw=$(awk -F: -v role="$1" '$4 == role { print $5; exit }' "$LAB_PGPASS")
    [ -n "$pw" ] && echo "$pw"
}

# redis_password prints the lab's Redis password (.lab/redis.pass).
redis_password() {
    head -n 1 "$LAB_REDIS_PASS"
}

# secrets_ensure creates the lab's passwords once and keeps them: the
# superuser's and LAB_PG's role's in .lab/pgpass (one line each for each
# port of lab_pg_ports, on any host: rewritten when a port changes), Redis's in
# .lab/redis.pass, and the two that Docker needs in .lab/compose.env
# (docker-compose.yml). Each file is owner-only; .lab/ itself is not, as
# the postgres user must reach the cluster in it when the lab runs as root.
secrets_ensure() {
    local super lab redis= port
    mkdir -p "$LAB_RUN"
    super=$(pgpass_get postgres) || super=$(secret_new)
    lab=$(pgpass_get "$PG_USER") || lab=$(secret_new)
    [ ! -s "$LAB_REDIS_PASS" ] || redis=$(redis_password)
    [ -n "$redis" ] || redis=$(secret_new)
    {
        echo "# written by infra/services.sh: the lab's PostgreSQL passwords (a libpq passfile)"
        for port in $(lab_pg_ports); do
            echo "*:$port:*:postgres:$super"
            [ "$PG_USER" = postgres ] || echo "*:$port:*:$PG_USER:$lab"
        done
    } | secret_write "$LAB_PGPASS"
    echo "$redis" | secret_write "$LAB_REDIS_PASS"
    {
        echo "# written by infra/services.sh: docker compose --env-file .lab/compose.env up -d"
        echo "LAB_PG_SUPER_PASSWORD=$super"
        echo "LAB_REDIS_PASSWORD=$redis"
    } | secret_write "$LAB_RUN/compose.env"
}

# pg_bindir prints the newest PostgreSQL's bin folder of Debian's packages.
pg_bindir() {
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [ -x "$dir/pg_ctl" ] || die "no PostgreSQL in /usr/lib/postgresql: run infra/install.sh"
    echo "$dir"
}

# pg_owner prints the OS user that runs the cluster: postgres as root
# (as_pg), the caller otherwise.
pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# pg_provision_sql URL ADMIN_CMD... gives the superuser and the lab's role
# the passwords of the lab's passfile (creating the role and its database
# if missing), which also upgrades a cluster made with trust, through
# ADMIN_CMD (a psql as the superuser: services.sh's pg_admin_psql, a node
# of the replicated topology's pgc_psql), then applies infra/schema.sql as
# the lab's role at URL. The passwords travel on psql's standard input,
# never on a command line (which every user of the machine can read).
pg_provision_sql() {
    local url=$1 super lab
    shift
    super=$(pgpass_get postgres) || die "no password for postgres in $LAB_PGPASS"
    lab=$(pgpass_get "$PG_USER") || lab=$super
    "$@" -v role="$PG_USER" -v db="$PG_DB" >/dev/null <<SQL ||
\set super '$super'
\set labpw '$lab'
SET password_encryption = 'scram-sha-256';
SELECT format('ALTER ROLE postgres PASSWORD %L', :'super') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'labpw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
        die "cannot set the passwords, the lab's role and database"
    PGPASSFILE=$LAB_PGPASS PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -w -v ON_ERROR_STOP=1 "$url" -f "$LAB_ROOT/infra/schema.sql" >/dev/null ||
        die "applying infra/schema.sql failed"
}
