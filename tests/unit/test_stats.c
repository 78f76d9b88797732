/* test_stats.c -- the latency histogram (harness/stats.c) on data whose
 * percentiles are known, and its bucket arithmetic at the edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stats.h"

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* assert_close: GOT is within PERCENT % of WANT (the histogram's promise
 * is 0.4%; the tests hold it to 1%, what the lab's reports need). */
static void assert_close(uint64_t got, uint64_t want, double percent)
{
    double diff = (double)got - (double)want;

    if (diff < 0)
        diff = -diff;
    if (diff > (double)want * percent / 100.0) {
        fail_msg("got %llu, want %llu within %.2f%%", (unsigned long long)got,
                 (unsigned long long)want, percent);
    }
}

/* A histogram is 20 KB: on the heap, not on cmocka's stack. */
static struct histogram *new_histogram(void)
{
    struct histogram *h = malloc(sizeof *h);

    assert_non_null(h);
    stats_init(h);
    return h;
}

/* ------------------------------------------------------------------------
 * Bucket arithmetic
 * --------------------------------------------------------------------- */

/* Below 256 us every value is its own bucket: a fast service's latencies
 * are reported exactly. */
static void test_small_values_exact(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 256; v++) {
        assert_int_equal(stats_bucket_of(v), v);
        assert_int_equal(stats_bucket_low((unsigned)v), v);
        assert_int_equal(stats_bucket_width((unsigned)v), 1);
    }
}

/* Every value lands in a bucket whose range holds it, and the bucket is
 * narrow: width / low <= 1/128 (so the middle is within 0.4%). */
static void test_buckets_hold_their_values(void **state)
{
    (void)state;
    for (uint64_t v = 1; v <= STATS_MAX_US; v = v + 1 + v / 97) {
        unsigned b = stats_bucket_of(v);
        uint64_t low = stats_bucket_low(b), width = stats_bucket_width(b);

        assert_true(b < STATS_BUCKETS);
        assert_true(low <= v);
        assert_true(v < low + width);
        if (v >= 256)
            assert_true(width * 128 <= low);
    }
}

/* The buckets tile the line: each starts where the one before ends. */
static void test_buckets_contiguous(void **state)
{
    (void)state;
    for (unsigned b = 1; b < STATS_BUCKETS; b++)
        assert_int_equal(stats_bucket_low(b), stats_bucket_low(b - 1) + stats_bucket_width(b - 1));
    assert_true(stats_bucket_low(STATS_BUCKETS - 1) + stats_bucket_width(STATS_BUCKETS - 1) >
                STATS_MAX_US);
}

/* ------------------------------------------------------------------------
 * Percentiles
 * --------------------------------------------------------------------- */

static void test_empty(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    assert_int_equal(h->count, 0);
    assert_int_equal(stats_percentile(h, 50.0), 0);
    assert_int_equal(stats_max(h), 0);
    assert_int_equal(stats_min(h), 0);
    assert_true(stats_mean(h) == 0.0);
    free(h);
}

/* One value is every percentile of itself, exactly (the clamp to min and
 * max keeps the bucket's middle from inventing a value). */
static void test_single_value(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    stats_record(h, 123457);
    assert_int_equal(stats_percentile(h, 0.0), 123457);
    assert_int_equal(stats_percentile(h, 50.0), 123457);
    assert_int_equal(stats_percentile(h, 99.9), 123457);
    assert_int_equal(stats_max(h), 123457);
    free(h);
}

/* 1 .. 1000 us, once each: p50 is 500, p90 900, p99 990, max 1000. */
static void test_uniform_1_to_1000(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    for (uint64_t v = 1; v <= 1000; v++)
        stats_record(h, v);
    assert_int_equal(h->count, 1000);
    assert_close(stats_percentile(h, 50.0), 500, 1.0);
    assert_close(stats_percentile(h, 90.0), 900, 1.0);
    assert_close(stats_percentile(h, 99.0), 990, 1.0);
    assert_int_equal(stats_max(h), 1000);
    assert_int_equal(stats_min(h), 1);
    assert_int_equal(stats_percentile(h, 100.0), 1000);
    assert_true(stats_mean(h) == 500.5);
    free(h);
}

/* The same shape scaled to milliseconds and seconds keeps its relative
 * precision: 1 ms .. 1 s in steps of 1 ms. */
static void test_uniform_large(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    for (uint64_t v = 1000; v <= 1000000; v += 1000)
        stats_record(h, v);
    assert_close(stats_percentile(h, 50.0), 500000, 1.0);
    assert_close(stats_percentile(h, 99.0), 990000, 1.0);
    assert_int_equal(stats_max(h), 1000000);
    free(h);
}

