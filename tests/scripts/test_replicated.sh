#!/usr/bin/env bash
# test_replicated.sh -- the replicated topology starts, shows every node and
# its role, stays under 4 GB of memory, survives one failover per service
# (tests/scripts/cluster_SERVICE.sh: the failover of each, with its checks),
# and stops, leaving nothing that answers.
#
# It runs beside the lab's single servers: a state folder of its own
# (LAB_RUN_DIR, a scratch folder) and base ports of its own, LAB_PG's,
# LAB_REDIS's and LAB_KAFKA's plus 70 (or LAB_TEST_CLUSTER_PG_PORT,
# _REDIS_PORT, _KAFKA_PORT). LAB_CLUSTER_TEST_ONLY="pg redis" starts and
# tests only those services.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib.sh
root=$PWD
(
    unset LAB_RUN_DIR LAB_TOPOLOGY
    source infra/common.sh
    echo "$PG_PORT $REDIS_PORT $KAFKA_PORT"
) >"$tmp/ports"
read -r pg0 redis0 kafka0 <"$tmp/ports"
pg_base=${LAB_TEST_CLUSTER_PG_PORT:-$((pg0 + 70))}
redis_base=${LAB_TEST_CLUSTER_REDIS_PORT:-$((redis0 + 70))}
kafka_base=${LAB_TEST_CLUSTER_KAFKA_PORT:-$((kafka0 + 70))}
only=${LAB_CLUSTER_TEST_ONLY:-pg redis kafka}

# every port of the layout (common.sh), the proxies' included
ports=()
for s in $only; do
    case $s in
    pg) ports+=("$pg_base" $((pg_base + 1))) ;;
    redis) ports+=($(seq "$redis_base" $((redis_base + 4)))) ;;
    kafka) ports+=($(seq "$kafka_base" $((kafka_base + 5)))) ;;
    *) echo "test_replicated: unknown service '$s' in LAB_CLUSTER_TEST_ONLY" >&2; exit 2 ;;
    esac
done
answering() {
    local p n=0
    for p in "${ports[@]}"; do
        ! timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$p" 2>/dev/null || n=$((n + 1))
    done
    echo "$n"
}
[ "$(answering)" -eq 0 ] || { echo "test_replicated: a port of ${ports[*]} already answers" >&2; exit 1; }

chmod 755 "$tmp"   # the postgres user reaches the clusters' folders in it
export LAB_RUN_DIR=$tmp/lab LAB_TOPOLOGY=replicated LAB_PG_SYNC=on
export LAB_PG=postgresql://lab@127.0.0.1:$pg_base/ticketlab
export LAB_REDIS=127.0.0.1:$redis_base LAB_KAFKA=127.0.0.1:$kafka_base
export PGPASSFILE=$LAB_RUN_DIR/pgpass LAB_REDIS_PASSFILE=$LAB_RUN_DIR/redis.pass
unset PGPASSWORD LAB_REDIS_PASSWORD LAB_REDIS_USER
cluster() { bash "$root/infra/cluster.sh" "$@"; }
cleanup() {
    # shellcheck disable=SC2086 # a list of services
    cluster down $only >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# -------------------------------------------------------------------- up
# shellcheck disable=SC2086
run cluster up $only
[ "$status" -eq 0 ] || { echo "$out" >&2; fail "cluster.sh up failed"; finish test_replicated; }
echo "$out" | tail -n 14
[ -s "$LAB_RUN_DIR/topology.env" ] || fail "up wrote no topology.env"
# from here on the test's own commands reach the topology as the lab does
eval "$(sed -n "s/^\(LAB_[A-Z_]*\)=\(.*\)$/export \1='\2'/p" "$LAB_RUN_DIR/topology.env")"
grep -q "replicated topology up in [0-9]* s; memory (RSS) [0-9]* MB" <<<"$out" ||
    fail "up did not print its time and memory"

# status: every node up, one role each; the memory under 4 GB
# shellcheck disable=SC2086
run cluster status $only
status_out=$out
echo "$status_out"
expect_nodes=0
for s in $only; do
    case $s in pg) expect_nodes=$((expect_nodes + 2)) ;; redis) expect_nodes=$((expect_nodes + 5)) ;;
        kafka) expect_nodes=$((expect_nodes + 3)) ;; esac
done
nodes_up=$(awk '$3 == "up" && $6 ~ /^[0-9]+$/' <<<"$status_out" | wc -l)
[ "$nodes_up" -eq "$expect_nodes" ] || fail "status: $nodes_up nodes up with a pid, want $expect_nodes"
rss_mb=$(sed -n 's/^total memory (RSS): \([0-9]*\) MB$/\1/p' <<<"$status_out")
[ -n "$rss_mb" ] && [ "$rss_mb" -gt 0 ] && [ "$rss_mb" -lt 4096 ] ||
    fail "total memory '$rss_mb' MB, want more than 0 and under 4096"
# role_count ROLE [NODE_PREFIX]: the nodes up in that role (pg's and
# Redis's both have a primary: the prefix tells them apart)
role_count() { awk -v r="$1" -v p="^${2:-}" '$3 == "up" && $4 == r && $1 ~ p' <<<"$status_out" | wc -l; }
for s in $only; do
    case $s in
    pg) [ "$(role_count primary pg)" -eq 1 ] && [ "$(role_count standby pg)" -eq 1 ] ||
            fail "status: want one PostgreSQL primary and one standby" ;;
    redis) [ "$(role_count primary redis)" -ge 1 ] && [ "$(role_count replica)" -eq 1 ] &&
               [ "$(role_count sentinel)" -eq 3 ] || fail "status: want a Redis primary, a replica, 3 Sentinels" ;;
    kafka) [ "$(role_count controller)" -eq 1 ] && [ "$(role_count voter)" -eq 2 ] ||
               fail "status: want one active Kafka controller and two voters" ;;
    esac
done

# ------------------------------------------------------- one failover each
for s in $only; do
    if [ -r "tests/scripts/cluster_$s.sh" ]; then
        # shellcheck source=/dev/null
        source "tests/scripts/cluster_$s.sh"
        "cluster_test_$s"
    fi
done

# ------------------------------------------------------------------- down
# shellcheck disable=SC2086
run cluster down $only
[ "$status" -eq 0 ] || fail "cluster.sh down failed: $out"
[ "$(answering)" -eq 0 ] || fail "after down, $(answering) of the topology's ports still answer"
[ ! -e "$LAB_RUN_DIR/topology.env" ] || [ "$only" != "pg redis kafka" ] ||
    fail "down left topology.env"
left=$(find "$LAB_RUN_DIR/run" -name '*.pid' 2>/dev/null | while read -r f; do
    p=$(head -n 1 "$f"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$f"; done || true)
[ -z "$left" ] || fail "down left processes running: $left"
finish test_replicated
