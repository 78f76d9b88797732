#!/usr/bin/env bash
# test_auth.sh -- infra/services.sh closes the lab's services to other
# users of the machine: PostgreSQL asks every TCP connection for a password
# (scram-sha-256, the superuser's included) and has no trust line left,
# Redis asks for one, both generated into owner-only files of .lab/. A
# cluster and a Redis of before (trust, no password, data in them) are
# upgraded in place, running or stopped, without losing the data; a fresh
# cluster starts closed; the lab's Kafka refuses an address off loopback.
#
# It runs a copy of infra/ in a scratch checkout, on ports of its own
# (LAB_PG's and LAB_REDIS's plus 50, or LAB_TEST_PG_PORT and
# LAB_TEST_REDIS_PORT), and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh
source infra/common.sh

pg_port=${LAB_TEST_PG_PORT:-$((PG_PORT + 50))}
redis_port=${LAB_TEST_REDIS_PORT:-$((REDIS_PORT + 50))}
for port in "$pg_port" "$redis_port"; do
    if port_open 127.0.0.1 "$port"; then
        echo "test_auth: something already answers on 127.0.0.1:$port" >&2
        exit 1
    fi
done

# The scratch checkout: the scripts and the schema, no installer (the
# packages are the lab's own); world-traversable for the postgres user.
root=$tmp/checkout
mkdir -p "$root/infra" "$root/phases"
cp infra/services.sh infra/common.sh infra/svclib.sh infra/phases.sh infra/lab.env infra/schema.sql "$root/infra/"
cp phases/phases.list "$root/phases/"
printf '#!/usr/bin/env bash\ntrue\n' >"$root/infra/install.sh"
chmod 755 "$tmp" "$root"

