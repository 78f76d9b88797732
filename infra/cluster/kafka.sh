# shellcheck shell=bash
# cluster/kafka.sh -- sourced by infra/cluster.sh: the replicated topology's
# Kafka, three KRaft nodes on loopback, each a broker and a controller (a
# three-voter quorum: one node may die and the cluster still has a
# majority). Topics get replication factor 3 and min.insync.replicas=2, so
# a message acknowledged with acks=all is on two nodes at least; unclean
# leader election is off, so a replica that missed messages never becomes
# the leader while an in-sync one lives.
#
# Node i (1..3), from the base port K (common.sh, "The topology's ports"):
# clients on K+2(i-1), its controller on K+2(i-1)+1, a third listener named
# PROXIED on K+10+(i-1), advertised as K+20+(i-1) (where the lab's proxy
# listens when a partition fault is asked for). Data, configuration and
# log under .lab/cluster/kafkaI, .lab/log/cluster/kafkaI, pid in
# .lab/run/cluster/kafkaI.pid.
#
# Follower lag (LAB_KAFKA_REPLICA_WAIT_MS, default 100; 0 = Kafka's
# defaults): on an idle loopback a follower fetches a message about 1 ms
# after its leader stored it, so acks=1 would almost never lose one when the
# leader dies. A loaded cluster's followers are further behind: here they
# fetch in batches, waiting up to that many milliseconds for 1 MB
# (replica.fetch.wait.max.ms, replica.fetch.min.bytes), as a busy follower
# would, so a follower is 0 to that many milliseconds behind. acks=all
# waits for the followers: docs/cluster.md has what that costs.

KAFKA_NODES=(1 2 3)
KAFKA_NODE_HEAP=(-Xms128m -Xmx384m)   # three JVMs: the topology stays under 4 GB
: "${LAB_KAFKA_REPLICA_WAIT_MS:=100}"
# A broker that stops heartbeating is fenced (its partitions get new
# leaders) after this long: Kafka's 9 s would make every kill-broker an
# outage of 9 s before anything happens; 4 s keeps the lesson in a short run.
KAFKA_SESSION_MS=4000
KAFKA_HEARTBEAT_MS=1000
# The topic and key whose partition kill-broker aims at: the nemesis's run
# topic (scripts/nemesis.sh exports LAB_FAULT_TOPIC), else the service's
# default topic; the key is the event id (the lab's default event 1), as the
# service keys its messages.
: "${LAB_FAULT_TOPIC:=booking-requests}"
: "${LAB_FAULT_KEY:=1}"

# kafka_node_port I / kafka_node_ctl I / kafka_node_proxied I /
# kafka_node_advertised I print node I's ports of the layout.
kafka_node_port() { echo $((CLUSTER_KAFKA_PORT + 2 * ($1 - 1))); }
kafka_node_ctl() { echo $((CLUSTER_KAFKA_PORT + 2 * ($1 - 1) + 1)); }
kafka_node_proxied() { echo $((CLUSTER_KAFKA_PORT + 10 + $1 - 1)); }
kafka_node_advertised() { echo $((CLUSTER_KAFKA_PORT + LAB_PROXY_OFFSET + $1 - 1)); }

# kafka_node_dir I / kafka_node_props I / kafka_node_log I / kafka_node_pidfile I:
# node I's folder, its server.properties (also the pattern that tells its
# JVM from any other: pid_of), its log and its pid file.
kafka_node_dir() { echo "$CLUSTER_DIR/kafka$1"; }
kafka_node_props() { echo "$CLUSTER_DIR/kafka$1/server.properties"; }
kafka_node_log() { echo "$CLUSTER_LOGS/kafka$1/kafka.log"; }
kafka_node_pidfile() { echo "$CLUSTER_PIDS/kafka$1.pid"; }

# kafka_node_pid I prints node I's JVM pid when it runs (and is ours).
kafka_node_pid() {
    pid_of "$(kafka_node_pidfile "$1")" "$(kafka_node_props "$1")"
}

