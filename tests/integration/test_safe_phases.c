/* test_safe_phases.c -- phases 3 to 6 against the real services: under the
 * default burst (100 seats, 500 users) and under the last-seat attack (1 seat,
 * 1000 users) none of them oversells, drifts, loses or duplicates, every seat
 * is sold because demand exceeds supply, and GET /api/bookings/result says
 * what the database says about the requests.
 *
 * Each test starts the phase's sanitized service on the test port, runs the
 * real harness twice, then compares the result endpoint with the tickets and
 * decisions rows, and stops the service (a sanitizer report fails it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "support.h"

/* ---------------------------------------------------------------------- */
/* Checks                                                                   */
/* ---------------------------------------------------------------------- */

/* expect_clean runs one attack (USERS users on SEATS seats) and asserts the
 * audit's figures: nothing oversold, no drift, nothing lost or duplicated,
 * no errors, every booked answer a ticket row, and all SEATS sold. */
static void expect_clean(const struct svc *s, int users, int seats)
{
    char args[128], json[8192];
    long long v;

    snprintf(args, sizeof args, "--users %d --seats %d --expect-clean", users, seats);
    int status = run_attack(s, args, json, sizeof json);

    print_message("phase %d, %d users on %d seats: %s\n", s->phase, users, seats, json);
    assert_int_equal(status, 0);
    static const char *const zero[] = { "oversold", "phantom", "lost", "duplicates",
                                        "mismatch", "errors" };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
        assert_true(json_ll(json, zero[i], &v));
        if (v != 0)
            fail_msg("phase %d: %s = %lld, expected 0", s->phase, zero[i], v);
    }
    assert_true(json_ll(json, "sold", &v));
    assert_int_equal(v, seats);                 /* demand exceeds supply */
    assert_true(json_ll(json, "available", &v));
    assert_int_equal(v, 0);
}

/* expect_results_agree asks GET /api/bookings/result about a sample of the
 * last attack's requests, taken from the database: every ticket's request is
 * "booked"; in the asynchronous phases every recorded refusal is "sold_out";
 * and an unknown request id is a 404. */
static void expect_results_agree(const struct svc *s, bool async)
{
    char err[256], target[256], body[1024];
    PGconn *db = db_connect(lab_env("LAB_PG", LAB_PG_DEFAULT), err, sizeof err);
    PGresult *r;

    assert_non_null(db);
    r = PQexec(db, "(SELECT request_id, 'booked' FROM tickets WHERE event_id = 1 LIMIT 20) "
                   "UNION ALL (SELECT request_id, decision FROM decisions "
                   "WHERE event_id = 1 LIMIT 20)");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_true(PQntuples(r) >= 1);
    int refusals = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        char expect[64];
        snprintf(target, sizeof target, "/api/bookings/result?requestId=%s", PQgetvalue(r, i, 0));
        snprintf(expect, sizeof expect, "\"status\":\"%s\"", PQgetvalue(r, i, 1));
        assert_int_equal(http_call(s->addr, "GET", target, NULL, NULL, body, sizeof body, 5000),
                         200);
        if (!strstr(body, expect))
            fail_msg("phase %d: %s answered %s, the database says %s", s->phase, target, body,
                     expect);
        refusals += strcmp(PQgetvalue(r, i, 1), "booked") != 0;
    }
    if (async)
        assert_true(refusals > 0);              /* the refusals are recorded too */
    PQclear(r);
    PQfinish(db);
    /* a request the service never saw is not "pending": every phase claims
     * an id before it answers, so an id without a claim was never sent */
    assert_int_equal(http_call(s->addr, "GET", "/api/bookings/result?requestId=no-such-request",
                               NULL, NULL, body, sizeof body, 5000), 404);
    assert_non_null(strstr(body, "\"error\""));
}

/* ---------------------------------------------------------------------- */
/* One test per phase; the service is started by the setup and stopped by  */
/* the teardown, so that a failed assertion still stops it.                 */
/* ---------------------------------------------------------------------- */

struct phase_case {
    int phase;
    bool async;                 /* refusals recorded as decisions rows */
    struct svc svc;
};

static int start_service(void **state)
{
    struct phase_case *c = *state;

    return svc_start(&c->svc, c->phase, NULL) ? 0 : -1;
}

/* stop_service fails the test when the service did not exit cleanly: a
 * sanitizer report, or a shutdown that hung. */
static int stop_service(void **state)
{
    struct phase_case *c = *state;

    return svc_stop(&c->svc) == 0 ? 0 : -1;
}

/* check_phase is the whole test for one phase. */
static void check_phase(void **state)
{
    struct phase_case *c = *state;

    expect_clean(&c->svc, 500, 100);
    expect_results_agree(&c->svc, c->async);
    expect_clean(&c->svc, 1000, 1);
    expect_results_agree(&c->svc, c->async);
}

int main(void)
{
    static struct phase_case lock = { .phase = 3 }, redis = { .phase = 4 },
                             kafka = { .phase = 5, .async = true }, combined = { .phase = 6 };
    const struct CMUnitTest tests[] = {
        { "phase3_lock_is_clean", check_phase, start_service, stop_service, &lock },
        { "phase4_redis_is_clean", check_phase, start_service, stop_service, &redis },
        { "phase5_kafka_is_clean", check_phase, start_service, stop_service, &kafka },
        { "phase6_combined_is_clean", check_phase, start_service, stop_service, &combined },
    };
    return cmocka_run_group_tests_name("safe_phases", tests, NULL, NULL);
}
