/* test_replay.c -- the replay's core (tools/replay/replay_driver.c) against
 * the real PostgreSQL: the default interleaving loses an update on phase 2
 * and not on phase 3, where session B is seen waiting for A's row lock; the
 * end state is checked with a direct SQL count, not only with what the
 * replay says. Events 901 (phase 2) and 902 (phase 3), reset by every run.
 *
 * Nothing here waits on time: the driver hands out one step at a time and
 * learns that a session is blocked from pg_blocking_pids(). */
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
#include "replay_driver.h"

#define EVENT_PHASE2 901
#define EVENT_PHASE3 902
#define EVENT_OUTSIDE 903
#define SEATS 10

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* One run: its result and its timeline, captured in memory. */
struct run {
    struct replay_result res;
    char *timeline;
    size_t timeline_len;
};

/* replay runs the preset NAME with SESSIONS sessions on PHASE and EVENT,
 * capturing the timeline (also echoed for whoever reads the test's log). */
static void replay(struct run *run, int phase, long long event_id, const char *name,
                   int sessions)
{
    struct replay_config cfg = {
        .conninfo = lab_env("LAB_PG", LAB_PG_DEFAULT),
        .phase = phase,
        .event_id = event_id,
        .seats = SEATS,
        .interleaving = name,
    };
    char err[256];
    FILE *out = open_memstream(&run->timeline, &run->timeline_len);

    assert_non_null(out);
    assert_true(replay_plan_preset(&cfg.plan, name, sessions, err, sizeof err));
    cfg.out = out;
    assert_int_equal(replay_run(&cfg, &run->res), LAB_OK);
    fclose(out);
    fputs(run->timeline, stdout);
}

/* sql_count reads the counter and the ticket rows of EVENT_ID with SQL of
 * its own, so that the test does not only believe the replay's audit. */
