/* test_admit.c -- the pure parts of admit.c: which stored states are final
 * answers, the gate phases' stored claim "USER STATE TICKET", the reading
 * of the gate script's reply, and the pipe calls it builds (the zoo's split
 * gate's too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include "booking/admit.h"

static void test_parse_state(void **state)
{
    enum lab_status st = LAB_OK;

    (void)state;
    assert_true(admit_parse_state("booked", &st));
    assert_int_equal(st, LAB_BOOKED);
    assert_true(admit_parse_state("queued", &st));
    assert_int_equal(st, LAB_QUEUED);
    assert_true(admit_parse_state("limit", &st));
    assert_int_equal(st, LAB_LIMIT);
    assert_true(admit_parse_state("stale", &st));
    assert_int_equal(st, LAB_STALE);
    assert_true(admit_parse_state("sold_out", &st));
    assert_int_equal(st, LAB_SOLD_OUT);
    /* not final: the first request is still being answered, or a failure */
    assert_false(admit_parse_state("in_progress", &st));
    assert_false(admit_parse_state("db_error", &st));
    assert_false(admit_parse_state("not_found", &st));
    assert_false(admit_parse_state("", &st));
    assert_false(admit_parse_state(NULL, &st));
}

static void test_parse_cache(void **state)
{
    long long user = 0, ticket = -1;
    char st[24];

    (void)state;
    assert_true(admit_parse_cache("42 in_progress 0", &user, st, sizeof st, &ticket));
    assert_int_equal(user, 42);
    assert_string_equal(st, "in_progress");
    assert_int_equal(ticket, 0);
    assert_true(admit_parse_cache("7 booked 1234", &user, st, sizeof st, &ticket));
    assert_int_equal(ticket, 1234);
    assert_false(admit_parse_cache("7 booked", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache("7 booked 1 extra", &user, st, sizeof st, &ticket));
    /* a claim in progress names its holder; no other state has one */
    assert_true(admit_parse_cache("42 in_progress 0 0123abcd", &user, st, sizeof st, &ticket));
    assert_string_equal(st, "in_progress");
    assert_false(admit_parse_cache("42 in_progress 0 ab cd", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache("x booked 1", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache("0 booked 1", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache("7 booked -1", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache(NULL, &user, st, sizeof st, &ticket));
}

/* gate_reply reads the reply {CODE, TEXT} for B (event 1, user 7, KNOWN):
 * the status, and what it set. */
static enum lab_status gate_reply(long long code, const char *text, enum lab_status known,
                                  struct booking *b, enum admit_outcome *outcome,
                                  struct admit_prior *prior, enum lab_status *answer)
{
    redisReply c = { .type = REDIS_REPLY_INTEGER, .integer = code };
    redisReply t = { .type = REDIS_REPLY_STRING, .str = (char *)text, .len = strlen(text) };
    redisReply *elements[2] = { &c, &t };
    redisReply r = { .type = REDIS_REPLY_ARRAY, .elements = 2, .element = elements };

    *b = (struct booking){ .event_id = 1, .user_id = 7 };
    snprintf(b->request_id, sizeof b->request_id, "rid-1");
    *answer = LAB_ERR_DB;
    return admit_gate_reply(b, &r, known, outcome, prior, answer);
}

static void test_gate_reply(void **state)
{
    struct booking b;
    enum admit_outcome outcome;
    struct admit_prior prior = { 0 };
    enum lab_status answer;

    (void)state;
    /* 1: seat taken, claimed in this sale's generation */
    assert_int_equal(gate_reply(1, "12", LAB_OK, &b, &outcome, &prior, &answer), LAB_OK);
    assert_int_equal(outcome, ADMIT_FIRST);
    assert_int_equal(answer, LAB_OK);
    assert_int_equal(b.generation, 12);
    /* 2: the memo's answer stored; 3: the gate is sold out; 4: no counter */
    assert_int_equal(gate_reply(2, "3", LAB_SOLD_OUT, &b, &outcome, &prior, &answer), LAB_OK);
    assert_int_equal(answer, LAB_SOLD_OUT);
    assert_int_equal(gate_reply(3, "3", LAB_OK, &b, &outcome, &prior, &answer), LAB_OK);
    assert_int_equal(answer, LAB_SOLD_OUT);
    assert_int_equal(gate_reply(4, "0", LAB_OK, &b, &outcome, &prior, &answer), LAB_OK);
    assert_int_equal(answer, LAB_NOT_FOUND);
    /* 5: in progress, its holder gone: a booking thread resolves it */
    assert_int_equal(gate_reply(5, "7 in_progress 0 00ff", LAB_OK, &b, &outcome, &prior,
                                &answer), LAB_OK);
    assert_int_equal(outcome, ADMIT_FIRST);
    assert_int_equal(answer, LAB_NOT_FOUND);
    /* 6: the id was claimed for another event */
    assert_int_equal(gate_reply(6, "2", LAB_OK, &b, &outcome, &prior, &answer), LAB_OK);
    assert_int_equal(outcome, ADMIT_REUSED);
    /* 0: claimed before: the first answer, in progress, or someone else's */
    assert_int_equal(gate_reply(0, "7 booked 55", LAB_OK, &b, &outcome, &prior, &answer), LAB_OK);
    assert_int_equal(outcome, ADMIT_REPLAY);
    assert_int_equal(prior.answer, LAB_BOOKED);
    assert_int_equal(prior.ticket_id, 55);
    assert_int_equal(gate_reply(0, "7 in_progress 0", LAB_OK, &b, &outcome, &prior, &answer),
                     LAB_OK);
    assert_int_equal(outcome, ADMIT_IN_PROGRESS);
    assert_int_equal(gate_reply(0, "8 booked 55", LAB_OK, &b, &outcome, &prior, &answer), LAB_OK);
    assert_int_equal(outcome, ADMIT_REUSED);
    /* what cannot be read is Redis failing, never a booking */
    assert_int_equal(gate_reply(0, "garbage", LAB_OK, &b, &outcome, &prior, &answer),
                     LAB_ERR_CACHE);
    assert_int_equal(gate_reply(7, "1", LAB_OK, &b, &outcome, &prior, &answer), LAB_ERR_CACHE);
    assert_int_equal(gate_reply(9, "1", LAB_OK, &b, &outcome, &prior, &answer), LAB_ERR_CACHE);
    assert_int_equal(admit_gate_reply(&b, NULL, LAB_OK, &outcome, &prior, &answer),
                     LAB_ERR_CACHE);
}

/* The calls put each argument in the call's own buffer, and refuse what
 * does not fit rather than cut it. */
static void test_gate_calls(void **state)
{
    struct booking b = { .event_id = 42, .user_id = 7 };
    struct cache_call call;

    (void)state;
    snprintf(b.request_id, sizeof b.request_id, "abc-1");
    assert_true(admit_gate_call(&call, &b, LAB_OK));
    assert_non_null(call.script);
    assert_int_equal(call.argc, 11);
    assert_string_equal(call.argv[0], "5");
    assert_string_equal(call.argv[1], "event:42:requests");
    assert_string_equal(call.argv[2], "event:42:seats");
    assert_string_equal(call.argv[3], ADMIT_EVENT_INDEX);
    assert_string_equal(call.argv[4], "event:42:claiming");
    assert_string_equal(call.argv[5], ADMIT_CLAIMING_EVENTS);
    assert_string_equal(call.argv[6], "abc-1");
    assert_string_equal(call.argv[7], "7");
    assert_string_equal(call.argv[8], "");
    assert_string_equal(call.argv[9], "42");
    assert_int_equal(strlen(call.argv[10]), 16);    /* this process's holder id */
    assert_true(admit_gate_call(&call, &b, LAB_SOLD_OUT));
    assert_string_equal(call.argv[8], "sold_out");
    assert_true(admit_finish_call(&call, &b, LAB_QUEUED, 0));
    assert_non_null(call.script);
    assert_string_equal(call.argv[0], "4");
    assert_string_equal(call.argv[5], "abc-1");
    assert_string_equal(call.argv[6], "7 queued 0");
    b.generation = 3;
    assert_true(admit_undo_call(&call, &b));
    assert_int_equal(call.argc, 7);
    assert_string_equal(call.argv[5], "abc-1");
    assert_string_equal(call.argv[6], "3");     /* given back only to that sale */
    /* a buffer too small for the arguments is refused */
    call.argc = 0;
    call.used = sizeof call.buf - 4;
    assert_false(cache_call_arg(&call, "%s", "longer than four"));
    assert_int_equal(call.argc, 0);
}

/* The zoo's split gate (--without atomic-gate, claim-first): which round
 * trips it makes, each built from the reply before. Without atomic-gate a
 * GET comes first and the claim takes a seat on the count it read; without
 * claim-first a take comes first and the claim follows it ("held"); a take
 * that got no seat, or a GET that found no counter, leaves the answer to
 * the one script. The safe phase plants nothing (0). */
static void test_split_gate_calls(void **state)
{
    struct booking b = { .event_id = 42, .user_id = 7 };
    struct config cfg = { 0 };
    struct cache_call call;
    redisReply nil = { .type = REDIS_REPLY_NIL };
    redisReply count = { .type = REDIS_REPLY_STRING, .str = "1", .len = 1 };
    redisReply taken = { .type = REDIS_REPLY_INTEGER, .integer = 1 };
    redisReply none = { .type = REDIS_REPLY_INTEGER, .integer = 0 };
    redisReply err = { .type = REDIS_REPLY_ERROR, .str = "ERR", .len = 3 };
    bool last;

    (void)state;
    snprintf(b.request_id, sizeof b.request_id, "abc-1");
    assert_int_equal(admit_gate_split(&cfg), 0);
    cfg.without = SAFEGUARD_BIT(SAFEGUARD_ATOMIC_GATE);
    assert_int_equal(admit_gate_split(&cfg), ADMIT_SPLIT_READ);
    /* without atomic-gate: GET, then the claim on the count read */
    assert_true(admit_gate_first_call(&call, &b, ADMIT_SPLIT_READ));
    assert_null(call.script);
    assert_int_equal(call.argc, 2);
    assert_string_equal(call.argv[0], "GET");
    assert_string_equal(call.argv[1], "event:42:seats");
    assert_true(admit_gate_next_call(&call, &b, ADMIT_SPLIT_READ, &count, &last));
    assert_true(last);
    assert_non_null(call.script);
    assert_int_equal(call.argc, 12);
    assert_string_equal(call.argv[6], "abc-1");
    assert_string_equal(call.argv[8], "");
    assert_string_equal(call.argv[11], "1");        /* the count it takes on */
    assert_true(admit_gate_first_call(&call, &b, ADMIT_SPLIT_READ));
    assert_true(admit_gate_next_call(&call, &b, ADMIT_SPLIT_READ, &nil, &last));
    assert_true(last);
    assert_int_equal(call.argc, 11);                /* no counter: the one script */
    assert_true(admit_gate_first_call(&call, &b, ADMIT_SPLIT_READ));
    assert_false(admit_gate_next_call(&call, &b, ADMIT_SPLIT_READ, &err, &last));
    /* without claim-first: the take, then the claim of a held seat */
    cfg.without = SAFEGUARD_BIT(SAFEGUARD_CLAIM_FIRST);
    assert_int_equal(admit_gate_split(&cfg), ADMIT_SPLIT_TAKE);
    assert_true(admit_gate_first_call(&call, &b, ADMIT_SPLIT_TAKE));
    assert_non_null(call.script);
    assert_int_equal(call.argc, 3);
    assert_string_equal(call.argv[1], "event:42:seats");
    assert_string_equal(call.argv[2], "");          /* the take reads the count itself */
    assert_true(admit_gate_next_call(&call, &b, ADMIT_SPLIT_TAKE, &taken, &last));
    assert_true(last);
    assert_int_equal(call.argc, 12);
    assert_string_equal(call.argv[11], "held");
    assert_true(admit_gate_first_call(&call, &b, ADMIT_SPLIT_TAKE));
    assert_true(admit_gate_next_call(&call, &b, ADMIT_SPLIT_TAKE, &none, &last));
    assert_true(last);
    assert_int_equal(call.argc, 11);                /* no seat: the one script answers */
    /* both: GET, the take on the count read, the claim */
    cfg.without |= SAFEGUARD_BIT(SAFEGUARD_ATOMIC_GATE);
    assert_int_equal(admit_gate_split(&cfg), ADMIT_SPLIT_READ | ADMIT_SPLIT_TAKE);
    assert_true(admit_gate_first_call(&call, &b, ADMIT_SPLIT_READ | ADMIT_SPLIT_TAKE));
    assert_null(call.script);
    assert_true(admit_gate_next_call(&call, &b, ADMIT_SPLIT_READ | ADMIT_SPLIT_TAKE, &count,
                                     &last));
    assert_false(last);
    assert_int_equal(call.argc, 3);
    assert_string_equal(call.argv[2], "1");
    assert_true(admit_gate_next_call(&call, &b, ADMIT_SPLIT_READ | ADMIT_SPLIT_TAKE, &taken,
                                     &last));
    assert_true(last);
    assert_string_equal(call.argv[11], "held");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_state),
        cmocka_unit_test(test_parse_cache),
        cmocka_unit_test(test_gate_reply),
        cmocka_unit_test(test_gate_calls),
        cmocka_unit_test(test_split_gate_calls),
    };
    return cmocka_run_group_tests_name("admit", tests, NULL, NULL);
}
