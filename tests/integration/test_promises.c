/* test_promises.c -- a request id keeps its promise through faults, against
 * the real services: a claim whose process died is resolved, not stuck; a
 * retry after Redis lost its claims replays the first answer and takes no
 * seat; an id is claimed for one event only; a request sent again after a
 * reset belongs to the new sale; GET /api/bookings/result tells what the
 * first request was answered, and 404 for an id never seen.
 *
 * Each test reproduces a failure found from outside (the finding is named
 * in its comment) and asserts the answer the promise makes. Races are made
 * reliable without sleeping: a booking is held inside the service by its
 * think time while the test waits for its claim to show, then the service
 * is killed; every wait polls the state it waits for, with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "db.h"
#include "lab.h"
#include "support.h"
#include "support_db.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                  */
/* ---------------------------------------------------------------------- */


static int reset(const struct svc *s, long long event, long long seats)
{
    char target[128], body[1024];

    snprintf(target, sizeof target, "/api/admin/reset?eventId=%lld&seats=%lld", event, seats);
    return http_call(s->addr, "POST", target, NULL, NULL, body, sizeof body, 10000);
}

static int book_event(const struct svc *s, long long event, long long user, const char *rid,
                      char *body, size_t len)
{
    char target[256];

    snprintf(target, sizeof target, "/api/bookings?eventId=%lld&userId=%lld&requestId=%s",
             event, user, rid);
    return http_call(s->addr, "POST", target, NULL, NULL, body, len, 15000);
}

static int book(const struct svc *s, long long user, const char *rid, char *body, size_t len)
{
    return book_event(s, 1, user, rid, body, len);
}

static int result(const struct svc *s, const char *rid, char *body, size_t len)
{
    char target[256];

    snprintf(target, sizeof target, "/api/bookings/result?requestId=%s", rid);
    return http_call(s->addr, "GET", target, NULL, NULL, body, len, 5000);
}

/* audit_ll reads FIGURE of event EVENT's audit. */
static long long audit_ll(const struct svc *s, long long event, const char *figure)
{
    char target[128], body[2048];
    long long v;

    snprintf(target, sizeof target, "/api/bookings/audit?eventId=%lld", event);
    assert_int_equal(http_call(s->addr, "GET", target, NULL, NULL, body, sizeof body, 5000), 200);
    if (!json_ll(body, figure, &v))
        fail_msg("no %s in the audit: %s", figure, body);
    return v;
}

/* kill_service ends the service with SIGKILL (no shutdown at all: what a
 * crash leaves behind) and reaps it. */
static void kill_service(struct svc *s)
{
    int status;

    assert_int_equal(kill(s->pid, SIGKILL), 0);
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    s->pid = 0;
}

/* A booking sent from a thread, held in the service by its think time. */
struct held {
    const struct svc *s;
    const char *rid;
    int status;
    char body[1024];
};

static void *book_held(void *arg)
{
    struct held *h = arg;

    h->status = book(h->s, 7, h->rid, h->body, sizeof h->body);
    return NULL;
}

/* retry_until_answered sends RID again until the answer is not 409
 * in_progress (a claim whose holder is gone is known as such within
 * seconds), at most 20 s; the last status. */
static int retry_until_answered(const struct svc *s, long long user, const char *rid,
                                char *body, size_t len)
{
    int status = -1;

    for (int i = 0; i < 200; i++) {
        status = book(s, user, rid, body, len);
        if (!(status == 409 && json_has(body, "status", "in_progress")))
            break;
        lab_sleep_ms(100);
    }
    return status;
}

/* ---------------------------------------------------------------------- */
/* 1. A claim whose holder died is resolved                                 */
/* ---------------------------------------------------------------------- */

/* Finding: after kill -9 of phase 3, each booking thread's claim stayed
 * in_progress until the next reset, and a retry got 409 in_progress for
 * good. Now the claim names its PostgreSQL backend, gone with the process:
 * the retry takes it over and books (no ticket was written). */