/* The rank is ceil(p * n / 100): of ten values, p50 is the 5th, p51 the 6th. */
static void test_rank_rounding(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    for (uint64_t v = 1; v <= 10; v++)
        stats_record(h, v * 10);   /* 10, 20, .. 100: exact buckets */
    assert_int_equal(stats_percentile(h, 50.0), 50);
    assert_int_equal(stats_percentile(h, 51.0), 60);
    assert_int_equal(stats_percentile(h, 90.0), 90);
    assert_int_equal(stats_percentile(h, 91.0), 100);
    assert_int_equal(stats_percentile(h, 0.1), 10);
    free(h);
}

/* A skewed sample: 990 fast answers and 10 slow ones. p99 is still fast,
 * p99.5 is slow: the tail is not averaged away. */
static void test_tail(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    for (int i = 0; i < 990; i++)
        stats_record(h, 200);
    for (int i = 0; i < 10; i++)
        stats_record(h, 2000000);
    assert_int_equal(stats_percentile(h, 50.0), 200);
    assert_int_equal(stats_percentile(h, 99.0), 200);
    assert_close(stats_percentile(h, 99.5), 2000000, 1.0);
    assert_int_equal(stats_max(h), 2000000);
    free(h);
}

/* p99.9 and p99.99 (the open loop's columns): 100,000 values 1..100,000 us;
 * every percentile within the histogram's bound of its exact rank value,
 * and one stall of 5 s among them is p99.999's, not p99.99's. */
static void test_far_tail(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    for (uint64_t v = 1; v <= 100000; v++)
        stats_record(h, v);
    assert_close(stats_percentile(h, 99.9), 99900, 0.4);
    assert_close(stats_percentile(h, 99.99), 99990, 0.4);
    /* the relative error bound holds all along the range */
    for (double p = 1.0; p < 100.0; p += 7.3)
        assert_close(stats_percentile(h, p), (uint64_t)(p * 1000.0 + 0.999999), 0.4);
    stats_record(h, 5000000);
    assert_true(stats_percentile(h, 99.99) < 101000);
    assert_close(stats_percentile(h, 100.0), 5000000, 0.4);
    free(h);
}

/* Past 60 s a value is counted as 60 s, and max stays exact. */
static void test_beyond_range(void **state)
{
    struct histogram *h = new_histogram();

    (void)state;
    stats_record(h, 90000000);
    stats_record(h, 5);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->buckets[stats_bucket_of(STATS_MAX_US)], 1);
    assert_int_equal(stats_max(h), 90000000);
    assert_close(stats_percentile(h, 99.0), STATS_MAX_US, 1.0);
    free(h);
}

/* ------------------------------------------------------------------------
 * Merging
 * --------------------------------------------------------------------- */

/* Recording into two histograms and merging them is the same as
 * recording everything into one: the threads' histograms add up. */
static void test_merge_equals_single(void **state)
{
    struct histogram *a = new_histogram(), *b = new_histogram(), *all = new_histogram();

    (void)state;
    for (uint64_t v = 1; v <= 5000; v++) {
        uint64_t x = v * 37 % 9001 + 3;
        stats_record(v % 2 ? a : b, x);
        stats_record(all, x);
    }
    stats_merge(a, b);
    assert_int_equal(a->count, all->count);
    assert_int_equal(a->sum_us, all->sum_us);
    assert_int_equal(a->min_us, all->min_us);
    assert_int_equal(a->max_us, all->max_us);
    assert_memory_equal(a->buckets, all->buckets, sizeof a->buckets);
    free(a);
    free(b);
    free(all);
}

/* An empty histogram neither adds nor drags the minimum to 0. */
static void test_merge_empty(void **state)
{
    struct histogram *a = new_histogram(), *empty = new_histogram();

    (void)state;
    stats_record(a, 40);
    stats_merge(a, empty);
    assert_int_equal(a->count, 1);
    assert_int_equal(stats_min(a), 40);
    stats_merge(empty, a);
    assert_int_equal(stats_min(empty), 40);
    assert_int_equal(stats_max(empty), 40);
    free(a);
    free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_buckets_hold_their_values),
        cmocka_unit_test(test_buckets_contiguous),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_uniform_1_to_1000),
        cmocka_unit_test(test_uniform_large),
        cmocka_unit_test(test_rank_rounding),
        cmocka_unit_test(test_far_tail),
        cmocka_unit_test(test_tail),
        cmocka_unit_test(test_beyond_range),
        cmocka_unit_test(test_merge_equals_single),
        cmocka_unit_test(test_merge_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
