/* test_zoo_async.c -- the zoo's planted bugs of the Kafka phases (docs/zoo.md)
 * do the damage they are planted for, against the real services:
 *
 *   --without commit-after  a worker killed while it decides a message whose
 *                           offset it committed first: that 202 is never
 *                           decided (LOST);
 *   --without dedupe        a message redelivered after a worker died between
 *                           its database commit and its offset commit takes
 *                           a second seat for its one ticket (PHANTOM);
 *   --without ack-first     a 202 for a message Kafka never stored (LOST);
 *   --without fence         messages sent before a reset are booked into the
 *                           new sale (phases 5 and 6), and not with the fence;
 *   --strategy demo         phase 6 in the Java demo's order: a request the
 *                           consumer refuses is never decided, and its seat
 *                           leaves the Redis counter below zero.
 *
 * Races are made certain, not likely: a worker is started only once the
 * messages are queued (the API runs alone, --role api), a worker is killed
 * while the database shows its decision in progress (the think time holds
 * it there), and every wait polls the state it waits for, with a deadline.
 * These tests stop Kafka or kill workers, so they run alone (tests/run.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lab.h"
#include "support.h"
#include "support_db.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                  */
/* ---------------------------------------------------------------------- */

/* reset puts event 1 on sale with SEATS seats: the HTTP status. */
static int reset(const struct svc *s, long long seats)
{
    char target[128], body[1024];

    snprintf(target, sizeof target, "/api/admin/reset?eventId=1&seats=%lld", seats);
    return http_call(s->addr, "POST", target, NULL, NULL, body, sizeof body, 10000);
}

/* book sends USER's booking of event 1 under request id RID: the status. */
static int book(const struct svc *s, long long user, const char *rid)
{
    char target[256], body[1024];

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%lld&requestId=%s", user,
             rid);
    return http_call(s->addr, "POST", target, NULL, NULL, body, sizeof body, 15000);
}

/* audit_ll reads FIGURE of event 1's audit (the service's own). */
static long long audit_ll(const struct svc *s, const char *figure)
{
    char body[2048];
    long long v;

    assert_int_equal(http_call(s->addr, "GET", "/api/bookings/audit?eventId=1", NULL, NULL,
                               body, sizeof body, 5000), 200);
    if (!json_ll(body, figure, &v))
        fail_msg("no %s in the audit: %s", figure, body);
    return v;
}

/* decided counts the rows that decide request id RID: its ticket, its
 * refusal. */
static long long decided(PGconn *db, const char *rid)
{
    char sql[256];

    snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM tickets WHERE request_id = '%s') + "
             "(SELECT count(*) FROM decisions WHERE request_id = '%s')", rid, rid);
    return sql_ll(db, sql);
}

/* A service that takes requests only (--role api), and the command line of
 * a worker of the same topic and group, with the extra flags given to
 * worker_start. */
struct split {
    char topic[64], path[256];
};

/* split_start starts phase PHASE's API alone on a topic of the test's own. */
static void split_start(struct split *sp, int phase, const char *name)
{
    const char *api_args[] = { "--role", "api", "--topic", sp->topic, "--group", sp->topic,
                               NULL };

    snprintf(sp->topic, sizeof sp->topic, "lab-test-zoo-%s-%d", name, (int)getpid());
    snprintf(sp->path, sizeof sp->path, "%s/phase%d", lab_env("LAB_TEST_BIN_DIR", "build/san"),
             phase);
    assert_true(svc_start(&current, phase, api_args));
}

/* worker_start starts a worker of SP with the flags EXTRA (up to 8,
 * NULL-terminated) as the test's current worker. */
