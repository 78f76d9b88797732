/* test_claims.c -- the rule that tells a stuck claim among the gate
 * phases' Redis values (harness/claims.c): "USER STATE TICKET", stuck when
 * STATE is in_progress, whatever else the hash holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "claims.h"

/* Claims still in progress, and the answers stored after them. */
static void test_states(void **state)
{
    (void)state;
    assert_true(claims_value_stuck("42 in_progress 0"));
    assert_true(claims_value_stuck("7 in_progress"));
    assert_false(claims_value_stuck("42 booked 913"));
    assert_false(claims_value_stuck("42 sold_out 0"));
    assert_false(claims_value_stuck("42 queued 0"));
    assert_false(claims_value_stuck("42 limit 0"));
}

/* Not claims, or not in progress: the generation field's value, a state
 * that only starts like it, an empty or missing value. */
static void test_not_claims(void **state)
{
    (void)state;
    assert_false(claims_value_stuck("3"));
    assert_false(claims_value_stuck("42 in_progressive 0"));
    assert_false(claims_value_stuck("in_progress"));
    assert_false(claims_value_stuck(""));
    assert_false(claims_value_stuck(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_not_claims),
    };

    return cmocka_run_group_tests_name("claims", tests, NULL, NULL);
}
