/* kafka-leader.c -- which Kafka broker leads the booking partition, from
 * the cluster's own metadata (build/kafka-leader). infra/cluster/kafka.sh
 * asks it whom kill-broker kills, and whether a healed node is back among
 * every partition's in-sync replicas.
 *
 *   kafka-leader [--brokers LIST] [--topic NAME] [--key KEY | --partition N]
 *                [--which | --describe [--watermarks] | --produce VALUE]
 *                [--timeout-ms MS]
 *
 * By default it prints the id of the broker leading the partition that the
 * service's producer sends KEY to (the event id: the service keys each
 * booking by its event; default 1, the lab's default event), found with
 * librdkafka's default partitioner, the one the service's producer uses.
 * --partition N: that partition's leader instead. --which: "partition P
 * leader L", the partition too. --describe: one line per
 * partition, "partition P leader L replicas A,B,C isr A,B,C", and with
 * --watermarks " hw H" (the high watermark, the offset past the last
 * message every in-sync replica has; -1 when the leader does not answer;
 * librdkafka 2.0's query may outwait its timeout while the leader is dead
 * and not yet replaced, so it is asked for only when wanted). --produce VALUE: VALUE sent
 * keyed by KEY with acks=all (the idempotent producer, as the service's
 * default) and waited for: "stored partition P offset O" once every in-sync
 * replica has it (the tests' probe of a cluster that lost a node).
 * Exit 0 with the answer; 1 when the brokers do not answer, the topic does
 * not exist or the partition has no leader (an election under way); 2 on a
 * bad command line. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include "lab.h"
#include "parse.h"

/* The service's default topic (phases/frame/clients/queue.h's
 * QUEUE_TOPIC_DEFAULT): the tools do not see the service's headers. */
#define LEADER_TOPIC_DEFAULT "booking-requests"

struct leader_args {
    const char *brokers;       /* --brokers, default LAB_KAFKA */
    const char *topic;         /* --topic */
    const char *key;           /* --key: the message key whose partition counts */
    long long partition;       /* --partition, -1: from the key */
    bool describe;             /* --describe: every partition */
    bool watermarks;           /* --watermarks: with the high watermark */
    bool which;                /* --which: the partition with its leader */
    const char *produce;       /* --produce: a value to store, or NULL */
    long long timeout_ms;      /* --timeout-ms: how long the metadata may take */
};

/* leader_usage prints the command line to stderr and returns 2, the exit
 * status of a bad one. */
static int leader_usage(void)
{
    fprintf(stderr,
            "usage: kafka-leader [--brokers LIST] [--topic NAME] [--key KEY | --partition N]\n"
            "                    [--which | --describe [--watermarks] | --produce VALUE]\n"
            "                    [--timeout-ms MS]\n"
            "  --brokers LIST   bootstrap brokers (env LAB_KAFKA, default %s)\n"
            "  --topic NAME     the topic (default " LEADER_TOPIC_DEFAULT ")\n"
            "  --key KEY        the leader of the partition the producer sends KEY to\n"
            "                   (librdkafka's default partitioner; default 1, the lab's event)\n"
            "  --partition N    the leader of partition N instead\n"
            "  --which          \"partition P leader L\": the partition with its leader\n"
            "  --describe       every partition: leader, replicas, in-sync replicas\n"
            "  --watermarks     --describe with each partition's high watermark\n"
            "  --produce VALUE  store VALUE keyed by KEY with acks=all and wait for it\n"
            "  --timeout-ms MS  how long the brokers may take to answer (default 5000)\n",
            LAB_KAFKA_DEFAULT);
    return 2;
}

