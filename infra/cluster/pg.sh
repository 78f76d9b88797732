# cluster/pg.sh -- sourced by infra/cluster.sh: the replicated topology's pg.
# (to be written)

pg_cluster_up() { die "pg: the replicated topology is not written yet"; }
pg_cluster_down() { say "pg not running"; }
pg_cluster_status() { :; }
pg_cluster_pid() { return 1; }
pg_cluster_fault() { die "pg: no cluster fault yet"; }
pg_cluster_sync() { die "pg: no sync yet"; }
