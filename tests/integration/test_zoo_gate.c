/* test_zoo_gate.c -- the Redis gate's planted bugs (docs/zoo.md), against
 * the real services: each safeguard of the gate switched off does the
 * damage it is there to prevent, and the very same steps with the phase's
 * defaults do none. Every test runs its steps twice, on a service started
 * without the bug and then on one started with it (--without NAME), and
 * compares the gate's count with the database's (the service's audit:
 * cacheAvailable against available).
 *
 * No timing: each step is one request answered before the next is sent, or
 * a poll of the database for the state it waits for, with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include "lab.h"
#include "support.h"
#include "support_db.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                  */
/* ---------------------------------------------------------------------- */

/* put_on_sale resets event 1 of S to SEATS seats, one ticket per user. */
static void put_on_sale(const struct svc *s, long long seats)
{
    char target[128], body[1024];

    snprintf(target, sizeof target, "/api/admin/reset?eventId=1&seats=%lld", seats);
    assert_int_equal(http_call(s->addr, "POST", target, NULL, NULL, body, sizeof body, 10000),
                     200);
}

/* buy sends user USER's booking of event 1 under request id RID; the HTTP
 * status, the answer in BODY. */
static int buy(const struct svc *s, long long user, const char *rid, char *body, size_t len)
{
    char target[256];

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%lld&requestId=%s", user,
             rid);
    return http_call(s->addr, "POST", target, NULL, NULL, body, len, 15000);
}

/* audit_figure reads FIGURE of event 1's audit from S. */
static long long audit_figure(const struct svc *s, const char *figure)
{
    char body[2048];
    long long v;

    assert_int_equal(http_call(s->addr, "GET", "/api/bookings/audit?eventId=1", NULL, NULL, body,
                               sizeof body, 5000), 200);
    if (!json_ll(body, figure, &v))
        fail_msg("no %s in the audit: %s", figure, body);
    return v;
}

/* start_phase starts PHASE with a think time of 1 ms, and with the bug
 * WITHOUT planted when it is not NULL. */
static void start_phase(int phase, const char *without)
{
    const char *safe[] = { "--think-ms", "1", NULL };
    const char *planted[] = { "--think-ms", "1", "--without", without, NULL };

    assert_true(svc_start(&current, phase, without ? planted : safe));
}

/* The two runs of every test: the phase's defaults, then the bug. */
static const char *const runs[] = { NULL, "bug" };

/* ---------------------------------------------------------------------- */
/* give-back                                                                */
/* ---------------------------------------------------------------------- */

/* One user clicks twice, two request ids: the gate lets both through, the
 * database books the first and refuses the second for the per-user limit.
 * With give-back the refused booking's seat goes back to the gate (9 free
 * in both counts); without it the gate keeps it (8 against the database's
 * 9): a seat never sold. */
static void give_back_phase4(void **state)
{
    char body[1024];

    (void)state;
    for (int run = 0; run < 2; run++) {
        start_phase(4, runs[run] ? "give-back" : NULL);
        put_on_sale(&current, 10);
        assert_int_equal(buy(&current, 7, "give-back-1", body, sizeof body), 201);
        assert_int_equal(buy(&current, 7, "give-back-2", body, sizeof body), 409);
        assert_true(json_has(body, "status", "limit"));
        assert_int_equal(audit_figure(&current, "sold"), 1);
        assert_int_equal(audit_figure(&current, "available"), 9);
        assert_int_equal(audit_figure(&current, "cacheAvailable"), runs[run] ? 8 : 9);
        assert_int_equal(audit_figure(&current, "cacheDrift"), runs[run] ? -1 : 0);
        assert_int_equal(svc_stop(&current), 0);
        memset(&current, 0, sizeof current);
    }
}

/* The same in phase 6, where the consumer's transaction refuses the second
 * click: a third buyer's ticket, queued after that refusal was stored, is
 * decided by the same consumer thread after it settled the gate, so the
 * counts are read once that ticket shows. Without give-back the gate counts
 * one seat fewer than the database. */