# kafka_cluster_bootstrap prints the three nodes' client addresses: what
# the lab's tools ask for metadata (never a single-form LAB_KAFKA that an
# environment may still hold).
kafka_cluster_bootstrap() {
    local i list=''
    for i in "${KAFKA_NODES[@]}"; do list+=${list:+,}$LAB_CLUSTER_HOST:$(kafka_node_port "$i"); done
    echo "$list"
}

# kafka_node_config I prints node I's server.properties.
kafka_node_config() {
    local i=$1 h=$LAB_CLUSTER_HOST voters='' j
    for j in "${KAFKA_NODES[@]}"; do voters+=${voters:+,}$j@$h:$(kafka_node_ctl "$j"); done
    cat <<EOF
# written by infra/cluster.sh at every start: edit infra/cluster/kafka.sh, not this
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://$h:$(kafka_node_port "$i"),CONTROLLER://$h:$(kafka_node_ctl "$i"),PROXIED://$h:$(kafka_node_proxied "$i")
advertised.listeners=PLAINTEXT://$h:$(kafka_node_port "$i"),PROXIED://$h:$(kafka_node_advertised "$i")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT
log.dirs=$(kafka_node_dir "$i")/data
num.partitions=1
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
unclean.leader.election.enable=false
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=$KAFKA_SESSION_MS
broker.heartbeat.interval.ms=$KAFKA_HEARTBEAT_MS
EOF
    if [ "$LAB_KAFKA_REPLICA_WAIT_MS" -gt 0 ]; then
        echo "replica.fetch.wait.max.ms=$LAB_KAFKA_REPLICA_WAIT_MS"
        echo "replica.fetch.min.bytes=1048576"
    fi
}

# kafka_node_opts I sets KAFKA_NODE_OPTS: the lab's JVM options with node
# I's own kafka.logs.dir (the lab's KAFKA_OPTS name the single broker's).
KAFKA_NODE_OPTS=()
kafka_node_opts() {
    local o
    KAFKA_NODE_OPTS=()
    for o in "${KAFKA_OPTS[@]}"; do [[ $o == -Dkafka.logs.dir=* ]] || KAFKA_NODE_OPTS+=("$o"); done
    KAFKA_NODE_OPTS+=(-Dkafka.logs.dir="$CLUSTER_LOGS/kafka$1")
}

# kafka_node_java I ARGS... runs java with node I's options (a tool:
# StorageTool).
kafka_node_java() {
    kafka_node_opts "$1"
    shift
    java "${KAFKA_NODE_OPTS[@]}" -cp "$KAFKA_CP" "$@"
}

# kafka_cluster_check_ports dies when a port of the layout answers and is
# not one of this topology's running nodes (the single broker of
# services.sh on the same base port, another checkout's servers): starting
# beside it would give a cluster that is not what the lab thinks it is.
kafka_cluster_check_ports() {
    local i p
    for i in "${KAFKA_NODES[@]}"; do
        ! kafka_node_pid "$i" >/dev/null || continue
        for p in $(kafka_node_port "$i") $(kafka_node_ctl "$i") $(kafka_node_proxied "$i"); do
            ! port_open "$LAB_CLUSTER_HOST" "$p" ||
                die "kafka$i: port $p answers and is not this topology's node (a single broker of infra/services.sh? bash infra/services.sh down kafka)"
        done
    done
}