export LAB_PG=postgresql://lab@127.0.0.1:$pg_port/ticketlab
export LAB_REDIS=127.0.0.1:$redis_port
unset PGPASSFILE PGPASSWORD LAB_REDIS_PASSFILE LAB_REDIS_PASSWORD LAB_REDIS_USER
svc() { bash "$root/infra/services.sh" "$@"; }
cleanup() {
    svc down redis pg >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

pgdir=$root/.lab/pg
sock=$root/.lab/run
as_owner=()
[ "$(id -u)" -ne 0 ] || as_owner=(runuser -u postgres -- env --chdir=/)
# owner_sql SQL runs SQL as the superuser over the socket, as the cluster's OS user
owner_sql() {
    "${as_owner[@]}" psql -X -q -w -t -A -v ON_ERROR_STOP=1 -h "$sock" -p "$pg_port" -U postgres \
        -d ticketlab -c "$1"
}
# nopw_psql USER SQL: over TCP with no password at all
nopw_psql() {
    PGPASSFILE=$tmp/none psql -X -q -w -t -A -h 127.0.0.1 -p "$pg_port" -U "$1" -d ticketlab -c "$2"
}
# pw_psql USER SQL: over TCP with the lab's passfile
pw_psql() {
    PGPASSFILE=$root/.lab/pgpass psql -X -q -w -t -A -h 127.0.0.1 -p "$pg_port" -U "$1" -d ticketlab -c "$2"
}
redis_nopw() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@" 2>&1; }
redis_pw() { REDISCLI_AUTH=$(head -n 1 "$root/.lab/redis.pass") redis-cli --no-auth-warning -h 127.0.0.1 -p "$redis_port" "$@" 2>&1; }

# downgrade: what every checkout held before (trust everywhere, no
# passwords, no password files, a Redis without requirepass), checked
downgrade() {
    owner_sql "ALTER ROLE postgres PASSWORD NULL; ALTER ROLE lab PASSWORD NULL" >/dev/null
    printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust" \
        >"$pgdir/pg_hba.conf"
    owner_sql "SELECT pg_reload_conf()" >/dev/null
    redis_pw CONFIG SET requirepass "" >/dev/null
    rm -f "$root/.lab/pgpass" "$root/.lab/redis.pass" "$root/.lab/compose.env"
    [ "$(nopw_psql postgres 'SELECT 1' 2>&1)" = 1 ] || fail "the downgrade did not open PostgreSQL to trust"
    [ "$(redis_nopw ping)" = PONG ] || fail "the downgrade did not open Redis"
}

# expect_closed WHEN: the state every `up` must leave behind
expect_closed() {
    local f mode
    for f in pgpass redis.pass compose.env; do
        mode=$(stat -c %a "$root/.lab/$f" 2>/dev/null || echo missing)
        [ "$mode" = 600 ] || fail "$1: .lab/$f has mode $mode, not 600"
    done
    ! grep -Eq '^[^#]*\btrust\b' "$pgdir/pg_hba.conf" || fail "$1: pg_hba.conf still trusts: $(cat "$pgdir/pg_hba.conf")"
    grep -Eq '^host +all +all +all +scram-sha-256' "$pgdir/pg_hba.conf" ||
        fail "$1: no scram-sha-256 line for TCP in pg_hba.conf"
    run nopw_psql postgres 'SELECT 1'
    [ "$status" -ne 0 ] || fail "$1: the superuser connects over TCP without a password"
    [[ $out == *"no password supplied"* ]] || fail "$1: not refused for want of a password: $out"
    run nopw_psql lab 'SELECT 1'
    [ "$status" -ne 0 ] || fail "$1: the lab's role connects without a password"
    [ "$(pw_psql postgres 'SELECT rolname FROM pg_authid WHERE rolname = current_user AND rolpassword LIKE $$SCRAM-SHA-256$%$$' 2>&1)" = postgres ] ||
        fail "$1: the superuser has no scram-sha-256 password"
    [ "$(pw_psql lab 'SELECT current_user' 2>&1)" = lab ] || fail "$1: the lab's role cannot log in with the passfile"
    [ "$(redis_nopw ping)" != PONG ] || fail "$1: Redis answers without a password"
    [ "$(redis_pw ping)" = PONG ] || fail "$1: Redis refuses the lab's password: $(redis_pw ping)"
    grep -q '^requirepass ' "$root/.lab/redis/redis.conf" || fail "$1: redis.conf has no requirepass"
}

# --- a fresh checkout ---------------------------------------------------------
run svc up pg redis
[ "$status" -eq 0 ] || { fail "fresh: services.sh up failed: $out"; finish test_auth; }
expect_closed fresh
[[ $out != *"$(head -n 1 "$root/.lab/redis.pass")"* ]] || fail "fresh: up printed the Redis password"
pw_psql lab "INSERT INTO events (id, name, total_seats, available_seats) VALUES (424242, 'kept', 7, 7)" >/dev/null ||
    fail "fresh: cannot write as the lab's role"
old_pw=$(head -n 1 "$root/.lab/redis.pass")

# --- a checkout of before, its services running: upgraded in place ------------
downgrade
run svc up pg redis
[ "$status" -eq 0 ] || fail "running: services.sh up failed: $out"
expect_closed "running upgrade"
[ "$(pw_psql lab 'SELECT available_seats FROM events WHERE id = 424242')" = 7 ] ||
    fail "running upgrade: the data is lost"
[ "$(head -n 1 "$root/.lab/redis.pass")" != "$old_pw" ] || fail "the password was not made anew"

# --- a checkout of before, its services stopped --------------------------------
downgrade
svc down redis pg >/dev/null
run svc up pg redis
[ "$status" -eq 0 ] || fail "stopped: services.sh up failed: $out"
expect_closed "stopped upgrade"
[ "$(pw_psql lab 'SELECT available_seats FROM events WHERE id = 424242')" = 7 ] ||
    fail "stopped upgrade: the data is lost"

# --- up again: the same passwords, still closed ---------------------------------
before=$(cat "$root/.lab/pgpass" "$root/.lab/redis.pass")
run svc up pg redis
[ "$status" -eq 0 ] || fail "again: services.sh up failed: $out"
[ "$(cat "$root/.lab/pgpass" "$root/.lab/redis.pass")" = "$before" ] || fail "a second up changed the passwords"
expect_closed again

# --- Kafka: loopback only, nothing started otherwise ------------------------------
run env LAB_KAFKA=0.0.0.0:$((pg_port + 1)) bash "$root/infra/services.sh" up kafka
[ "$status" -ne 0 ] || fail "kafka was started on 0.0.0.0"
[[ $out == *"loopback"* ]] || fail "no word of loopback: $out"
if [ -f .lab/kafka/server.properties ]; then
    ! grep -E '^(listeners|advertised\.listeners)=' .lab/kafka/server.properties | grep -Ev '//(127\.[0-9.]+|localhost):' ||
        fail "the lab's kafka listens off loopback: $(grep listeners .lab/kafka/server.properties)"
fi

finish test_auth
