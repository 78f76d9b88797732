/* test_zoo_phase3.c -- phase 3's planted bugs (docs/zoo.md) against the real
 * services: each one does the damage it is planted for, and the same steps
 * with the safeguard on do none.
 *
 *   --without for-update         two bookings read the last seat: both sold
 *   --strategy optimistic
 *     --without reread           the lost compare-and-set retried with the
 *                                first read's count: the last seat sold twice
 *   --strategy check-then-insert two clicks of one user: two tickets
 *
 * The race is not hoped for: the test's own PostgreSQL session holds the
 * event row's lock while two bookings run, waits until both of the
 * service's backends are seen waiting for it (pg_stat_activity), then lets
 * go. Each booking has then made the read the bug trusts (or, with the
 * safeguard on, waits to make it under the lock), whatever the timing.
 * A harness burst shows the verdict the zoo's run gets, and the flags that
 * plant nothing are usage errors (exit 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "db.h"
#include "db_batch.h"
#include "support.h"
#include "support_db.h"

#define TEST_EVENT 913            /* the batch test's own event */

/* ---------------------------------------------------------------------- */
/* Two bookings held at the test's lock                                     */
/* ---------------------------------------------------------------------- */

/* One booking sent from a thread of its own: USER books event 1. */
struct click {
    const char *addr;
    long long user;
    int status;
    char body[1024];
};

/* click_run sends the booking and keeps its answer. */
static void *click_run(void *arg)
{
    struct click *c = arg;
    char target[128];

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%lld", c->user);
    c->status = http_call(c->addr, "POST", target, NULL, NULL, c->body, sizeof c->body, 30000);
    return NULL;
}

