/* queue_producer.c -- the producer of the asynchronous phases: one idempotent
 * handle (acks=all) shared by every booking thread, a 202 only for a stored
 * message.
 * See queue.h for the contract of each function.
 *
 * With --acks 1 the handle is not idempotent and a message counts as stored
 * once its partition's leader has it (queue_producer_set_acks).
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

/*-----------------------------------------------------------------------------
 * Producer
 *
 * One rd_kafka_t for the whole service. Every message carries a struct
 * queue_send as its opaque, and its delivery report calls that hand-off's
 * done(): the service's booking pipeline answers its 202 (or 503) there,
 * so thousands of messages are in flight and no thread waits for one.
 * Delivery reports are produced by librdkafka's threads but only delivered
 * (dr_msg_cb called) by rd_kafka_poll(), so a dedicated thread polls for as
 * long as the producer is open.
 *
 * queue_send() is the same hand-off for a caller that waits for the report
 * (the tests). The sender and the delivery report meet in a struct
 * send_wait passed as the message's opaque. The wait is bounded by the caller's timeout, which may be
 * shorter than message.timeout.ms, so the report can come after the sender
 * gave up. The struct therefore lives on the heap with a reference count of
 * two, one for the sender and one for the report; whichever lets go last
 * frees it. That keeps the caller's timeout an honest upper bound, whatever
 * the two timeouts are, with no dangling pointer into a dead stack frame.
 * (Making the wait longer than message.timeout.ms would also be safe, but
 * then a caller's timeout would not bound its wait.) A send that timed out
 * may still be stored later: the consumer then decides it like any other,
 * and the result endpoint shows the outcome the 503 could not.
 *----------------------------------------------------------------------------*/

struct queue_producer {
    rd_kafka_t *rk;             /* producer handle: thread-safe, shared by all senders */
    rd_kafka_topic_t *rkt;      /* handle of the bookings topic, made once */
    int message_timeout_ms;     /* message.timeout.ms: how long librdkafka tries a message */
    pthread_t poller;           /* the thread serving delivery reports */
    atomic_bool stop;           /* tells the poller to return */
    bool unacked;               /* the zoo's --without ack-first: queue_send_async
                                   answers at the hand-off (queue_producer_unacked) */
};

/* A sender that waits: its struct queue_send comes first, so that the
 * delivery report finds it like any other hand-off. */
struct send_wait {
    struct queue_send send;     /* done is send_wait_done */
    pthread_mutex_t lock;       /* guards the three fields below */
    pthread_cond_t cond;        /* signalled when DONE is set; uses CLOCK_MONOTONIC */
    bool done;                  /* the delivery report arrived */
    enum lab_status st;         /* its verdict: LAB_OK when the broker stored the message */
    int refs;                   /* 2 while both the sender and librdkafka hold it */
};

static void send_wait_done(struct queue_send *send, enum lab_status st);

/* send_wait_new makes a wait with both references taken, or NULL if memory
 * or the clock attribute cannot be had. */
static struct send_wait *send_wait_new(void)
{
    struct send_wait *w = calloc(1, sizeof *w);
    pthread_condattr_t attr;

    if (!w)
        return NULL;
    if (pthread_condattr_init(&attr) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&w->cond, &attr) != 0) {
        pthread_condattr_destroy(&attr);
        free(w);
        return NULL;
    }
    pthread_condattr_destroy(&attr);
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        pthread_cond_destroy(&w->cond);
        free(w);
        return NULL;
    }
    w->send.done = send_wait_done;
    w->refs = 2;
    return w;
}

/* send_wait_free undoes send_wait_new: called by the last holder, or by
 * queue_send() alone when librdkafka refused the message and so never held
 * a reference. */