static void claim_of_killed_service_phase3(void **state)
{
    const char *args[] = { "--think-ms", "3000", NULL };
    struct svc *const sp = &current;
    struct held h = { .s = sp, .rid = "killed-holder-3" };
    pthread_t t;
    char body[1024];
    PGconn *db = test_db();

    (void)state;
    assert_true(svc_start(sp, 3, args));
    assert_int_equal(reset(sp, 1, 100), 200);
    assert_int_equal(pthread_create(&t, NULL, book_held, &h), 0);
    wait_sql(db, "SELECT count(*) FROM requests WHERE request_id = 'killed-holder-3' "
                 "AND state = 'in_progress'", 1);
    kill_service(sp);
    pthread_join(t, NULL);
    assert_int_equal(h.status, -1);           /* the first try got no answer */
    assert_true(svc_start(sp, 3, NULL));
    assert_int_equal(book(sp, 7, "killed-holder-3", body, sizeof body), 201);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM tickets WHERE request_id = "
                                "'killed-holder-3'"), 1);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM requests WHERE state = 'in_progress'"), 0);
    /* a claim left in progress by a dead backend whose ticket exists (the
     * process died between its commit and the answer): the ticket is the
     * answer, replayed */
    PQclear(PQexec(db, "INSERT INTO tickets (event_id, user_id, request_id) "
                       "VALUES (1, 8, 'dead-but-booked')"));
    PQclear(PQexec(db, "INSERT INTO requests (request_id, event_id, user_id, generation, "
                       "holder_pid) SELECT 'dead-but-booked', 1, 8, generation, 0 "
                       "FROM events WHERE id = 1"));
    assert_int_equal(book(sp, 8, "dead-but-booked", body, sizeof body), 201);
    assert_true(json_ll(body, "ticketId", &(long long){ 0 }));
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM tickets WHERE request_id = "
                                "'dead-but-booked'"), 1);
    /* a claim lost with its answer (a PostgreSQL crash empties the unlogged
     * requests table): the retry finds the ticket, and replays it */
    PQclear(PQexec(db, "DELETE FROM requests WHERE request_id = 'dead-but-booked'"));
    assert_int_equal(book(sp, 8, "dead-but-booked", body, sizeof body), 201);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM tickets WHERE request_id = "
                                "'dead-but-booked'"), 1);
    assert_int_equal(audit_ll(sp, 1, "sold"), 2);
    assert_int_equal(audit_ll(sp, 1, "available"), 99);   /* the replay took no seat */
    PQfinish(db);
}

/* Finding: after kill -9 of phase 4, 50 to 79 claims stayed in_progress.
 * Now a claim in Redis names its process, whose key lapses within seconds
 * of its death: the retry is answered (booked), once, and the gate, rebuilt
 * at the restart, agrees with the database. */
static void claim_of_killed_service_phase4(void **state)
{
    const char *args[] = { "--think-ms", "3000", NULL };
    struct svc *const sp = &current;
    struct held h = { .s = sp, .rid = "killed-holder-4" };
    pthread_t t;
    char body[1024];
    PGconn *db = test_db();
    int status = -1;

    (void)state;
    assert_true(svc_start(sp, 4, args));
    assert_int_equal(reset(sp, 1, 100), 200);
    assert_int_equal(pthread_create(&t, NULL, book_held, &h), 0);
    for (int i = 0; i < 600; i++) {           /* the claim shows as pending */
        if ((status = result(sp, "killed-holder-4", body, sizeof body)) == 200 &&
            json_has(body, "status", "pending"))
            break;
        lab_sleep_ms(50);
    }
    assert_true(json_has(body, "status", "pending"));
    kill_service(sp);
    pthread_join(t, NULL);
    assert_true(svc_start(sp, 4, NULL));
    status = retry_until_answered(sp, 7, "killed-holder-4", body, sizeof body);
    print_message("retry after kill -9: %d %s\n", status, body);
    assert_int_equal(status, 201);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM tickets WHERE request_id = "
                                "'killed-holder-4'"), 1);
    assert_int_equal(book(sp, 7, "killed-holder-4", body, sizeof body), 201);   /* replayed */
    assert_int_equal(audit_ll(sp, 1, "sold"), 1);
    assert_int_equal(audit_ll(sp, 1, "cacheAvailable"), 99);
    PQfinish(db);
}

