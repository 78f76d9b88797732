/* test_integrity.c -- the integrity of a sale (issue 14), against the real
 * services: a retry with the same request id costs nothing and gets the
 * first answer; a reset is isolated from the sale before it (a booking in
 * flight, queued messages of an earlier run); the per-user limit holds under
 * concurrency; phase 5 refuses an unknown event before queueing and the
 * result endpoint says what is stored; the admin endpoints want the token;
 * a header block larger than a connection's memory gets an answer.
 *
 * Races are made reliable without sleeping: the reset waits until the
 * database shows the booking's claim, and concurrent bookings start
 * together through a barrier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "db.h"
#include "lab.h"
#include "parse.h"
#include "support.h"
#include "support_db.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                  */
/* ---------------------------------------------------------------------- */


static int reset(const struct svc *s, const char *query, char *body, size_t len)
{
    char target[256];

    snprintf(target, sizeof target, "/api/admin/reset?%s", query);
    return http_call(s->addr, "POST", target, NULL, NULL, body, len, 10000);
}

static int book(const struct svc *s, long long user, const char *rid, char *body, size_t len)
{
    char target[256];

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%lld&requestId=%s", user,
             rid);
    return http_call(s->addr, "POST", target, NULL, NULL, body, len, 15000);
}

static void audit(const struct svc *s, char *body, size_t len)
{
    assert_int_equal(http_call(s->addr, "GET", "/api/bookings/audit?eventId=1", NULL, NULL, body,
                               len, 5000), 200);
}

/* ---------------------------------------------------------------------- */
/* 1. A retry is free                                                       */
/* ---------------------------------------------------------------------- */

/* Phase 6: 100 POSTs with one requestId take one seat from the gate; the
 * next buyer is queued, not refused, and the gate agrees with the database. */
static void retry_takes_one_seat_phase6(void **state)
{
    struct svc *const sp = &current;
    char body[2048], rid[64];
    long long v;
    PGconn *db = test_db();

    (void)state;
    assert_true(svc_start(sp, 6, NULL));
    assert_int_equal(reset(sp, "eventId=1&seats=100", body, sizeof body), 200);
    snprintf(rid, sizeof rid, "retry-%d", (int)getpid());
    for (int i = 0; i < 100; i++) {
        assert_int_equal(book(sp, 7, rid, body, sizeof body), 202);
        assert_true(json_has(body, "requestId", rid));
    }
    assert_int_equal(book(sp, 8, "retry-next", body, sizeof body), 202);
    wait_sql(db, "SELECT count(*) FROM tickets WHERE event_id = 1", 2);
    audit(sp, body, sizeof body);
    print_message("after 100 retries and one more buyer: %s\n", body);
    assert_true(json_ll(body, "sold", &v));
    assert_int_equal(v, 2);
    assert_true(json_ll(body, "cacheAvailable", &v));
    assert_int_equal(v, 98);                    /* the gate lost no seat */
    assert_true(json_has(body, "verdict", "clean"));
    /* the same id for another user is refused, and takes nothing */
    assert_int_equal(book(sp, 9, rid, body, sizeof body), 422);
    assert_non_null(strstr(body, "request_id_reused"));
    PQfinish(db);
}

struct same_id {
    const struct svc *s;
    pthread_barrier_t *start;
    int status;
    char body[1024];
};

static void *post_same_id(void *arg)
{
    struct same_id *a = arg;

    pthread_barrier_wait(a->start);
    a->status = book(a->s, 5, "same-id-together", a->body, sizeof a->body);
    return NULL;
}

/* Phase 4: 20 POSTs with one requestId at once: each is answered either
 * the first answer (201, the same ticket) or 409 in_progress, and one seat
 * is gone from both the gate and the database. */