static void send_wait_free(struct send_wait *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* send_wait_release_locked drops one reference, with the lock held by the
 * caller, and unlocks. The last one out frees the struct: by then the other side has
 * left the mutex for good. */
static void send_wait_release_locked(struct send_wait *w)
{
    bool last = --w->refs == 0;

    pthread_mutex_unlock(&w->lock);
    if (last)
        send_wait_free(w);
}

/* send_wait_done is a waiting sender's delivery report: it records the
 * verdict, wakes the sender and lets go of the wait. */
static void send_wait_done(struct queue_send *send, enum lab_status st)
{
    struct send_wait *w = (struct send_wait *)send;

    pthread_mutex_lock(&w->lock);
    w->done = true;
    w->st = st;
    pthread_cond_signal(&w->cond);
    send_wait_release_locked(w);
}

/* producer_error_cb receives the producer's error events, on the poller
 * thread. A broker that cannot be reached is already reported by
 * librdkafka's own log line (which folds identical repeats), so those two
 * codes are not printed twice. A fatal error (the idempotent producer lost
 * its guarantees) is printed with its cause: every send fails from then on,
 * with LAB_ERR_QUEUE, until the service is restarted. */
static void producer_error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    char fatal[256];           /* the cause of a fatal error */

    (void)opaque;
    if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        return;
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        lab_log("queue: FATAL Kafka producer error: %s", fatal);
        return;
    }
    lab_log("queue: Kafka producer error: %s: %s", rd_kafka_err2name(code), reason);
}

/* dr_msg_cb is librdkafka's delivery report: called exactly once per message
 * that rd_kafka_producev() accepted, on the poller thread, after the broker
 * acknowledged it or librdkafka gave up (message.timeout.ms, purge at close).
 * It hands the verdict to the message's hand-off (struct queue_send). */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkmessage, void *opaque)
{
    struct queue_send *send = rkmessage->_private;   /* the RD_KAFKA_V_OPAQUE of the send */

    (void)rk;
    (void)opaque;
    if (!send)
        return;
    send->reason = rkmessage->err ? rd_kafka_err2str(rkmessage->err) : NULL;
    send->done(send, rkmessage->err == RD_KAFKA_RESP_ERR_NO_ERROR ? LAB_OK : LAB_ERR_QUEUE);
}

/* producer_poll is the poller thread: it serves delivery reports (and
 * librdkafka's error and log events) every 100 ms at most until close. */
static void *producer_poll(void *arg)
{
    struct queue_producer *q = arg;

    while (!atomic_load(&q->stop))
        rd_kafka_poll(q->rk, 100);
    return NULL;
}

/* create_topic makes TOPIC with PARTITIONS partitions and the brokers'
 * default replication factor (-1: default.replication.factor, 1 on the
 * lab's single broker, 3 on the replicated topology's three nodes, whatever
 * a managed cluster chose; min.insync.replicas comes with it) through the
 * Admin API, waiting at most TIMEOUT_MS
 * for the answer on a queue of its own. A topic that exists already is
 * success: it is asked for only when the metadata did not list it, but two
 * services starting together can both ask, and one of them then learns that
 * the other was first. */
