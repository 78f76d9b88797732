/* test_rate.c -- the open loop's schedule arithmetic (harness/rate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rate.h"

/* Request k of 1000 per second is due k ms after the start; of 3 per second,
 * at k/3 s (rounded down to the microsecond). */
static void test_due_times(void **state)
{
    (void)state;
    assert_int_equal(rate_due_us(5000, 0, 1000.0), 5000);
    assert_int_equal(rate_due_us(5000, 1, 1000.0), 6000);
    assert_int_equal(rate_due_us(5000, 250, 1000.0), 255000);
    assert_int_equal(rate_due_us(0, 1, 3.0), 333333);
    assert_int_equal(rate_due_us(0, 3, 3.0), 1000000);
    /* 100k requests at 40k/s: the last is due 2.5 s in, to the microsecond */
    assert_int_equal(rate_due_us(0, 100000, 40000.0), 2500000);
    /* no rate: everything is due at once (the closed loop) */
    assert_int_equal(rate_due_us(7, 99, 0.0), 7);
}

/* The sleep before a request: up to the next millisecond, capped, 0 when due. */
static void test_wait(void **state)
{
    (void)state;
    assert_int_equal(rate_wait_ms(0, 0, 10, 100.0, 1000), 100);   /* due at 100 ms */
    assert_int_equal(rate_wait_ms(99500, 0, 10, 100.0, 1000), 1);   /* 0.5 ms left */
    assert_int_equal(rate_wait_ms(98000, 0, 10, 100.0, 1000), 2);   /* 2 ms left */
    assert_int_equal(rate_wait_ms(100000, 0, 10, 100.0, 1000), 0);  /* due now */
    assert_int_equal(rate_wait_ms(200000, 0, 10, 100.0, 1000), 0);  /* late */
    assert_int_equal(rate_wait_ms(0, 0, 10, 1.0, 50), 50);          /* capped */
}

/* Latency counts from the due time when the request went out late (a
 * stalled server), from the send otherwise. */
static void test_latency(void **state)
{
    (void)state;
    /* due at 1 s, sent at 3 s (every connection was busy), answered at 3.001 s */
    assert_int_equal(rate_latency_us(1000000, 3000000, 3001000), 2001000);
    /* the closed loop: from the send */
    assert_int_equal(rate_latency_us(0, 3000000, 3001000), 1000);
    /* never negative */
    assert_int_equal(rate_latency_us(5, 10, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_times),
        cmocka_unit_test(test_wait),
        cmocka_unit_test(test_latency),
    };
    return cmocka_run_group_tests_name("rate", tests, NULL, NULL);
}
