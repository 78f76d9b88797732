/* test_live_words.c -- the verdicts in words (harness/live_words.c): phase
 * 2's crash says how many tickets for how many seats and how many writes
 * were lost, a clean sale says so and names no bug, a counter below the
 * truth, a lost booking, and the checker's sentences after a fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "live_words.h"

/* crash: the README's phase 2 run, 500 tickets for 100 seats, 67 left. */
static void crash(struct summary *s)
{
    memset(s, 0, sizeof *s);
    s->audited = true;
    s->total_seats = s->seats = 100;
    s->users = 500;
    s->bookings.attempted = 500;
    s->bookings.n[OUTCOME_BOOKED] = 500;
    s->sold = 500;
    s->booked_decisions = 500;
    s->available = 67;
    s->oversold = 400;
    s->phantom = 467;
}

static void test_crash(void **state)
{
    struct summary s;
    char out[LIVE_WORDS_MAX];

    (void)state;
    crash(&s);
    live_words_audit(&s, out, sizeof out);
    assert_non_null(strstr(out, "Wrong tickets!"));
    assert_non_null(strstr(out, "500 tickets were sold for 100 seats"));
    assert_non_null(strstr(out, "400 people hold a ticket for a seat that does not exist"));
    assert_non_null(strstr(out, "still says 67 seats free"));
    assert_non_null(strstr(out, "467 of the \"one less\" writes were lost"));
    assert_null(strstr(out, "Clean"));
}

static void test_clean(void **state)
{
    struct summary s;
    char out[LIVE_WORDS_MAX];

    (void)state;
    crash(&s);
    s.sold = s.booked_decisions = 100;
    s.bookings.n[OUTCOME_BOOKED] = 100;
    s.bookings.n[OUTCOME_SOLD_OUT] = 400;
    s.available = 0;
    s.oversold = s.phantom = 0;
    live_words_audit(&s, out, sizeof out);
    assert_non_null(strstr(out, "Clean: 100 tickets for 100 seats"));
    assert_non_null(strstr(out, "(0 left)"));
    assert_null(strstr(out, "Wrong"));
}

/* A counter below the truth, a booking accepted and never decided, two
 * users with a ticket too many: each its sentence. */
static void test_other_bugs(void **state)
{
    struct summary s;
    char out[LIVE_WORDS_MAX];

    (void)state;
    crash(&s);
    s.sold = s.booked_decisions = 90;
    s.oversold = 0;
    s.available = 5;
    s.phantom = -5;
    s.lost = 1;
    s.drained = true;
    s.duplicates = 2;
    s.per_user_limit = 1;
    live_words_audit(&s, out, sizeof out);
    assert_non_null(strstr(out, "5 fewer than the 10 that truly are"));
    assert_non_null(strstr(out, "1 booking answered \"accepted\" was never decided"));
    assert_non_null(strstr(out, "2 users hold more tickets than the 1 each may have"));
}

/* The gate that lets through what the database refuses (the zoo's split
 * gate): its own sentence. */
static void test_gate_leak(void **state)
{
    struct summary s;
    char out[LIVE_WORDS_MAX];

    (void)state;
    crash(&s);
    s.sold = s.booked_decisions = 100;
    s.oversold = s.phantom = 0;
    s.available = 0;
    s.gate_refused_known = true;
    s.gate_refused = 7;
    live_words_audit(&s, out, sizeof out);
    assert_non_null(strstr(out, "Wrong tickets!"));
    assert_non_null(strstr(out, "The Redis gate let 7 requests through"));
}

/* The words fit the buffer they are given, cut rather than overflowed. */
static void test_cut(void **state)
{
    struct summary s;
    char out[40];

    (void)state;
    crash(&s);
    memset(out, 'z', sizeof out);
    live_words_audit(&s, out, sizeof out);
    assert_true(strlen(out) < sizeof out);
}

static void test_checker(void **state)
{
    struct check_result c = { 0 };
    char out[LIVE_WORDS_MAX];

    (void)state;
    c.requests = 3000;
    c.availability = 0.25;
    c.window_requests = 300;
    c.recover_s = 0.45;
    live_words_check(&c, out, sizeof out);
    assert_non_null(strstr(out, "all 3000 answers"));
    assert_non_null(strstr(out, "every answer told the truth"));
    assert_non_null(strstr(out, "During the fault, 25 % of the 300 requests got an answer"));
    assert_non_null(strstr(out, "0.5 s after the repair began"));
    c.false_confirmations = 3;
    live_words_check(&c, out, sizeof out);
    assert_non_null(strstr(out, "some lied"));
    assert_non_null(strstr(out, "3 users were told \"booked\" and have no ticket"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_other_bugs),
        cmocka_unit_test(test_gate_leak),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_checker),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
