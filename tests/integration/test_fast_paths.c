/* test_fast_paths.c -- the fast paths of issue 11 against the real services:
 *   - the consumer's batch booking (db_book_batch): a batch is decided in one
 *     transaction, all booked or all refused as the seats say, a request
 *     decided before (or twice in the batch) is never decided again;
 *   - phase 5 with --batch stays exact under the burst and the last seat;
 *   - phase 4's gate answers a refusal while the row lock is held and the
 *     only booking thread is waiting for it: the refusal never queues behind
 *     the lock. The lock is held by the test's own PostgreSQL session; the
 *     test waits for the service's backend to be seen waiting for it
 *     (pg_stat_activity), never for a length of time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "db_batch.h"
#include "support.h"

#define TEST_EVENT 911            /* an event of this test's own */

/* connect_db opens a session on LAB_PG or fails the test. */
static PGconn *connect_db(void)
{
    char err[256];
    PGconn *db = db_connect(lab_env("LAB_PG", LAB_PG_DEFAULT), err, sizeof err);

    if (!db)
        fail_msg("cannot reach PostgreSQL: %s", err);
    return db;
}

/* count runs SQL (one number) and returns it. */
static long long count(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    long long n;

    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* make_batch fills B with N bookings of EVENT, request ids PREFIX-i. */
static void make_batch(struct booking *b, size_t n, long long event, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (struct booking){ .event_id = event, .user_id = (long long)i + 1 };
        snprintf(b[i].request_id, sizeof b[i].request_id, "%s-%zu", prefix, i);
    }
}

/* ---------------------------------------------------------------------- */
/* db_book_batch                                                            */
/* ---------------------------------------------------------------------- */

/* Five seats, a batch of ten: the first five in order booked, the rest
 * refused and recorded; a copy of a request in the same batch and a request
 * for an event that does not exist are told apart. The same batch again (a
 * redelivery) decides nothing a second time. */
static void test_batch_mixed_and_redelivered(void **state)
{
    struct booking b[12];
    enum lab_status out[12];
    PGconn *db = connect_db();

    (void)state;
    assert_int_equal(db_reset(db, TEST_EVENT, 5), LAB_OK);
    make_batch(b, 10, TEST_EVENT, "batch-mixed");
    b[10] = b[3];                                   /* twice in the batch */
    b[11] = (struct booking){ .event_id = 99999911, .user_id = 1 };
    snprintf(b[11].request_id, sizeof b[11].request_id, "batch-mixed-nowhere");
    PQclear(PQexec(db, "DELETE FROM decisions WHERE request_id = 'batch-mixed-nowhere'"));

    assert_int_equal(db_book_batch(db, b, 12, out), LAB_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i], LAB_BOOKED);
    for (int i = 5; i < 10; i++)
        assert_int_equal(out[i], LAB_SOLD_OUT);
    assert_int_equal(out[10], LAB_DUPLICATE);
    assert_int_equal(out[11], LAB_NOT_FOUND);
    assert_int_equal(count(db, "SELECT count(*) FROM tickets WHERE event_id = 911"), 5);
    assert_int_equal(count(db, "SELECT available_seats FROM events WHERE id = 911"), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM decisions WHERE event_id = 911 "
                               "AND decision = 'sold_out'"), 5);
    assert_int_equal(count(db, "SELECT count(*) FROM decisions WHERE "
                               "request_id = 'batch-mixed-nowhere' AND decision = 'failed'"), 1);

    /* redelivered: every request was decided, nothing is written again */
    assert_int_equal(db_book_batch(db, b, 12, out), LAB_OK);
    for (int i = 0; i < 12; i++)
        assert_int_equal(out[i], LAB_DUPLICATE);
    assert_int_equal(count(db, "SELECT count(*) FROM tickets WHERE event_id = 911"), 5);
    assert_int_equal(count(db, "SELECT count(*) FROM decisions WHERE event_id = 911"), 5);
    PQclear(PQexec(db, "DELETE FROM decisions WHERE request_id = 'batch-mixed-nowhere'"));
    PQfinish(db);
}

/* All booked (seats to spare) and all refused (no seat): the two ends. */
static void test_batch_all_booked_all_refused(void **state)
{
    static struct booking b[DB_BATCH_MAX];
    static enum lab_status out[DB_BATCH_MAX];
    PGconn *db = connect_db();

    (void)state;
    assert_int_equal(db_reset(db, TEST_EVENT, 2000), LAB_OK);
    make_batch(b, DB_BATCH_MAX, TEST_EVENT, "batch-booked");
    assert_int_equal(db_book_batch(db, b, DB_BATCH_MAX, out), LAB_OK);
    for (int i = 0; i < DB_BATCH_MAX; i++)
        assert_int_equal(out[i], LAB_BOOKED);
    assert_int_equal(count(db, "SELECT count(*) FROM tickets WHERE event_id = 911"), DB_BATCH_MAX);
    assert_int_equal(count(db, "SELECT available_seats FROM events WHERE id = 911"),
                     2000 - DB_BATCH_MAX);

    assert_int_equal(db_reset(db, TEST_EVENT, 0), LAB_OK);
    make_batch(b, DB_BATCH_MAX, TEST_EVENT, "batch-refused");
    assert_int_equal(db_book_batch(db, b, DB_BATCH_MAX, out), LAB_OK);
    for (int i = 0; i < DB_BATCH_MAX; i++)
        assert_int_equal(out[i], LAB_SOLD_OUT);
    assert_int_equal(count(db, "SELECT count(*) FROM tickets WHERE event_id = 911"), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM decisions WHERE event_id = 911"),
                     DB_BATCH_MAX);
    assert_int_equal(count(db, "SELECT available_seats FROM events WHERE id = 911"), 0);
    assert_int_equal(db_reset(db, TEST_EVENT, 100), LAB_OK);
    PQfinish(db);
}

