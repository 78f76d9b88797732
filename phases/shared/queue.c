/* queue.c -- the Kafka side of the asynchronous phases: the message format,
 * one idempotent producer shared by every HTTP thread, and the consumer of
 * the booking workers. See queue.h for the contract of each function.
 *
 * The library is librdkafka, used the way its own examples use it: a
 * configuration object handed over to rd_kafka_new(), delivery reports
 * through a dr_msg_cb served by rd_kafka_poll(), a flush before the producer
 * is destroyed, and rd_kafka_consumer_close() before the consumer is. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "queue.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

/* The longest message queue_encode() can write is about 140 bytes
 * ({"eventId":<16 digits>,"userId":<16 digits>,"requestId":"<64 chars>"}). */
#define QUEUE_MSG_MAX 256

/* queue_consumer_open() has no timeout parameter; this bounds its check that
 * the broker answers at all. */
#define QUEUE_CONSUMER_CHECK_MS 5000

/* queue_next() prints the same consumer error at most once in this period. */
#define QUEUE_ERROR_QUIET_US (10 * 1000000ULL)

/*-----------------------------------------------------------------------------
 * Message format
 *
 * One booking is one JSON object with exactly three members:
 *     {"eventId":1,"userId":42,"requestId":"abc"}
 * The encoder writes it without blanks. The decoder accepts blanks between
 * tokens and the members in any order, but nothing else: no missing, unknown
 * or repeated member, no escapes in strings, no number JSON would not write
 * (leading zeros, signs, fractions), and nothing after the closing brace.
 * The payload handed over by librdkafka is not NUL-terminated, so the decoder
 * works on (buffer, length) through a cursor that never passes its end.
 *----------------------------------------------------------------------------*/

/* queue_encode writes B into BUF (of LEN bytes, NUL-terminated) and returns
 * the length of the JSON text, or -1 when B is not a valid booking (an id out
 * of range, a request id parse_request_id() refuses) or when BUF is too small.
 * Validating here keeps the request id safe to put between quotes unescaped. */
int queue_encode(const struct booking *b, char *buf, size_t len)
{
    int n;

    if (!b || !buf || b->event_id < 1 || b->event_id > PARSE_ID_MAX || b->user_id < 1 ||
        b->user_id > PARSE_ID_MAX || !memchr(b->request_id, '\0', sizeof b->request_id) ||
        !parse_request_id(b->request_id))
        return -1;
    n = snprintf(buf, len, "{\"eventId\":%lld,\"userId\":%lld,\"requestId\":\"%s\"}", b->event_id,
                 b->user_id, b->request_id);
    if (n < 0 || (size_t)n >= len)
        return -1;
    return n;
}

/* A read position in a payload: P moves towards END and is only ever
 * dereferenced while it is before END. */
struct cursor {
    const char *p;
    const char *end;
};

/* cursor_skip_blanks steps over the blanks JSON allows between tokens. */
static void cursor_skip_blanks(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* cursor_take consumes the character CH (after blanks) if it comes next. */
static bool cursor_take(struct cursor *c, char ch)
{
    cursor_skip_blanks(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* cursor_string reads a JSON string into OUT (size OUT_LEN, NUL-terminated).
 * Nothing this format carries needs an escape, so a backslash is refused,
 * and so is a control character or a string that does not fit. */
static bool cursor_string(struct cursor *c, char *out, size_t out_len)
{
    size_t n = 0;

    if (!cursor_take(c, '"'))
        return false;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '\\' || ch < 0x20 || n + 1 >= out_len)
            return false;
        out[n++] = (char)ch;
        c->p++;
    }
    if (c->p == c->end)
        return false;                  /* truncated inside the string */
    c->p++;                            /* the closing quote */
    out[n] = '\0';
    return true;
}

/* cursor_id reads an id: a run of digits without a leading zero, copied into
 * a small NUL-terminated buffer so that parse_id() (which wants a C string)
 * can judge its range. A run too long for any valid id is refused early. */
static bool cursor_id(struct cursor *c, long long *out)
{
    char digits[24];
    size_t n = 0;

    cursor_skip_blanks(c);
    if (c->p < c->end && *c->p == '0')
        return false;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (n + 1 >= sizeof digits)
            return false;
        digits[n++] = *c->p++;
    }
    digits[n] = '\0';
    return parse_id(digits, out);
}

/* queue_decode is the strict inverse of queue_encode: it fills B only when
 * the LEN bytes at BUF are exactly one well-formed booking. */
