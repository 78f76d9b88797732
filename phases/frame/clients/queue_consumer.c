/* queue_consumer.c -- the consumer of the asynchronous phases: one per worker
 * process (or consumer thread), offsets committed by hand after the database.
 * See queue.h for the contract of each function.
 *
 * The library is librdkafka, used the way its own examples use it: a
 * configuration object handed over to rd_kafka_new(), delivery reports
 * through a dr_msg_cb served by rd_kafka_poll(), a flush before the producer
 * is destroyed, and rd_kafka_consumer_close() before the consumer is. */
#include "queue_kafka.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* commit_done is librdkafka's answer to an offset commit, served by
 * rd_kafka_consumer_poll() (queue_next): a failure is logged, and costs
 * nothing but a possible redelivery. "No offset" is not a failure. */
static void commit_done(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        lab_log("queue: an offset commit of %d partition(s) failed: %s (the messages may come "
                "again, and are found decided)", offsets ? offsets->cnt : 0, rd_kafka_err2str(err));
}

/* queue_consumer_open() has no timeout parameter; this bounds its check that
 * the broker answers at all. */
#define QUEUE_CONSUMER_CHECK_MS 5000

/* queue_next() prints the same consumer error at most once in this period. */
#define QUEUE_ERROR_QUIET_US (10 * 1000000ULL)

/*-----------------------------------------------------------------------------
 * Consumer
 *
 * A high-level (balanced) consumer in a group, with every automatic commit
 * turned off: an offset is committed only by queue_done(), after the database
 * committed the decision. A message that was not committed is delivered
 * again after a restart or a rebalance, never lost. One consumer is used by
 * one thread: queue_next() and queue_done() are not called concurrently.
 *----------------------------------------------------------------------------*/

struct queue_consumer {
    rd_kafka_t *rk;                 /* consumer handle */
    bool store_only;                /* --commit-interval-ms: queue_done* store the offsets,
                                       librdkafka commits them every interval */
    rd_kafka_resp_err_t last_err;   /* the last consumer error queue_next() printed */
    uint64_t last_err_us;           /* when it printed it */
    unsigned quiet;                 /* how many times it came again since, unprinted */
};

struct queue_message {
    rd_kafka_message_t *rkm;        /* the consumed message, destroyed by queue_done/drop */
};

/* queue_consumer_open joins GROUP and subscribes to TOPIC. Subscribing is
 * asynchronous (the assignment comes with the first polls), so the broker is
 * checked first, for at most QUEUE_CONSUMER_CHECK_MS: a worker that cannot
 * reach Kafka says so at start-up instead of polling nothing forever. */
