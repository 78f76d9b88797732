/* test_queue.c -- the queue_*.c modules against a real Kafka broker (LAB_KAFKA, by default
 * the lab's 127.0.0.1:19092), plus the failure cases.
 *
 *   - bookings sent from several threads at once are all acknowledged, read
 *     back by a consumer with the right contents, and committed: a second
 *     consumer of the same group is given nothing but what came after;
 *   - a message that is not a booking is skipped, not handed out;
 *   - a producer or consumer pointed at a closed port fails, in bounded
 *     time, with a reason;
 *   - queue_send() to a broker that went away fails within its timeout.
 *     A real broker cannot be stopped from inside a test, so this case runs
 *     against librdkafka's mock cluster (rdkafka_mock.h), a broker in the
 *     test's own process that can be told to go down.
 *
 * Every wait is a bounded poll; nothing sleeps for a fixed time. Every
 * librdkafka handle is destroyed, which rd_kafka_wait_destroyed() checks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clients/queue.h"

#define N_BOOKINGS 50
#define N_THREADS 4
#define N_EVENTS 5                 /* keys: spread the bookings over the partitions */
#define PARTITIONS 3
#define OPEN_TIMEOUT_MS 10000
#define SEND_TIMEOUT_MS 10000
#define READ_DEADLINE_MS 30000     /* a group join plus 50 messages take far less */
#define QUIET_MS 2000              /* how long "nothing more" is watched for */
#define CLOSED_PORT "127.0.0.1:1"
#define CLOSED_TIMEOUT_MS 2000
#define GONE_TIMEOUT_MS 1500

static const char *brokers;        /* LAB_KAFKA */

/*-----------------------------------------------------------------------------
 * Helpers
 *----------------------------------------------------------------------------*/

/* elapsed_ms: milliseconds since SINCE_US, a lab_now_us() time. */
static long long elapsed_ms(uint64_t since_us)
{
    return (long long)((lab_now_us() - since_us) / 1000);
}

/* booking_number gives the booking sent as number I of this run. */
static struct booking booking_number(int i)
{
    struct booking b;

    memset(&b, 0, sizeof b);
    b.event_id = 1 + i % N_EVENTS;
    b.user_id = 1000 + i;
    snprintf(b.request_id, sizeof b.request_id, "req-%ld-%d", (long)getpid(), i);
    return b;
}

/* booking_index finds which booking of this run B is, or -1. */
static int booking_index(const struct booking *b)
{
    char prefix[32];
    size_t n = (size_t)snprintf(prefix, sizeof prefix, "req-%ld-", (long)getpid());
    long long i;

    if (strncmp(b->request_id, prefix, n) != 0 || !parse_long(b->request_id + n, 0, 1000000, &i))
        return -1;
    return (int)i;
}

/* produce_raw puts TEXT on TOPIC with a bare librdkafka producer, bypassing
 * the codec: the way a message that is not a booking gets there. */
