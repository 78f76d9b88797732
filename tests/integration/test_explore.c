/* test_explore.c -- the explorer (tools/explore/explore_run.c) against the
 * real PostgreSQL: every interleaving of two sessions, at each isolation
 * level, of phase 2's read-write and of phase 3's FOR UPDATE, and the
 * figures they must come to. Event 951, reset before every interleaving.
 *
 * What was measured, and why it is so:
 *  - phase 2's read-write (unsafe) loses an update in 12 of its 20
 *    interleavings at every level: exactly those in which both sessions
 *    read before either writes (2 orders of the two reads times C(4,2) = 6
 *    orders of the rest). Its statements commit one by one (no
 *    transaction), so each is a transaction of its own: REPEATABLE READ and
 *    SERIALIZABLE have no two statements of one transaction to keep
 *    consistent, nothing waits and nothing is aborted.
 *  - FOR UPDATE has no anomaly at any level, and in 68 of its 70
 *    interleavings one session waits (all but the two serial ones): the
 *    70 schedules run as 2. At READ COMMITTED the waiting read then reads
 *    the new counter; at REPEATABLE READ and SERIALIZABLE it is aborted
 *    instead (40001, the row changed after its snapshot), in the same 68.
 *  - local-mutex (phase 2 in one process) has no anomaly either; the mutex
 *    is waited for, never PostgreSQL.
 *  - the zoo's check-then-insert gives one user two tickets at READ
 *    COMMITTED in every schedule but the serial ones, and at REPEATABLE
 *    READ still in the 10 where the second counts before the first commits
 *    and reads after it.
 * A lost update's shortest schedule, replayed by its id, loses it again.
 *
 * Nothing here waits on time: the replay's driver learns that a session is
 * blocked from pg_blocking_pids() (or the mutex's own record). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "explore.h"
#include "replay_driver.h"

#define TEST_EVENT 951

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* explore runs every interleaving of STRATEGY at ISO with two sessions and
 * SEATS seats into G. */
static void explore(struct explore_group *g, const char *strategy, enum replay_isolation iso,
                    long long seats)
{
    struct explore_options o;
    char err[256];
    char *argv[] = { "explore", NULL };

    assert_int_equal(explore_options_parse(&o, 1, argv, err, sizeof err), 0);
    o.event_id = TEST_EVENT;
    memset(g, 0, sizeof *g);
    g->strategy = replay_strategy_find(strategy);
    assert_non_null(g->strategy);
    g->isolation = iso;
    g->sessions = 2;
    g->seats = seats;
    assert_int_equal(explore_group_run(lab_env("LAB_PG", LAB_PG_DEFAULT), &o, g, NULL), LAB_OK);
    printf("%s %s %lld seats: %lld of %llu anomalous, %lld blocked, %lld aborted, "
           "%lld distinct\n", strategy, replay_isolation_name(iso), seats, g->anomalous,
           g->explored, g->blocked, g->aborted, g->distinct);
    assert_false(g->sampled);
    assert_int_equal(g->explored, g->interleavings);
}

static const enum replay_isolation levels[] = {
    REPLAY_ISOLATION_READ_COMMITTED, REPLAY_ISOLATION_REPEATABLE_READ,
    REPLAY_ISOLATION_SERIALIZABLE,
};

/* ------------------------------------------------------------------------
 * Tests
 * --------------------------------------------------------------------- */

/* Phase 2's read-write: 12 of 20 lose an update at every level, none is
 * aborted or waits; with one seat the same 12 also oversell it. */
static void unsafe_loses_updates_at_every_level(void **state)
{
    struct explore_group g;

    (void)state;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        explore(&g, "unsafe", levels[i], 2);
        assert_int_equal(g.interleavings, 20);
        assert_int_equal(g.lost_update, 12);
        assert_int_equal(g.anomalous, 12);
        assert_int_equal(g.oversold, 0);
        assert_int_equal(g.blocked, 0);
        assert_int_equal(g.aborted, 0);
        assert_true(g.has_shortest);
        assert_int_equal(g.shortest_switches, 2);

        explore(&g, "unsafe", levels[i], 1);
        assert_int_equal(g.lost_update, 12);
        assert_int_equal(g.oversold, 12);
        assert_int_equal(g.aborted, 0);
    }
}

/* FOR UPDATE: no anomaly at any level; one session waits in all but the two
 * serial schedules; the stricter levels abort the waiter instead of letting
 * it read the new counter. */
