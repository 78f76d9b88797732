# common.sh -- sourced (not run) by every script in infra/. It finds the repo
# root, reads the lab's one configuration (infra/lab.env, where an environment
# variable of the same name wins), derives each service's host and port, names
# the runtime folders under .lab/, and defines the small helpers the scripts
# share, so that the addresses are spelled in exactly one place.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# lab.env's lines are `NAME ?= value` (Makefile syntax); each becomes
# `: "${NAME:=value}"`, which keeps a value already in the environment.
eval "$(sed -n 's/^\(LAB_[A-Z_]*\) ?= \(.*\)$/: "${\1:=\2}"/p' "$LAB_ROOT/infra/lab.env")"
export LAB_PG LAB_REDIS LAB_KAFKA LAB_HTTP
export LAB_ROOT   # the awk tools find phases/phases.list through it
source "$LAB_ROOT/infra/phases.sh"

# Runtime state, ignored by git: LAB_RUN is .lab itself (attack.sh keeps its
# logs in $LAB_RUN/log); pid files and the PostgreSQL socket go in .lab/run.
LAB_RUN=$LAB_ROOT/.lab
LAB_PIDS=$LAB_RUN/run
LAB_LOGS=$LAB_RUN/log

# say prints a progress line; die prints an error to stderr and exits 1.
say() { echo "[lab] $*"; }
die() { echo "[lab] error: $*" >&2; exit 1; }

# split_hostport VAR NAME VALUE sets NAME_HOST and NAME_PORT from host:port.
split_hostport() {
    [[ $2 =~ ^([^:/]+):([0-9]+)$ ]] || die "$1 must be host:port, not '$2'"
    printf -v "${3}_HOST" %s "${BASH_REMATCH[1]}"
    printf -v "${3}_PORT" %s "${BASH_REMATCH[2]}"
}

# LAB_PG is a libpq URL, postgresql://user@host:port/db; the scripts need its
# host, port, user and database (the port defaults to 5432 as in libpq).
[[ $LAB_PG =~ ^postgres(ql)?://(([^:@/]+)(:[^@/]*)?@)?([^:/?]+)(:([0-9]+))?/([^?]+) ]] ||
    die "LAB_PG must look like postgresql://user@host:port/db, not '$LAB_PG'"
PG_USER=${BASH_REMATCH[3]:-lab}
PG_HOST=${BASH_REMATCH[5]}
PG_PORT=${BASH_REMATCH[7]:-5432}
PG_DB=${BASH_REMATCH[8]}
split_hostport LAB_REDIS "$LAB_REDIS" REDIS
split_hostport LAB_KAFKA "${LAB_KAFKA%%,*}" KAFKA

# port_open HOST PORT succeeds when something accepts a TCP connection there
# (bash's /dev/tcp, bounded by timeout so an unroutable host cannot hang).
port_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# log_tail NAME prints the end of that service's logs (.lab/log/NAME.*).
log_tail() {
    local f
    for f in "$LAB_LOGS/$1".*; do
        [ -s "$f" ] || continue
        echo "---- last lines of ${f#"$LAB_ROOT"/}" >&2
        tail -n 25 "$f" >&2
    done
}

# wait_port HOST PORT SECONDS NAME [PID] waits until HOST:PORT accepts
# connections, at most SECONDS; it fails with the tail of NAME's log, at once
# if PID is given and that process has died.
wait_port() {
    local host=$1 port=$2 deadline=$((SECONDS + $3)) name=$4 pid=${5:-}
    until port_open "$host" "$port"; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            log_tail "$name"
            die "$name (pid $pid) exited before answering on $host:$port"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            log_tail "$name"
            die "$name does not answer on $host:$port after $3 s"
        fi
        sleep 0.2
    done
}

# phase_start BIN_DIR LOG PHASE ARGS... starts BIN_DIR/phasePHASE on
# LAB_HTTP with ARGS, its output appended to LOG, and waits for /healthz; its
# pid is in $phase_pid. The port may be held for up to a minute by another
# program's outgoing connection in TIME_WAIT (a port of the ephemeral range):
# then it starts it again, up to 40 times. Otherwise it dies with LOG's tail.
phase_pid=
phase_start() {
    local bin_dir=$1 log=$2 phase=$3 _try _wait
    shift 3
    for _try in $(seq 1 40); do
        "$bin_dir/phase$phase" "$@" >>"$log" 2>&1 &
        phase_pid=$!
        for _wait in $(seq 1 100); do
            curl -fsS -m 1 "http://$LAB_HTTP/healthz" >/dev/null 2>&1 && return 0
            kill -0 "$phase_pid" 2>/dev/null || break
            sleep 0.1
        done
        phase_stop
        tail -n 3 "$log" | grep -q "in use" || break
        sleep 2
    done
    tail -n 20 "$log" >&2
    die "phase $phase did not answer on $LAB_HTTP (log: $log)"
}

# phase_stop ends $phase_pid with SIGTERM and waits for it.
phase_stop() {
    [ -n "$phase_pid" ] || return 0
    kill -TERM "$phase_pid" 2>/dev/null || true
    # A service stops within a second or two; 30 s bounds the wait, so that a
    # process that never exits (LeakSanitizer's exit check of a sanitized
    # build was seen spinning for minutes, its tracer waiting) cannot hang
    # the script that started it.
    local waited=0
    while kill -0 "$phase_pid" 2>/dev/null && [ "$waited" -lt 300 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$phase_pid" 2>/dev/null; then
        echo "[lab] the service (pid $phase_pid) did not exit 30 s after SIGTERM: killed" >&2
        pkill -KILL -P "$phase_pid" 2>/dev/null || true
        kill -KILL "$phase_pid" 2>/dev/null || true
    fi
    wait "$phase_pid" 2>/dev/null || true
    phase_pid=
}

# script_help FILE prints FILE's header comment, the block of '#' lines after
# the '#!' line, without the '# ': what a script's --help shows.
script_help() {
    awk 'NR == 1 && /^#!/ { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1"
}