/* waiting_for_lock: how many backends of this database wait for a lock. */
static long long waiting_for_lock(PGconn *db)
{
    return sql_ll(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND wait_event_type = 'Lock'");
}

/* race_two resets event 1 to SEATS seats, takes its row lock in the test's
 * session, sends the bookings of USER_A and USER_B at once, waits until
 * both wait for the lock, lets it go, and waits for both answers (in A and
 * B). The audit's answer goes to AUDIT. */
static void race_two(const struct svc *s, int seats, long long user_a, long long user_b,
                     struct click *a, struct click *b, char *audit, size_t audit_len)
{
    char target[128], body[1024];
    PGconn *lock = test_db(), *watch = test_db();
    pthread_t ta, tb;
    PGresult *r;
    long long waiting = 0;

    snprintf(target, sizeof target, "/api/admin/reset?eventId=1&seats=%d", seats);
    assert_int_equal(http_call(s->addr, "POST", target, NULL, NULL, body, sizeof body, 5000), 200);
    PQclear(PQexec(lock, "BEGIN"));
    r = PQexec(lock, "SELECT available_seats FROM events WHERE id = 1 FOR UPDATE");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    *a = (struct click){ .addr = s->addr, .user = user_a };
    *b = (struct click){ .addr = s->addr, .user = user_b };
    assert_int_equal(pthread_create(&ta, NULL, click_run, a), 0);
    assert_int_equal(pthread_create(&tb, NULL, click_run, b), 0);
    /* polled, never slept on: each poll reads the state waited for; the
     * lock is let go before any assertion, so a failure cannot hang */
    for (int polls = 0; (waiting = waiting_for_lock(watch)) < 2 && polls < 200000; polls++)
        ;
    PQclear(PQexec(lock, "ROLLBACK"));
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    PQfinish(lock);
    PQfinish(watch);
    if (waiting < 2)
        fail_msg("the two bookings never both waited for the lock (%lld did)", waiting);
    assert_int_equal(http_call(s->addr, "GET", "/api/bookings/audit?eventId=1", NULL, NULL, audit,
                               audit_len, 5000), 200);
    print_message("%s: %d and %d; audit %s\n", s->log, a->status, b->status, audit);
}

/* start_phase3 starts phase 3 with ARGS, or fails the test. */
static void start_phase3(const char *const *args)
{
    if (!svc_start(&current, 3, args))
        fail_msg("phase 3 did not start");
}

/* stop_phase3 stops it; it must exit cleanly (no sanitizer report). */
static void stop_phase3(void)
{
    assert_int_equal(svc_stop(&current), 0);
}

/* planted_says: /healthz names the planted bug WHAT ("" for none). */
static void planted_says(const char *what)
{
    char body[1024];

    assert_int_equal(http_call(current.addr, "GET", "/healthz", NULL, NULL, body, sizeof body,
                               5000), 200);
    assert_true(json_has(body, "planted", what));
}

/* ---------------------------------------------------------------------- */
/* The bugs, each with its safeguard on and off                             */
/* ---------------------------------------------------------------------- */

/* --without for-update: both bookings read 1 seat with a plain SELECT and
 * wait only at their UPDATE; both write 0 and both insert a ticket. With
 * the row lock, the second reads 0 once the first commits: sold out. */
static void for_update_off_sells_the_last_seat_twice(void **state)
{
    static const char *const bug[] = { "--without", "for-update", NULL };
    struct click a, b;
    char audit[1024];
    long long v;

    (void)state;
    start_phase3(bug);
    planted_says("without for-update");
    race_two(&current, 1, 1, 2, &a, &b, audit, sizeof audit);
    stop_phase3();
    assert_int_equal(a.status, 201);
    assert_int_equal(b.status, 201);
    assert_true(json_ll(audit, "oversold", &v));
    assert_int_equal(v, 1);
    assert_true(json_has(audit, "verdict", "BUG"));

    start_phase3(NULL);
    planted_says("");
    race_two(&current, 1, 1, 2, &a, &b, audit, sizeof audit);
    stop_phase3();
    assert_int_equal(a.status + b.status, 201 + 409);
    assert_true(json_has(audit, "verdict", "clean"));
}

/* --strategy optimistic --without reread: both read (1 seat, version v);
 * the first compare-and-set wins, the second finds the version moved on
 * and retries with the new version but its old count: it wins too, and a
 * second ticket is sold for the one seat. With the reread, the retry reads
 * 0 seats: sold out. */
static void reread_off_sells_the_last_seat_twice(void **state)
{
    static const char *const bug[] = { "--strategy", "optimistic", "--without", "reread", NULL };
    static const char *const safe[] = { "--strategy", "optimistic", NULL };
    struct click a, b;
    char audit[1024];
    long long v;

    (void)state;
    start_phase3(bug);
    planted_says("without reread");
    race_two(&current, 1, 1, 2, &a, &b, audit, sizeof audit);
    stop_phase3();
    assert_int_equal(a.status, 201);
    assert_int_equal(b.status, 201);
    assert_true(json_ll(audit, "oversold", &v));
    assert_int_equal(v, 1);
    assert_true(json_has(audit, "verdict", "BUG"));

    start_phase3(safe);
    race_two(&current, 1, 1, 2, &a, &b, audit, sizeof audit);
    stop_phase3();
    assert_int_equal(a.status + b.status, 201 + 409);
    assert_true(json_has(audit, "verdict", "clean"));
}

/* --strategy check-then-insert: user 7 clicks twice at once; both clicks
 * count 0 tickets before the lock, and the INSERT no longer counts: user 7
 * holds two tickets of a one-per-user sale. phase 3's own booking counts
 * in its INSERT, under the lock: the second click is refused (limit). */
static void check_then_insert_gives_one_user_two_tickets(void **state)
{
    static const char *const bug[] = { "--strategy", "check-then-insert", NULL };
    struct click a, b;
    char audit[1024];
    long long v;

    (void)state;
    start_phase3(bug);
    planted_says("strategy check-then-insert");
    race_two(&current, 10, 7, 7, &a, &b, audit, sizeof audit);
    stop_phase3();
    assert_int_equal(a.status, 201);
    assert_int_equal(b.status, 201);
    assert_true(json_ll(audit, "duplicateUsers", &v));
    assert_int_equal(v, 1);
    assert_true(json_ll(audit, "oversold", &v));
    assert_int_equal(v, 0);                       /* the seats are still exact */
    assert_true(json_ll(audit, "phantom", &v));
    assert_int_equal(v, 0);
    assert_true(json_has(audit, "verdict", "BUG"));

    start_phase3(NULL);
    race_two(&current, 10, 7, 7, &a, &b, audit, sizeof audit);
    stop_phase3();
    assert_int_equal(a.status + b.status, 201 + 409);
    assert_non_null(strstr(a.status == 409 ? a.body : b.body, "\"status\":\"limit\""));
    assert_true(json_has(audit, "verdict", "clean"));
}

/* One batch of one booking, decided on a session of its own. */
struct batch_run {
    struct booking b;
    enum db_read_mode mode;
    enum lab_status st, out;
};

/* batch_thread decides the batch with db_book_batch_planted. */
static void *batch_thread(void *arg)
{
    struct batch_run *run = arg;
    char err[256];
    PGconn *own = db_connect(lab_env("LAB_PG", LAB_PG_DEFAULT), err, sizeof err);

    struct db_batch_plant plant = { .unlocked = run->mode == DB_PLAIN };

    run->st = own ? db_book_batch_planted(own, &run->b, 1, &run->out, &plant) : LAB_ERR_DB;
    if (own)
        PQfinish(own);
    return NULL;
}

/* The consumer's batch (phases 5 and 6) with DB_PLAIN reads the event row
 * without its lock: a write committed between its read and its own write
 * (the test's, standing for any other transaction on the row) is
 * overwritten. With DB_FOR_UPDATE the batch waits at its read and counts
 * from the other's write. */
static void batch_without_lock_overwrites_a_write(void **state)
{
    static const enum db_read_mode modes[] = { DB_PLAIN, DB_FOR_UPDATE };
    PGconn *db = test_db(), *other = test_db(), *watch = test_db();

    (void)state;
    for (size_t m = 0; m < 2; m++) {
        struct batch_run run = { .b = { .event_id = TEST_EVENT, .user_id = 1 },
                                 .mode = modes[m] };
        pthread_t t;
        PGresult *r;
        long long waiting = 0, left;

        snprintf(run.b.request_id, sizeof run.b.request_id, "zoo-batch-%zu", m);
        assert_int_equal(db_reset_sale(db, TEST_EVENT, 10, 1, &run.b.generation), LAB_OK);
        /* the other session writes 5 and holds the row until it commits */
        PQclear(PQexec(other, "BEGIN"));
        r = PQexec(other, "UPDATE events SET available_seats = 5 WHERE id = 913");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        /* DB_PLAIN reads 10 and waits at its UPDATE; DB_FOR_UPDATE waits at
         * its read: either way the batch is seen waiting, then let go */
        assert_int_equal(pthread_create(&t, NULL, batch_thread, &run), 0);
        for (int polls = 0; (waiting = waiting_for_lock(watch)) < 1 && polls < 200000; polls++)
            ;
        PQclear(PQexec(other, "COMMIT"));
        pthread_join(t, NULL);
        assert_true(waiting >= 1);
        assert_int_equal(run.st, LAB_OK);
        assert_int_equal(run.out, LAB_BOOKED);
        left = sql_ll(db, "SELECT available_seats FROM events WHERE id = 913");
        print_message("batch %s: %lld seats left after the other's 5\n",
                      m == 0 ? "DB_PLAIN" : "DB_FOR_UPDATE", left);
        /* DB_PLAIN wrote 10 - 1 over the other's 5; under the lock, 5 - 1 */
        assert_int_equal(left, m == 0 ? 9 : 4);
    }
    PQfinish(db);
    PQfinish(other);
    PQfinish(watch);
}

/* ---------------------------------------------------------------------- */
/* The zoo's run: the harness's verdict                                     */
/* ---------------------------------------------------------------------- */

/* A burst on phase 3 --without for-update: the harness reports the
 * oversell, the verdict is BUG, and the planted bug is named in it. */
static void for_update_off_burst_is_caught(void **state)
{
    static const char *const bug[] = { "--without", "for-update", NULL };
    char json[8192];
    long long v;

    (void)state;
    start_phase3(bug);
    int rc = run_attack(&current, "--users 200 --seats 50", json, sizeof json);
    stop_phase3();
    print_message("burst: %s\n", json);
    assert_int_equal(rc, 0);
    assert_true(json_ll(json, "oversold", &v));
    assert_true(v > 0);
    assert_true(json_has(json, "verdict", "BUG"));
    assert_true(json_has(json, "planted", "without for-update"));
}

/* ---------------------------------------------------------------------- */
/* Flags that would plant nothing                                           */
/* ---------------------------------------------------------------------- */

/* exit_status runs phase PHASE with ARGS and returns its exit status. */
static int exit_status(int phase, const char *const *args)
{
    char path[256];
    const char *argv[16];
    int n = 0, status;
    pid_t pid;

    snprintf(path, sizeof path, "%s/phase%d", lab_env("LAB_TEST_BIN_DIR", "build/san"), phase);
    argv[n++] = path;
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    pid = proc_spawn(argv, ".lab/log/test-zoo-phase3-usage.log");
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* reread is the optimistic strategy's, for-update the for-update
 * strategy's: elsewhere each is a usage error, not a run that plants
 * nothing. */
static void usage_errors(void **state)
{
    static const char *const reread_alone[] = { "--without", "reread", NULL };
    static const char *const reread_atomic[] = { "--strategy", "atomic", "--without", "reread",
                                                 NULL };
    static const char *const for_update_atomic[] = { "--strategy", "atomic", "--without",
                                                     "for-update", NULL };
    static const char *const for_update_optimistic[] = { "--strategy", "optimistic",
                                                         "--without", "for-update", NULL };
    static const char *const planted_reread[] = { "--strategy", "check-then-insert",
                                                  "--without", "reread", NULL };
    static const char *const phase4_reread[] = { "--without", "reread", NULL };

    (void)state;
    assert_int_equal(exit_status(3, reread_alone), 2);
    assert_int_equal(exit_status(3, reread_atomic), 2);
    assert_int_equal(exit_status(3, for_update_atomic), 2);
    assert_int_equal(exit_status(3, for_update_optimistic), 2);
    assert_int_equal(exit_status(3, planted_reread), 2);
    assert_int_equal(exit_status(4, phase4_reread), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(batch_without_lock_overwrites_a_write),
        cmocka_unit_test_teardown(for_update_off_sells_the_last_seat_twice, stop_current),
        cmocka_unit_test_teardown(reread_off_sells_the_last_seat_twice, stop_current),
        cmocka_unit_test_teardown(check_then_insert_gives_one_user_two_tickets, stop_current),
        cmocka_unit_test_teardown(for_update_off_burst_is_caught, stop_current),
    };
    return cmocka_run_group_tests_name("zoo_phase3", tests, NULL, NULL);
}