/* wait_result polls /result for RID until it answers STATUS (an HTTP code),
 * at most 20 s; the body is left in BODY. */
static void wait_result(const struct svc *s, const char *rid, int status, char *body,
                        size_t len)
{
    int got = -1;

    for (int i = 0; i < 200 && (got = result(s, rid, body, len)) != status; i++)
        lab_sleep_ms(100);
    if (got != status)
        fail_msg("/result of %s: %d %s, expected %d", rid, got, body, status);
}

/* Nobody retries: a claim whose holder died is settled by the sweep, from
 * the database (phase 3: a ticket under the id is the answer; none, and
 * the claim goes), and in Redis (phase 4: the claim of a killed process
 * goes once its holder's key lapsed). No claim stays in progress. */
static void claims_of_gone_holders_are_swept(void **state)
{
    const char *args[] = { "--think-ms", "3000", NULL };
    struct svc *const sp = &current;
    struct held h = { .s = sp, .rid = "swept-4" };
    pthread_t t;
    char body[1024];
    PGconn *db = test_db();

    (void)state;
    assert_true(svc_start(sp, 3, NULL));
    assert_int_equal(reset(sp, 1, 100), 200);
    PQclear(PQexec(db, "INSERT INTO tickets (event_id, user_id, request_id) "
                       "VALUES (1, 8, 'swept-booked')"));
    PQclear(PQexec(db, "INSERT INTO requests (request_id, event_id, user_id, generation, "
                       "holder_pid) SELECT x, 1, 8, generation, 0 FROM events, "
                       "(VALUES ('swept-booked'), ('swept-none')) v(x) WHERE id = 1"));
    wait_sql(db, "SELECT count(*) FROM requests WHERE state = 'in_progress'", 0);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM requests WHERE request_id = "
                                "'swept-booked' AND state = 'booked'"), 1);
    assert_int_equal(svc_stop(sp), 0);
    sp->pid = 0;
    assert_true(svc_start(sp, 4, args));
    assert_int_equal(reset(sp, 1, 100), 200);
    assert_int_equal(pthread_create(&t, NULL, book_held, &h), 0);
    wait_result(sp, "swept-4", 200, body, sizeof body);      /* the claim, pending */
    assert_true(json_has(body, "status", "pending"));
    kill_service(sp);
    pthread_join(t, NULL);
    assert_true(svc_start(sp, 4, NULL));
    wait_result(sp, "swept-4", 404, body, sizeof body);      /* dropped: no ticket */
    assert_int_equal(audit_ll(sp, 1, "sold"), 0);
    assert_int_equal(audit_ll(sp, 1, "cacheAvailable"), 100);
    PQfinish(db);
}

/* Phase 5: a claim whose settlement PostgreSQL could not store is kept
 * and stored once it is back. The booking holds its claim while Kafka is
 * stopped; PostgreSQL is stopped too before the deadline answers 503, so
 * the claim pipe's statement that drops the claim fails; once PostgreSQL
 * is back the claim is gone, and the service stops cleanly (no crash, no
 * leak: it runs under the sanitizers). */
/* stop_and_heal: the teardown of a test that stops services: they are
 * started again even when an assertion failed half-way. */
static int stop_and_heal(void **state)
{
    int rc = stop_current(state);

    if (services_ctl("up", "pg") != 0 || services_ctl("up", "kafka") != 0)
        rc = -1;
    return rc;
}

static void settlement_kept_while_postgres_is_down_phase5(void **state)
{
    const char *args[] = { "--queue-timeout-ms", "8000", NULL };
    struct svc *const sp = &current;
    struct held h = { .s = sp, .rid = "settle-later" };
    pthread_t t;
    PGconn *db = test_db();

    (void)state;
    assert_true(svc_start(sp, 5, args));
    assert_int_equal(reset(sp, 1, 100), 200);
    assert_int_equal(services_down("kafka"), 0);
    assert_int_equal(pthread_create(&t, NULL, book_held, &h), 0);
    wait_sql(db, "SELECT count(*) FROM requests WHERE request_id = 'settle-later' "
                 "AND state = 'in_progress'", 1);
    PQfinish(db);
    assert_int_equal(services_down("pg"), 0);
    pthread_join(t, NULL);                    /* the deadline's 503, PostgreSQL down */
    print_message("with Kafka and PostgreSQL down: %d %s\n", h.status, h.body);
    assert_int_equal(h.status, 503);
    assert_int_equal(services_ctl("up", "pg"), 0);
    db = test_db();
    wait_sql(db, "SELECT count(*) FROM requests WHERE request_id = 'settle-later'", 0);
    PQfinish(db);
    assert_int_equal(services_ctl("up", "kafka"), 0);
    assert_int_equal(svc_stop(sp), 0);
    sp->pid = 0;
}