bool queue_decode(const char *buf, size_t len, struct booking *b)
{
    enum { HAVE_EVENT = 1, HAVE_USER = 2, HAVE_REQUEST = 4, HAVE_ALL = 7 };
    struct cursor c = { buf, buf + len };
    struct booking got;
    char key[16];
    int have = 0;

    if (!buf || !b || !cursor_take(&c, '{'))
        return false;
    memset(&got, 0, sizeof got);
    do {
        if (!cursor_string(&c, key, sizeof key) || !cursor_take(&c, ':'))
            return false;
        if (strcmp(key, "eventId") == 0 && !(have & HAVE_EVENT)) {
            if (!cursor_id(&c, &got.event_id))
                return false;
            have |= HAVE_EVENT;
        } else if (strcmp(key, "userId") == 0 && !(have & HAVE_USER)) {
            if (!cursor_id(&c, &got.user_id))
                return false;
            have |= HAVE_USER;
        } else if (strcmp(key, "requestId") == 0 && !(have & HAVE_REQUEST)) {
            if (!cursor_string(&c, got.request_id, sizeof got.request_id) ||
                !parse_request_id(got.request_id))
                return false;
            have |= HAVE_REQUEST;
        } else {
            return false;              /* unknown or repeated member */
        }
    } while (cursor_take(&c, ','));
    if (!cursor_take(&c, '}') || have != HAVE_ALL)
        return false;
    cursor_skip_blanks(&c);
    if (c.p != c.end)
        return false;                  /* something after the object */
    *b = got;
    return true;
}

/*-----------------------------------------------------------------------------
 * Helpers shared by the producer and the consumer
 *----------------------------------------------------------------------------*/

/* queue_log_cb receives librdkafka's own log lines (connection refused,
 * broker down, ...) from its internal threads and writes them through
 * lab_log, which is thread-safe, so that they carry the lab's timestamp. */
static void queue_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    lab_log("kafka %s [%d] %s: %s", rd_kafka_name(rk), level, fac, buf);
}

/* conf_set sets one configuration property and, when librdkafka refuses it,
 * says which one in ERR. The caller still owns CONF either way. */
static bool conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                     size_t err_len)
{
    char errstr[512];          /* librdkafka's reason for refusing the property */

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return true;
    snprintf(err, err_len, "Kafka setting %s=%s refused: %s", name, value, errstr);
    return false;
}

/* conf_new starts a configuration with what the producer and the consumer
 * have in common: the bootstrap brokers and the log callback. NULL (with ERR
 * set) if BROKERS is refused. */
static rd_kafka_conf_t *conf_new(const char *brokers, char *err, size_t err_len)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    rd_kafka_conf_set_log_cb(conf, queue_log_cb);
    if (!conf_set(conf, "bootstrap.servers", brokers, err, err_len)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* broker_check asks RK for the cluster's metadata, which needs one broker to
 * answer: the simplest test that the broker is there at all. It waits at
 * most TIMEOUT_MS. With a TOPIC, the answer lists every topic (asking for
 * that one topic alone could make a broker with auto.create.topics.enable
 * create it, with its default partition count), and *PARTITIONS is set to
 * the topic's partition count, 0 if it does not exist. */
static bool broker_check(rd_kafka_t *rk, const char *brokers, const char *topic,
                         int *partitions, int timeout_ms, char *err, size_t err_len)
{
    const struct rd_kafka_metadata *md;   /* the cluster's answer, freed at once */
    rd_kafka_resp_err_t kerr;             /* why there is no answer */
    int i;

    kerr = rd_kafka_metadata(rk, topic != NULL, NULL, &md, timeout_ms);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, err_len, "Kafka at %s did not answer within %d ms (%s)", brokers,
                 timeout_ms, rd_kafka_err2str(kerr));
        return false;
    }
    if (topic) {
        *partitions = 0;
        for (i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, topic) == 0 &&
                md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                *partitions = md->topics[i].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return true;
}

/* deadline_left gives the milliseconds left until DEADLINE_US (lab_now_us()
 * time), never less than zero. */
static int deadline_left(uint64_t deadline_us)
{
    uint64_t now = lab_now_us();
    return now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
}

