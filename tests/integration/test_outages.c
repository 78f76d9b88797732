/* test_outages.c -- what a phase answers when a backing service is gone:
 * phase 5 with Kafka stopped answers 503 with a reason, within its queue
 * timeout, instead of hanging or pretending with a 202; phase 4 (and 6) with
 * Redis stopped answer a clear 503. Each test then starts the stopped
 * service again and checks that the phase recovers without a restart.
 *
 * Phase 6 with Kafka stopped also shows that no seat leaks from the gate:
 * a request that passed the gate and that the broker never acknowledged is
 * answered 503 when the producer gives up on it, and gives its seat back.
 *
 * Phases 5 and 6 answer every booking within --queue-timeout-ms and a
 * stated margin, with Kafka up, stopped, and just started again.
 *
 * These tests stop and start the lab's real Redis and Kafka through
 * infra/services.sh, so they run alone (tests/run.sh runs tests one by one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "lab.h"
#include "support.h"

/* The service gives Kafka this long to acknowledge; the test's HTTP client
 * waits three times as long, so a hang shows as a -1, not as a 503. */
#define QUEUE_TIMEOUT_MS "2000"
#define CLIENT_TIMEOUT_MS 6000
#define RECOVERY_TRIES 30

struct outage_case {
    int phase;
    const char *backing;        /* the service to stop: "redis" or "kafka" */
    int ok_status;              /* the phase's success: 201 or 202 */
    struct svc svc;
};

static int start_service(void **state)
{
    static const char *const args[] = { "--queue-timeout-ms", QUEUE_TIMEOUT_MS, NULL };
    struct outage_case *c = *state;

    return svc_start(&c->svc, c->phase, args) ? 0 : -1;
}

/* stop_service makes sure the backing service is up again (whatever the
 * test did), then stops the phase: a non-zero exit is a sanitizer report. */
static int stop_service(void **state)
{
    struct outage_case *c = *state;
    int up = services_ctl("up", c->backing);

    return svc_stop(&c->svc) == 0 && up == 0 ? 0 : -1;
}

/* book sends one booking for a fresh user and returns the HTTP status. */
static int book(const struct outage_case *c, long long user, char *body, size_t len)
{
    char target[128];

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%lld", user);
    return http_call(c->svc.addr, "POST", target, NULL, NULL, body, len, CLIENT_TIMEOUT_MS);
}

/* backing_outage: reset, book once (works), stop the backing service, book
 * again (503 with a reason naming it), start it again, and book until the
 * phase has reconnected (each try bounded by the timeouts above). */
static void backing_outage(void **state)
{
    struct outage_case *c = *state;
    char body[1024];
    int status = 0;

    assert_int_equal(http_call(c->svc.addr, "POST", "/api/admin/reset?eventId=1&seats=100", NULL,
                               NULL, body, sizeof body, CLIENT_TIMEOUT_MS), 200);
    assert_int_equal(book(c, 1, body, sizeof body), c->ok_status);

    assert_int_equal(services_down(c->backing), 0);
    status = book(c, 2, body, sizeof body);
    print_message("phase %d with %s down: %d %s\n", c->phase, c->backing, status, body);
    assert_int_equal(status, 503);
    assert_non_null(strstr(body, "\"reason\":"));
    assert_non_null(strstr(body, strcmp(c->backing, "redis") == 0 ? "Redis" : "Kafka"));
    if (c->phase == 4) {        /* the cache-aside read falls through to PostgreSQL */
        status = http_call(c->svc.addr, "GET", "/api/bookings/status?eventId=1", NULL, NULL,
                           body, sizeof body, CLIENT_TIMEOUT_MS);
        print_message("status with redis down: %d %s\n", status, body);
        assert_int_equal(status, 200);
        assert_non_null(strstr(body, "\"source\":\"db\""));
    }
    assert_int_equal(http_call(c->svc.addr, "GET", "/healthz", NULL, NULL, body, sizeof body,
                               CLIENT_TIMEOUT_MS), 200);

    assert_int_equal(services_ctl("up", c->backing), 0);
    for (int i = 0; i < RECOVERY_TRIES && status != c->ok_status; i++)
        status = book(c, 3 + i, body, sizeof body);
    print_message("phase %d after %s came back: %d %s\n", c->phase, c->backing, status, body);
    assert_int_equal(status, c->ok_status);
}

/* ---------------------------------------------------------------------- */
/* Phase 6: seats of requests that were never run go back to the gate        */
/* ---------------------------------------------------------------------- */

#define UNDO_USERS 20

struct undo_try {
    const struct svc *s;
    pthread_barrier_t *start;
    int user, status;
    char body[512];
};