struct queue_consumer *queue_consumer_open(const char *brokers, const char *topic,
                                           const char *group, int commit_interval_ms,
                                           char *err, size_t err_len)
{
    struct queue_consumer *c;
    char interval[16];                            /* COMMIT_INTERVAL_MS as text */
    rd_kafka_conf_t *conf;                        /* owned by rd_kafka_new() once it succeeds */
    rd_kafka_topic_partition_list_t *subscription; /* the one topic we subscribe to */
    rd_kafka_resp_err_t kerr;                     /* rd_kafka_subscribe()'s verdict */
    char errstr[512];                             /* librdkafka's reason when rd_kafka_new() fails */

    if (!brokers || !*brokers || !topic || !*topic || !group || !*group) {
        snprintf(err, err_len, "bad Kafka arguments (brokers, topic, group)");
        return NULL;
    }
    if (!(conf = queue_conf_new(brokers, err, err_len)))
        return NULL;
    /* No automatic commit and no automatic offset store: the only commits
     * are queue_done()'s (with --commit-interval-ms, the only offsets
     * stored are, and librdkafka commits them every interval). Without a
     * committed offset (a new group), start at the beginning of the topic,
     * so that no booking sent before the worker started is missed. */
    snprintf(interval, sizeof interval, "%d", commit_interval_ms);
    if (!queue_conf_set(conf, "group.id", group, err, err_len) ||
        !queue_conf_set(conf, "enable.auto.commit", commit_interval_ms > 0 ? "true" : "false",
                        err, err_len) ||
        (commit_interval_ms > 0 &&
         !queue_conf_set(conf, "auto.commit.interval.ms", interval, err, err_len)) ||
        !queue_conf_set(conf, "enable.auto.offset.store", "false", err, err_len) ||
        !queue_conf_set(conf, "auto.offset.reset", "earliest", err, err_len) ||
        /* A worker started on its own (--role worker) may subscribe before
         * the API has created the topic; librdkafka finds a new topic at its
         * next metadata refresh, every 5 minutes by default: every second. */
        !queue_conf_set(conf, "topic.metadata.refresh.interval.ms", "1000", err, err_len) ||
        /* A worker killed with kill -9 never leaves the group: its
         * partitions wait for its session to time out, 45 s by default,
         * before a new worker gets them (docs/faults.md): 6 s, the
         * broker's least. */
        !queue_conf_set(conf, "session.timeout.ms", "6000", err, err_len) ||
        !queue_conf_set(conf, "heartbeat.interval.ms", "2000", err, err_len)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_offset_commit_cb(conf, commit_done);
    if (!(c = calloc(1, sizeof *c))) {
        snprintf(err, err_len, "out of memory");
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    c->store_only = commit_interval_ms > 0;
    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr))) {
        snprintf(err, err_len, "cannot create the Kafka consumer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    conf = NULL;                                  /* now owned by c->rk */
    if (!queue_broker_check(c->rk, brokers, NULL, NULL, QUEUE_CONSUMER_CHECK_MS, err, err_len)) {
        rd_kafka_destroy(c->rk);
        free(c);
        return NULL;
    }
    /* Route every partition's messages (and the group's events) to the one
     * queue rd_kafka_consumer_poll() reads. */
    rd_kafka_poll_set_consumer(c->rk);
    subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, topic, RD_KAFKA_PARTITION_UA);
    kerr = rd_kafka_subscribe(c->rk, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, err_len, "cannot subscribe to %s: %s", topic, rd_kafka_err2str(kerr));
        rd_kafka_consumer_close(c->rk);
        rd_kafka_destroy(c->rk);
        free(c);
        return NULL;
    }
    return c;
}

/* consumer_error prints a consumer error unless it is the one printed last,
 * less than QUEUE_ERROR_QUIET_US ago: a broker that is down reports the same
 * transport error on every poll. End of partition is not an error at all. */
static void consumer_error(struct queue_consumer *c, const rd_kafka_message_t *rkm)
{
    uint64_t now = lab_now_us();

    if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    if (rkm->err == c->last_err && now - c->last_err_us < QUEUE_ERROR_QUIET_US) {
        c->quiet++;
        return;
    }
    if (c->quiet)
        lab_log("queue: consumer error: %s (%u more like the previous one)",
                rd_kafka_message_errstr(rkm), c->quiet);
    else
        lab_log("queue: consumer error: %s", rd_kafka_message_errstr(rkm));
    c->last_err = rkm->err;
    c->last_err_us = now;
    c->quiet = 0;
}

/* queue_next polls for up to TIMEOUT_MS. A message that decodes is returned
 * (with B filled) for the caller to decide and then pass to queue_done().
 * One that does not is logged, committed and skipped, and the poll goes on
 * with the time that is left: no retry could ever book it. A consumer error
 * (broker down, ...) is logged and ends the call with NULL, like a timeout. */
struct queue_message *queue_next(struct queue_consumer *c, struct booking *b, int timeout_ms)
{
    uint64_t deadline = lab_now_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
    rd_kafka_message_t *rkm;       /* a message, or a consumer error when rkm->err is set */
    struct queue_message *m;
    rd_kafka_resp_err_t kerr;