/* leader_known tells parse_next_option which options take a value. */
static bool leader_known(const char *name)
{
    static const char *const names[] = {"brokers", "topic",      "key",
                                        "partition", "timeout-ms", "produce"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* leader_parse fills A from ARGV: 0, 1 for --help, -1 with ERR. --describe
 * takes no value and is picked out before the walk of the others. */
static int leader_parse(struct leader_args *a, int argc, char **argv, char *err, size_t err_len)
{
    char name[32];
    const char *value;
    int rc;

    *a = (struct leader_args){.brokers = lab_env("LAB_KAFKA", LAB_KAFKA_DEFAULT),
                              .topic = LEADER_TOPIC_DEFAULT, .key = NULL, .partition = -1,
                              .timeout_ms = 5000};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--describe") == 0) {
            a->describe = true;
            continue;
        }
        if (strcmp(argv[i], "--watermarks") == 0) {
            a->watermarks = true;
            continue;
        }
        if (strcmp(argv[i], "--which") == 0) {
            a->which = true;
            continue;
        }
        if ((rc = parse_next_option(argc, argv, &i, leader_known, name, sizeof name, &value,
                                    err, err_len)) != 0)
            return rc;
        if (strcmp(name, "brokers") == 0)
            a->brokers = value;
        else if (strcmp(name, "topic") == 0)
            a->topic = value;
        else if (strcmp(name, "key") == 0)
            a->key = value;
        else if (strcmp(name, "produce") == 0)
            a->produce = value;
        else if (strcmp(name, "partition") == 0)
            rc = parse_option_long("partition", value, 0, 100000, &a->partition, err, err_len);
        else
            rc = parse_option_long("timeout-ms", value, 100, 600000, &a->timeout_ms, err,
                                   err_len);
        if (rc != 0)
            return rc;
    }
    if (!*a->brokers || !*a->topic)
        return parse_fail(err, err_len, "--brokers and --topic must not be empty");
    if (a->key && a->partition >= 0)
        return parse_fail(err, err_len, "--key and --partition: one or the other");
    if (a->which && (a->describe || a->produce))
        return parse_fail(err, err_len, "--which, --describe, --produce: one of them");
    if (a->watermarks && !a->describe)
        return parse_fail(err, err_len, "--watermarks goes with --describe");
    if (a->produce && (a->describe || a->partition >= 0))
        return parse_fail(err, err_len, "--produce goes with --key, not --describe or --partition");
    if (a->key && !*a->key)
        return parse_fail(err, err_len, "--key must not be empty");
    if (!a->key && a->partition < 0)
        a->key = "1";
    return 0;
}

/* leader_print_ids prints the N broker ids IDS, comma-separated. */
static void leader_print_ids(const int32_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", (int)ids[i]);
    if (n == 0)
        printf("-");
}

/* leader_answer prints what A asks of topic T's metadata (RK asks the
 * high watermarks): 0, or 1 when the partition is not there or has no
 * leader. */