static void concurrent_retries_take_one_seat_phase4(void **state)
{
    struct svc *const sp = &current;
    struct same_id a[20];
    pthread_t t[20];
    pthread_barrier_t start;
    char body[2048];
    long long v;
    int booked = 0, in_progress = 0;

    (void)state;
    assert_true(svc_start(sp, 4, NULL));
    assert_int_equal(reset(sp, "eventId=1&seats=100", body, sizeof body), 200);
    pthread_barrier_init(&start, NULL, 20);
    for (int i = 0; i < 20; i++) {
        a[i] = (struct same_id){ .s = sp, .start = &start };
        assert_int_equal(pthread_create(&t[i], NULL, post_same_id, &a[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        pthread_join(t[i], NULL);
        booked += a[i].status == 201;
        in_progress += a[i].status == 409 && json_has(a[i].body, "status", "in_progress");
    }
    pthread_barrier_destroy(&start);
    print_message("20 at once: %d answered booked, %d in_progress\n", booked, in_progress);
    assert_int_equal(booked + in_progress, 20);
    assert_true(booked >= 1);
    audit(sp, body, sizeof body);
    assert_true(json_ll(body, "sold", &v));
    assert_int_equal(v, 1);
    assert_true(json_ll(body, "cacheAvailable", &v));
    assert_int_equal(v, 99);
    assert_true(json_has(body, "verdict", "clean"));
}

/* Phase 3: a retry of a booked request gets the same ticket. */
static void retry_gets_first_answer_phase3(void **state)
{
    struct svc *const sp = &current;
    char first[1024], again[1024];
    long long t1, t2;

    (void)state;
    assert_true(svc_start(sp, 3, NULL));
    assert_int_equal(reset(sp, "eventId=1&seats=10", first, sizeof first), 200);
    assert_int_equal(book(sp, 1, "same-ticket", first, sizeof first), 201);
    assert_int_equal(book(sp, 1, "same-ticket", again, sizeof again), 201);
    assert_true(json_ll(first, "ticketId", &t1));
    assert_true(json_ll(again, "ticketId", &t2));
    assert_int_equal(t1, t2);
    assert_int_equal(book(sp, 2, "same-ticket", again, sizeof again), 422);
    audit(sp, again, sizeof again);
    assert_true(json_ll(again, "sold", &t1));
    assert_int_equal(t1, 1);
}

/* ---------------------------------------------------------------------- */
/* 2. A reset is isolated from the sale before it                           */
/* ---------------------------------------------------------------------- */

struct in_flight {
    const struct svc *s;
    int status;
    char body[1024];
};

static void *book_in_flight(void *arg)
{
    struct in_flight *f = arg;

    f->status = book(f->s, 1, "in-flight", f->body, sizeof f->body);
    return NULL;
}

/* Phase 3 with think 500 ms: a booking claimed before the reset (the
 * database shows its claim) does not land in the new sale. */
static void reset_fences_booking_in_flight(void **state)
{
    static const char *const args[] = { "--think-ms", "500", NULL };
    struct svc *const sp = &current;
    struct in_flight f = { 0 };
    pthread_t t;
    char body[2048];
    long long v;
    PGconn *db = test_db();

    (void)state;
    assert_true(svc_start(sp, 3, args));
    assert_int_equal(reset(sp, "eventId=1&seats=100", body, sizeof body), 200);
    f.s = sp;
    assert_int_equal(pthread_create(&t, NULL, book_in_flight, &f), 0);
    wait_sql(db, "SELECT count(*) FROM requests WHERE request_id = 'in-flight'", 1);
    assert_int_equal(reset(sp, "eventId=1&seats=100", body, sizeof body), 200);
    pthread_join(t, NULL);
    print_message("in-flight booking: %d %s", f.status, f.body);
    audit(sp, body, sizeof body);
    print_message("after the reset: %s", body);
    assert_true(json_ll(body, "sold", &v));
    assert_int_equal(v, 0);
    assert_true(json_ll(body, "available", &v));
    assert_int_equal(v, 100);
    assert_true(json_ll(body, "phantom", &v));
    assert_int_equal(v, 0);
    assert_true(json_has(body, "verdict", "clean"));
    PQfinish(db);
}

/* Phase 5 or 6 split: 20 requests queued while no worker runs, then a
 * reset, then a worker: every message is recorded stale, none is booked.
 * Phase 5's worker decides one message at a time, phase 6's a poll batch
 * in one transaction (lib/db_batch.c): both keep the generation. */
static void stale_after_reset(int phase)
{
    char topic[64], log[128], path[256], body[2048], rid[64];
    const char *api_args[] = { "--role", "api", "--topic", topic, "--group", topic, NULL };
    const char *worker[] = { path, "--role", "worker", "--topic", topic, "--group", topic, NULL };
    struct svc *const sp = &current;
    pid_t w;
    long long v;
    PGconn *db = test_db();

    snprintf(topic, sizeof topic, "lab-test-stale%d-%d", phase, (int)getpid());
    snprintf(path, sizeof path, "%s/phase%d", lab_env("LAB_TEST_BIN_DIR", "build/san"), phase);
    snprintf(log, sizeof log, ".lab/log/test-stale-worker%d.log", phase);
    assert_true(svc_start(sp, phase, api_args));
    assert_int_equal(reset(sp, "eventId=1&seats=100", body, sizeof body), 200);
    for (int i = 1; i <= 20; i++) {
        snprintf(rid, sizeof rid, "old-run-%d", i);
        assert_int_equal(book(sp, i, rid, body, sizeof body), 202);
    }
    assert_int_equal(reset(sp, "eventId=1&seats=100", body, sizeof body), 200);
    assert_true((w = current_worker = proc_spawn(worker, log)) > 0);
    wait_sql(db, "SELECT count(*) FROM decisions WHERE request_id LIKE 'old-run-%' "
                 "AND decision = 'stale'", 20);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM tickets WHERE request_id LIKE "
                                "'old-run-%'"), 0);
    audit(sp, body, sizeof body);
    print_message("after the stale messages: %s\n", body);
    assert_true(json_ll(body, "sold", &v));
    assert_int_equal(v, 0);
    assert_true(json_ll(body, "available", &v));
    assert_int_equal(v, 100);
    assert_true(json_has(body, "verdict", "clean"));
    current_worker = 0;
    assert_int_equal(proc_stop(w), 0);
    PQfinish(db);
}

static void queued_messages_of_earlier_run_are_stale(void **state)
{
    (void)state;
    stale_after_reset(5);
}

static void queued_batch_of_earlier_run_is_stale_phase6(void **state)
{
    (void)state;
    stale_after_reset(6);
}

/* ---------------------------------------------------------------------- */
/* 3. One policy for users                                                  */
/* ---------------------------------------------------------------------- */

#define TRIES 10

struct try_arg {
    const struct svc *s;
    pthread_barrier_t *start;
    int i;
    int status;
};

static void *try_once(void *arg)
{
    struct try_arg *a = arg;
    char rid[64], body[1024];

    snprintf(rid, sizeof rid, "limit-try-%d", a->i);
    pthread_barrier_wait(a->start);
    a->status = book(a->s, 42, rid, body, sizeof body);
    return NULL;
}

/* try_all books for user 42 TRIES times at once (new request ids, one
 * barrier), and leaves each answer's status in A. */
static void try_all(const struct svc *s, struct try_arg *a)
{
    pthread_t t[TRIES];
    pthread_barrier_t start;

    pthread_barrier_init(&start, NULL, TRIES);
    for (int i = 0; i < TRIES; i++) {
        a[i] = (struct try_arg){ .s = s, .start = &start, .i = i };
        assert_int_equal(pthread_create(&t[i], NULL, try_once, &a[i]), 0);
    }
    for (int i = 0; i < TRIES; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
}

/* Phase 4: one user, TRIES concurrent bookings with new request ids: one
 * ticket (the default limit), the rest 409 "limit"; with perUser=2, two. */
static void per_user_limit_holds(void **state)
{
    struct svc *const sp = &current;
    struct try_arg a[TRIES];
    char body[2048];
    long long v;

    (void)state;
    assert_true(svc_start(sp, 4, NULL));
    for (int limit = 1; limit <= 2; limit++) {
        int booked = 0, limited = 0;
        char q[64];

        snprintf(q, sizeof q, "eventId=1&seats=100&perUser=%d", limit);
        assert_int_equal(reset(sp, q, body, sizeof body), 200);
        try_all(sp, a);
        for (int i = 0; i < TRIES; i++) {
            booked += a[i].status == 201;
            limited += a[i].status == 409;
        }
        print_message("perUser=%d: %d booked, %d refused\n", limit, booked, limited);
        assert_int_equal(booked, limit);
        assert_int_equal(limited, TRIES - limit);
        audit(sp, body, sizeof body);
        assert_true(json_ll(body, "perUserLimit", &v));
        assert_int_equal(v, limit);
        assert_true(json_ll(body, "duplicateUsers", &v));
        assert_int_equal(v, 0);
        assert_true(json_has(body, "verdict", "clean"));
    }
    assert_int_equal(book(sp, 42, "limit-more", body, sizeof body), 409);
    assert_true(json_has(body, "status", "limit"));
}

/* Phase 6: one user, TRIES concurrent bookings with new request ids. The
 * gate lets all through (202), and the consumer decides them in one poll
 * batch (lib/db_batch.c), which must count the user's tickets as phase 3's
 * INSERT does: one ticket, the rest recorded 'limit'. */
static void batch_keeps_per_user_limit_phase6(void **state)
{
    struct svc *const sp = &current;
    struct try_arg a[TRIES];
    char body[2048];
    long long v;
    PGconn *db = test_db();

    (void)state;
    assert_true(svc_start(sp, 6, NULL));
    assert_int_equal(reset(sp, "eventId=1&seats=100&perUser=1", body, sizeof body), 200);
    try_all(sp, a);
    for (int i = 0; i < TRIES; i++)
        assert_int_equal(a[i].status, 202);
    wait_sql(db, "SELECT count(*) FROM decisions WHERE request_id LIKE 'limit-try-%' "
                 "AND decision = 'limit'", TRIES - 1);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM tickets WHERE request_id LIKE "
                                "'limit-try-%'"), 1);
    audit(sp, body, sizeof body);
    print_message("one user, %d bookings, phase 6: %s\n", TRIES, body);
    assert_true(json_ll(body, "sold", &v));
    assert_int_equal(v, 1);
    assert_true(json_ll(body, "cacheDrift", &v));   /* the 9 seats went back to the gate */
    assert_int_equal(v, 0);
    assert_true(json_ll(body, "duplicateUsers", &v));
    assert_int_equal(v, 0);
    assert_true(json_has(body, "verdict", "clean"));
    PQfinish(db);
}