    for (;;) {
        if (!(rkm = rd_kafka_consumer_poll(c->rk, queue_deadline_left(deadline))))
            return NULL;
        if (rkm->err) {
            consumer_error(c, rkm);
            rd_kafka_message_destroy(rkm);
            return NULL;
        }
        if (rkm->payload && queue_decode(rkm->payload, rkm->len, b))
            break;
        lab_log("queue: skipping an undecodable message (%zu bytes) at %s [%" PRId32
                "] offset %" PRId64, rkm->len, rd_kafka_topic_name(rkm->rkt), rkm->partition,
                rkm->offset);
        if ((kerr = rd_kafka_commit_message(c->rk, rkm, 0)) != RD_KAFKA_RESP_ERR_NO_ERROR)
            lab_log("queue: cannot commit the skipped message: %s", rd_kafka_err2str(kerr));
        rd_kafka_message_destroy(rkm);
        if (queue_deadline_left(deadline) == 0)
            return NULL;
    }
    if (!(m = malloc(sizeof *m))) {
        /* Not committed: it comes again after a restart or rebalance. */
        lab_log("queue: out of memory for request %s; left for later", b->request_id);
        rd_kafka_message_destroy(rkm);
        return NULL;
    }
    m->rkm = rkm;
    return m;
}

/* queue_done commits M's offset + 1 on its partition, synchronously, so that
 * when it returns LAB_OK the group will never be given M again; then it
 * frees M. A failed commit (group rebalanced, broker down) only means M may
 * be delivered again, which the consumer's redelivery check absorbs. With
 * --commit-interval-ms it stores the offset, as queue_done_batch does. */
enum lab_status queue_done(struct queue_consumer *c, struct queue_message *m)
{
    rd_kafka_resp_err_t kerr;

    if (c->store_only)
        return queue_done_batch(c, &m, 1);
    kerr = rd_kafka_commit_message(c->rk, m->rkm, 0);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        lab_log("queue: cannot commit %s [%" PRId32 "] offset %" PRId64 ": %s",
                rd_kafka_topic_name(m->rkm->rkt), m->rkm->partition, m->rkm->offset,
                rd_kafka_err2str(kerr));
    rd_kafka_message_destroy(m->rkm);
    free(m);
    return kerr == RD_KAFKA_RESP_ERR_NO_ERROR ? LAB_OK : LAB_ERR_QUEUE;
}

/* offsets_past lists, for each partition of the N messages M, the offset
 * after its last one: what a commit of them says. */
static rd_kafka_topic_partition_list_t *offsets_past(struct queue_message **m, size_t n)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)n);

    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *k = m[i]->rkm;
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(offsets, rd_kafka_topic_name(k->rkt), k->partition);
        if (!p)
            p = rd_kafka_topic_partition_list_add(offsets, rd_kafka_topic_name(k->rkt),
                                                  k->partition);
        if (k->offset + 1 > p->offset)
            p->offset = k->offset + 1;
    }
    return offsets;
}

/* queue_done_batch puts, for each partition of the batch, the offset after
 * its last message in one list and commits the list at once, without
 * waiting for the broker's answer (with --commit-interval-ms, stores it for
 * librdkafka's next commit). */
enum lab_status queue_done_batch(struct queue_consumer *c, struct queue_message **m, size_t n)
{
    rd_kafka_topic_partition_list_t *offsets = offsets_past(m, n);
    rd_kafka_resp_err_t kerr;