static bool create_topic(rd_kafka_t *rk, const char *topic, int partitions, int timeout_ms,
                         char *err, size_t err_len)
{
    char errstr[512];                        /* librdkafka's reason for a refused argument */
    rd_kafka_NewTopic_t *newt;               /* the topic we ask for */
    rd_kafka_AdminOptions_t *options;        /* the request's timeouts */
    rd_kafka_queue_t *rkqu;                  /* where the result arrives */
    rd_kafka_event_t *rkev;                  /* the result, or NULL on timeout */
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **results;
    size_t cnt = 0, i;
    rd_kafka_resp_err_t kerr;
    bool ok = false;

    if (!(newt = rd_kafka_NewTopic_new(topic, partitions, -1, errstr, sizeof errstr))) {
        snprintf(err, err_len, "cannot describe topic %s: %s", topic, errstr);
        return false;
    }
    options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    /* request_timeout bounds the whole request; operation_timeout makes the
     * broker answer only once the topic is created (or that time passed), so
     * that its partitions have a leader when the first booking is sent. */
    if (rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr, sizeof errstr) ||
        rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms, errstr, sizeof errstr)) {
        snprintf(err, err_len, "cannot set the topic creation timeout: %s", errstr);
        rd_kafka_AdminOptions_destroy(options);
        rd_kafka_NewTopic_destroy(newt);
        return false;
    }
    rkqu = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &newt, 1, options, rkqu);
    /* The request times out by itself after TIMEOUT_MS; the extra second
     * only covers the time its answer takes to reach this queue. */
    rkev = rd_kafka_queue_poll(rkqu, timeout_ms + 1000);
    if (!rkev) {
        snprintf(err, err_len, "Kafka did not answer the creation of topic %s within %d ms",
                 topic, timeout_ms);
    } else if ((kerr = rd_kafka_event_error(rkev)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, err_len, "cannot create topic %s: %s", topic,
                 rd_kafka_event_error_string(rkev));
    } else {
        res = rd_kafka_event_CreateTopics_result(rkev);
        results = res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
        ok = cnt == 1;
        if (!ok)
            snprintf(err, err_len, "unexpected answer to the creation of topic %s", topic);
        for (i = 0; i < cnt; i++) {
            kerr = rd_kafka_topic_result_error(results[i]);
            if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR) {
                lab_log("queue: created topic %s with %d partition(s)", topic, partitions);
            } else if (kerr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(err, err_len, "cannot create topic %s: %s", topic,
                         rd_kafka_topic_result_error_string(results[i])
                             ? rd_kafka_topic_result_error_string(results[i])
                             : rd_kafka_err2str(kerr));
                ok = false;
            }
        }
    }
    if (rkev)
        rd_kafka_event_destroy(rkev);
    rd_kafka_queue_destroy(rkqu);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy(newt);
    return ok;
}

const char *queue_acks_name(enum queue_acks acks)
{
    return acks == QUEUE_ACKS_LEADER ? "1" : "all";
}

/* queue_producer_set_acks sets CONF's acknowledgement: acks=all with the
 * idempotent producer, or acks=1 without it. Idempotence makes librdkafka's
 * retries safe (no duplicate, no reordering) and requires acks=all (the
 * broker's sequence numbers are only kept consistent across leaders for
 * messages that every in-sync replica has): librdkafka refuses acks=1 with
 * enable.idempotence=true, so acks=1 goes without it. */
static bool queue_producer_set_acks(rd_kafka_conf_t *conf, enum queue_acks acks, char *err,
                                    size_t err_len)
{
    if (acks == QUEUE_ACKS_LEADER)
        return queue_conf_set(conf, "enable.idempotence", "false", err, err_len) &&
               queue_conf_set(conf, "acks", "1", err, err_len);
    return queue_conf_set(conf, "enable.idempotence", "true", err, err_len) &&
           queue_conf_set(conf, "acks", "all", err, err_len);
}

/* queue_producer_open configures the producer (ACKS: queue_producer_set_acks), checks that the
 * broker answers within TIMEOUT_MS, creates the topic if the broker's
 * metadata does not list it (a topic that exists is left as it is, partition
 * count included) and starts the poller. TIMEOUT_MS is also message.timeout.ms: no message is tried for
 * longer than a booking is willing to wait for it. */
struct queue_producer *queue_producer_open(const char *brokers, const char *topic,
                                           int partitions, int timeout_ms, int linger_ms,
                                           enum queue_acks acks, char *err, size_t err_len)
{
    struct queue_producer *q;
    rd_kafka_conf_t *conf;     /* configuration, owned by rd_kafka_new() once it succeeds */
    char errstr[512];          /* librdkafka's reason when rd_kafka_new() fails */
    char timeout[16];          /* TIMEOUT_MS as text, for message.timeout.ms */
    char linger[16];           /* LINGER_MS as text, for linger.ms */
    uint64_t deadline;         /* when TIMEOUT_MS is up, in lab_now_us() time */
    int left;                  /* what is left of it for the topic creation */
    int existing;              /* partitions of TOPIC if it exists already, else 0 */

