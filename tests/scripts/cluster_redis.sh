# shellcheck shell=bash
# shellcheck disable=SC2154 # root, redis_base, out, status: test_replicated.sh's
# cluster_redis.sh -- sourced by tests/scripts/test_replicated.sh, which
# has started the replicated Redis (cluster.sh up) in its scratch folder:
# cluster_test_redis runs one failover-redis through infra/fault.sh and
# checks it. A key written to the primary before the kill is on the node
# promoted after it, the Sentinels and ROLE agree on the new primary, the
# killed node comes back as a replica with its link up, and status shows
# the roles swapped. Every wait is a poll with a bound.

# redis_t_cli PORT ARGS... runs redis-cli on a node of the test's topology
# (the password in REDISCLI_AUTH), bounded: a killed node must not hang it.
redis_t_cli() {
    local port=$1
    shift
    REDISCLI_AUTH=$(head -n 1 "$LAB_REDIS_PASSFILE") timeout 3 redis-cli --no-auth-warning \
        -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
}

# redis_t_sentinels_name PORT: every Sentinel names the primary on PORT.
redis_t_sentinels_name() {
    local s
    for s in 2 3 4; do
        [ "$(redis_t_cli $((redis_base + s)) sentinel get-master-addr-by-name ticketlab | sed -n 2p)" = "$1" ] ||
            return 1
    done
}

# redis_t_role NAME: the node's role in `cluster.sh status`.
redis_t_role() {
    bash "$root/infra/cluster.sh" status redis | awk -v n="$1" '$1 == n { print $4 }'
}

cluster_test_redis() {
    local t0=$SECONDS old new old_port new_port key value deadline port_closed
    key="lab:test:failover:$$"
    value="written-before-$RANDOM"

    # the primary before: the one the Sentinels name, redis1 on a fresh start
    old_port=$(redis_t_cli $((redis_base + 2)) sentinel get-master-addr-by-name ticketlab | sed -n 2p)
    [ "$old_port" = "$redis_base" ] || fail "redis: the Sentinels name port '$old_port' as the primary, want redis1 ($redis_base)"
    old=redis1 new=redis2 new_port=$((redis_base + 1))
    [ "$(redis_t_cli "$old_port" set "$key" "$value")" = OK ] || fail "redis: SET on the primary failed"
    # acknowledged by the replica before the kill: the test is about the
    # failover, not about the asynchronous replication's last write
    [ "$(redis_t_cli "$old_port" wait 1 5000)" = 1 ] || fail "redis: the replica did not acknowledge the key"

    # break: the primary killed, the replica promoted
    run bash "$root/infra/fault.sh" break failover-redis
    [ "$status" -eq 0 ] || fail "redis: fault.sh break failover-redis failed: $out"
    echo "$out"
    redis_t_sentinels_name "$new_port" || fail "redis: after break, the Sentinels do not all name $new ($new_port)"
    [ "$(redis_t_cli "$new_port" role | head -n 1)" = master ] || fail "redis: after break, $new is not a master (ROLE)"
    [ "$(redis_t_cli "$new_port" get "$key")" = "$value" ] || fail "redis: the key written before the kill is not on $new"
    [ "$(redis_t_cli "$new_port" set "$key" after)" = OK ] || fail "redis: $new does not take writes"
    port_closed=1
    ! timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$old_port" 2>/dev/null || port_closed=0
    [ "$port_closed" -eq 1 ] || fail "redis: $old still answers after the kill"
    [ "$(redis_t_role "$new")" = primary ] || fail "redis: status does not show $new as the primary"
    # the lab's own lookup finds the new primary (cluster.sh pid: the primary's pid)
    [ "$(bash "$root/infra/cluster.sh" pid redis)" = "$(head -n 1 "$LAB_RUN_DIR/run/cluster/$new.pid")" ] ||
        fail "redis: cluster.sh pid redis is not $new's pid"

    # heal: the old node back, as a replica of the new primary, in sync
    run bash "$root/infra/fault.sh" heal failover-redis
    [ "$status" -eq 0 ] || fail "redis: fault.sh heal failover-redis failed: $out"
    echo "$out"
    [ "$(redis_t_cli "$old_port" role | head -n 1)" = slave ] || fail "redis: after heal, $old is not a replica (ROLE)"
    redis_t_cli "$old_port" info replication | tr -d '\r' | grep -qx "master_port:$new_port" ||
        fail "redis: after heal, $old does not replicate $new"
    redis_t_cli "$old_port" info replication | tr -d '\r' | grep -qx 'master_link_status:up' ||
        fail "redis: after heal, $old's link to $new is not up"
    # the write made on the new primary reaches the old node (bounded poll)
    deadline=$((SECONDS + 10))
    until [ "$(redis_t_cli "$old_port" get "$key")" = after ]; do
        [ "$SECONDS" -lt "$deadline" ] || { fail "redis: $old did not receive the new primary's write"; break; }
        sleep 0.1
    done
    redis_t_sentinels_name "$new_port" || fail "redis: after heal, the Sentinels no longer name $new"
    [ "$(redis_t_role "$old")" = replica ] && [ "$(redis_t_role "$new")" = primary ] ||
        fail "redis: status after heal: $old $(redis_t_role "$old"), $new $(redis_t_role "$new"); want replica, primary"
    # nothing stuck: up again finds every node up and changes nothing
    run bash "$root/infra/cluster.sh" up redis
    [ "$status" -eq 0 ] || fail "redis: up after the failover failed: $out"
    [ "$(grep -c 'already up' <<<"$out")" -eq 5 ] || fail "redis: up after the failover started a node: $out"
    [ "$(redis_t_role "$new")" = primary ] || fail "redis: up after the failover moved the primary"
    redis_t_cli "$new_port" del "$key" >/dev/null
    echo "cluster_test_redis: failover and heal checked in $((SECONDS - t0)) s"
}
