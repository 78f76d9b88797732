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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "replay_driver.h"

#define EVENT_PHASE2 901
#define EVENT_PHASE3 902
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phase2_default_loses_an_update),
        cmocka_unit_test(phase3_default_waits_and_keeps_both),
        cmocka_unit_test(three_sessions),
        cmocka_unit_test(phase2_serial_is_clean),
    };
    return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
