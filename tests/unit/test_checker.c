/* test_checker.c -- the checker's arithmetic (harness/checker.c) and the
 * history's classes and file (harness/history.c), on hand-made histories:
 * each figure is made to come out non-zero by exactly the requests meant
 * to cause it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "checker.h"
#include "history.h"

/* rec makes one history record of job J, invoked at T ms, done 5 ms later. */
static struct history_record rec(long long j, uint64_t t_ms, enum outcome o, int status)
{
    struct history_record r = { .job = j, .invoke_us = t_ms * 1000, .complete_us = t_ms * 1000 + 5000,
                                .http_status = status, .outcome = (unsigned char)o };

    r.cls = (unsigned char)history_classify(o, status, false);
    return r;
}

/* The classes as the issue defines them. */
static void test_classes(void **state)
{
    (void)state;
    assert_int_equal(history_classify(OUTCOME_BOOKED, 201, false), HISTORY_OK);
    assert_int_equal(history_classify(OUTCOME_QUEUED, 202, false), HISTORY_OK);
    assert_int_equal(history_classify(OUTCOME_SOLD_OUT, 409, false), HISTORY_OK);
    assert_int_equal(history_classify(OUTCOME_ERR_4XX, 400, false), HISTORY_FAIL);
    assert_int_equal(history_classify(OUTCOME_ERR_CONNECT, 0, false), HISTORY_FAIL);
    assert_int_equal(history_classify(OUTCOME_ERR_5XX, 503, true), HISTORY_FAIL);
    assert_int_equal(history_classify(OUTCOME_ERR_5XX, 503, false), HISTORY_INFO);
    assert_int_equal(history_classify(OUTCOME_ERR_5XX, 500, true), HISTORY_INFO);
    assert_int_equal(history_classify(OUTCOME_ERR_TIMEOUT, 0, false), HISTORY_INFO);
    assert_int_equal(history_classify(OUTCOME_ERR_PROTOCOL, 0, false), HISTORY_INFO);
}

/* Ten requests, each a case:
 *   0 201, ticket            fine
 *   1 201, no ticket         false confirmation
 *   2 409, ticket            false refusal
 *   3 202, ticket            fine
 *   4 202, nothing           lost
 *   5 202, ticket + refusal  duplicated
 *   6 timeout, ticket        unknown, resolved booked
 *   7 timeout, nothing       unknown, resolved not booked
 *   8 409, nothing           refused
 *   9 503 none               fail
 * A fault from 100 ms to 200 ms (heal), healed at 250 ms: requests 4-7 fall
 * in it (invoked at 100..175 ms), two of them ok; the first ok invoked
 * after the heal (job 8 at 300 ms) completes at 305 ms: 0.105 s. */
static void test_figures(void **state)
{
    struct history_log h = { 0 };
    struct check_fact facts[10] = { { 0 } };
    struct nemesis_plan plan = { .count = 1 };
    struct check_input in = { 0 };
    struct check_result r;
    struct history_record list[] = {
        rec(0, 10, OUTCOME_BOOKED, 201),   rec(1, 20, OUTCOME_BOOKED, 201),
        rec(2, 30, OUTCOME_SOLD_OUT, 409), rec(3, 40, OUTCOME_QUEUED, 202),
        rec(4, 100, OUTCOME_QUEUED, 202),  rec(5, 125, OUTCOME_QUEUED, 202),
        rec(6, 150, OUTCOME_ERR_TIMEOUT, 0), rec(7, 175, OUTCOME_ERR_TIMEOUT, 0),
        rec(8, 300, OUTCOME_SOLD_OUT, 409), rec(9, 400, OUTCOME_ERR_5XX, 503),
    };

    (void)state;
    list[9].cls = HISTORY_FAIL;   /* a 503 that said "outcome":"none" */
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        history_add(&h, &list[i]);
    facts[0].tickets = facts[2].tickets = facts[3].tickets = facts[5].tickets = 1;
    facts[5].refusals = 1;
    facts[6].tickets = 1;
    plan.faults[0] = (struct fault){ .broken_us = 100000, .heal_us = 200000, .healed_us = 250000 };
    in.history = &h;
    in.facts = facts;
    in.jobs = 10;
    in.plan = &plan;
    in.available = 1;
    in.oversold = 0;
    in.duplicate_users = 0;
    in.gate_known = true;
    in.drift = -3;
    checker_compute(&in, &r);
    assert_int_equal(r.requests, 10);
    assert_int_equal(r.ok, 7);
    assert_int_equal(r.fail, 1);
    assert_int_equal(r.info, 2);
    assert_int_equal(r.false_confirmations, 1);
    assert_int_equal(r.false_refusals, 1);
    assert_int_equal(r.lost, 1);
    assert_int_equal(r.duplicated, 1);
    assert_int_equal(r.unknown_booked, 1);
    assert_int_equal(r.unknown_not_booked, 1);
    assert_int_equal(r.refused, 2);          /* jobs 2 and 8 */
    assert_int_equal(r.undersold, 1);        /* min(1 available, 2 refused) */
    assert_true(r.drift_known);
    assert_int_equal(r.drift, -3);
    assert_int_equal(r.window_requests, 4);
    assert_int_equal(r.window_ok, 2);
    assert_true(r.availability > 0.49 && r.availability < 0.51);
    assert_true(r.recover_s > 0.104 && r.recover_s < 0.106);
    assert_true(checker_is_bug(&r));
    history_free(&h);
}

/* A clean run with drift only is "clean, degraded"; nothing at all is
 * "clean"; a lost request is a BUG and the verdict says which. */
static void test_verdicts(void **state)
{
    struct check_result r = { 0 };
    char v[256];

    (void)state;
    r.availability = r.recover_s = -1;
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "clean");
    r.drift_known = true;
    r.drift = 16;
    r.undersold = 4;
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "clean, degraded (4 undersold, 16 drift)");
    assert_false(checker_is_bug(&r));
    r.lost = 2;
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "BUG (2 lost)");
    assert_true(checker_is_bug(&r));
}

/* The history file: one JSON line per record, times relative to the
 * start, the request id built from the run and the user. */
static void test_history_file(void **state)
{
    struct history_log h = { 0 };
    struct history_record r = rec(4, 2, OUTCOME_QUEUED, 202);
    char path[256], err[256], line[512] = "";
    FILE *f;

    (void)state;
    history_add(&h, &r);
    snprintf(path, sizeof path, "/tmp/test_checker.%ld.jsonl", (long)getpid());
    assert_int_equal(history_write(path, &h, "run1", 100, 1000, err, sizeof err), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    remove(path);
    assert_string_equal(line, "{\"requestId\":\"run1-105\",\"userId\":105,\"invokeUs\":1000,"
                              "\"completeUs\":6000,\"status\":202,\"outcome\":\"queued\","
                              "\"class\":\"ok\"}\n");
    history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_history_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