static void worker_start(const struct split *sp, const char *const *extra, const char *log)
{
    const char *argv[20] = { sp->path, "--role", "worker", "--topic", sp->topic, "--group",
                             sp->topic };
    int n = 7;

    for (; extra && *extra && n < 18; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    assert_true((current_worker = proc_spawn(argv, log)) > 0);
}

/* worker_kill ends the current worker with SIGKILL, as a crash would, and
 * reaps it. */
static void worker_kill(void)
{
    int status;

    assert_int_equal(kill(current_worker, SIGKILL), 0);
    assert_int_equal(waitpid(current_worker, &status, 0), current_worker);
    current_worker = 0;
}

/* ---------------------------------------------------------------------- */
/* --without commit-after                                                   */
/* ---------------------------------------------------------------------- */

/* A worker that commits what it polled before deciding it, killed while it
 * decides the first message: the next worker starts after that message,
 * which stays answered 202 and undecided for good. */
static void commit_after_off_loses_a_message(void **state)
{
    static const char *const planted[] = { "--without", "commit-after", "--batch", "1",
                                           "--think-ms", "4000", NULL };
    static const char *const plain[] = { "--batch", "1", "--think-ms", "0", NULL };
    struct split sp;
    PGconn *db = test_db();

    (void)state;
    split_start(&sp, 5, "commit");
    assert_int_equal(reset(&current, 100), 200);
    assert_int_equal(book(&current, 1, "zoo-commit-1"), 202);
    assert_int_equal(book(&current, 2, "zoo-commit-2"), 202);
    worker_start(&sp, planted, ".lab/log/test-zoo-commit-worker1.log");
    /* the first decision holds the event's row lock through its think time
     * (under the sessions' 5 s idle-in-transaction limit): its offset was
     * committed before it began */
    wait_sql(db, "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                 "AND query LIKE '%FOR UPDATE%'", 1);
    worker_kill();
    worker_start(&sp, plain, ".lab/log/test-zoo-commit-worker2.log");
    assert_int_equal(book(&current, 3, "zoo-commit-after"), 202);
    wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id = 'zoo-commit-after'", 1);
    /* everything before it in the partition was decided or skipped */
    assert_int_equal(decided(db, "zoo-commit-1"), 0);
    assert_true(audit_ll(&current, "sold") < 3);
    PQfinish(db);
}

/* ---------------------------------------------------------------------- */
/* --without dedupe                                                         */
/* ---------------------------------------------------------------------- */

/* A worker that decided a message and died before its offset was
 * committed (--commit-interval-ms 60000: nothing is committed in time):
 * the next worker gets the message again and, without the redelivery
 * check, takes a second seat for the same ticket. DEDUPE_OFF: the planted
 * bug, else the safe consumer, which finds the request decided. */
static void redelivery(bool dedupe_off)
{
    static const char *const first_planted[] = { "--commit-interval-ms", "60000", "--without",
                                                 "dedupe", NULL };
    static const char *const first_safe[] = { "--commit-interval-ms", "60000", NULL };
    static const char *const again_planted[] = { "--without", "dedupe", NULL };
    struct split sp;
    PGconn *db = test_db();

    split_start(&sp, 5, dedupe_off ? "dedupe-off" : "dedupe-on");
    assert_int_equal(reset(&current, 100), 200);
    assert_int_equal(book(&current, 1, "zoo-dedupe-1"), 202);
    worker_start(&sp, dedupe_off ? first_planted : first_safe,
                 ".lab/log/test-zoo-dedupe-worker1.log");
    wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id = 'zoo-dedupe-1'", 1);
    worker_kill();
    worker_start(&sp, dedupe_off ? again_planted : NULL, ".lab/log/test-zoo-dedupe-worker2.log");
    assert_int_equal(book(&current, 2, "zoo-dedupe-2"), 202);
    wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id = 'zoo-dedupe-2'", 1);
    assert_int_equal(audit_ll(&current, "sold"), 2);
    assert_int_equal(audit_ll(&current, "available"), dedupe_off ? 97 : 98);
    assert_int_equal(audit_ll(&current, "phantom"), dedupe_off ? -1 : 0);
    PQfinish(db);
}

static void dedupe_off_takes_a_second_seat(void **state)
{
    (void)state;
    redelivery(true);
}

static void dedupe_on_finds_the_redelivery_decided(void **state)
{
    (void)state;
    redelivery(false);
}

/* ---------------------------------------------------------------------- */
/* --without ack-first                                                      */
/* ---------------------------------------------------------------------- */

/* wait_log polls the file LOG until it holds TEXT, for at most 60 s. */
static void wait_log(const char *log, const char *text)
{
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(log, "r");
        char line[1024];
        bool found = false;

        while (f && !found && fgets(line, sizeof line, f))
            found = strstr(line, text) != NULL;
        if (f)
            fclose(f);
        if (found)
            return;
        lab_sleep_ms(100);
    }
    fail_msg("%s never said: %s", log, text);
}

/* stop_and_heal starts Kafka again whatever the test did, then stops the
 * test's services. */
static int stop_and_heal(void **state)
{
    int up = services_ctl("up", "kafka");

    return stop_current(state) == 0 && up == 0 ? 0 : -1;
}

/* With Kafka stopped, phase 5 without ack-first answers 202 (the safe
 * phase answers 503: test_outages.c); the message expires in librdkafka's
 * memory, and once Kafka is back and a later booking is decided, the
 * accepted one never is. */
static void ack_first_off_loses_a_202(void **state)
{
    static const char *const args[] = { "--without", "ack-first", "--queue-timeout-ms", "1000",
                                        "--batch", "1", "--think-ms", "0", NULL };
    PGconn *db = test_db();
    char rid[32], body[1024];
    long long after = 0;

    (void)state;
    assert_true(svc_start(&current, 5, args));
    assert_int_equal(reset(&current, 100), 200);
    assert_int_equal(book(&current, 1, "zoo-ack-1"), 202);
    wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id = 'zoo-ack-1'", 1);

    assert_int_equal(services_down("kafka"), 0);
    assert_int_equal(book(&current, 2, "zoo-ack-lost"), 202);
    wait_log(current.log, "never stored request zoo-ack-lost");
    assert_int_equal(services_ctl("up", "kafka"), 0);

    /* a booking after the restart, again until the producer is back and
     * one is decided (each is 202 at once: the bug) */
    for (int i = 0; i < 300 && after == 0; i++) {
        if (i % 20 == 0) {
            snprintf(rid, sizeof rid, "zoo-ack-after-%d", i / 20);
            assert_int_equal(book(&current, 3 + i / 20, rid), 202);
        }
        lab_sleep_ms(100);
        after = sql_ll(db, "SELECT count(*) FROM tickets WHERE request_id LIKE 'zoo-ack-after-%'");
    }
    assert_true(after > 0);
    assert_int_equal(decided(db, "zoo-ack-lost"), 0);
    /* what the client can learn: still pending, for good */
    assert_int_equal(http_call(current.addr, "GET", "/api/bookings/result?requestId=zoo-ack-lost",
                               NULL, NULL, body, sizeof body, 5000), 200);
    assert_true(json_has(body, "status", "pending"));
    PQfinish(db);
}

/* ---------------------------------------------------------------------- */
/* --without fence                                                          */
/* ---------------------------------------------------------------------- */

/* Five bookings queued in a sale of ten seats, the sale reset, then a
 * worker started: without the fence the five old requests take five seats
 * of the new sale; with it they are stale. */
static void reset_under_queue(int phase, bool fence_off)
{
    static const char *const planted[] = { "--without", "fence", NULL };
    char rid[32];
    struct split sp;
    PGconn *db = test_db();

    split_start(&sp, phase, fence_off ? "fence-off" : "fence-on");
    assert_int_equal(reset(&current, 10), 200);
    for (int i = 1; i <= 5; i++) {
        snprintf(rid, sizeof rid, "zoo-fence-%d", i);
        assert_int_equal(book(&current, i, rid), 202);
    }
    assert_int_equal(reset(&current, 10), 200);
    worker_start(&sp, fence_off ? planted : NULL, ".lab/log/test-zoo-fence-worker.log");
    wait_sql(db, "SELECT (SELECT count(*) FROM tickets WHERE request_id = 'zoo-fence-5') + "
                 "(SELECT count(*) FROM decisions WHERE request_id = 'zoo-fence-5')", 1);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM tickets t JOIN events e ON e.id = "
                                "t.event_id WHERE e.id = 1 AND t.generation = e.generation "
                                "AND t.request_id LIKE 'zoo-fence-%'"), fence_off ? 5 : 0);
    assert_int_equal(sql_ll(db, "SELECT count(*) FROM decisions WHERE decision = 'stale' "
                                "AND request_id LIKE 'zoo-fence-%'"), fence_off ? 0 : 5);
    assert_int_equal(audit_ll(&current, "available"), fence_off ? 5 : 10);
    PQfinish(db);
}