# kafka_cluster_format gives every node without storage its storage, all
# with one cluster id (kept in .lab/cluster/kafka.cluster-id): three
# storages of different ids would never form one quorum. In parallel.
kafka_cluster_format() {
    local idfile=$CLUSTER_DIR/kafka.cluster-id id i jobs=()
    [ -s "$idfile" ] || kafka_node_java 1 kafka.tools.StorageTool random-uuid >"$idfile"
    id=$(head -n 1 "$idfile")
    for i in "${KAFKA_NODES[@]}"; do
        [ ! -f "$(kafka_node_dir "$i")/data/meta.properties" ] || continue
        say "kafka$i: formatting its storage (cluster id $id)"
        kafka_node_java "$i" kafka.tools.StorageTool format -t "$id" -c "$(kafka_node_props "$i")" \
            >"$CLUSTER_LOGS/kafka$i/format.log" 2>&1 &
        jobs+=($!)
    done
    for i in "${jobs[@]}"; do
        wait "$i" || die "formatting a kafka node's storage failed: $(tail -n 5 "$CLUSTER_LOGS"/kafka*/format.log)"
    done
}

# kafka_node_start I starts node I's JVM unless it runs already, and sets
# KAFKA_NODE_FROM to the byte offset of its log from which its "started"
# line counts (-1: it was running already).
KAFKA_NODE_FROM=0
kafka_node_start() {
    local i=$1 log
    log=$(kafka_node_log "$i")
    KAFKA_NODE_FROM=0
    [ ! -f "$log" ] || KAFKA_NODE_FROM=$(stat -c %s "$log")
    if kafka_node_pid "$i" >/dev/null; then
        KAFKA_NODE_FROM=-1
        return
    fi
    kafka_node_opts "$i"
    nohup java "${KAFKA_NODE_HEAP[@]}" "${KAFKA_NODE_OPTS[@]}" -cp "$KAFKA_CP" \
        kafka.Kafka "$(kafka_node_props "$i")" >"$CLUSTER_LOGS/kafka$i/kafka.out" 2>&1 </dev/null &
    echo $! >"$(kafka_node_pidfile "$i")"
}

# kafka_node_wait I OFFSET SECONDS waits until node I answers and logged
# that it started after byte OFFSET of its log (-1: it was running before:
# only its port is waited for); fails with its log's tail when it died or
# SECONDS passed.
kafka_node_wait() {
    local i=$1 offset=$2 deadline=$((SECONDS + $3)) pid
    pid=$(head -n 1 "$(kafka_node_pidfile "$i")")
    until port_open "$LAB_CLUSTER_HOST" "$(kafka_node_port "$i")" &&
        { [ "$offset" -lt 0 ] || kafka_started "$(kafka_node_log "$i")" "$offset"; }; do
        if ! kill -0 "$pid" 2>/dev/null; then
            LAB_LOGS=$CLUSTER_LOGS/kafka$i log_tail kafka
            die "kafka$i (pid $pid) exited while starting"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            LAB_LOGS=$CLUSTER_LOGS/kafka$i log_tail kafka
            die "kafka$i did not log that it started within $3 s"
        fi
        sleep 0.2
    done
}

# kafka_replica_wait settles LAB_KAFKA_REPLICA_WAIT_MS: while a node runs,
# the value the nodes were started with (kept in .lab/cluster/
# kafka.replica-wait-ms), so that a node healed after a fault fetches as
# its peers do; a new value takes effect after down and up.
kafka_replica_wait() {
    local f=$CLUSTER_DIR/kafka.replica-wait-ms i
    for i in "${KAFKA_NODES[@]}"; do
        if kafka_node_pid "$i" >/dev/null && [ -s "$f" ]; then
            LAB_KAFKA_REPLICA_WAIT_MS=$(head -n 1 "$f")
            return
        fi
    done
    echo "$LAB_KAFKA_REPLICA_WAIT_MS" >"$f"
}

