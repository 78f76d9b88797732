#!/usr/bin/env bash
# regress-replicated.sh -- the replicated topology's half of `make regress`:
# regress/replicated.conf (the faults only a cluster has, and the lessons
# they teach) against a replicated topology of its own, started here and
# stopped again, beside the lab's single servers: its own state folder
# (.lab/regress-replicated, LAB_RUN_DIR) and its own ports, the single
# ones plus 100 (REGRESS_CLUSTER_OFFSET). The scenarios run twice over the
# same topology: with a synchronous standby (LAB_PG_SYNC=on), then the
# scenarios whose name ends in -async with an asynchronous one; those named
# partition-SERVICE run through scripts/nemesis.sh, which puts the lab's
# proxy in the service's path.
#
#   bash scripts/regress-replicated.sh [--scenarios LIST]
#
# Writes results/regress/replicated/ and results/regress-replicated-junit.xml
# (and -async-junit.xml); exits 1 when a check failed, as scripts/regress.sh.
set -euo pipefail
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

wanted=
while [ $# -gt 0 ]; do
    case $1 in
    --scenarios) wanted=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "regress-replicated: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

# the single topology's ports (whatever runs), plus the offset
read -r pg0 redis0 kafka0 http0 < <(
    unset LAB_RUN_DIR LAB_TOPOLOGY LAB_PG LAB_REDIS LAB_KAFKA LAB_HTTP
    source "$LAB_ROOT/infra/common.sh"
    echo "$PG_PORT $REDIS_PORT $KAFKA_PORT ${LAB_HTTP##*:}")
offset=${REGRESS_CLUSTER_OFFSET:-100}
export LAB_RUN_DIR=$LAB_ROOT/.lab/regress-replicated LAB_TOPOLOGY=replicated LAB_PG_SYNC=on
export LAB_PG=postgresql://lab@127.0.0.1:$((pg0 + offset))/ticketlab
export LAB_REDIS=127.0.0.1:$((redis0 + offset)) LAB_KAFKA=127.0.0.1:$((kafka0 + offset))
export LAB_HTTP=127.0.0.1:$((http0 + offset))
export PGPASSFILE=$LAB_RUN_DIR/pgpass LAB_REDIS_PASSFILE=$LAB_RUN_DIR/redis.pass
cluster() { bash "$LAB_ROOT/infra/cluster.sh" "$@"; }
trap 'cluster down >/dev/null 2>&1 || true' EXIT

started=$SECONDS
cluster up
# from here on the topology's own addresses (its topology.env: the
# bootstrap list, the multi-host URL, the Sentinels)
unset LAB_PG LAB_REDIS LAB_KAFKA

conf=$LAB_ROOT/regress/replicated.conf
names=$(awk '$1 == "scenario" { print $2 }' "$conf")
sync_list= async_list= partition_list=
for n in $names; do
    [[ -z $wanted || ",$wanted," == *",$n,"* ]] || continue
    case $n in
    *-async) async_list+=${async_list:+,}$n ;;
    partition-*) partition_list+=${partition_list:+,}$n ;;
    *) sync_list+=${sync_list:+,}$n ;;
    esac
done
status=0
out=$LAB_ROOT/results/regress/replicated
mkdir -p "$out"

# scenario_phases NAME prints the phases the conf runs scenario NAME on.
scenario_phases() {
    awk -v n="$1" '$1 == "scenario" && $2 == n { print $3 }' "$conf" | tr ',' ' '
}

# stalled FILE: the run's consumer decided nothing of what was queued, the
# consumer stall of docs/cluster.md (librdkafka 2.0.2 on this cluster:
# assigned, polling, given nothing, about one phase-5/6 start in five),
# not what the fault cost. Such a run is made once more, and counted.
stalls=0
stalled() {
    [ -s "$1" ] && jq -e '(.queued // 0) > 0 and (.decided // 0) == 0' "$1" >/dev/null 2>&1
}
# The partitions need the lab's proxy in the service's path, which
# scripts/nemesis.sh puts there: each runs through it (its load: 1000
# requests, the fault after 200 accepted, healed 1 s later), and
# regress.sh checks the summaries it wrote.
if [ -n "$partition_list" ]; then
    LAB_PG_SYNC=on cluster sync
    for n in ${partition_list//,/ }; do
        for p in $(scenario_phases "$n"); do
            for try in 1 2; do
                echo "[lab] regress-replicated: $n, phase $p (scripts/nemesis.sh)"
                NEMESIS_RUN_ID=rr$(date +%s)$n$p bash "$LAB_ROOT/scripts/nemesis.sh" --phase "$p" \
                    --fault "$n@accepted=200:1" --requests 1000 --json >"$out/$n-phase$p.out" 2>&1 || true
                grep -m 1 '^{"verdict":' "$out/$n-phase$p.out" >"$out/$n-phase$p.json" || true
                stalled "$out/$n-phase$p.json" && [ "$try" -eq 1 ] || break
                stalls=$((stalls + 1))
                echo "[lab] regress-replicated: $n, phase $p: the consumer stalled (decided 0): once more"
            done
        done
    done
    bash "$LAB_ROOT/scripts/regress.sh" --expectations "$conf" --scenarios "$partition_list" \
        --summaries "$out" --junit "$LAB_ROOT/results/regress-replicated-partitions-junit.xml" || status=1
fi
if [ -n "$sync_list" ]; then
    LAB_PG_SYNC=on cluster sync
    bash "$LAB_ROOT/scripts/regress.sh" --expectations "$conf" --scenarios "$sync_list" \
        --out "$out" --junit "$LAB_ROOT/results/regress-replicated-junit.xml" >"$out/sync.log" 2>&1 || true
    cat "$out/sync.log"
    for n in ${sync_list//,/ }; do
        for p in $(scenario_phases "$n"); do
            stalled "$out/$n-phase$p.json" || continue
            stalls=$((stalls + 1))
            echo "[lab] regress-replicated: $n, phase $p: the consumer stalled (decided 0): once more"
            bash "$LAB_ROOT/scripts/regress.sh" --expectations "$conf" --scenarios "$n" --phases "$p" \
                --out "$out" --junit "$LAB_ROOT/results/regress-replicated-again-junit.xml" || true
        done
    done
    # the verdict: every summary as it stands after the runs made again
    bash "$LAB_ROOT/scripts/regress.sh" --expectations "$conf" --scenarios "$sync_list" \
        --summaries "$out" --junit "$LAB_ROOT/results/regress-replicated-junit.xml" || status=1
fi
if [ -n "$async_list" ]; then
    LAB_PG_SYNC=off cluster sync
    LAB_PG_SYNC=off bash "$LAB_ROOT/scripts/regress.sh" --expectations "$conf" --scenarios "$async_list" \
        --out "$out" --junit "$LAB_ROOT/results/regress-replicated-async-junit.xml" || status=1
    for n in ${async_list//,/ }; do   # the loss is reported, not bounded: say it
        for f in "$out/$n"-phase*.json; do
            if [ -s "$f" ]; then
                echo "[lab] regress-replicated: ${f##*/}: $(jq -r '"\(.check_false_confirmations) bookings answered 201 lost with the asynchronous standby"' "$f")"
            fi
        done
    done
fi
cluster down
echo "regress-replicated: $((SECONDS - started)) s, the topology's start and stop included;" \
    "$stalls consumer stall(s) made again"
exit "$status"
