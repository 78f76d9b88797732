# compare-lib.sh -- sourced (not run) by compare.sh, sweep.sh, plots.sh and
# report.sh: the settings (each overridable by an environment variable), one
# attack on one phase through infra/attack.sh, and the run's metadata as
# JSON (git revision, machine, versions of PostgreSQL, Redis, Kafka and the
# client libraries), written and read back.

source "$(dirname "${BASH_SOURCE[0]}")/../infra/common.sh"

# ---------------------------------------------------------------------------
# Settings: the lab's defaults, overridden by COMPARE_* in the environment
# ---------------------------------------------------------------------------

COMPARE_PHASES=${COMPARE_PHASES:-$LAB_PHASES}
COMPARE_EVENT=${COMPARE_EVENT:-1}
COMPARE_SEATS=${COMPARE_SEATS:-100}
COMPARE_USERS=${COMPARE_USERS:-500}              # the burst
COMPARE_CONNECTIONS=${COMPARE_CONNECTIONS:-50}   # the sustained run
COMPARE_REQUESTS=${COMPARE_REQUESTS:-5000}
COMPARE_TOPIC=${COMPARE_TOPIC:-}                 # phases 5, 6: empty = the service's default
COMPARE_GROUP=${COMPARE_GROUP:-}
COMPARE_RESULTS=${COMPARE_RESULTS:-$LAB_ROOT/results}
COMPARE_BIN_DIR=${COMPARE_BIN_DIR:-build}

# check_settings refuses a setting that is not what it should be, with
# exit code 2 like any bad command line.
check_settings() {
    local name value
    for name in COMPARE_EVENT COMPARE_SEATS COMPARE_USERS COMPARE_CONNECTIONS COMPARE_REQUESTS; do
        value=${!name}
        [[ $value =~ ^[1-9][0-9]*$ ]] || {
            echo "$name must be a positive whole number, not '$value'" >&2
            exit 2
        }
    done
    for value in $COMPARE_PHASES; do
        lab_is_phase "$value" || {
            echo "COMPARE_PHASES holds phases $(lab_phase_range), not '$value'" >&2
            exit 2
        }
    done
    [ -x "$LAB_ROOT/$COMPARE_BIN_DIR/attack" ] || die "$COMPARE_BIN_DIR/attack is missing: run make"
}

# utc_stamp prints the time as it goes into file names: 20261125T090138Z.
utc_stamp() { date -u +%Y%m%dT%H%M%SZ; }

# ---------------------------------------------------------------------------
# One attack
# ---------------------------------------------------------------------------