static void *undo_book(void *arg)
{
    struct undo_try *t = arg;
    char target[128];

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%d&requestId=undo-%d",
             t->user, t->user);
    pthread_barrier_wait(t->start);
    t->status = http_call(t->s->addr, "POST", target, NULL, NULL, t->body, sizeof t->body,
                          CLIENT_TIMEOUT_MS * 4);
    return NULL;
}

/* A 300 ms queue timeout, Kafka stopped: UNDO_USERS requests sent together
 * each take a seat from the gate, are handed to the producer, and are
 * answered 503 when it gives up on them (its delivery report, after 300
 * ms). Once Kafka is back, the gate must hold all 100 seats again
 * (cacheDrift 0; -1 per request whose seat was not given back). */
static void phase6_unacknowledged_requests_give_seats_back(void **state)
{
    static const char *const args[] = { "--queue-timeout-ms", "300", NULL };
    struct svc *s = *state;
    struct undo_try t[UNDO_USERS];
    pthread_t th[UNDO_USERS];
    pthread_barrier_t start;
    char body[1024];
    long long v;
    int unacknowledged = 0;

    assert_true(svc_start(s, 6, args));
    assert_int_equal(http_call(s->addr, "POST", "/api/admin/reset?eventId=1&seats=100", NULL,
                               NULL, body, sizeof body, CLIENT_TIMEOUT_MS), 200);
    assert_int_equal(services_down("kafka"), 0);
    pthread_barrier_init(&start, NULL, UNDO_USERS);
    for (int i = 0; i < UNDO_USERS; i++) {
        t[i] = (struct undo_try){ .s = s, .start = &start, .user = i + 1 };
        assert_int_equal(pthread_create(&th[i], NULL, undo_book, &t[i]), 0);
    }
    for (int i = 0; i < UNDO_USERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].status, 503);
        unacknowledged += strstr(t[i].body, "Kafka did not acknowledge") != NULL;
    }
    pthread_barrier_destroy(&start);
    print_message("phase 6, Kafka down: %d of %d answered 503 unacknowledged\n",
                  unacknowledged, UNDO_USERS);
    assert_int_equal(unacknowledged, UNDO_USERS);     /* the path under test was taken */
    assert_int_equal(services_ctl("up", "kafka"), 0);
    assert_int_equal(http_call(s->addr, "GET", "/api/bookings/audit?eventId=1", NULL, NULL, body,
                               sizeof body, CLIENT_TIMEOUT_MS), 200);
    print_message("audit: %s\n", body);
    assert_true(json_ll(body, "cacheDrift", &v));
    assert_int_equal(v, 0);
    assert_true(json_ll(body, "cacheAvailable", &v));
    assert_int_equal(v, 100);
}

/* ---------------------------------------------------------------------- */
/* Phases 5 and 6: every answer within --queue-timeout-ms and a margin      */
/* ---------------------------------------------------------------------- */

/* The promise: no booking waits longer than --queue-timeout-ms plus
 * BOUND_MARGIN_MS for its answer, Kafka up, down or coming back. The margin
 * covers what the deadline does not: the service's clock thread waking
 * late, the polling thread writing the answer, this client's threads
 * scheduled late on a loaded 2-core machine. Before the clock thread an
 * answer with Kafka down came up to 7.6 s after a 5 s deadline. */
#define BOUND_TIMEOUT_MS 1000
#define BOUND_MARGIN_MS 500
#define BOUND_USERS 40

struct timed_try {
    const struct svc *s;
    pthread_barrier_t *start;
    long long user;
    int status;
    uint64_t took_us;
    char body[512];
};

/* timed_book sends one booking when every thread of its burst is ready and
 * notes its status and how long the answer took, connect included. */
static void *timed_book(void *arg)
{
    struct timed_try *t = arg;
    char target[128];
    uint64_t t0;

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%lld", t->user);
    pthread_barrier_wait(t->start);
    t0 = lab_now_us();
    /* the client waits far past the bound: a late answer is measured, not lost */
    t->status = http_call(t->s->addr, "POST", target, NULL, NULL, t->body, sizeof t->body,
                          10 * (BOUND_TIMEOUT_MS + BOUND_MARGIN_MS));
    t->took_us = lab_now_us() - t0;
    return NULL;
}

/* bounded_burst sends BOUND_USERS bookings at once (users FIRST_USER on)
 * and asserts that each was answered, with one of the statuses OK_A or
 * OK_B, within the bound; it returns how many got OK_A. */