/* ---------------------------------------------------------------------- */
/* Phase 5 with --batch, through the harness                                */
/* ---------------------------------------------------------------------- */

/* expect_clean: one attack, audited clean, every seat sold. */
static void expect_clean(const struct svc *s, int users, int seats)
{
    char args[128], json[8192];
    long long v;

    snprintf(args, sizeof args, "--users %d --seats %d --expect-clean", users, seats);
    if (run_attack(s, args, json, sizeof json) != 0) {
        log_tail(s->log);       /* the service's side of the story */
        fail_msg("the attack was not clean: %.600s", json);
    }
    assert_true(json_ll(json, "sold", &v));
    assert_int_equal(v, seats);
    assert_true(json_ll(json, "lost", &v));
    assert_int_equal(v, 0);
    assert_true(json_ll(json, "mismatch", &v));
    assert_int_equal(v, 0);
}

/* The service of a test: started by the setup, stopped by the teardown, so
 * that a failed assertion still stops it. */
struct svc_case {
    int phase;
    const char *const *args;
    struct svc svc;
};

static int start_service(void **state)
{
    struct svc_case *c = *state;

    return svc_start(&c->svc, c->phase, c->args) ? 0 : -1;
}

static int stop_service(void **state)
{
    struct svc_case *c = *state;

    return svc_stop(&c->svc) == 0 ? 0 : -1;
}

static void test_phase5_batch_is_clean(void **state)
{
    struct svc_case *c = *state;

    expect_clean(&c->svc, 500, 100);
    expect_clean(&c->svc, 1000, 1);
}

/* ---------------------------------------------------------------------- */
/* Phase 4: a refusal is answered while the row lock is held                */
/* ---------------------------------------------------------------------- */

struct call {
    const char *addr;
    int status;
    char body[1024];
};

/* call_run books user 1 (the one seat): it waits for the test's lock. */
static void *call_run(void *arg)
{
    struct call *c = arg;

    c->status = http_call(c->addr, "POST", "/api/bookings?eventId=1&userId=1", NULL, NULL,
                          c->body, sizeof c->body, 30000);
    return NULL;
}

/* waiting_for_lock: how many backends of this database wait for a lock. */
static long long waiting_for_lock(PGconn *db)
{
    return count(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock'");
}

static void test_phase4_refusal_while_locked(void **state)
{
    struct svc_case *c = *state;
    const struct svc s = c->svc;
    struct call first = { .addr = s.addr };
    char body[1024];
    pthread_t t;
    PGconn *lock = connect_db();
    PGconn *watch = connect_db();
    int status;

    assert_int_equal(http_call(s.addr, "POST", "/api/admin/reset?eventId=1&seats=1", NULL, NULL,
                               body, sizeof body, 5000), 200);
    /* the test's session takes the event row's lock and keeps it */
    PQclear(PQexec(lock, "BEGIN"));
    PGresult *r = PQexec(lock, "SELECT available_seats FROM events WHERE id = 1 FOR UPDATE");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    /* user 1 passes the gate (the one seat) and its booking, on the only
     * booking thread, waits for the lock: seen in pg_stat_activity */
    assert_int_equal(pthread_create(&t, NULL, call_run, &first), 0);
    for (int polls = 0; waiting_for_lock(watch) < 1; polls++)
        if (polls > 200000)
            fail_msg("the booking never waited for the lock");
    /* user 2 is refused by the gate now, with the lock still held; the
     * figures are checked after the lock is let go, so that a failure
     * cannot leave the lock (and user 1) hanging */
    status = http_call(s.addr, "POST", "/api/bookings?eventId=1&userId=2", NULL, NULL, body,
                       sizeof body, 5000);
    long long still_waiting = waiting_for_lock(watch);
    PQclear(PQexec(lock, "ROLLBACK"));
    pthread_join(t, NULL);
    PQfinish(lock);
    PQfinish(watch);
    assert_int_equal(status, 409);
    assert_non_null(strstr(body, "\"status\":\"sold_out\""));
    assert_int_equal(still_waiting, 1);                 /* user 1 was still waiting */
    assert_int_equal(first.status, 201);
}

int main(void)
{
    static const char *const batch_args[] = { "--batch", "64", NULL };
    static const char *const one_thread[] = { "--threads", "1", "--think-ms", "0", NULL };
    static struct svc_case kafka = { .phase = 5, .args = batch_args },
                           redis = { .phase = 4, .args = one_thread };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_mixed_and_redelivered),
        cmocka_unit_test(test_batch_all_booked_all_refused),
        { "phase5_batch_is_clean", test_phase5_batch_is_clean, start_service, stop_service,
          &kafka },
        { "phase4_refusal_while_locked", test_phase4_refusal_while_locked, start_service,
          stop_service, &redis },
    };
    return cmocka_run_group_tests_name("fast_paths", tests, NULL, NULL);
}