# attack_phase PHASE CSV LOG [attack options...] runs infra/attack.sh on
# PHASE with the event, topic and group of the settings, appending the
# harness's CSV row to CSV and everything it prints to LOG. On failure it
# shows the end of LOG and returns the harness's status.
attack_phase() {
    local phase=$1 csv=$2 log=$3 status=0
    shift 3
    local service=()
    [ -z "$COMPARE_TOPIC" ] || service+=(--service-arg --topic --service-arg "$COMPARE_TOPIC")
    [ -z "$COMPARE_GROUP" ] || service+=(--service-arg --group --service-arg "$COMPARE_GROUP")
    bash "$LAB_ROOT/infra/attack.sh" --phase "$phase" --bin-dir "$COMPARE_BIN_DIR" \
        --event "$COMPARE_EVENT" --seats "$COMPARE_SEATS" --csv "$csv" \
        "${service[@]}" "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "phase $phase failed (exit $status); the end of ${log#"$LAB_ROOT"/}:" >&2
        tail -n 15 "$log" >&2
    fi
    return "$status"
}

# ---------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------

# json_str prints its argument as a JSON string: backslashes, quotes and
# control characters escaped.
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/ }
    s=${s//$'\r'/}
    s=${s//$'\n'/ }
    printf '"%s"' "$s"
}

# The versions of what the phases run on, "unknown" when a server does not
# answer: the metadata must not stop a run whose results are already in.
postgres_version() {
    psql "$LAB_PG" -Atqc 'SHOW server_version' 2>/dev/null || echo unknown
}
redis_version() {
    local v
    v=$(lab_redis_cli INFO server 2>/dev/null |
        sed -n 's/^redis_version:\([^[:space:]]*\).*/\1/p')
    echo "${v:-unknown}"
}
# kafka_version reads it off the broker's jar, kafka_<scala>-<version>.jar.
kafka_version() {
    local jar
    jar=$(compgen -G "$LAB_ROOT/infra/kafka/target/dependency/kafka_2.*.jar" | head -n 1 || true)
    jar=${jar##*/}
    jar=${jar%.jar}
    if [ -n "$jar" ]; then echo "${jar##*-} ($jar.jar)"; else echo unknown; fi
}
# The client libraries the services are built on, as pkg-config knows them
# (the build's own -dev packages), "unknown" without pkg-config.
librdkafka_version() {
    pkg-config --modversion rdkafka 2>/dev/null || echo unknown
}
libmicrohttpd_version() {
    pkg-config --modversion libmicrohttpd 2>/dev/null || echo unknown
}
# memory_mib prints the machine's memory in MiB (MemTotal), 0 when unknown.
memory_mib() {
    awk '/^MemTotal:/ { printf "%d", $2 / 1024; found = 1 } END { if (!found) print 0 }' \
        /proc/meminfo 2>/dev/null || echo 0
}
cpu_model() {
    sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1
}
git_rev() {
    git -C "$LAB_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown
}
# git_dirty says whether the work tree differs from that revision (results
# of uncommitted code should say so).
git_dirty() {
    if [ -n "$(git -C "$LAB_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        echo true
    else
        echo false
    fi
}

# write_metadata FILE KIND STAMP PARAMS_JSON FILES_JSON writes the run's
# metadata: what ran (KIND, its parameters), when, on which revision, on
# which machine, against which versions, and the data files it wrote.
write_metadata() {
    local file=$1 kind=$2 stamp=$3 params=$4 files=$5
    {
        printf '{\n'
        printf '  "kind": %s,\n' "$(json_str "$kind")"
        # 20261125T091046Z -> 2026-11-25T09:10:46Z
        printf '  "started": %s,\n' "$(json_str "$(sed -E \
            's/^(....)(..)(..)T(..)(..)(..)Z$/\1-\2-\3T\4:\5:\6Z/' <<<"$stamp")")"
        printf '  "stamp": %s,\n' "$(json_str "$stamp")"
        printf '  "git_rev": %s,\n' "$(json_str "$(git_rev)")"
        printf '  "git_dirty": %s,\n' "$(git_dirty)"
        printf '  "machine": {"nproc": %s, "cpu_model": %s, "kernel": %s, "memory_mib": %s},\n' \
            "$(nproc)" "$(json_str "$(cpu_model)")" "$(json_str "$(uname -sr)")" "$(memory_mib)"
        printf '  "versions": {"postgresql": %s, "redis": %s, "kafka": %s, "librdkafka": %s, "libmicrohttpd": %s},\n' \
            "$(json_str "$(postgres_version)")" "$(json_str "$(redis_version)")" \
            "$(json_str "$(kafka_version)")" "$(json_str "$(librdkafka_version)")" \
            "$(json_str "$(libmicrohttpd_version)")"
        printf '  "parameters": %s,\n' "$params"
        printf '  "files": %s\n' "$files"
        printf '}\n'
    } >"$file"
}

# phases_json prints the phase list of the settings as a JSON array.
phases_json() {
    local p out=""
    for p in $COMPARE_PHASES; do out+="${out:+, }$p"; done
    printf '[%s]' "$out"
}

# publish SRC LATEST copies a finished results file to its latest-* name,
# through a temporary file so that a reader never sees half of it.
publish() {
    cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
}

# json_field FILE NAME prints the value of the first key NAME in FILE, one
# of the metadata files above (flat values, no quote inside a string): no
# jq needed. Nothing when the file or the key is missing.
json_field() {
    [ -f "$1" ] || return 0
    local v
    v=$(sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1)
    [ -n "$v" ] || v=$(sed -n "s/.*\"$2\": *\([^\",}[:space:]]*\).*/\1/p" "$1" | head -n 1)
    printf '%s' "$v"
}
