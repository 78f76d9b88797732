/* test_admit.c -- the pure parts of admit.c: which stored states are final
 * answers, and the gate phases' stored claim "USER STATE TICKET". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
    assert_false(admit_parse_cache("x booked 1", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache("0 booked 1", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache("7 booked -1", &user, st, sizeof st, &ticket));
    assert_false(admit_parse_cache(NULL, &user, st, sizeof st, &ticket));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_state),
        cmocka_unit_test(test_parse_cache),
    };
    return cmocka_run_group_tests_name("admit", tests, NULL, NULL);
}
