# cluster/kafka.sh -- sourced by infra/cluster.sh: the replicated topology's kafka.
# (to be written)

kafka_cluster_up() { die "kafka: the replicated topology is not written yet"; }
kafka_cluster_down() { say "kafka not running"; }
kafka_cluster_status() { :; }
kafka_cluster_pid() { return 1; }
kafka_cluster_fault() { die "kafka: no cluster fault yet"; }