/* ---------------------------------------------------------------------- */
/* 4. Identity of a request; 7. the admin token; 5. headers too large       */
/* ---------------------------------------------------------------------- */

/* Phase 5: an unknown event is 404 before anything is queued, and the
 * result endpoint says what the decisions row says. */
static void unknown_event_and_stored_result_phase5(void **state)
{
    struct svc *const sp = &current;
    char body[1024];
    PGconn *db = test_db();
    PGresult *r;

    (void)state;
    assert_true(svc_start(sp, 5, NULL));
    assert_int_equal(http_call(sp->addr, "POST", "/api/bookings?eventId=424242&userId=1"
                               "&requestId=nowhere-1", NULL, NULL, body, sizeof body, 5000), 404);
    assert_int_equal(http_call(sp->addr, "POST", "/api/bookings?eventId=424242&userId=1", NULL,
                               NULL, body, sizeof body, 5000), 404);     /* no requestId */
    r = PQexec(db, "INSERT INTO decisions (request_id, event_id, user_id, decision) "
                   "VALUES ('stored-failed', 424242, 1, 'failed') ON CONFLICT DO NOTHING");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    assert_int_equal(http_call(sp->addr, "GET", "/api/bookings/result?requestId=stored-failed",
                               NULL, NULL, body, sizeof body, 5000), 200);
    assert_true(json_has(body, "status", "failed"));
    r = PQexec(db, "DELETE FROM decisions WHERE request_id = 'stored-failed'");
    PQclear(r);
    PQfinish(db);
}