# kafka_cluster_up writes each node's configuration, formats the storages
# once, starts the JVMs that are not running, in parallel (a node waits
# for a majority of the voters before it logs that it started), and waits
# for each. Nodes already up are left alone.
kafka_cluster_up() {
    local i started=$SECONDS offsets=()
    compgen -G "$KAFKA_JARS/kafka_2.13-*.jar" >/dev/null || die "Kafka's jars are missing: run infra/install.sh"
    command -v java >/dev/null || die "no java on PATH: run infra/install.sh"
    [[ $LAB_KAFKA_REPLICA_WAIT_MS =~ ^[0-9]+$ ]] && [ "$LAB_KAFKA_REPLICA_WAIT_MS" -le 10000 ] ||
        die "LAB_KAFKA_REPLICA_WAIT_MS is a number of milliseconds, 0..10000, not '$LAB_KAFKA_REPLICA_WAIT_MS'"
    kafka_cluster_check_ports
    mkdir -p "$CLUSTER_DIR"
    kafka_replica_wait
    for i in "${KAFKA_NODES[@]}"; do
        mkdir -p "$(kafka_node_dir "$i")/data" "$CLUSTER_LOGS/kafka$i" "$CLUSTER_PIDS"
        kafka_node_config "$i" >"$(kafka_node_props "$i")"
    done
    kafka_cluster_format
    for i in "${KAFKA_NODES[@]}"; do
        kafka_node_start "$i"
        offsets[i]=$KAFKA_NODE_FROM
        if [ "${offsets[i]}" -lt 0 ]; then
            say "kafka$i already running"
        else
            say "starting kafka$i on $LAB_CLUSTER_HOST:$(kafka_node_port "$i") (controller :$(kafka_node_ctl "$i"))"
        fi
    done
    for i in "${KAFKA_NODES[@]}"; do kafka_node_wait "$i" "${offsets[i]}" 120; done
    say "kafka: 3 nodes up in $((SECONDS - started)) s (follower fetch wait ${LAB_KAFKA_REPLICA_WAIT_MS} ms)"
}

# kafka_cluster_down stops every node its pid files name: SIGTERM to all
# three at once (a clean shutdown each), up to 30 s, then SIGKILL.
kafka_cluster_down() {
    local i pid pids=() any=0
    for i in "${KAFKA_NODES[@]}"; do
        if pid=$(kafka_node_pid "$i"); then
            kill -TERM "$pid" 2>/dev/null || true
            pids[i]=$pid
            any=1
        fi
    done
    for i in "${!pids[@]}"; do
        if ! kafka_wait_dead "${pids[i]}" 30; then
            say "kafka$i (pid ${pids[i]}) still there 30 s after SIGTERM: SIGKILL"
            kill -9 "${pids[i]}" 2>/dev/null || true
            kafka_wait_dead "${pids[i]}" 10 || die "kafka$i (pid ${pids[i]}) survives SIGKILL"
        fi
    done
    for i in "${KAFKA_NODES[@]}"; do rm -f "$(kafka_node_pidfile "$i")"; done
    if [ "$any" -eq 1 ]; then say "kafka: 3 nodes stopped"; else say "kafka not running"; fi
}

# kafka_cluster_controller prints the node id of the active controller,
# the KRaft quorum's leader: the leader named, with the highest epoch, in
# the quorum-state files of the running nodes (each voter writes there the
# leader it follows, at every election), when that node runs. Fails when
# there is none (an election under way, every node down).
kafka_cluster_controller() {
    local i f epoch leader best_epoch=-1 best=''
    for i in "${KAFKA_NODES[@]}"; do
        kafka_node_pid "$i" >/dev/null || continue
        f=$(kafka_node_dir "$i")/data/__cluster_metadata-0/quorum-state
        [ -r "$f" ] || continue
        leader=$(sed -n 's/.*"leaderId":\(-\{0,1\}[0-9]*\).*/\1/p' "$f")
        epoch=$(sed -n 's/.*"leaderEpoch":\([0-9]*\).*/\1/p' "$f")
        [ -n "$leader" ] && [ -n "$epoch" ] || continue
        if [ "$epoch" -gt "$best_epoch" ]; then best_epoch=$epoch best=$leader; fi
    done
    [ -n "$best" ] && [ "$best" -gt 0 ] && kafka_node_pid "$best" >/dev/null || return 1
    echo "$best"
}

