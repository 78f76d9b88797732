# cluster_kafka.sh -- sourced by tests/scripts/test_replicated.sh while
# the replicated topology runs: one kill-broker and one kill-controller,
# through infra/fault.sh as the nemesis breaks and heals them.
#
# A topic created by the brokers' defaults has 3 replicas; messages stored
# with acks=all before the leader of their partition is killed are still
# there after; a new leader is elected and takes a message with acks=all
# (two in-sync replicas left: min.insync.replicas=2); heal brings the node
# back into the in-sync replicas; killing the active controller makes
# another node the controller; heal brings the third voter back. Every
# wait polls a condition, bounded.
# shellcheck disable=SC2154 # root, status, out, kafka_base, fail, run: test_replicated.sh's

# kt ARGS... runs build/kafka-leader against the topology's bootstrap list.
# Bounded: librdkafka may wait on a dead leader longer than it was told to.
kt() { timeout 20 "$root/build/kafka-leader" --brokers "$LAB_KAFKA" "$@"; }

# kafka_controller_now prints the node that `cluster.sh status` calls the
# controller (fails when none is).
kafka_controller_now() {
    bash "$root/infra/cluster.sh" status kafka | awk '$1 ~ /^kafka/ && $4 == "controller" { print substr($1, 6); f = 1 } END { exit !f }'
}

# kafka_wait_for SECONDS CMD... runs CMD until it succeeds, at most SECONDS.
kafka_wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# kafka_new_leader OLD succeeds when key 1's partition has a leader other than OLD.
kafka_new_leader() {
    local l
    l=$(kt --topic "$LAB_FAULT_TOPIC" --key 1 --timeout-ms 2000 2>/dev/null) && [ "$l" != "$1" ]
}

# kafka_new_controller OLD succeeds when a node other than OLD is the controller.
kafka_new_controller() {
    local c
    c=$(kafka_controller_now) && [ "$c" != "$1" ]
}

# kafka_all_in_sync succeeds when every partition of the test's topic has
# its 3 replicas in sync (the metadata of whichever node answers: heal
# waited for three agreeing answers; another node's may still follow).
kafka_all_in_sync() {
    kt --topic "$LAB_FAULT_TOPIC" --describe 2>/dev/null |
        awk '{ m = split($8, s, ","); if (m != 3) bad = 1 } END { exit bad || NR == 0 }'
}

cluster_test_kafka() {
    local t0=$SECONDS n leader new ctl desc hw
    export LAB_FAULT_TOPIC=lab-cluster-test LAB_FAULT_KEY=1
    [ -x "$root/build/kafka-leader" ] || { fail "build/kafka-leader missing: make"; return; }

    # five messages stored with acks=all on a topic of the brokers' defaults
    for n in 1 2 3 4 5; do
        kt --topic "$LAB_FAULT_TOPIC" --key 1 --produce "before-$n" >/dev/null ||
            fail "kafka: message before-$n not stored with acks=all on a healthy cluster"
    done
    desc=$(kt --topic "$LAB_FAULT_TOPIC" --describe) || fail "kafka: cannot describe $LAB_FAULT_TOPIC"
    awk '{ n = split($6, r, ","); m = split($8, s, ","); if (n != 3 || m != 3) bad = 1 } END { exit bad || NR == 0 }' \
        <<<"$desc" || fail "kafka: want 3 replicas all in sync (default.replication.factor=3): $desc"
    leader=$(kt --topic "$LAB_FAULT_TOPIC" --key 1) || { fail "kafka: no leader for key 1"; return; }

    # kill-broker: the leader goes, another in-sync replica takes over
    run bash "$root/infra/fault.sh" break kill-broker
    [ "$status" -eq 0 ] || { fail "kafka: fault.sh break kill-broker failed: $out"; return; }
    [[ $out == *"kafka$leader, leader of $LAB_FAULT_TOPIC"* ]] ||
        fail "kafka: kill-broker did not kill the leader kafka$leader: $out"
    ! port_open_test "$leader" || fail "kafka: kafka$leader still answers after kill-broker"
    kafka_wait_for 30 kafka_new_leader "$leader" ||
        fail "kafka: no new leader for key 1 within 30 s of killing kafka$leader"
    new=$(kt --topic "$LAB_FAULT_TOPIC" --key 1 2>/dev/null) || new=
    kt --topic "$LAB_FAULT_TOPIC" --key 1 --produce during --timeout-ms 15000 >/dev/null ||
        fail "kafka: with kafka$leader down, the new leader ($new) refused a message with acks=all"
    hw=$(kt --topic "$LAB_FAULT_TOPIC" --describe --watermarks | awk '{ s += $10 } END { print s + 0 }')
    [ "$hw" -eq 6 ] || fail "kafka: $hw messages after the leader's death, want the 5 before and 1 during"

    run bash "$root/infra/fault.sh" heal kill-broker
    [ "$status" -eq 0 ] || fail "kafka: fault.sh heal kill-broker failed: $out"
    kafka_wait_for 15 kafka_all_in_sync ||
        fail "kafka: after heal, want kafka$leader back in the ISR (3 in sync): $(kt --topic "$LAB_FAULT_TOPIC" --describe 2>&1)"

    # kill-controller: another voter becomes the active controller
    ctl=$(kafka_controller_now) || { fail "kafka: no active controller before kill-controller"; return; }
    run bash "$root/infra/fault.sh" break kill-controller
    [ "$status" -eq 0 ] || { fail "kafka: fault.sh break kill-controller failed: $out"; return; }
    kafka_wait_for 30 kafka_new_controller "$ctl" ||
        fail "kafka: no other node became the controller within 30 s of killing kafka$ctl"
    run bash "$root/infra/fault.sh" heal kill-controller
    [ "$status" -eq 0 ] || fail "kafka: fault.sh heal kill-controller failed: $out"
    run bash "$root/infra/cluster.sh" status kafka
    [ "$(awk '$3 == "up" && $4 == "voter"' <<<"$out" | wc -l)" -eq 2 ] &&
        [ "$(awk '$3 == "up" && $4 == "controller"' <<<"$out" | wc -l)" -eq 1 ] ||
        fail "kafka: after heal, want 3 nodes up, one controller: $out"
    hw=$(kt --topic "$LAB_FAULT_TOPIC" --describe --watermarks | awk '{ s += $10 } END { print s + 0 }')
    [ "$hw" -eq 6 ] || fail "kafka: $hw messages after both faults, want 6"
    echo "kafka: kill-broker (kafka$leader, then $new led) and kill-controller (kafka$ctl) in $((SECONDS - t0)) s"
    [ $((SECONDS - t0)) -lt 60 ] || fail "kafka: the failover test took $((SECONDS - t0)) s, want < 60"
}

# port_open_test I succeeds when node I's client port answers.
port_open_test() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$((kafka_base + 2 * ($1 - 1)))" 2>/dev/null
}