/* Phase 3: a request without an id gets one of the service's own making,
 * "srv-", 16 random hex digits drawn when the process starts, "-" and a
 * counter: different for each request and each process, even for two
 * processes started at the same moment (a prefix made of the start time
 * once made both name their first request "srv-T-0"). A client cannot
 * send an id of that form, so it cannot take one before the service makes
 * it (a client that sent srv-T-1..5 once made the next users without an id
 * get 422). Two instances on two ports, launched together, book
 * SERVER_IDS_EACH requests each without an id: every one is 201, and the
 * ids are 2 * SERVER_IDS_EACH distinct ones, as the tickets table says too. */
#define SERVER_IDS_EACH 20

static void server_made_ids(void **state)
{
    struct svc *const sp[2] = { &current, &second };
    static char ids[2 * SERVER_IDS_EACH][96];
    char body[1024], target[160], host[64], addr[96];
    const char *rid;
    int port;
    size_t n;
    PGconn *db = test_db();

    (void)state;
    assert_true(parse_host_port(lab_env("LAB_TEST_HTTP", "127.0.0.1:18181"), host, sizeof host,
                                &port));
    snprintf(addr, sizeof addr, "%s:%d", host, port + 1);
    assert_true(svc_launch(sp[0], 3, NULL, NULL));
    assert_true(svc_launch(sp[1], 3, addr, NULL));
    assert_true(svc_ready(sp[0]));
    assert_true(svc_ready(sp[1]));
    assert_int_equal(reset(sp[0], "eventId=1&seats=100", body, sizeof body), 200);
    for (int k = 1; k <= 5; k++) {
        snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%d&requestId=srv-T-%d",
                 1000 + k, k);
        assert_int_equal(http_call(sp[k % 2]->addr, "POST", target, NULL, NULL, body,
                                   sizeof body, 5000), 400);
        assert_non_null(strstr(body, "must not start with srv-"));
    }
    for (int i = 0; i < 2 * SERVER_IDS_EACH; i++) {
        snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%d", i + 1);
        int status = http_call(sp[i % 2]->addr, "POST", target, NULL, NULL, body, sizeof body,
                               5000);
        if (status != 201)
            fail_msg("user %d on %s: %d %s", i + 1, sp[i % 2]->addr, status, body);
        assert_non_null(rid = strstr(body, "\"requestId\":\"srv-"));
        rid += strlen("\"requestId\":\"");
        n = strcspn(rid, "\"");
        assert_true(n > 4 + 16 + 1 && n < sizeof ids[i] && rid[4 + 16] == '-');
        assert_int_equal(strspn(rid + 4, "0123456789abcdef"), 16);
        snprintf(ids[i], sizeof ids[i], "%.*s", (int)n, rid);
        for (int j = 0; j < i; j++)
            if (strcmp(ids[i], ids[j]) == 0)
                fail_msg("server-made id %s given twice (requests %d and %d)", ids[i], j, i);
    }
    print_message("server-made ids: %s, %s, ... %s, %s\n", ids[0], ids[1],
                  ids[2 * SERVER_IDS_EACH - 2], ids[2 * SERVER_IDS_EACH - 1]);
    assert_int_equal(sql_ll(db, "SELECT count(DISTINCT request_id) FROM tickets "
                                "WHERE event_id = 1 AND request_id LIKE 'srv-%'"),
                     2 * SERVER_IDS_EACH);
    PQfinish(db);
    snprintf(target, sizeof target, "/api/bookings/result?requestId=%s", ids[0]);
    assert_int_equal(http_call(sp[1]->addr, "GET", target, NULL, NULL, body, sizeof body, 5000),
                     200);
    assert_true(json_has(body, "status", "booked"));
}

