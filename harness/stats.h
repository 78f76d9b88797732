/* stats.h -- a latency histogram: record microseconds, ask for percentiles.
 *
 * Log-linear buckets, like an HDR histogram with 8 bits of precision: every
 * value below 256 us has its own bucket; above that each power of two is cut
 * into 128 equal buckets, so a reported percentile is within 0.4% of the true
 * value. The range ends at 60 s; a slower answer is counted as 60 s (its
 * exact value still shows in stats_max). 2,560 buckets, 20 KB.
 *
 * One histogram per client thread, no locks: the threads record into their
 * own and the main thread merges them when the attack is over. */
#ifndef HARNESS_STATS_H
#define HARNESS_STATS_H

#include <stdint.h>

#define STATS_SUB_BITS 8                      /* 2^8 exact values, then 128 per octave */
#define STATS_MAX_US 60000000ull              /* 60 s: the top of the range */
#define STATS_BUCKETS (256 + 18 * 128)        /* enough for STATS_MAX_US: see stats.c */

struct histogram {
    uint64_t count;                  /* values recorded */
    uint64_t sum_us;                 /* their sum, for the mean */
    uint64_t min_us;                 /* exact smallest value (0 when empty) */
    uint64_t max_us;                 /* exact largest value */
    uint64_t buckets[STATS_BUCKETS];
};

void stats_init(struct histogram *h);
void stats_record(struct histogram *h, uint64_t latency_us);
void stats_merge(struct histogram *into, const struct histogram *from);

/* The value at PERCENT (0..100) of the recorded values; 0 when empty. */
uint64_t stats_percentile(const struct histogram *h, double percent);
uint64_t stats_max(const struct histogram *h);
uint64_t stats_min(const struct histogram *h);
double stats_mean(const struct histogram *h);

/* Bucket arithmetic, exposed for the unit tests. */
unsigned stats_bucket_of(uint64_t latency_us);
uint64_t stats_bucket_low(unsigned bucket);
uint64_t stats_bucket_width(unsigned bucket);

#endif
