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
    struct check_id ids[10];
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
    in.ids = ids;
    checker_compute(&in, &r);
    assert_int_equal(r.requests, 10);
    assert_int_equal(r.ok, 7);
    assert_int_equal(r.fail, 1);
    assert_int_equal(r.info, 2);
    assert_int_equal(r.false_confirmations, 1);
    assert_int_equal(r.false_refusals, 1);
    assert_int_equal(r.lost, 1);
    assert_int_equal(r.acked_lost, 2);       /* job 1's 201 and job 4's 202 */
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
    assert_int_equal(r.ids, 10);
    assert_int_equal(r.same_id_retries, 0);
    assert_int_equal(r.answers_disagree, 0);   /* one try each */
    assert_true(checker_is_bug(&r));
    history_free(&h);
}

/* Undersold alone is "clean, degraded"; nothing at all is "clean"; a
 * lost request is a BUG and the verdict says which. */
static void test_verdicts(void **state)
{
    struct check_result r = { 0 };
    char v[512];

    (void)state;
    r.availability = r.recover_s = -1;
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "clean");
    r.undersold = 4;
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "clean, degraded (4 undersold)");
    assert_false(checker_is_bug(&r));
    r.lost = 2;
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "BUG (2 lost)");
    assert_true(checker_is_bug(&r));
}

/* A counter below its ticket rows (a seat taken twice for one ticket) is a
 * bug, however few were refused; the undersold seats are counted from the
 * ticket rows, not from the counter that lies about them. */
static void test_phantom_is_a_bug(void **state)
{
    struct history_log h = { 0 };
    struct check_fact facts[2] = { { .tickets = 1 }, { 0 } };
    struct check_id ids[2];
    struct check_input in = { 0 };
    struct check_result r;
    struct history_record list[] = { rec(0, 10, OUTCOME_QUEUED, 202),
                                     rec(1, 20, OUTCOME_SOLD_OUT, 409) };
    char v[512];

    (void)state;
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        history_add(&h, &list[i]);
    facts[1].refusals = 1;
    in.history = &h;
    in.facts = facts;
    in.jobs = 2;
    in.available = 0;          /* the counter: sold out ... */
    in.phantom = -3;           /* ... with 3 seats the tickets leave unsold */
    in.ids = ids;
    checker_compute(&in, &r);
    assert_int_equal(r.phantom, -3);
    assert_int_equal(r.undersold, 1);        /* min(3 unsold, 1 refused) */
    assert_true(checker_is_bug(&r));
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "BUG (phantom -3: the counter says 3 fewer free seats than the "
                           "ticket rows leave)");
    in.phantom = 0;
    checker_compute(&in, &r);
    assert_int_equal(r.undersold, 0);        /* the counter's 0 is the truth */
    assert_false(checker_is_bug(&r));
    history_free(&h);
}

/* The gate's drift once the sale is quiet is a bug, whichever its sign,
 * and the verdict says what it means; no gate (unknown) is no bug. */
static void test_drift_is_a_bug(void **state)
{
    struct check_result r = { 0 };
    char v[512];

    (void)state;
    r.availability = r.recover_s = -1;
    r.drift = -198;                   /* not read: phases 2, 3, 5 */
    assert_false(checker_is_bug(&r));
    r.drift_known = true;
    assert_true(checker_is_bug(&r));
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "BUG (-198 drift: the Redis gate counts 198 fewer free seats than "
                           "the database, never sold)");
    r.drift = 16;
    r.undersold = 4;
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "BUG (16 drift: the Redis gate counts 16 more free seats than the "
                           "database, buyers admitted then refused)");
    r.drift = 0;
    assert_false(checker_is_bug(&r));
}

/* A retry's history, one request id per case (tries in invoke order):
 *   0 timeout, then 201 ticket 7            agree (a timeout is not final)
 *   1 201 ticket 5, then 201 ticket 9       disagree: two tickets
 *   2 503, then 409 in_progress twice       agree: nothing final
 *   3 202 (decided: ticket 11), 201 ticket 11  agree: the 202 counts as booked
 *   4 202 (decided: sold_out), 201 ticket 3    disagree
 *   5 201 ticket 4, then 409 limit          disagree, and a false refusal
 *   6 connect refused, then 409 sold_out    agree
 * Stuck claims (2, read by the caller) make it a bug on their own. */