    if (!brokers || !*brokers || !topic || !*topic || partitions < 1 || timeout_ms < 1) {
        snprintf(err, err_len, "bad Kafka arguments (brokers, topic, partitions >= 1, timeout)");
        return NULL;
    }
    deadline = lab_now_us() + (uint64_t)timeout_ms * 1000;
    if (!(conf = queue_conf_new(brokers, err, err_len)))
        return NULL;
    snprintf(timeout, sizeof timeout, "%d", timeout_ms);
    snprintf(linger, sizeof linger, "%d", linger_ms);
    /* With acks=all (the default) a message is stored only once every
     * in-sync replica has it. linger.ms is how long
     * librdkafka gathers messages into one request to the broker: each
     * request costs the broker about the same whatever its size, and no
     * thread waits for it (the 202 is sent from the delivery report), so a
     * few milliseconds buy throughput for a few milliseconds of latency
     * (docs/bench.md has the figures). */
    if (!queue_producer_set_acks(conf, acks, err, err_len) ||
        !queue_conf_set(conf, "linger.ms", linger, err, err_len) ||
        !queue_conf_set(conf, "message.timeout.ms", timeout, err, err_len)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(conf, producer_error_cb);

    if (!(q = calloc(1, sizeof *q))) {
        snprintf(err, err_len, "out of memory");
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    q->message_timeout_ms = timeout_ms;
    atomic_init(&q->stop, false);
    if (!(q->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr))) {
        snprintf(err, err_len, "cannot create the Kafka producer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(q);
        return NULL;
    }
    conf = NULL;               /* now owned by q->rk */

    /* One budget for both steps: the metadata answer usually comes in a few
     * milliseconds, and the topic creation, needed only when the answer does
     * not list the topic, gets whatever is left. */
    if (!queue_broker_check(q->rk, brokers, topic, &existing, timeout_ms, err, err_len))
        goto fail;
    if (existing > 0 && existing != partitions)
        lab_log("queue: topic %s exists with %d partition(s), not %d: kept as it is", topic,
                existing, partitions);
    if ((left = queue_deadline_left(deadline)) < 1)
        left = 1;
    if (existing == 0 && !create_topic(q->rk, topic, partitions, left, err, err_len))
        goto fail;
    if (!(q->rkt = rd_kafka_topic_new(q->rk, topic, NULL))) {
        snprintf(err, err_len, "cannot open topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    if (pthread_create(&q->poller, NULL, producer_poll, q) != 0) {
        snprintf(err, err_len, "cannot start the Kafka poll thread");
        rd_kafka_topic_destroy(q->rkt);
        goto fail;
    }
    return q;

fail:
    rd_kafka_destroy(q->rk);
    free(q);
    return NULL;
}

/* queue_produce encodes B and produces it keyed by its event id (so that
 * one partition, hence one consumer, sees every booking of an event, in
 * order), with SEND as the message's opaque: the delivery report calls
 * SEND->done once. A refusal by rd_kafka_producev() itself (local queue
 * full, unknown topic, fatal idempotence error) is returned at once, and
 * then no report comes. */
static enum lab_status queue_produce(struct queue_producer *q, const struct booking *b,
                                     struct queue_send *send, char *err, size_t err_len)
{
    char payload[QUEUE_MSG_MAX];   /* the JSON; librdkafka copies it (MSG_F_COPY) */
    char key[24];                  /* the event id in decimal */
    rd_kafka_resp_err_t kerr;      /* producev's own verdict */
    int n;

    if ((n = queue_encode(b, payload, sizeof payload)) < 0) {
        snprintf(err, err_len, "booking cannot be encoded (bad id or request id)");
        return LAB_ERR_QUEUE;
    }
    snprintf(key, sizeof key, "%lld", b->event_id);
    kerr = rd_kafka_producev(q->rk, RD_KAFKA_V_RKT(q->rkt),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, strlen(key)),
                             RD_KAFKA_V_VALUE(payload, (size_t)n),
                             RD_KAFKA_V_OPAQUE(send),
                             RD_KAFKA_V_END);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, err_len, "Kafka refused request %s: %s", b->request_id,
                 rd_kafka_err2str(kerr));
        return LAB_ERR_QUEUE;
    }
    return LAB_OK;
}

enum lab_status queue_send_async(struct queue_producer *q, const struct booking *b,
                                 struct queue_send *send, char *err, size_t err_len)
{
    if (q->unacked)
        return queue_send_unacked(q, b, send, err, err_len);
    return queue_produce(q, b, send, err, err_len);
}