static int bounded_burst(const struct svc *s, const char *what, long long first_user, int ok_a,
                         int ok_b)
{
    struct timed_try t[BOUND_USERS];
    pthread_t th[BOUND_USERS];
    pthread_barrier_t start;
    uint64_t slowest = 0;
    int got_a = 0;

    pthread_barrier_init(&start, NULL, BOUND_USERS);
    for (int i = 0; i < BOUND_USERS; i++) {
        t[i] = (struct timed_try){ .s = s, .start = &start, .user = first_user + i };
        assert_int_equal(pthread_create(&th[i], NULL, timed_book, &t[i]), 0);
    }
    for (int i = 0; i < BOUND_USERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < BOUND_USERS; i++) {
        if (t[i].took_us > slowest)
            slowest = t[i].took_us;
        got_a += t[i].status == ok_a;
    }
    print_message("phase %d, %s: %d of %d answered %d, slowest %.0f ms (bound %d + %d ms)\n",
                  s->phase, what, got_a, BOUND_USERS, ok_a, slowest / 1000.0, BOUND_TIMEOUT_MS,
                  BOUND_MARGIN_MS);
    for (int i = 0; i < BOUND_USERS; i++) {
        if (t[i].status != ok_a && t[i].status != ok_b)
            fail_msg("user %lld: %d %s", t[i].user, t[i].status, t[i].body);
        if (t[i].took_us > (uint64_t)(BOUND_TIMEOUT_MS + BOUND_MARGIN_MS) * 1000)
            fail_msg("user %lld: answered %d after %.0f ms, past %d + %d ms", t[i].user,
                     t[i].status, t[i].took_us / 1000.0, BOUND_TIMEOUT_MS, BOUND_MARGIN_MS);
    }
    return got_a;
}

/* answers_within_deadline: a burst with Kafka up (202, or 503 at the
 * deadline while the new topic is being made), a burst with Kafka stopped
 * (every one 503), a burst right after it is started again (202 or 503),
 * each answer within the bound; then bookings until one is 202 again. */
static void answers_within_deadline(void **state)
{
    static const char *const args[] = { "--queue-timeout-ms", "1000", NULL };
    struct outage_case *c = *state;
    char body[1024];
    int status = 0;

    assert_true(svc_start(&c->svc, c->phase, args));
    assert_int_equal(http_call(c->svc.addr, "POST", "/api/admin/reset?eventId=1&seats=1000", NULL,
                               NULL, body, sizeof body, CLIENT_TIMEOUT_MS), 200);
    bounded_burst(&c->svc, "Kafka up", 1, 202, 503);
    assert_int_equal(services_down("kafka"), 0);
    assert_int_equal(bounded_burst(&c->svc, "Kafka down", 1001, 503, 503), BOUND_USERS);
    assert_int_equal(services_ctl("up", "kafka"), 0);
    bounded_burst(&c->svc, "Kafka just started", 2001, 202, 503);
    for (int i = 0; i < RECOVERY_TRIES && status != 202; i++)
        status = book(c, 3001 + i, body, sizeof body);
    assert_int_equal(status, 202);
}

/* stop_bounded starts Kafka again whatever the test did, then stops the
 * phase: a non-zero exit is a sanitizer report. */
static int stop_bounded(void **state)
{
    struct outage_case *c = *state;
    int up = services_ctl("up", "kafka");

    return (c->svc.pid <= 0 || svc_stop(&c->svc) == 0) && up == 0 ? 0 : -1;
}

static int stop_undo(void **state)
{
    struct svc *s = *state;
    int up = services_ctl("up", "kafka");

    return (s->pid <= 0 || svc_stop(s) == 0) && up == 0 ? 0 : -1;
}

int main(void)
{
    static struct svc undo6;
    static struct outage_case bounded5 = { .phase = 5, .backing = "kafka", .ok_status = 202 },
                              bounded6 = { .phase = 6, .backing = "kafka", .ok_status = 202 };
    static struct outage_case kafka5 = { .phase = 5, .backing = "kafka", .ok_status = 202 },
                              redis4 = { .phase = 4, .backing = "redis", .ok_status = 201 },
                              redis6 = { .phase = 6, .backing = "redis", .ok_status = 202 };
    const struct CMUnitTest tests[] = {
        { "phase5_kafka_down_is_503", backing_outage, start_service, stop_service, &kafka5 },
        { "phase4_redis_down_is_503", backing_outage, start_service, stop_service, &redis4 },
        { "phase6_redis_down_is_503", backing_outage, start_service, stop_service, &redis6 },
        { "phase6_unacknowledged_requests_give_seats_back", phase6_unacknowledged_requests_give_seats_back, NULL,
          stop_undo, &undo6 },
        { "phase5_answers_within_deadline", answers_within_deadline, NULL, stop_bounded,
          &bounded5 },
        { "phase6_answers_within_deadline", answers_within_deadline, NULL, stop_bounded,
          &bounded6 },
    };
    return cmocka_run_group_tests_name("outages", tests, NULL, NULL);
}