static void test_retries_agreement(void **state)
{
    struct history_log h = { 0 };
    struct check_fact facts[7] = { { 0 } };
    struct check_id ids[7];
    struct check_input in = { 0 };
    struct check_result r;
    struct history_record list[] = {
        rec(0, 10, OUTCOME_ERR_TIMEOUT, 0), rec(0, 20, OUTCOME_BOOKED, 201),
        rec(1, 10, OUTCOME_BOOKED, 201),    rec(1, 20, OUTCOME_BOOKED, 201),
        rec(2, 10, OUTCOME_ERR_5XX, 503),   rec(2, 20, OUTCOME_ERR_PROTOCOL, 409),
        rec(2, 30, OUTCOME_ERR_PROTOCOL, 409),
        rec(3, 10, OUTCOME_QUEUED, 202),    rec(3, 20, OUTCOME_BOOKED, 201),
        rec(4, 10, OUTCOME_QUEUED, 202),    rec(4, 20, OUTCOME_BOOKED, 201),
        rec(5, 10, OUTCOME_BOOKED, 201),    rec(5, 20, OUTCOME_ERR_PROTOCOL, 409),
        rec(6, 10, OUTCOME_ERR_CONNECT, 0), rec(6, 20, OUTCOME_SOLD_OUT, 409),
    };
    static const unsigned char answers[] = {
        HISTORY_ANSWER_NONE, HISTORY_ANSWER_BOOKED, HISTORY_ANSWER_BOOKED, HISTORY_ANSWER_BOOKED,
        HISTORY_ANSWER_ERROR, HISTORY_ANSWER_IN_PROGRESS, HISTORY_ANSWER_IN_PROGRESS,
        HISTORY_ANSWER_QUEUED, HISTORY_ANSWER_BOOKED, HISTORY_ANSWER_QUEUED,
        HISTORY_ANSWER_BOOKED, HISTORY_ANSWER_BOOKED, HISTORY_ANSWER_LIMIT,
        HISTORY_ANSWER_NONE, HISTORY_ANSWER_SOLD_OUT,
    };
    static const long long tickets[] = { 0, 7, 5, 9, 0, 0, 0, 0, 11, 0, 3, 4, 0, 0, 0 };
    char v[512];

    (void)state;
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        list[i].answer = answers[i];
        list[i].ticket_id = tickets[i];
        list[i].try_no = (unsigned char)(i > 0 && list[i - 1].job == list[i].job
                                             ? list[i - 1].try_no + 1 : 1);
        history_add(&h, &list[i]);
    }
    facts[0] = (struct check_fact){ .tickets = 1, .ticket_id = 7 };
    facts[1] = (struct check_fact){ .tickets = 1, .ticket_id = 5 };
    facts[3] = (struct check_fact){ .tickets = 1, .ticket_id = 11 };
    facts[4] = (struct check_fact){ .refusals = 1, .decision = HISTORY_ANSWER_SOLD_OUT };
    facts[5] = (struct check_fact){ .tickets = 1, .ticket_id = 4 };
    in.history = &h;
    in.facts = facts;
    in.jobs = 7;
    in.ids = ids;
    in.claims_known = true;
    in.stuck_claims = 2;
    checker_compute(&in, &r);
    assert_int_equal(r.requests, 15);
    assert_int_equal(r.ids, 7);
    assert_int_equal(r.same_id_retries, 8);
    assert_int_equal(r.answers_disagree, 3);
    assert_false(ids[0].disagree);
    assert_int_equal(ids[0].final, HISTORY_ANSWER_BOOKED);
    assert_int_equal(ids[0].ticket_id, 7);
    assert_true(ids[1].disagree);
    assert_false(ids[2].disagree);
    assert_int_equal(ids[2].final, HISTORY_ANSWER_NONE);
    assert_int_equal(ids[2].tries, 3);
    assert_false(ids[3].disagree);
    assert_true(ids[4].disagree);
    assert_true(ids[5].disagree);
    assert_false(ids[6].disagree);
    assert_int_equal(ids[6].final, HISTORY_ANSWER_SOLD_OUT);
    assert_int_equal(r.false_refusals, 1);   /* job 5's limit, with its ticket */
    assert_int_equal(r.false_confirmations, 1);   /* job 4's 201: its id was refused */
    assert_int_equal(r.refused, 2);          /* jobs 4 (the 202's decision) and 6 */
    assert_true(r.claims_known);
    assert_int_equal(r.stuck_claims, 2);
    assert_true(checker_is_bug(&r));
    checker_verdict(&r, v, sizeof v);
    assert_string_equal(v, "BUG (1 false confirmations, 1 false refusals, 3 answers disagree, "
                           "2 stuck claims (in_progress for good))");
    history_free(&h);
}

/* One try's final outcome: the API's answer, a 202 as what was decided,
 * and nothing for what is not final. */