/* queue_producer_unacked: set once at start, before any sender runs. */
void queue_producer_unacked(struct queue_producer *q)
{
    q->unacked = true;
}

/* A message answered before the broker had it (queue_send_unacked): its
 * delivery report finds this, not the booking's hand-off, which was
 * answered and freed long before. */
struct unacked {
    struct queue_send send;        /* first: librdkafka's opaque; done is unacked_done */
    char request_id[PARSE_REQUEST_ID_MAX + 1];
};

/* unacked_done is the late delivery report of an unacked message: a
 * failure is a 202 that nobody will ever decide, and can only be logged. */
static void unacked_done(struct queue_send *send, enum lab_status st)
{
    struct unacked *u = (struct unacked *)send;

    if (st != LAB_OK)
        lab_log("queue: Kafka never stored request %s, answered 202 already (--without "
                "ack-first): %s", u->request_id, send->reason ? send->reason : "refused");
    free(u);
}

enum lab_status queue_send_unacked(struct queue_producer *q, const struct booking *b,
                                   struct queue_send *send, char *err, size_t err_len)
{
    struct unacked *u = calloc(1, sizeof *u);
    enum lab_status st;

    if (!u) {
        snprintf(err, err_len, "out of memory for request %s", b->request_id);
        return LAB_ERR_QUEUE;
    }
    u->send.done = unacked_done;
    snprintf(u->request_id, sizeof u->request_id, "%s", b->request_id);
    if ((st = queue_produce(q, b, &u->send, err, err_len)) != LAB_OK) {
        free(u);                   /* refused: no report will come */
        return st;
    }
    /* RACE: the message sits in librdkafka's memory, not in the broker:
     * a broker down for longer than message.timeout.ms, or this process
     * killed now, and the request answered 202 below is never decided. */
    send->reason = NULL;
    send->done(send, LAB_OK);
    return LAB_OK;
}

/* queue_send is queue_produce and a wait for its delivery report, at most
 * TIMEOUT_MS (see the banner above for who frees the wait). */
enum lab_status queue_send(struct queue_producer *q, const struct booking *b, int timeout_ms,
                           char *err, size_t err_len)
{
    struct send_wait *w;           /* shared with the delivery report */
    struct timespec deadline;
    enum lab_status st;
    int rc = 0;

    if (!(w = send_wait_new())) {
        snprintf(err, err_len, "out of memory");
        return LAB_ERR_QUEUE;
    }
    if ((st = queue_produce(q, b, &w->send, err, err_len)) != LAB_OK) {
        send_wait_free(w);         /* not enqueued: no report will come, the wait is ours */
        return st;
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (!w->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->cond, &w->lock, &deadline);
    if (!w->done) {
        snprintf(err, err_len, "Kafka did not acknowledge request %s within %d ms",
                 b->request_id, timeout_ms);
        st = LAB_ERR_QUEUE;
    } else if (w->st != LAB_OK) {
        snprintf(err, err_len, "Kafka did not store request %s: %s", b->request_id,
                 w->send.reason ? w->send.reason : "?");
        st = LAB_ERR_QUEUE;
    }
    send_wait_release_locked(w);
    return st;
}

/* queue_producer_close stops the poller, then flushes: rd_kafka_flush()
 * serves the remaining delivery reports itself for up to message.timeout.ms
 * (plus a second), after which every message has had its report. If some
 * are still there, they are purged, which produces their (failed) reports,
 * and those are served too, so that no send_wait is left behind. No
 * queue_send() may be running: the HTTP server is stopped first. */
void queue_producer_close(struct queue_producer *q)
{
    if (!q)
        return;
    atomic_store(&q->stop, true);
    pthread_join(q->poller, NULL);
    if (rd_kafka_flush(q->rk, q->message_timeout_ms + 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        lab_log("queue: %d message(s) still unacknowledged at close, purged",
                rd_kafka_outq_len(q->rk));
        rd_kafka_purge(q->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(q->rk, 1000);
    }
    rd_kafka_topic_destroy(q->rkt);
    rd_kafka_destroy(q->rk);
    free(q);
}