# kafka_cluster_status prints one line per node: controller for the
# active controller, voter for the other two.
kafka_cluster_status() {
    local i ctl role
    ctl=$(kafka_cluster_controller) || ctl=
    for i in "${KAFKA_NODES[@]}"; do
        role=voter
        [ "$i" != "$ctl" ] || role=controller
        node_line "kafka$i" "$LAB_CLUSTER_HOST:$(kafka_node_port "$i")" "$role" \
            "$(kafka_node_pidfile "$i")" "$(kafka_node_props "$i")"
    done
}

# kafka_cluster_pid prints the active controller's JVM pid.
kafka_cluster_pid() {
    local ctl
    ctl=$(kafka_cluster_controller) || die "kafka: no active controller among the running nodes"
    kafka_node_pid "$ctl"
}

# kafka_leader ARGS... runs build/kafka-leader against the three nodes,
# bounded: librdkafka waits on a dead leader longer than it was told to.
kafka_leader() {
    local tool=$LAB_ROOT/build/kafka-leader
    [ -x "$tool" ] || die "$tool is missing: run make"
    timeout 15 "$tool" --brokers "$(kafka_cluster_bootstrap)" "$@"
}

# kafka_node_kill I: kill -9 node I's JVM and check that it is gone.
kafka_node_kill() {
    local pid
    pid=$(kafka_node_pid "$1") || die "kafka$1 is not running"
    kill -9 "$pid"
    kafka_wait_dead "$pid" 10 || die "kafka$1 (pid $pid) still there 10 s after kill -9"
}

# kafka_wait_dead PID SECONDS waits until PID has exited, or is a zombie
# whose threads have all exited (its sockets closed: the JVM's main thread
# turns zombie while the others are still tearing down; a zombie waits for
# whichever process adopted it to reap it, and kill -0 still answers for
# it), at most SECONDS.
kafka_wait_dead() {
    local deadline=$((SECONDS + $2)) state threads
    while state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null); do
        if [ "$state" = Z ]; then
            threads=$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
            [ "$threads" -gt 1 ] || return 0
        fi
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# kafka_cluster_in_sync SECONDS waits until every partition of
# LAB_FAULT_TOPIC has all its replicas in sync again (a healed node has
# caught up), at most SECONDS: three answers in a row, as each may come from
# another node's metadata, which follows the controller's a little later.
# A topic that does not exist has nothing to wait for.
kafka_cluster_in_sync() {
    local deadline=$((SECONDS + $1)) out agreed=0
    while [ "$agreed" -lt 3 ]; do
        if out=$(kafka_leader --topic "$LAB_FAULT_TOPIC" --describe 2>&1); then
            if awk '{ n = split($6, r, ","); m = split($8, s, ","); if (n != m) bad = 1 } END { exit bad }' <<<"$out"; then
                agreed=$((agreed + 1))
                continue
            fi
        elif [[ $out == *"no topic"* ]]; then
            return 0
        fi
        agreed=0
        [ "$SECONDS" -lt "$deadline" ] || { echo "$out" >&2; return 1; }
        sleep 0.5
    done
}

# kafka_log_grows NODE PARTITION_DIR waits until node NODE's log of that
# partition (its newest segment) grows, at most 1 s: the moment the leader
# has just stored a batch that its followers have not fetched yet (they
# fetch every LAB_KAFKA_REPLICA_WAIT_MS at most). kill-broker strikes then:
# the worst moment, which a crash meets sooner or later, met at once. With
# acks=1 that batch was acknowledged and is lost with the leader; with
# acks=all it was not acknowledged yet, and the producer sends it again.
kafka_log_grows() {
    local dir seg size0 size n
    dir=$(kafka_node_dir "$1")/data/$2
    seg=$(find "$dir" -maxdepth 1 -name '*.log' 2>/dev/null | sort | tail -n 1)
    [ -n "$seg" ] || return 0
    size0=$(stat -c %s "$seg" 2>/dev/null) || return 0
    for ((n = 0; n < 500; n++)); do
        size=$(stat -c %s "$seg" 2>/dev/null) || return 0
        [ "$size" -eq "$size0" ] || return 0
        sleep 0.002
    done
}