static void test_try_final(void **state)
{
    struct history_record r = rec(0, 1, OUTCOME_QUEUED, 202);
    struct check_fact none = { 0 }, booked = { .tickets = 1, .ticket_id = 42 };
    struct check_fact refused = { .refusals = 1, .decision = HISTORY_ANSWER_SOLD_OUT };
    long long ticket;

    (void)state;
    r.answer = HISTORY_ANSWER_QUEUED;
    assert_int_equal(checker_try_final(&r, &none, &ticket), HISTORY_ANSWER_NONE);
    assert_int_equal(checker_try_final(&r, &booked, &ticket), HISTORY_ANSWER_BOOKED);
    assert_int_equal(ticket, 42);
    assert_int_equal(checker_try_final(&r, &refused, &ticket), HISTORY_ANSWER_SOLD_OUT);
    r = rec(0, 1, OUTCOME_BOOKED, 201);
    r.answer = HISTORY_ANSWER_BOOKED;     /* no ticketId in the body: the database's */
    assert_int_equal(checker_try_final(&r, &booked, &ticket), HISTORY_ANSWER_BOOKED);
    assert_int_equal(ticket, 42);
    r = rec(0, 1, OUTCOME_ERR_5XX, 503);
    r.answer = HISTORY_ANSWER_ERROR;
    assert_int_equal(checker_try_final(&r, &booked, &ticket), HISTORY_ANSWER_NONE);
    r = rec(0, 1, OUTCOME_ERR_4XX, 422);
    r.answer = HISTORY_ANSWER_REUSED;
    assert_int_equal(checker_try_final(&r, &none, &ticket), HISTORY_ANSWER_REUSED);
    assert_true(checker_answers_agree(HISTORY_ANSWER_BOOKED, 0, HISTORY_ANSWER_BOOKED, 9));
    assert_false(checker_answers_agree(HISTORY_ANSWER_BOOKED, 8, HISTORY_ANSWER_BOOKED, 9));
    assert_false(checker_answers_agree(HISTORY_ANSWER_LIMIT, 0, HISTORY_ANSWER_SOLD_OUT, 0));
}

/* What a body's words make of an answer. */
static void test_answers(void **state)
{
    (void)state;
    assert_int_equal(history_answer_of(0, "", ""), HISTORY_ANSWER_NONE);
    assert_int_equal(history_answer_of(201, "booked", ""), HISTORY_ANSWER_BOOKED);
    assert_int_equal(history_answer_of(409, "in_progress", ""), HISTORY_ANSWER_IN_PROGRESS);
    assert_int_equal(history_answer_of(409, "limit", ""), HISTORY_ANSWER_LIMIT);
    assert_int_equal(history_answer_of(409, "error", "duplicate"), HISTORY_ANSWER_DUPLICATE);
    assert_int_equal(history_answer_of(422, "error", "request_id_reused"), HISTORY_ANSWER_REUSED);
    assert_int_equal(history_answer_of(503, "error", "unavailable"), HISTORY_ANSWER_ERROR);
    assert_int_equal(history_answer_of(409, "duplicate", "x"), HISTORY_ANSWER_DUPLICATE);
    assert_string_equal(history_answer_name(HISTORY_ANSWER_IN_PROGRESS), "in_progress");
}

/* The per-id file: one line per tried id, its final outcome, agreement. */
static void test_ids_file(void **state)
{
    struct check_id ids[3] = {
        { .tries = 2, .final = HISTORY_ANSWER_BOOKED, .ticket_id = 7 },
        { 0 },
        { .tries = 3, .final = HISTORY_ANSWER_SOLD_OUT, .disagree = true },
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    (void)state;
    assert_non_null(f);
    checker_write_ids(f, ids, 3, "run1", 100);
    fclose(f);
    assert_string_equal(buf, "{\"requestId\":\"run1-101\",\"tries\":2,\"final\":\"booked\","
                             "\"ticketId\":7,\"agree\":true}\n"
                             "{\"requestId\":\"run1-103\",\"tries\":3,\"final\":\"sold_out\","
                             "\"agree\":false}\n");
    free(buf);
}

/* The history file: one JSON line per record, times relative to the
 * start, the request id built from the run and the user. */
static void test_history_file(void **state)
{
    struct history_log h = { 0 };
    struct history_record r = rec(4, 2, OUTCOME_QUEUED, 202);
    char path[256], err[256], line[512] = "";

    r.try_no = 2;
    r.answer = HISTORY_ANSWER_QUEUED;
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
    assert_string_equal(line, "{\"requestId\":\"run1-105\",\"userId\":105,\"try\":2,"
                              "\"invokeUs\":1000,\"completeUs\":6000,\"status\":202,"
                              "\"outcome\":\"queued\",\"class\":\"ok\",\"answer\":\"queued\"}\n");
    history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_drift_is_a_bug),
        cmocka_unit_test(test_phantom_is_a_bug),
        cmocka_unit_test(test_retries_agreement),
        cmocka_unit_test(test_try_final),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_ids_file),
        cmocka_unit_test(test_history_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