/* ---------------------------------------------------------------------- */
/* 2. A retry after Redis lost its claims replays                           */
/* ---------------------------------------------------------------------- */

/* restart_redis stops the lab's Redis (checking it went) and starts it
 * again: every claim and the gate's counter are gone. */
static void restart_redis(void)
{
    assert_int_equal(services_down("redis"), 0);
    assert_int_equal(services_ctl("up", "redis"), 0);
}

/* Finding: phase 4, book 20, restart Redis, POST 20 new ids, POST them
 * again: 16 answered in_progress though booked (each booking thread's stale
 * Redis connection); booked requests answered 409 limit instead of their
 * 201. Now every retry replays its 201 with the same ticket. */
static void redis_restart_replays_phase4(void **state)
{
    struct svc *const sp = &current;
    long long first[40], again;
    char rid[64], body[1024];

    (void)state;
    assert_true(svc_start(sp, 4, NULL));
    assert_int_equal(reset(sp, 1, 100), 200);
    for (int i = 0; i < 20; i++) {
        snprintf(rid, sizeof rid, "before-restart-%d", i);
        assert_int_equal(book(sp, 100 + i, rid, body, sizeof body), 201);
        assert_true(json_ll(body, "ticketId", &first[i]));
    }
    restart_redis();
    for (int i = 20; i < 40; i++) {
        snprintf(rid, sizeof rid, "after-restart-%d", i);
        assert_int_equal(book(sp, 100 + i, rid, body, sizeof body), 201);
        assert_true(json_ll(body, "ticketId", &first[i]));
    }
    for (int i = 0; i < 40; i++) {
        snprintf(rid, sizeof rid, i < 20 ? "before-restart-%d" : "after-restart-%d", i);
        if (book(sp, 100 + i, rid, body, sizeof body) != 201)
            fail_msg("a retry of %s answered %s", rid, body);
        assert_true(json_ll(body, "ticketId", &again));
        assert_int_equal(again, first[i]);
    }
    assert_int_equal(audit_ll(sp, 1, "sold"), 40);
    assert_int_equal(audit_ll(sp, 1, "cacheAvailable"), 60);
}

/* Finding: phase 6, answered ids re-sent after a Redis restart got 202
 * again and each took a gate seat that no ticket used: 198 seats never
 * sold. Now the re-sent ids replay their 202 and take nothing: every seat
 * is sold to the new buyers. */
static void redis_restart_replays_phase6(void **state)
{
    struct svc *const sp = &current;
    char rid[64], body[1024];
    PGconn *db = test_db();

    (void)state;
    assert_true(svc_start(sp, 6, NULL));
    assert_int_equal(reset(sp, 1, 50), 200);
    for (int i = 0; i < 20; i++) {
        snprintf(rid, sizeof rid, "p6-first-%d", i);
        assert_int_equal(book(sp, 200 + i, rid, body, sizeof body), 202);
    }
    wait_sql(db, "SELECT count(*) FROM tickets WHERE event_id = 1", 20);
    restart_redis();
    for (int i = 0; i < 20; i++) {
        snprintf(rid, sizeof rid, "p6-first-%d", i);
        assert_int_equal(book(sp, 200 + i, rid, body, sizeof body), 202);
    }
    for (int i = 0; i < 30; i++) {
        snprintf(rid, sizeof rid, "p6-new-%d", i);
        if (book(sp, 300 + i, rid, body, sizeof body) != 202)
            fail_msg("new buyer %d was answered %s", i, body);
    }
    wait_sql(db, "SELECT count(*) FROM tickets WHERE event_id = 1", 50);
    assert_int_equal(audit_ll(sp, 1, "available"), 0);
    assert_int_equal(audit_ll(sp, 1, "cacheAvailable"), 0);
    PQfinish(db);
}