static void for_update_has_no_anomaly_at_any_level(void **state)
{
    struct explore_group g;

    (void)state;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        for (long long seats = 1; seats <= 2; seats++) {
            explore(&g, "for-update", levels[i], seats);
            assert_int_equal(g.interleavings, 70);
            assert_int_equal(g.anomalous, 0);
            assert_false(g.has_shortest);
            assert_int_equal(g.blocked, 68);
            if (levels[i] == REPLAY_ISOLATION_READ_COMMITTED) {
                /* A's booking then B's, or B's then A's: 70 schedules, 2 runs */
                assert_int_equal(g.distinct, 2);
                assert_int_equal(g.aborted, 0);
                /* 2 seats: both book; 1 seat: the one that waited sees 0 */
                assert_int_equal(g.by_tickets[seats], 70);
            } else {
                /* the waiter aborted at its read, or (the 2 serial schedules)
                 * booked after: with 1 seat it reads 0 and stops at its read
                 * too, so the two look alike */
                assert_int_equal(g.distinct, seats == 1 ? 2 : 4);
                assert_int_equal(g.aborted, 68);
                assert_int_equal(g.aborted_by[EXPLORE_40001], 68);
                assert_int_equal(g.by_tickets[1], seats == 1 ? 70 : 68);
            }
        }
    }
}

/* The mutex serializes phase 2's steps: no anomaly; its waits are seen. */
static void local_mutex_waits_and_is_clean(void **state)
{
    struct explore_group g;

    (void)state;
    explore(&g, "local-mutex", REPLAY_ISOLATION_READ_COMMITTED, 2);
    assert_int_equal(g.anomalous, 0);
    assert_true(g.blocked > 0);
    assert_int_equal(g.aborted, 0);
    assert_int_equal(g.by_tickets[2], 20);
}

/* check-then-insert, as phase 3 plants it (both sessions user 1, 2 seats):
 * a count of its own, then phase 3's transaction. At READ COMMITTED every
 * schedule but the two serial ones gives the user two tickets (both counted
 * 0 before either committed). At REPEATABLE READ the second's FOR UPDATE
 * read, when it waited for the first, is aborted (40001); but in 10 of 252
 * the second counted before the first committed and read after: its
 * transaction began after that commit, nothing conflicts, and the user
 * holds two tickets (5 places for B's count in A's booking, and the same
 * with A and B swapped). With 1 seat the second finds none left. */
static void check_then_insert_double_books(void **state)
{
    struct explore_group g;

    (void)state;
    explore(&g, "check-then-insert", REPLAY_ISOLATION_READ_COMMITTED, 2);
    assert_int_equal(g.interleavings, 252);
    assert_int_equal(g.double_booked, 250);
    assert_int_equal(g.lost_update, 0);
    assert_int_equal(g.aborted, 0);
    explore(&g, "check-then-insert", REPLAY_ISOLATION_READ_COMMITTED, 1);
    assert_int_equal(g.anomalous, 0);
    explore(&g, "check-then-insert", REPLAY_ISOLATION_REPEATABLE_READ, 2);
    assert_int_equal(g.double_booked, 10);
    assert_int_equal(g.aborted_by[EXPLORE_40001], 240);
    assert_int_equal(g.shortest_switches, 2);
}

/* The shortest lost update, replayed from its id with the replay's own
 * parser, loses the update again. */
static void shortest_replays_by_its_id(void **state)
{
    struct explore_group g;
    struct replay_explored e;
    struct replay_config cfg = { 0 };
    struct replay_result res;
    char id[96], err[256], *timeline = NULL;
    size_t len = 0;
    FILE *out;

    (void)state;
    explore(&g, "unsafe", REPLAY_ISOLATION_SERIALIZABLE, 1);
    explore_group_id(&g, id, sizeof id);
    assert_true(replay_explored_parse(id, &e, &cfg.plan, err, sizeof err));
    assert_non_null(out = open_memstream(&timeline, &len));
    cfg.conninfo = lab_env("LAB_PG", LAB_PG_DEFAULT);
    cfg.strategy = e.strategy;
    cfg.phase = e.strategy->phase;
    cfg.isolation = e.isolation;
    cfg.event_id = TEST_EVENT;
    cfg.seats = e.seats;
    cfg.interleaving = id;
    cfg.out = out;
    assert_int_equal(replay_run(&cfg, &res), LAB_OK);
    fclose(out);
    fputs(timeline, stdout);
    assert_true(res.lost_updates > 0);
    assert_int_equal(res.oversold, 1);
    assert_non_null(strstr(timeline, "SERIALIZABLE"));
    free(timeline);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unsafe_loses_updates_at_every_level),
        cmocka_unit_test(for_update_has_no_anomaly_at_any_level),
        cmocka_unit_test(local_mutex_waits_and_is_clean),
        cmocka_unit_test(check_then_insert_double_books),
        cmocka_unit_test(shortest_replays_by_its_id),
    };
    return cmocka_run_group_tests_name("explore", tests, NULL, NULL);
}