static void fence_off_books_the_old_sale_phase5(void **state)
{
    (void)state;
    reset_under_queue(5, true);
}

static void fence_off_books_the_old_sale_phase6(void **state)
{
    (void)state;
    reset_under_queue(6, true);
}

static void fence_on_keeps_the_old_sale_out_phase5(void **state)
{
    (void)state;
    reset_under_queue(5, false);
}

/* ---------------------------------------------------------------------- */
/* --strategy demo                                                          */
/* ---------------------------------------------------------------------- */

/* One seat, two requests: both 202 (no gate at the API), the first booked,
 * the second refused by the consumer's DECR and then forgotten: no
 * decision, no claim, the counter at -1. */
static void demo_forgets_its_refusals(void **state)
{
    static const char *const args[] = { "--strategy", "demo", "--think-ms", "0", NULL };
    PGconn *db = test_db();
    char body[1024];
    long long counter = 0;

    (void)state;
    assert_true(svc_start(&current, 6, args));
    assert_int_equal(http_call(current.addr, "GET", "/healthz", NULL, NULL, body, sizeof body,
                               5000), 200);
    assert_true(json_has(body, "planted", "strategy demo"));
    assert_int_equal(reset(&current, 1), 200);
    assert_int_equal(book(&current, 1, "zoo-demo-1"), 202);
    assert_int_equal(book(&current, 2, "zoo-demo-2"), 202);
    wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id = 'zoo-demo-1'", 1);
    for (int i = 0; i < 300 && counter != -1; i++) {
        counter = audit_ll(&current, "cacheAvailable");
        if (counter != -1)
            lab_sleep_ms(100);
    }
    assert_int_equal(counter, -1);
    assert_int_equal(decided(db, "zoo-demo-2"), 0);
    assert_int_equal(http_call(current.addr, "GET", "/api/bookings/result?requestId=zoo-demo-2",
                               NULL, NULL, body, sizeof body, 5000), 404);
    assert_int_equal(audit_ll(&current, "sold"), 1);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(commit_after_off_loses_a_message, stop_current),
        cmocka_unit_test_teardown(dedupe_off_takes_a_second_seat, stop_current),
        cmocka_unit_test_teardown(dedupe_on_finds_the_redelivery_decided, stop_current),
        cmocka_unit_test_teardown(ack_first_off_loses_a_202, stop_and_heal),
        cmocka_unit_test_teardown(fence_off_books_the_old_sale_phase5, stop_current),
        cmocka_unit_test_teardown(fence_off_books_the_old_sale_phase6, stop_current),
        cmocka_unit_test_teardown(fence_on_keeps_the_old_sale_out_phase5, stop_current),
        cmocka_unit_test_teardown(demo_forgets_its_refusals, stop_current),
    };
    return cmocka_run_group_tests_name("zoo_async", tests, NULL, NULL);
}