/* ---------------------------------------------------------------------- */
/* 3. One event per id                                                      */
/* ---------------------------------------------------------------------- */

/* Finding: phase 6 answered 202 to an id reused on another event, never
 * booked it and lost its gate seat; /result said booked with event 1's
 * ticket; phase 5, which claimed nothing before the queue, could not tell.
 * Now every phase answers 422, and takes nothing. */
static void id_reused_on_other_event(int phase)
{
    struct svc *const sp = &current;
    char body[1024];
    int first;

    assert_true(svc_start(sp, phase, NULL));
    assert_int_equal(reset(sp, 1, 10), 200);
    assert_int_equal(reset(sp, 2, 10), 200);
    first = book_event(sp, 1, 9, "one-event-only", body, sizeof body);
    assert_true(first == 201 || first == 202);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(book_event(sp, 2, 9, "one-event-only", body, sizeof body), 422);
        assert_non_null(strstr(body, "request_id_reused"));
    }
    assert_int_equal(audit_ll(sp, 2, "sold"), 0);
    if (phase == 4 || phase == 6)
        assert_int_equal(audit_ll(sp, 2, "cacheAvailable"), 10);
}

static void id_reused_on_other_event_phase3(void **state)
{
    (void)state;
    id_reused_on_other_event(3);
}

static void id_reused_on_other_event_phase5(void **state)
{
    (void)state;
    id_reused_on_other_event(5);
}

static void id_reused_on_other_event_phase4(void **state)
{
    (void)state;
    id_reused_on_other_event(4);
}

static void id_reused_on_other_event_phase6(void **state)
{
    (void)state;
    id_reused_on_other_event(6);
}

/* ---------------------------------------------------------------------- */
/* 4. A request sent after a reset belongs to the new sale                  */
/* ---------------------------------------------------------------------- */

/* Finding: ids re-sent after a reset while their first copies were still
 * queued ended 'stale' (96 of 100 in phase 5, 99 of 100 in phase 6). Now
 * the first copies are stale and the copies sent after the reset are
 * booked in the new sale. WORKER_ARGS: the worker's extra flags. */
static void resend_after_reset(int phase, const char *batch)
{
    char topic[64], log[128], path[256], body[1024], rid[64];
    const char *api_args[] = { "--role", "api", "--topic", topic, "--group", topic, NULL };
    const char *worker[] = { path, "--role", "worker", "--topic", topic, "--group", topic,
                             "--batch", batch, NULL };
    struct svc *const sp = &current;
    PGconn *db = test_db();

    snprintf(topic, sizeof topic, "lab-test-resend%d-%s-%d", phase, batch, (int)getpid());
    snprintf(path, sizeof path, "%s/phase%d", lab_env("LAB_TEST_BIN_DIR", "build/san"), phase);
    snprintf(log, sizeof log, ".lab/log/test-resend-worker%d.log", phase);
    assert_true(svc_start(sp, phase, api_args));
    assert_int_equal(reset(sp, 1, 100), 200);
    for (int i = 1; i <= 20; i++) {
        snprintf(rid, sizeof rid, "resent-%d", i);
        assert_int_equal(book(sp, i, rid, body, sizeof body), 202);
    }
    assert_int_equal(reset(sp, 1, 100), 200);
    for (int i = 1; i <= 20; i++) {
        snprintf(rid, sizeof rid, "resent-%d", i);
        assert_int_equal(book(sp, i, rid, body, sizeof body), 202);
    }
    assert_true((current_worker = proc_spawn(worker, log)) > 0);
    wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id LIKE 'resent-%'", 20);
    assert_int_equal(audit_ll(sp, 1, "sold"), 20);
    assert_int_equal(audit_ll(sp, 1, "available"), 80);
    if (phase == 6)
        assert_int_equal(audit_ll(sp, 1, "cacheAvailable"), 80);
    assert_int_equal(result(sp, "resent-1", body, sizeof body), 200);
    assert_true(json_has(body, "status", "booked"));
    PQfinish(db);
}

