# cluster/redis.sh -- sourced by infra/cluster.sh: the replicated topology's redis.
# (to be written)

redis_cluster_up() { die "redis: the replicated topology is not written yet"; }
redis_cluster_down() { say "redis not running"; }
redis_cluster_status() { :; }
redis_cluster_pid() { return 1; }
redis_cluster_fault() { die "redis: no cluster fault yet"; }