static int leader_answer(rd_kafka_t *rk, const struct leader_args *a,
                         const rd_kafka_metadata_topic_t *t)
{
    int32_t p;
    int64_t low, high;

    if (a->describe) {
        for (int i = 0; i < t->partition_cnt; i++) {
            const rd_kafka_metadata_partition_t *mp = &t->partitions[i];
            printf("partition %d leader %d replicas ", (int)mp->id, (int)mp->leader);
            leader_print_ids(mp->replicas, mp->replica_cnt);
            printf(" isr ");
            leader_print_ids(mp->isrs, mp->isr_cnt);
            if (!a->watermarks) {
                printf("\n");
                continue;
            }
            if (rd_kafka_query_watermark_offsets(rk, t->topic, mp->id, &low, &high,
                                                 (int)a->timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
                high = -1;
            printf(" hw %lld\n", (long long)high);
        }
        return 0;
    }
    if (a->key) {
        /* The producer's partitioner (librdkafka's default, consistent_random):
         * a non-empty key is hashed (CRC32) over the partition count, and
         * the topic handle is only consulted for a message without a key. */
        p = rd_kafka_msg_partitioner_consistent_random(NULL, a->key, strlen(a->key),
                                                       t->partition_cnt, NULL, NULL);
    } else {
        p = (int32_t)a->partition;
    }
    for (int i = 0; i < t->partition_cnt; i++) {
        if (t->partitions[i].id != p)
            continue;
        if (t->partitions[i].leader < 0) {
            fprintf(stderr, "kafka-leader: partition %d of %s has no leader now\n", (int)p,
                    t->topic);
            return 1;
        }
        if (a->which)
            printf("partition %d leader %d\n", (int)p, (int)t->partitions[i].leader);
        else
            printf("%d\n", (int)t->partitions[i].leader);
        return 0;
    }
    fprintf(stderr, "kafka-leader: topic %s has no partition %d\n", t->topic, (int)p);
    return 1;
}

/* A produced message's fate, filled by its delivery report. */
struct leader_sent {
    bool done;                 /* the report came */
    rd_kafka_resp_err_t err;   /* its verdict */
    int32_t partition;         /* where it was stored */
    int64_t offset;
};

/* leader_dr is the delivery report of --produce's one message. */
static void leader_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct leader_sent *sent = m->_private;

    (void)rk;
    (void)opaque;
    sent->done = true;
    sent->err = m->err;
    sent->partition = m->partition;
    sent->offset = m->offset;
}

/* leader_produce stores A's value keyed by A's key in A's topic with
 * acks=all and the idempotent producer, waiting at most A's timeout (also
 * message.timeout.ms, so that the report comes within it): 0 when stored,
 * 1 otherwise. */
static int leader_produce(const struct leader_args *a)
{
    char err[512], timeout[24];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    struct leader_sent sent = {0};
    rd_kafka_resp_err_t kerr;

    snprintf(timeout, sizeof timeout, "%lld", a->timeout_ms);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", a->brokers, err, sizeof err) ||
        rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err) ||
        rd_kafka_conf_set(conf, "acks", "all", err, sizeof err) ||
        rd_kafka_conf_set(conf, "message.timeout.ms", timeout, err, sizeof err)) {
        fprintf(stderr, "kafka-leader: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, leader_dr);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err))) {
        fprintf(stderr, "kafka-leader: cannot create a Kafka producer: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    kerr = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(a->topic), RD_KAFKA_V_KEY(a->key, strlen(a->key)),
                             RD_KAFKA_V_VALUE((void *)a->produce, strlen(a->produce)),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&sent),
                             RD_KAFKA_V_END);
    if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_flush(rk, (int)a->timeout_ms + 1000);   /* serves the delivery report */
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR || !sent.done || sent.err) {
        fprintf(stderr, "kafka-leader: %s not stored in %s: %s\n", a->produce, a->topic,
                rd_kafka_err2str(kerr ? kerr : sent.done ? sent.err : RD_KAFKA_RESP_ERR__TIMED_OUT));
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("stored partition %d offset %lld\n", (int)sent.partition, (long long)sent.offset);
    rd_kafka_destroy(rk);
    return 0;
}

/* main asks the brokers for the metadata of every topic (asking for one
 * topic by name could make a broker with auto.create.topics.enable create
 * it) and answers about A's topic. */
int main(int argc, char **argv)
{
    struct leader_args a;
    char err[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t kerr;
    int rc = 1, found = -1;

    lab_set_program("kafka-leader");
    if ((rc = leader_parse(&a, argc, argv, err, sizeof err)) != 0) {
        if (rc > 0) {
            leader_usage();
            return 0;
        }
        fprintf(stderr, "kafka-leader: %s\n", err);
        return leader_usage();
    }
    if (a.produce)
        return leader_produce(&a);
    conf = rd_kafka_conf_new();
    /* A broker that is down (the one kill-broker killed) is expected: its
     * refused connections are librdkafka's ERR-level lines, not printed. */
    if (rd_kafka_conf_set(conf, "bootstrap.servers", a.brokers, err, sizeof err) ||
        rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err)) {
        fprintf(stderr, "kafka-leader: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err))) {
        fprintf(stderr, "kafka-leader: cannot create a Kafka client: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    kerr = rd_kafka_metadata(rk, 1, NULL, &md, (int)a.timeout_ms);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka-leader: no metadata from %s within %lld ms: %s\n", a.brokers,
                a.timeout_ms, rd_kafka_err2str(kerr));
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, a.topic) == 0 && md->topics[i].err == 0)
            found = i;
    if (found < 0) {
        fprintf(stderr, "kafka-leader: no topic %s\n", a.topic);
        rc = 1;
    } else {
        rc = leader_answer(rk, &a, &md->topics[found]);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rc;
}
