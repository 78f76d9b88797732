/* test_gate_memo.c -- the gate's sold-out memo (phases/shared/gate_memo.c):
 * off at 0, remembered per event, forgotten when told, never mixed up
 * between two events that share a slot. No test here waits for the memo to
 * end: that would time a sleep; a memo of 0 ms is the "ended" case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gate/gate_memo.h"

static void test_off_and_on(void **state)
{
    (void)state;
    assert_false(gate_memo_sold_out(7, 1000));      /* nothing noted yet */
    gate_memo_note(7);
    assert_false(gate_memo_sold_out(7, 0));         /* 0: the memo is off */
    assert_true(gate_memo_sold_out(7, 1000));
    assert_false(gate_memo_sold_out(8, 1000));      /* another event */
    gate_memo_forget(7);                            /* a seat came back, or a reset */
    assert_false(gate_memo_sold_out(7, 1000));
}

/* Events 5 and 69 share a slot (64 slots): noting one evicts the other,
 * which costs a Redis round trip, never a refusal of the wrong event. */
static void test_shared_slot(void **state)
{
    (void)state;
    gate_memo_note(5);
    assert_true(gate_memo_sold_out(5, 1000));
    assert_false(gate_memo_sold_out(69, 1000));
    gate_memo_note(69);
    assert_true(gate_memo_sold_out(69, 1000));
    assert_false(gate_memo_sold_out(5, 1000));
    gate_memo_forget(5);                            /* not 5's slot any more: 69 stays */
    assert_true(gate_memo_sold_out(69, 1000));
    gate_memo_forget(69);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_and_on),
        cmocka_unit_test(test_shared_slot),
    };
    return cmocka_run_group_tests_name("gate_memo", tests, NULL, NULL);
}