    if (c->store_only) {
        kerr = n ? rd_kafka_offsets_store(c->rk, offsets) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
            lab_log("queue: cannot store the offsets of %zu messages: %s", n,
                    rd_kafka_err2str(kerr));
        rd_kafka_topic_partition_list_destroy(offsets);
        for (size_t i = 0; i < n; i++)
            queue_drop(m[i]);
        return kerr == RD_KAFKA_RESP_ERR_NO_ERROR ? LAB_OK : LAB_ERR_QUEUE;
    }
    /* Asynchronous: the consumer goes on to the next batch while the broker
     * stores the offsets. The database committed the batch already, so a
     * commit that fails (logged by commit_done) only means the batch may be
     * delivered again, and every request in it is then found decided. A
     * synchronous commit made the consumer wait for the group's coordinator,
     * which on a freshly started broker can take many seconds. */
    kerr = n ? rd_kafka_commit(c->rk, offsets, 1) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        lab_log("queue: cannot commit a batch of %zu messages: %s", n, rd_kafka_err2str(kerr));
    rd_kafka_topic_partition_list_destroy(offsets);
    for (size_t i = 0; i < n; i++)
        queue_drop(m[i]);
    return kerr == RD_KAFKA_RESP_ERR_NO_ERROR ? LAB_OK : LAB_ERR_QUEUE;
}

/* queue_commit_polled commits the offsets past M at once and waits for the
 * broker's answer (Kafka's "at most once": commit, then process), keeping
 * the messages: the planted bug --without commit-after, which trusts the
 * decision to come (queue.h). */
enum lab_status queue_commit_polled(struct queue_consumer *c, struct queue_message **m,
                                    size_t n)
{
    rd_kafka_topic_partition_list_t *offsets;
    rd_kafka_resp_err_t kerr;

    if (n == 0)
        return LAB_OK;
    /* RACE: from here until the database commits the decisions, a worker
     * that dies takes these messages with it: the group resumes after them. */
    offsets = offsets_past(m, n);
    kerr = rd_kafka_commit(c->rk, offsets, 0);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        lab_log("queue: cannot commit %zu polled messages: %s", n, rd_kafka_err2str(kerr));
    return kerr == RD_KAFKA_RESP_ERR_NO_ERROR ? LAB_OK : LAB_ERR_QUEUE;
}

/* queue_drop frees M without committing it. The consumer's position has
 * moved past it, so it is delivered again only once the group reassigns the
 * partition (a restart or a rebalance), from the last committed offset. */
void queue_drop(struct queue_message *m)
{
    if (!m)
        return;
    rd_kafka_message_destroy(m->rkm);
    free(m);
}

/* How long queue_consumer_close waits for the group to let the consumer go. */
#define QUEUE_CLOSE_MS 10000

/* queue_consumer_close leaves the group (its partitions go to the other
 * workers at once, rather than after the session timeout) and destroys the
 * handle. Every message must have been given to queue_done or queue_drop.
 * Leaving waits for the offset commits still in flight; with the broker
 * down that would be until it comes back, so the close is bounded: past
 * QUEUE_CLOSE_MS the handle is destroyed without leaving (the group lets
 * the partitions go after the session timeout, and anything not committed
 * is delivered again and found decided). */
void queue_consumer_close(struct queue_consumer *c)
{
    rd_kafka_queue_t *events;      /* what the close reports, served here */
    rd_kafka_error_t *error;
    uint64_t deadline;
    bool closed;

    if (!c)
        return;
    events = rd_kafka_queue_new(c->rk);
    if ((error = rd_kafka_consumer_close_queue(c->rk, events))) {
        lab_log("queue: closing the consumer: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    deadline = lab_now_us() + (uint64_t)QUEUE_CLOSE_MS * 1000;
    while (!rd_kafka_consumer_closed(c->rk) && queue_deadline_left(deadline) > 0) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(events, 100);

        if (ev)
            rd_kafka_event_destroy(ev);
    }
    closed = rd_kafka_consumer_closed(c->rk);
    rd_kafka_queue_destroy(events);
    if (closed) {
        rd_kafka_destroy(c->rk);
    } else {
        lab_log("queue: the consumer could not leave its group within %d ms (Kafka "
                "unreachable?): stopped without leaving", QUEUE_CLOSE_MS);
        rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    free(c);
}