static void produce_raw(const char *topic, const char *text)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();   /* owned by rd_kafka_new() */
    rd_kafka_t *rk;                                /* the bare producer */
    rd_kafka_resp_err_t kerr;
    char errstr[512];

    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    kerr = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_VALUE((void *)text, strlen(text)), RD_KAFKA_V_END);
    assert_int_equal(kerr, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_flush(rk, SEND_TIMEOUT_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

/* A sender thread sends COUNT bookings, numbers FIRST, FIRST + 1, ... */
struct sender {
    struct queue_producer *q;
    int first, count;
    int failures;                  /* sends that did not return LAB_OK */
    char err[256];                 /* the reason of the last failure */
    pthread_t thread;
};

/* sender_run is a sender thread's body: its bookings, one after the other,
 * each waiting for its acknowledgement, as an HTTP thread would. */
static void *sender_run(void *arg)
{
    struct sender *s = arg;
    struct booking b;
    int i;

    for (i = s->first; i < s->first + s->count; i++) {
        b = booking_number(i);
        if (queue_send(s->q, &b, SEND_TIMEOUT_MS, s->err, sizeof s->err) != LAB_OK)
            s->failures++;
    }
    return NULL;
}

/*-----------------------------------------------------------------------------
 * Against the real broker
 *----------------------------------------------------------------------------*/

/* The whole path of a booking through Kafka, then the proof that the
 * commits hold: the second consumer of the group, started after the first
 * closed, must be given the one booking sent after that, and nothing else. */
static void test_send_consume_commit(void **state)
{
    struct sender senders[N_THREADS];
    struct queue_producer *q;
    struct queue_consumer *c;
    struct queue_message *m;
    struct booking b, want, last;
    char topic[64], group[64], err[256];
    bool seen[N_BOOKINGS + 1] = { false };
    int i, n, got = 0, sent = 0;
    uint64_t t0;

    (void)state;
    snprintf(topic, sizeof topic, "test-queue-%ld", (long)getpid());
    snprintf(group, sizeof group, "test-queue-group-%ld", (long)getpid());

    err[0] = '\0';
    t0 = lab_now_us();
    q = queue_producer_open(brokers, topic, PARTITIONS, OPEN_TIMEOUT_MS, QUEUE_LINGER_MS_DEFAULT,
                            QUEUE_ACKS_ALL, err, sizeof err);
    if (!q)
        fail_msg("cannot open the producer on %s (is Kafka up? bash infra/services.sh up kafka): %s",
                 brokers, err);
    print_message("producer open on %s, topic %s: %lld ms\n", brokers, topic, elapsed_ms(t0));

    /* A stray message first: the consumer must skip it. */
    produce_raw(topic, "this is not a booking");

    /* 50 bookings from 4 threads at once. */
    t0 = lab_now_us();
    for (i = 0; i < N_THREADS; i++) {
        n = N_BOOKINGS / N_THREADS + (i < N_BOOKINGS % N_THREADS);
        senders[i] = (struct sender){ .q = q, .first = sent, .count = n };
        sent += n;
        assert_int_equal(pthread_create(&senders[i].thread, NULL, sender_run, &senders[i]), 0);
    }
    assert_int_equal(sent, N_BOOKINGS);
    for (i = 0; i < N_THREADS; i++) {
        pthread_join(senders[i].thread, NULL);
        if (senders[i].failures)
            fail_msg("thread %d: %d send(s) failed, last: %s", i, senders[i].failures,
                     senders[i].err);
    }
    print_message("%d bookings acknowledged from %d threads in %lld ms\n", N_BOOKINGS, N_THREADS,
                  elapsed_ms(t0));

    /* Read them all back, each exactly once, and commit each. */
    c = queue_consumer_open(brokers, topic, group, 0, err, sizeof err);
    if (!c)
        fail_msg("cannot open the consumer: %s", err);
    t0 = lab_now_us();
    while (got < N_BOOKINGS && elapsed_ms(t0) < READ_DEADLINE_MS) {
        if (!(m = queue_next(c, &b, 500)))
            continue;
        i = booking_index(&b);
        if (i < 0 || i >= N_BOOKINGS)
            fail_msg("unexpected booking %s", b.request_id);
        if (seen[i])
            fail_msg("booking %s delivered twice", b.request_id);
        want = booking_number(i);
        assert_int_equal(b.event_id, want.event_id);
        assert_int_equal(b.user_id, want.user_id);
        assert_string_equal(b.request_id, want.request_id);
        seen[i] = true;
        got++;
        assert_int_equal(queue_done(c, m), LAB_OK);
    }
    queue_consumer_close(c);
    if (got != N_BOOKINGS)
        fail_msg("read back %d of %d bookings in %d ms", got, N_BOOKINGS, READ_DEADLINE_MS);
    print_message("%d bookings read back and committed in %lld ms\n", got, elapsed_ms(t0));

    /* One more booking, then a new consumer of the same group: it starts at
     * the committed offsets, so this booking is all it may see. */
    last = booking_number(N_BOOKINGS);
    assert_int_equal(queue_send(q, &last, SEND_TIMEOUT_MS, err, sizeof err), LAB_OK);
    c = queue_consumer_open(brokers, topic, group, 0, err, sizeof err);
    if (!c)
        fail_msg("cannot open the second consumer: %s", err);
    t0 = lab_now_us();
    got = 0;
    while (!seen[N_BOOKINGS] && elapsed_ms(t0) < READ_DEADLINE_MS) {
        if (!(m = queue_next(c, &b, 500)))
            continue;
        i = booking_index(&b);
        if (i != N_BOOKINGS)
            fail_msg("second consumer was given %s again: offsets not committed", b.request_id);
        assert_int_equal(b.event_id, last.event_id);
        assert_int_equal(b.user_id, last.user_id);
        seen[N_BOOKINGS] = true;
        assert_int_equal(queue_done(c, m), LAB_OK);
    }
    if (!seen[N_BOOKINGS])
        fail_msg("second consumer did not get the new booking in %d ms", READ_DEADLINE_MS);
    print_message("second consumer got only the new booking, after %lld ms\n", elapsed_ms(t0));
    /* ... and nothing else for QUIET_MS, polled in bounded steps. */
    t0 = lab_now_us();
    while (elapsed_ms(t0) < QUIET_MS) {
        if ((m = queue_next(c, &b, 200))) {
            queue_drop(m);
            fail_msg("second consumer was given %s: offsets not committed", b.request_id);
        }
    }
    queue_consumer_close(c);
    queue_producer_close(q);
}

/* queue_send() returns at once, with LAB_ERR_QUEUE, for a booking that must
 * not go on the wire, and the producer is still usable afterwards. */
static void test_send_refuses_bad_booking(void **state)
{
    struct queue_producer *q;
    struct booking b;
    char topic[64], err[256];

    (void)state;
    snprintf(topic, sizeof topic, "test-queue-%ld", (long)getpid());
    q = queue_producer_open(brokers, topic, PARTITIONS, OPEN_TIMEOUT_MS, QUEUE_LINGER_MS_DEFAULT,
                            QUEUE_ACKS_ALL, err, sizeof err);
    if (!q)
        fail_msg("cannot open the producer: %s", err);
    b = booking_number(0);
    b.event_id = 0;
    err[0] = '\0';
    assert_int_equal(queue_send(q, &b, SEND_TIMEOUT_MS, err, sizeof err), LAB_ERR_QUEUE);
    assert_true(err[0] != '\0');
    queue_producer_close(q);
}

/*-----------------------------------------------------------------------------
 * Failures
 *----------------------------------------------------------------------------*/

/* Nothing listens on port 1: the producer must give up within its timeout
 * (plus scheduling slack) and name the address it tried. */
static void test_producer_closed_port(void **state)
{
    struct queue_producer *q;
    char err[256] = "";
    uint64_t t0 = lab_now_us();
    long long took;

    (void)state;
    q = queue_producer_open(CLOSED_PORT, "test-queue-closed", 1, CLOSED_TIMEOUT_MS,
                            QUEUE_LINGER_MS_DEFAULT, QUEUE_ACKS_ALL, err, sizeof err);
    took = elapsed_ms(t0);
    if (q) {
        queue_producer_close(q);
        fail_msg("producer opened against %s", CLOSED_PORT);
    }
    print_message("producer open against %s failed after %lld ms: %s\n", CLOSED_PORT, took, err);
    assert_true(took <= CLOSED_TIMEOUT_MS + 1000);
    assert_non_null(strstr(err, CLOSED_PORT));
    assert_non_null(strstr(err, "did not answer"));
}

/* The consumer's own reachability check, bounded by a constant of queue_consumer.c. */
static void test_consumer_closed_port(void **state)
{
    struct queue_consumer *c;
    char err[256] = "";
    uint64_t t0 = lab_now_us();
    long long took;

    (void)state;
    c = queue_consumer_open(CLOSED_PORT, "test-queue-closed", "test-queue-closed", 0, err,
                            sizeof err);
    took = elapsed_ms(t0);
    if (c) {
        queue_consumer_close(c);
        fail_msg("consumer opened against %s", CLOSED_PORT);
    }
    print_message("consumer open against %s failed after %lld ms: %s\n", CLOSED_PORT, took, err);
    assert_true(took <= 5000 + 1000);
    assert_non_null(strstr(err, CLOSED_PORT));
}

/* A broker that answered at open and then went away: queue_send() must
 * answer LAB_ERR_QUEUE within its timeout. Run twice: with the producer's
 * own timeout (the delivery report and the wait end together), and with a
 * much shorter one, where the report comes after queue_send() returned
 * and must find its wait still alive (AddressSanitizer watches). */
static void test_send_broker_gone(void **state)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();   /* owned by rd_kafka_new() */
    rd_kafka_t *mrk;                               /* the handle that owns the mock cluster */
    rd_kafka_mock_cluster_t *mc;                   /* a one-broker cluster in this process */
    struct queue_producer *q;
    struct booking b = booking_number(0);
    char errstr[512], err[256];
    uint64_t t0;
    long long took;

    (void)state;
    assert_int_equal(rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(mrk);
    mc = rd_kafka_mock_cluster_new(mrk, 1);
    assert_non_null(mc);
    /* The mock has no Admin API: the topic is made here, and then
     * queue_producer_open() finds it in the metadata and creates nothing. */
    assert_int_equal(rd_kafka_mock_topic_create(mc, "test-queue-gone", 1, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);

    q = queue_producer_open(rd_kafka_mock_cluster_bootstraps(mc), "test-queue-gone", 1,
                            GONE_TIMEOUT_MS, QUEUE_LINGER_MS_DEFAULT, QUEUE_ACKS_ALL, err, sizeof err);
    if (!q)
        fail_msg("cannot open the producer on the mock cluster: %s", err);
    assert_int_equal(queue_send(q, &b, GONE_TIMEOUT_MS, err, sizeof err), LAB_OK);

    assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);

    b = booking_number(1);
    err[0] = '\0';
    t0 = lab_now_us();
    assert_int_equal(queue_send(q, &b, GONE_TIMEOUT_MS, err, sizeof err), LAB_ERR_QUEUE);
    took = elapsed_ms(t0);
    print_message("send with the broker gone failed after %lld ms: %s\n", took, err);
    assert_true(took <= GONE_TIMEOUT_MS + 500);
    assert_true(err[0] != '\0');

    b = booking_number(2);
    err[0] = '\0';
    t0 = lab_now_us();
    assert_int_equal(queue_send(q, &b, 50, err, sizeof err), LAB_ERR_QUEUE);
    took = elapsed_ms(t0);
    print_message("send with a 50 ms timeout failed after %lld ms: %s\n", took, err);
    assert_true(took <= 50 + 500);

    /* Close waits for that late delivery report (message.timeout.ms). */
    t0 = lab_now_us();
    queue_producer_close(q);
    print_message("producer closed in %lld ms\n", elapsed_ms(t0));
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

/* main runs the tests against LAB_KAFKA, then checks that every librdkafka
 * handle is gone. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_consume_commit),
        cmocka_unit_test(test_send_refuses_bad_booking),
        cmocka_unit_test(test_producer_closed_port),
        cmocka_unit_test(test_consumer_closed_port),
        cmocka_unit_test(test_send_broker_gone),
    };
    int failed;

    lab_set_program("test_queue");
    brokers = lab_env("LAB_KAFKA", LAB_KAFKA_DEFAULT);
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* Every rd_kafka_t made above must be gone, threads included. */
    if (rd_kafka_wait_destroyed(5000) != 0) {
        fprintf(stderr, "librdkafka handles still alive after the tests\n");
        failed++;
    }
    return failed ? 1 : 0;
}