# kafka_failed_over NODE succeeds when the cluster has replaced the dead
# NODE: another node is the active controller, and no partition of
# LAB_FAULT_TOPIC names NODE as its leader any more (the controller fenced
# it, its session over: KAFKA_SESSION_MS).
kafka_failed_over() {
    local ctl out
    ctl=$(kafka_cluster_controller) && [ "$ctl" != "$1" ] || return 1
    if out=$(kafka_leader --topic "$LAB_FAULT_TOPIC" --describe --timeout-ms 2000 2>&1); then
        awk -v n="$1" '$4 == n || $4 < 0 { bad = 1 } END { exit bad }' <<<"$out"
    else
        [[ $out == *"no topic"* ]]
    fi
}

# kafka_cluster_fault break|heal KIND: kill-broker kills -9 the leader of
# the partition that LAB_FAULT_TOPIC's key LAB_FAULT_KEY goes to (the
# cluster's metadata, build/kafka-leader), just after it stored a batch
# (kafka_log_grows); kill-controller kills -9 the
# active controller; the node's id is kept in .lab/run/cluster/kafka.killed.
# heal first waits (30 s at most) until the cluster failed over, its
# partitions led by the others: a node back within its session would find
# its partitions still its own, and nothing a leader acknowledged alone
# would be lost (a crash and a quick restart, a fault of its own). Then it
# starts the node that is down (up: the others are left alone) and waits
# until it is back in every partition's in-sync replicas.
kafka_cluster_fault() {
    local action=$1 kind=$2 node which t0=$SECONDS killed=$CLUSTER_PIDS/kafka.killed
    case $action:$kind in
    break:kill-broker)
        which=$(kafka_leader --topic "$LAB_FAULT_TOPIC" --key "$LAB_FAULT_KEY" --which) &&
            [[ $which =~ ^partition\ ([0-9]+)\ leader\ ([1-3])$ ]] ||
            die "kill-broker: no leader for key $LAB_FAULT_KEY of topic $LAB_FAULT_TOPIC"
        node=${BASH_REMATCH[2]}
        kafka_log_grows "$node" "$LAB_FAULT_TOPIC-${BASH_REMATCH[1]}"
        kafka_node_kill "$node"
        echo "$node" >"$killed"
        say "fault: kafka$node, leader of $LAB_FAULT_TOPIC's partition of key $LAB_FAULT_KEY, killed (kill -9)"
        ;;
    break:kill-controller)
        node=$(kafka_cluster_controller) || die "kill-controller: no active controller"
        kafka_node_kill "$node"
        echo "$node" >"$killed"
        say "fault: kafka$node, the active controller, killed (kill -9)"
        ;;
    heal:kill-broker | heal:kill-controller)
        if node=$(head -n 1 "$killed" 2>/dev/null) && [[ $node =~ ^[1-3]$ ]] &&
            ! kafka_node_pid "$node" >/dev/null; then
            while ! kafka_failed_over "$node"; do
                [ $((SECONDS - t0)) -lt 30 ] || { say "fault: kafka$node not replaced 30 s after its death: starting it anyway"; break; }
                sleep 0.2
            done
            say "fault: the cluster failed over from kafka$node ($((SECONDS - t0)) s into heal): starting it again"
        fi
        rm -f "$killed"
        kafka_cluster_up >/dev/null
        kafka_cluster_in_sync 60 || die "$kind: the restarted node is not in sync 60 s later"
        say "fault: kafka nodes all up and in sync again ($((SECONDS - t0)) s)"
        ;;
    *) die "kafka: unknown fault $action $kind" ;;
    esac
}