/*-----------------------------------------------------------------------------
 * Producer
 *
 * One rd_kafka_t for the whole service. queue_send() hands its message to
 * librdkafka and then sleeps until the delivery report for that message says
 * whether the broker stored it. Delivery reports are produced by librdkafka's
 * threads but only delivered (dr_msg_cb called) by rd_kafka_poll(), so a
 * dedicated thread polls for as long as the producer is open.
 *
 * The sender and the delivery report meet in a struct send_wait passed as the
 * message's opaque. The wait is bounded by the caller's timeout, which may be
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
};

struct send_wait {
    pthread_mutex_t lock;       /* guards the three fields below */
    pthread_cond_t cond;        /* signalled when DONE is set; uses CLOCK_MONOTONIC */
    bool done;                  /* the delivery report arrived */
    rd_kafka_resp_err_t err;    /* its verdict: NO_ERROR when the broker stored the message */
    int refs;                   /* 2 while both the sender and librdkafka hold it */
};

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
 * It records the verdict, wakes the sender and lets go of the wait. */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkmessage, void *opaque)
{
    struct send_wait *w = rkmessage->_private;   /* the RD_KAFKA_V_OPAQUE of the send */

    (void)rk;
    (void)opaque;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    w->err = rkmessage->err;
    pthread_cond_signal(&w->cond);
    send_wait_release_locked(w);
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

/* create_topic makes TOPIC with PARTITIONS partitions (replication factor 1:
 * the lab has one broker) through the Admin API, waiting at most TIMEOUT_MS
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

    if (!(newt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof errstr))) {
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

/* queue_producer_open configures the idempotent producer, checks that the
 * broker answers within TIMEOUT_MS, creates the topic if the broker's
 * metadata does not list it (a topic that exists is left as it is, partition
 * count included) and starts the poller. TIMEOUT_MS is also message.timeout.ms: no message is tried for
 * longer than a booking is willing to wait for it. */
struct queue_producer *queue_producer_open(const char *brokers, const char *topic,
                                           int partitions, int timeout_ms,
                                           char *err, size_t err_len)
{
    struct queue_producer *q;
    rd_kafka_conf_t *conf;     /* configuration, owned by rd_kafka_new() once it succeeds */
    char errstr[512];          /* librdkafka's reason when rd_kafka_new() fails */
    char timeout[16];          /* TIMEOUT_MS as text, for message.timeout.ms */
    uint64_t deadline;         /* when TIMEOUT_MS is up, in lab_now_us() time */
    int left;                  /* what is left of it for the topic creation */
    int existing;              /* partitions of TOPIC if it exists already, else 0 */

    if (!brokers || !*brokers || !topic || !*topic || partitions < 1 || timeout_ms < 1) {
        snprintf(err, err_len, "bad Kafka arguments (brokers, topic, partitions >= 1, timeout)");
        return NULL;
    }
    deadline = lab_now_us() + (uint64_t)timeout_ms * 1000;
    if (!(conf = conf_new(brokers, err, err_len)))
        return NULL;
    snprintf(timeout, sizeof timeout, "%d", timeout_ms);
    /* Idempotence makes librdkafka's retries safe (no duplicate, no
     * reordering) and implies acks=all, set anyway to say so: a message is
     * stored only once every in-sync replica has it. linger.ms=1 keeps
     * batching short, since each booking waits for its acknowledgement. */
    if (!conf_set(conf, "enable.idempotence", "true", err, err_len) ||
        !conf_set(conf, "acks", "all", err, err_len) ||
        !conf_set(conf, "linger.ms", "1", err, err_len) ||
        !conf_set(conf, "message.timeout.ms", timeout, err, err_len)) {
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
    if (!broker_check(q->rk, brokers, topic, &existing, timeout_ms, err, err_len))
        goto fail;
    if (existing > 0 && existing != partitions)
        lab_log("queue: topic %s exists with %d partition(s), not %d: kept as it is", topic,
                existing, partitions);
    if ((left = deadline_left(deadline)) < 1)
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

/* queue_send encodes B, produces it keyed by its event id (so that one
 * partition, hence one consumer, sees every booking of an event, in order)
 * and waits for its delivery report at most TIMEOUT_MS. A refusal by
 * rd_kafka_producev() itself (local queue full, unknown topic, fatal
 * idempotence error) is reported at once, without waiting. */
enum lab_status queue_send(struct queue_producer *q, const struct booking *b, int timeout_ms,
                           char *err, size_t err_len)
{
    char payload[QUEUE_MSG_MAX];   /* the JSON; librdkafka copies it (MSG_F_COPY) */
    char key[24];                  /* the event id in decimal */
    int n, rc = 0;
    struct send_wait *w;           /* shared with dr_msg_cb, see the banner above */
    rd_kafka_resp_err_t kerr;      /* producev's own verdict, then the delivery report's */
    struct timespec deadline;
    enum lab_status st;

    if ((n = queue_encode(b, payload, sizeof payload)) < 0) {
        snprintf(err, err_len, "booking cannot be encoded (bad id or request id)");
        return LAB_ERR_QUEUE;
    }
    snprintf(key, sizeof key, "%lld", b->event_id);
    if (!(w = send_wait_new())) {
        snprintf(err, err_len, "out of memory");
        return LAB_ERR_QUEUE;
    }
    kerr = rd_kafka_producev(q->rk, RD_KAFKA_V_RKT(q->rkt),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, strlen(key)),
                             RD_KAFKA_V_VALUE(payload, (size_t)n),
                             RD_KAFKA_V_OPAQUE(w),
                             RD_KAFKA_V_END);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* Not enqueued: no delivery report will come, the wait is ours. */
        send_wait_free(w);
        snprintf(err, err_len, "Kafka refused request %s: %s", b->request_id,
                 rd_kafka_err2str(kerr));
        return LAB_ERR_QUEUE;
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
    } else if (w->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, err_len, "Kafka did not store request %s: %s", b->request_id,
                 rd_kafka_err2str(w->err));
        st = LAB_ERR_QUEUE;
    } else {
        st = LAB_OK;
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
                                           const char *group, char *err, size_t err_len)
{
    struct queue_consumer *c;
    rd_kafka_conf_t *conf;                        /* owned by rd_kafka_new() once it succeeds */
    rd_kafka_topic_partition_list_t *subscription; /* the one topic we subscribe to */
    rd_kafka_resp_err_t kerr;                     /* rd_kafka_subscribe()'s verdict */
    char errstr[512];                             /* librdkafka's reason when rd_kafka_new() fails */

    if (!brokers || !*brokers || !topic || !*topic || !group || !*group) {
        snprintf(err, err_len, "bad Kafka arguments (brokers, topic, group)");
        return NULL;
    }
    if (!(conf = conf_new(brokers, err, err_len)))
        return NULL;
    /* No automatic commit and no automatic offset store: the only commits
     * are queue_done()'s. Without a committed offset (a new group), start at
     * the beginning of the topic, so that no booking sent before the worker
     * started is missed. */
    if (!conf_set(conf, "group.id", group, err, err_len) ||
        !conf_set(conf, "enable.auto.commit", "false", err, err_len) ||
        !conf_set(conf, "enable.auto.offset.store", "false", err, err_len) ||
        !conf_set(conf, "auto.offset.reset", "earliest", err, err_len) ||
        /* A worker started on its own (--role worker) may subscribe before
         * the API has created the topic; librdkafka finds a new topic at its
         * next metadata refresh, every 5 minutes by default: every second. */
        !conf_set(conf, "topic.metadata.refresh.interval.ms", "1000", err, err_len)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (!(c = calloc(1, sizeof *c))) {
        snprintf(err, err_len, "out of memory");
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr))) {
        snprintf(err, err_len, "cannot create the Kafka consumer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    conf = NULL;                                  /* now owned by c->rk */
    if (!broker_check(c->rk, brokers, NULL, NULL, QUEUE_CONSUMER_CHECK_MS, err, err_len)) {
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
        if (!(rkm = rd_kafka_consumer_poll(c->rk, deadline_left(deadline))))
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
        if (deadline_left(deadline) == 0)
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
 * be delivered again, which the consumer's redelivery check absorbs. */
enum lab_status queue_done(struct queue_consumer *c, struct queue_message *m)
{
    rd_kafka_resp_err_t kerr = rd_kafka_commit_message(c->rk, m->rkm, 0);

    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        lab_log("queue: cannot commit %s [%" PRId32 "] offset %" PRId64 ": %s",
                rd_kafka_topic_name(m->rkm->rkt), m->rkm->partition, m->rkm->offset,
                rd_kafka_err2str(kerr));
    rd_kafka_message_destroy(m->rkm);
    free(m);
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

/* queue_consumer_close leaves the group (its partitions go to the other
 * workers at once, rather than after the session timeout) and destroys the
 * handle. Every message must have been given to queue_done or queue_drop. */
void queue_consumer_close(struct queue_consumer *c)
{
    rd_kafka_resp_err_t kerr;

    if (!c)
        return;
    if ((kerr = rd_kafka_consumer_close(c->rk)) != RD_KAFKA_RESP_ERR_NO_ERROR)
        lab_log("queue: closing the consumer: %s", rd_kafka_err2str(kerr));
    rd_kafka_destroy(c->rk);
    free(c);
}