/* Phase 2 with LAB_ADMIN_TOKEN: the reset wants it; and a 200 KB header
 * gets an answer (libmicrohttpd's 431), not a hang or a 200. */
static void admin_token_and_huge_header(void **state)
{
    static char headers[210000];
    struct svc *const sp = &current;
    char body[1024];
    size_t n;

    (void)state;
    setenv("LAB_ADMIN_TOKEN", "test-token-14", 1);
    bool started = svc_start(sp, 2, NULL);

    unsetenv("LAB_ADMIN_TOKEN");
    assert_true(started);
    assert_int_equal(http_call(sp->addr, "POST", "/api/admin/reset?eventId=1&seats=10", NULL, NULL,
                               body, sizeof body, 5000), 401);
    assert_int_equal(http_call(sp->addr, "POST", "/api/admin/reset?eventId=1&seats=10",
                               "Authorization: Bearer wrong-token\r\n", NULL, body, sizeof body,
                               5000), 401);
    assert_int_equal(http_call(sp->addr, "POST", "/api/admin/reset?eventId=1&seats=10",
                               "Authorization: Bearer test-token-14\r\n", NULL, body,
                               sizeof body, 5000), 200);
    n = (size_t)snprintf(headers, sizeof headers, "X-Big: ");
    memset(headers + n, 'x', 200000);
    memcpy(headers + n + 200000, "\r\n", 3);
    int status = http_call(sp->addr, "GET", "/healthz", headers, NULL, body, sizeof body, 5000);
    print_message("200 KB header: %d\n", status);
    assert_true(status == 431 || status == 413);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(retry_takes_one_seat_phase6, stop_current),
        cmocka_unit_test_teardown(retry_gets_first_answer_phase3, stop_current),
        cmocka_unit_test_teardown(concurrent_retries_take_one_seat_phase4, stop_current),
        cmocka_unit_test_teardown(reset_fences_booking_in_flight, stop_current),
        cmocka_unit_test_teardown(queued_messages_of_earlier_run_are_stale, stop_current),
        cmocka_unit_test_teardown(queued_batch_of_earlier_run_is_stale_phase6, stop_current),
        cmocka_unit_test_teardown(per_user_limit_holds, stop_current),
        cmocka_unit_test_teardown(batch_keeps_per_user_limit_phase6, stop_current),
        cmocka_unit_test_teardown(unknown_event_and_stored_result_phase5, stop_current),
        cmocka_unit_test_teardown(server_made_ids, stop_current),
        cmocka_unit_test_teardown(admin_token_and_huge_header, stop_current),
    };
    return cmocka_run_group_tests_name("integrity", tests, NULL, NULL);
}