static void resend_after_reset_phase5(void **state)
{
    (void)state;
    resend_after_reset(5, "1");
}

static void resend_after_reset_phase6(void **state)
{
    (void)state;
    resend_after_reset(6, "1000");
}

/* ---------------------------------------------------------------------- */
/* 5. /result tells what was answered                                       */
/* ---------------------------------------------------------------------- */

/* Finding: /result said "pending" for an id never sent, and for requests
 * already refused 409 sold_out in phases 3, 4 and 6. Now it says the
 * stored answer (phase 5: the consumer's refusal), and 404 for an id never
 * seen. */
static void result_tells_the_answer(int phase)
{
    struct svc *const sp = &current;
    char body[1024];
    int first;

    assert_true(svc_start(sp, phase, NULL));
    assert_int_equal(reset(sp, 1, 1), 200);
    first = book(sp, 1, "result-first", body, sizeof body);
    assert_true(first == 201 || first == 202);
    if (phase >= 5) {                       /* the seat is the first one's: wait for it */
        PGconn *db = test_db();

        wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id = 'result-first'", 1);
        if (phase == 5) {                   /* the consumer refuses the second */
            assert_int_equal(book(sp, 2, "result-second", body, sizeof body), 202);
            wait_sql(db, "SELECT count(*) FROM decisions WHERE request_id = 'result-second'", 1);
        }
        PQfinish(db);
    }
    if (phase != 5) {
        assert_int_equal(book(sp, 2, "result-second", body, sizeof body), 409);
        assert_true(json_has(body, "status", "sold_out"));
    }
    assert_int_equal(result(sp, "result-second", body, sizeof body), 200);
    if (!json_has(body, "status", "sold_out"))
        fail_msg("phase %d: /result of a request refused sold_out: %s", phase, body);
    assert_int_equal(result(sp, "result-first", body, sizeof body), 200);
    assert_true(json_has(body, "status", "booked"));
    assert_int_equal(result(sp, "never-sent-anywhere", body, sizeof body), 404);
    assert_non_null(strstr(body, "\"error\""));
}

static void result_tells_the_answer_phase3(void **state)
{
    (void)state;
    result_tells_the_answer(3);
}

static void result_tells_the_answer_phase4(void **state)
{
    (void)state;
    result_tells_the_answer(4);
}

static void result_tells_the_answer_phase5(void **state)
{
    (void)state;
    result_tells_the_answer(5);
}

static void result_tells_the_answer_phase6(void **state)
{
    (void)state;
    result_tells_the_answer(6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(claim_of_killed_service_phase3, stop_current),
        cmocka_unit_test_teardown(claim_of_killed_service_phase4, stop_current),
        cmocka_unit_test_teardown(claims_of_gone_holders_are_swept, stop_current),
        cmocka_unit_test_teardown(settlement_kept_while_postgres_is_down_phase5, stop_and_heal),
        cmocka_unit_test_teardown(redis_restart_replays_phase4, stop_current),
        cmocka_unit_test_teardown(redis_restart_replays_phase6, stop_current),
        cmocka_unit_test_teardown(id_reused_on_other_event_phase3, stop_current),
        cmocka_unit_test_teardown(id_reused_on_other_event_phase4, stop_current),
        cmocka_unit_test_teardown(id_reused_on_other_event_phase5, stop_current),
        cmocka_unit_test_teardown(id_reused_on_other_event_phase6, stop_current),
        cmocka_unit_test_teardown(resend_after_reset_phase5, stop_current),
        cmocka_unit_test_teardown(resend_after_reset_phase6, stop_current),
        cmocka_unit_test_teardown(result_tells_the_answer_phase3, stop_current),
        cmocka_unit_test_teardown(result_tells_the_answer_phase4, stop_current),
        cmocka_unit_test_teardown(result_tells_the_answer_phase5, stop_current),
        cmocka_unit_test_teardown(result_tells_the_answer_phase6, stop_current),
    };
    return cmocka_run_group_tests_name("promises", tests, NULL, NULL);
}
