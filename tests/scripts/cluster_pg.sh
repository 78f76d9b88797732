# cluster_pg.sh -- sourced by tests/scripts/test_replicated.sh (its fail,
# run, cluster, root, LAB_PG of topology.env): one failover of the
# PostgreSQL pair through infra/fault.sh, checked from the outside, as the
# lab's programs see it (the multi-host LAB_PG with
# target_session_attrs=read-write) and as the nodes say.

# cluster_pg_node ROLE prints the node of that role that is up (status).
cluster_pg_node() {
    cluster status pg | awk -v r="$1" '$3 == "up" && $4 == r { print $1 }'
}

# cluster_pg_addr NODE prints NODE's address:port from status.
cluster_pg_addr() {
    cluster status pg | awk -v n="$1" '$1 == n { print $2 }'
}

# cluster_pg_sql URL SQL runs SQL at URL, the answer unaligned in $out.
cluster_pg_sql() {
    run psql -X -q -w -At -v ON_ERROR_STOP=1 "$1" -c "$2"
}

# cluster_pg_procs NODE counts the processes whose command line names
# NODE's data folder (its postmaster): 0 once the node is gone.
cluster_pg_procs() {
    pgrep -c -f -- "$LAB_RUN_DIR/cluster/$1/data" || true
}

# cluster_test_pg: a row written on the primary; failover-postgres break:
# the old primary gone (port closed, no process left), the standby now the
# primary, reached through LAB_PG, with the row (LAB_PG_SYNC=on), taking
# writes; heal: the old primary back as a standby of the new one,
# streaming synchronously, read-only, with the rows written meanwhile.
cluster_test_pg() {
    local started=$SECONDS old new old_addr new_addr token deadline super_url user db
    user=${LAB_PG#*://}
    user=${user%%@*}
    db=${LAB_PG##*/}
    db=${db%%\?*}
    old=$(cluster_pg_node primary)
    new=$(cluster_pg_node standby)
    if [ -z "$old" ] || [ -z "$new" ] || [ "$old" = "$new" ]; then
        fail "pg: want one primary and one standby before the failover, got '$old' and '$new'"
        return
    fi
    old_addr=$(cluster_pg_addr "$old")
    new_addr=$(cluster_pg_addr "$new")
    token=t$$-$RANDOM
    cluster_pg_sql "$LAB_PG" "CREATE TABLE IF NOT EXISTS cluster_probe (v text);
                              INSERT INTO cluster_probe VALUES ('before-$token')"
    [ "$status" -eq 0 ] || fail "pg: writing through LAB_PG before the failover: $out"

    # ---- break
    run bash "$root/infra/fault.sh" break failover-postgres
    [ "$status" -eq 0 ] || { fail "pg: failover-postgres break failed: $out"; return; }
    [ "$(cluster_pg_node primary)" = "$new" ] || fail "pg: after break, $new is not the primary"
    ! timeout 2 bash -c 'exec 3<>"/dev/tcp/${0%:*}/${0##*:}"' "$old_addr" 2>/dev/null ||
        fail "pg: after break, the old primary $old still answers on $old_addr"
    [ "$(cluster_pg_procs "$old")" -eq 0 ] || fail "pg: after break, a process of $old is still there: $(pgrep -a -f -- "$LAB_RUN_DIR/cluster/$old/data")"
    cluster_pg_sql "$LAB_PG" "SELECT inet_server_port() || ' ' || count(*) FROM cluster_probe
                              WHERE v = 'before-$token'"
    [ "$status" -eq 0 ] && [ "$out" = "${new_addr##*:} 1" ] ||
        fail "pg: after break, LAB_PG should reach $new with the row written before (got: $out)"
    cluster_pg_sql "$LAB_PG" "INSERT INTO cluster_probe VALUES ('after-$token')"
    [ "$status" -eq 0 ] || fail "pg: the promoted $new does not take writes: $out"

    # ---- heal
    run bash "$root/infra/fault.sh" heal failover-postgres
    [ "$status" -eq 0 ] || { fail "pg: failover-postgres heal failed: $out"; return; }
    [ "$(cluster_pg_node primary)" = "$new" ] && [ "$(cluster_pg_node standby)" = "$old" ] ||
        fail "pg: after heal, want $new primary and $old standby: $(cluster status pg)"
    [ "$(cluster pid pg)" = "$(cluster status pg | awk -v n="$new" '$1 == n { print $6 }')" ] ||
        fail "pg: cluster.sh pid pg is not the new primary's postmaster"
    super_url="postgresql://postgres@$new_addr/postgres"
    cluster_pg_sql "$super_url" "SELECT state || ' ' || sync_state FROM pg_stat_replication
                                 WHERE application_name = '$old'"
    [ "$out" = "streaming sync" ] || fail "pg: after heal, $old is not a synchronous standby of $new: '$out'"
    # the standby has what the new primary took during the fault
    deadline=$((SECONDS + 10))
    until cluster_pg_sql "postgresql://$user@$old_addr/$db" \
            "SELECT count(*) FROM cluster_probe WHERE v IN ('before-$token', 'after-$token')" &&
          [ "$out" = 2 ]; do
        [ "$SECONDS" -lt "$deadline" ] || { fail "pg: the rebuilt standby $old lacks the rows (got '$out')"; break; }
        sleep 0.1
    done
    cluster_pg_sql "postgresql://$user@$old_addr/$db" "INSERT INTO cluster_probe VALUES ('x')"
    [ "$status" -ne 0 ] || fail "pg: the old primary $old took a write after heal: it must be a standby"
    echo "pg: failover $old -> $new and back as standby in $((SECONDS - started)) s"
}