static void give_back_phase6(void **state)
{
    char body[1024];
    PGconn *db = test_db();

    (void)state;
    for (int run = 0; run < 2; run++) {
        start_phase(6, runs[run] ? "give-back" : NULL);
        put_on_sale(&current, 10);
        assert_int_equal(buy(&current, 7, "give-back6-1", body, sizeof body), 202);
        assert_int_equal(buy(&current, 7, "give-back6-2", body, sizeof body), 202);
        wait_sql(db, "SELECT count(*) FROM decisions WHERE decision = 'limit' AND "
                     "request_id LIKE 'give-back6-%'", 1);
        assert_int_equal(buy(&current, 8, "give-back6-3", body, sizeof body), 202);
        wait_sql(db, "SELECT count(*) FROM tickets WHERE request_id = 'give-back6-3'", 1);
        assert_int_equal(audit_figure(&current, "available"), 8);
        assert_int_equal(audit_figure(&current, "cacheAvailable"), runs[run] ? 7 : 8);
        assert_int_equal(svc_stop(&current), 0);
        memset(&current, 0, sizeof current);
    }
    PQfinish(db);
}

/* ---------------------------------------------------------------------- */
/* claim-first                                                              */
/* ---------------------------------------------------------------------- */

/* A retry of a booked request id replays its 201 with the same ticket
 * either way: the damage is silent. With the claim first, the retry found
 * its answer before the gate and took nothing; claimed after the take, it
 * took a seat that no ticket uses. */
static void claim_first_phase4(void **state)
{
    char body[1024];
    long long ticket, again;

    (void)state;
    for (int run = 0; run < 2; run++) {
        start_phase(4, runs[run] ? "claim-first" : NULL);
        put_on_sale(&current, 10);
        assert_int_equal(buy(&current, 7, "claim-first-1", body, sizeof body), 201);
        assert_true(json_ll(body, "ticketId", &ticket));
        for (int retry = 0; retry < 3; retry++) {
            assert_int_equal(buy(&current, 7, "claim-first-1", body, sizeof body), 201);
            assert_true(json_ll(body, "ticketId", &again));
            assert_int_equal(again, ticket);
        }
        assert_int_equal(audit_figure(&current, "sold"), 1);
        assert_int_equal(audit_figure(&current, "available"), 9);
        assert_int_equal(audit_figure(&current, "cacheAvailable"), runs[run] ? 6 : 9);
        assert_int_equal(svc_stop(&current), 0);
        memset(&current, 0, sizeof current);
    }
}

/* ---------------------------------------------------------------------- */
/* rebuild                                                                  */
/* ---------------------------------------------------------------------- */

/* Redis restarts and comes back empty. Rebuilt from the database, the gate
 * sells on (the next buyer booked, the retry of a booked id replayed). Not
 * rebuilt, a missing counter is taken for 0: the next buyer and the retry
 * are refused sold out, the gate counts 0 against the database's 9, and
 * the retry's answer contradicts its ticket. */
static void rebuild_phase4(void **state)
{
    char body[1024];

    (void)state;
    for (int run = 0; run < 2; run++) {
        start_phase(4, runs[run] ? "rebuild" : NULL);
        put_on_sale(&current, 10);
        assert_int_equal(buy(&current, 7, "rebuild-1", body, sizeof body), 201);
        assert_int_equal(services_down("redis"), 0);
        assert_int_equal(services_ctl("up", "redis"), 0);
        assert_int_equal(buy(&current, 8, "rebuild-2", body, sizeof body), runs[run] ? 409 : 201);
        assert_int_equal(buy(&current, 7, "rebuild-1", body, sizeof body), runs[run] ? 409 : 201);
        assert_true(json_has(body, "status", runs[run] ? "sold_out" : "booked"));
        assert_int_equal(audit_figure(&current, "available"), runs[run] ? 9 : 8);
        assert_int_equal(audit_figure(&current, "cacheAvailable"), runs[run] ? 0 : 8);
        assert_int_equal(svc_stop(&current), 0);
        memset(&current, 0, sizeof current);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(give_back_phase4, stop_current),
        cmocka_unit_test_teardown(give_back_phase6, stop_current),
        cmocka_unit_test_teardown(claim_first_phase4, stop_current),
        cmocka_unit_test_teardown(rebuild_phase4, stop_current),
    };
    return cmocka_run_group_tests_name("zoo_gate", tests, NULL, NULL);
}