static void sql_count(long long event_id, long long *counter, long long *tickets)
{
    char err[256], sql[256];
    PGconn *db = db_connect(lab_env("LAB_PG", LAB_PG_DEFAULT), err, sizeof err);
    PGresult *r;

    assert_non_null(db);
    snprintf(sql, sizeof sql,
             "SELECT available_seats, (SELECT count(*) FROM tickets WHERE event_id = %lld) "
             "FROM events WHERE id = %lld", event_id, event_id);
    r = PQexec(db, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    *counter = atoll(PQgetvalue(r, 0, 0));
    *tickets = atoll(PQgetvalue(r, 0, 1));
    PQclear(r);
    PQfinish(db);
}

/* ------------------------------------------------------------------------
 * Tests
 * --------------------------------------------------------------------- */

/* Phase 2, A and B both read 10 and both write 9: two tickets, the counter
 * down by one. Nobody ever waits: there is no lock. */
static void phase2_default_loses_an_update(void **state)
{
    struct run run;
    long long counter, tickets;

    (void)state;
    replay(&run, 2, EVENT_PHASE2, "lost-update", 2);
    assert_int_equal(run.res.counter, SEATS - 1);
    assert_int_equal(run.res.tickets, 2);
    assert_int_equal(run.res.lost_updates, 1);
    assert_false(run.res.waited[0]);
    assert_false(run.res.waited[1]);
    sql_count(EVENT_PHASE2, &counter, &tickets);
    assert_int_equal(counter, SEATS - 1);
    assert_int_equal(tickets, 2);
    assert_non_null(strstr(run.timeline, "   4  B    wrote 9 "));
    assert_non_null(strstr(run.timeline, "verdict: lost update: 2 tickets sold, counter went "
                                         "down by 1"));
    free(run.timeline);
}

/* Phase 3, same interleaving: B's read waits for A's row lock, completes
 * after A's commit with the fresh 9, and B writes 8. */
static void phase3_default_waits_and_keeps_both(void **state)
{
    struct run run;
    long long counter, tickets;

    (void)state;
    replay(&run, 3, EVENT_PHASE3, "lost-update", 2);
    assert_int_equal(run.res.counter, SEATS - 2);
    assert_int_equal(run.res.tickets, 2);
    assert_int_equal(run.res.lost_updates, 0);
    assert_false(run.res.waited[0]);
    assert_true(run.res.waited[1]);
    sql_count(EVENT_PHASE3, &counter, &tickets);
    assert_int_equal(counter, SEATS - 2);
    assert_int_equal(tickets, 2);
    assert_non_null(strstr(run.timeline, "B waits for A's row lock"));
    assert_non_null(strstr(run.timeline, "read 9 FOR UPDATE, once A's lock was released"));
    assert_non_null(strstr(run.timeline, "verdict: no lost update"));
    /* the wait is reported before A commits, the fresh read after it */
    assert_true(strstr(run.timeline, "B waits") < strstr(run.timeline, "A    committed"));
    assert_true(strstr(run.timeline, "A    committed") < strstr(run.timeline, "read 9 FOR"));
    free(run.timeline);
}

/* k sessions: on phase 2 three readers of 10 leave the counter at 9 with
 * three tickets; on phase 3 B and C queue behind the lock and all three
 * decrements survive. */
static void three_sessions(void **state)
{
    struct run run;

    (void)state;
    replay(&run, 2, EVENT_PHASE2, "lost-update", 3);
    assert_int_equal(run.res.counter, SEATS - 1);
    assert_int_equal(run.res.tickets, 3);
    assert_int_equal(run.res.lost_updates, 2);
    free(run.timeline);

    replay(&run, 3, EVENT_PHASE3, "overtake", 3);
    assert_int_equal(run.res.counter, SEATS - 3);
    assert_int_equal(run.res.tickets, 3);
    assert_int_equal(run.res.lost_updates, 0);
    assert_false(run.res.waited[0]);
    assert_true(run.res.waited[1]);
    assert_true(run.res.waited[2]);
    free(run.timeline);
}

/* The serial interleaving is clean even without a lock: the race needs the
 * overlap, not only the missing lock. */
static void phase2_serial_is_clean(void **state)
{
    struct run run;

    (void)state;
    replay(&run, 2, EVENT_PHASE2, "serial", 2);
    assert_int_equal(run.res.counter, SEATS - 2);
    assert_int_equal(run.res.tickets, 2);
    assert_int_equal(run.res.lost_updates, 0);
    free(run.timeline);
}

/* A replay run in a thread of its own, for the test that holds a lock the
 * replay waits for. */
struct background {
    struct replay_config cfg;
    struct replay_result res;
    enum lab_status st;
};

static void *run_in_background(void *arg)
{
    struct background *bg = arg;

    bg->st = replay_run(&bg->cfg, &bg->res);
    return NULL;
}

/* sql_number runs SQL on DB and reads its one number. */
static long long sql_number(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    long long v;

    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* A wait for a backend outside the replay (here a connection of the test
 * holding the event's advisory lock; in make explore, autovacuum truncating
 * the tickets table) is not a wait of the schedule: the driver waits it
 * out, the run completes and nobody is counted as blocked. The test knows
 * the replay waits, and that the driver has looked since, from pg_locks and
 * pg_stat_activity, not from time. */
static void a_wait_outside_the_replay_is_waited_out(void **state)
{
    struct background bg = { .cfg = {
        .conninfo = lab_env("LAB_PG", LAB_PG_DEFAULT),
        .phase = 3,
        .strategy = replay_strategy_find("advisory"),
        .event_id = EVENT_OUTSIDE,
        .seats = SEATS,
        .interleaving = "custom",
    } };
    char err[256], sql[256];
    PGconn *outside = db_connect(bg.cfg.conninfo, err, sizeof err);
    pthread_t t;
    long long waiting = 0;

    (void)state;
    assert_non_null(outside);
    assert_true(replay_plan_parse_for(&bg.cfg.plan, "A:lock A:read A:write A:insert",
                                      bg.cfg.strategy, err, sizeof err));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT pg_advisory_lock(%d)) l",
             EVENT_OUTSIDE);
    assert_int_equal(sql_number(outside, sql), 1);
    assert_int_equal(pthread_create(&t, NULL, run_in_background, &bg), 0);
    /* until session A waits for our lock and the driver has asked
     * pg_blocking_pids() about it since: it has seen the wait */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_locks l, pg_stat_activity a "
             "WHERE l.locktype = 'advisory' AND l.objid = %d AND NOT l.granted "
             "AND a.pid <> pg_backend_pid() AND a.query LIKE 'SELECT unnest(pg_blocking_pids(%%' "
             "AND a.query_start > l.waitstart",
             EVENT_OUTSIDE);
    while (waiting == 0)
        waiting = sql_number(outside, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT pg_advisory_unlock(%d)) u",
             EVENT_OUTSIDE);
    assert_int_equal(sql_number(outside, sql), 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    PQfinish(outside);
    assert_int_equal(bg.st, LAB_OK);
    assert_false(bg.res.waited[0]);
    assert_int_equal(bg.res.outcome[0], REPLAY_BOOKED);
    assert_int_equal(bg.res.tickets, 1);
    assert_int_equal(bg.res.counter, SEATS - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phase2_default_loses_an_update),
        cmocka_unit_test(phase3_default_waits_and_keeps_both),
        cmocka_unit_test(three_sessions),
        cmocka_unit_test(phase2_serial_is_clean),
        cmocka_unit_test(a_wait_outside_the_replay_is_waited_out),
    };
    return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
