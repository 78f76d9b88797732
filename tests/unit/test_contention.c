/* test_contention.c -- conflicts counted by SQLSTATE class (lib/contention.c):
 * which codes are conflicts, that each class lands in its own counter, and
 * that the harness's before/after difference is field by field. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contention.h"

/* The three codes a strategy provokes, and nothing else. */
static void classify_codes(void **state)
{
    (void)state;
    assert_int_equal(contention_classify("40001"), CONTENTION_SERIALIZATION);
    assert_int_equal(contention_classify("40P01"), CONTENTION_DEADLOCK);
    assert_int_equal(contention_classify("55P03"), CONTENTION_LOCK_NOT_AVAILABLE);
    assert_int_equal(contention_classify("23505"), CONTENTION_NONE);   /* unique violation */
    assert_int_equal(contention_classify("08006"), CONTENTION_NONE);   /* connection failure */
    assert_int_equal(contention_classify(""), CONTENTION_NONE);
    assert_int_equal(contention_classify(NULL), CONTENTION_NONE);
    assert_true(contention_is_retryable(CONTENTION_SERIALIZATION));
    assert_true(contention_is_retryable(CONTENTION_DEADLOCK));
    assert_false(contention_is_retryable(CONTENTION_NONE));
}

/* Each class counts into its own field; a diff shows what happened since. */
static void counts_by_class(void **state)
{
    struct contention before, after, d;

    (void)state;
    contention_read(&before);
    contention_note(contention_classify("40001"));
    contention_note(contention_classify("40001"));
    contention_note(contention_classify("40P01"));
    contention_note(contention_classify("55P03"));
    contention_note(contention_classify("23505"));
    contention_note_retry();
    contention_note_retry();
    contention_note_retry();
    contention_note_gave_up();
    contention_read(&after);
    contention_diff(&after, &before, &d);
    assert_int_equal(d.serialization, 2);
    assert_int_equal(d.deadlock, 1);
    assert_int_equal(d.lock_not_available, 1);
    assert_int_equal(d.retries, 3);
    assert_int_equal(d.gave_up, 1);
}

/* Booking threads count at once: no count is lost (atomics, no lock). */
static void *note_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        contention_note(CONTENTION_SERIALIZATION);
        contention_note_retry();
    }
    return NULL;
}

static void counts_from_threads(void **state)
{
    struct contention before, after, d;
    pthread_t t[4];

    (void)state;
    contention_read(&before);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, note_many, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    contention_read(&after);
    contention_diff(&after, &before, &d);
    assert_int_equal(d.serialization, 40000);
    assert_int_equal(d.retries, 40000);
    assert_int_equal(d.deadlock, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classify_codes),
        cmocka_unit_test(counts_by_class),
        cmocka_unit_test(counts_from_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
