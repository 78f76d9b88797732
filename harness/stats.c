/* stats.c -- the latency histogram of the attack.
 *
 * Layout of the buckets (see stats.h for the why):
 *
 *   bucket 0 .. 255        the values 0 .. 255, one each
 *   then, for each power of two 2^k (k = 8 .. 25), 128 buckets of width
 *   2^(k-7): a value v with its top bit at k lands in
 *   256 + (k - 8) * 128 + (v >> (k - 7)) - 128.
 *
 * The last octave (k = 25) reaches 2^26 - 1 us, past STATS_MAX_US, which is
 * why STATS_BUCKETS is 256 + 18 * 128. */
#include "stats.h"

#include <string.h>

/* ------------------------------------------------------------------------
 * Bucket arithmetic
 * --------------------------------------------------------------------- */

/* stats_bucket_of maps a latency to its bucket. Values past the range are
 * counted as STATS_MAX_US rather than dropped, so that the count of a
 * histogram is always the number of requests it was told about. */
unsigned stats_bucket_of(uint64_t latency_us)
{
    unsigned top_bit, shift;

    if (latency_us > STATS_MAX_US)
        latency_us = STATS_MAX_US;
    if (latency_us < 256)
        return (unsigned)latency_us;
    top_bit = 63u - (unsigned)__builtin_clzll(latency_us);
    shift = top_bit - (STATS_SUB_BITS - 1);
    return 256u + (shift - 1u) * 128u + (unsigned)(latency_us >> shift) - 128u;
}

/* stats_bucket_low is the smallest value that lands in BUCKET. */
uint64_t stats_bucket_low(unsigned bucket)
{
    unsigned shift;

    if (bucket < 256)
        return bucket;
    shift = (bucket - 256u) / 128u + 1u;
    return (uint64_t)(128u + (bucket - 256u) % 128u) << shift;
}

/* stats_bucket_width is how many distinct values share BUCKET. */
uint64_t stats_bucket_width(unsigned bucket)
{
    if (bucket < 256)
        return 1;
    return (uint64_t)1 << ((bucket - 256u) / 128u + 1u);
}

/* ------------------------------------------------------------------------
 * Recording and merging
 * --------------------------------------------------------------------- */

void stats_init(struct histogram *h)
{
    memset(h, 0, sizeof *h);
}

/* stats_record is on the hot path of every client thread: one branchy
 * index computation and a few additions, nothing shared. */
void stats_record(struct histogram *h, uint64_t latency_us)
{
    if (h->count == 0 || latency_us < h->min_us)
        h->min_us = latency_us;
    if (latency_us > h->max_us)
        h->max_us = latency_us;
    h->count++;
    h->sum_us += latency_us;
    h->buckets[stats_bucket_of(latency_us)]++;
}

/* stats_merge adds FROM into INTO: the main thread folds the threads'
 * histograms together once they have been joined. */
void stats_merge(struct histogram *into, const struct histogram *from)
{
    if (from->count == 0)
        return;
    if (into->count == 0 || from->min_us < into->min_us)
        into->min_us = from->min_us;
    if (from->max_us > into->max_us)
        into->max_us = from->max_us;
    into->count += from->count;
    into->sum_us += from->sum_us;
    for (unsigned i = 0; i < STATS_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
}

/* ------------------------------------------------------------------------
 * Reading
 * --------------------------------------------------------------------- */

/* stats_percentile answers "at most how long did PERCENT of the requests
 * take": it finds the bucket holding the value of rank ceil(percent * count
 * / 100) and reports the bucket's middle, clamped to the exact minimum and
 * maximum so that a tiny sample never reports a value nobody saw. 0 and 100
 * are the exact minimum and maximum. */
uint64_t stats_percentile(const struct histogram *h, double percent)
{
    uint64_t rank, seen = 0;
    double wanted;

    if (h->count == 0)
        return 0;
    if (percent <= 0.0)
        return h->min_us;
    if (percent >= 100.0)
        return h->max_us;
    wanted = percent / 100.0 * (double)h->count;
    rank = (uint64_t)wanted;
    if ((double)rank < wanted)
        rank++;
    if (rank < 1)
        rank = 1;
    for (unsigned i = 0; i < STATS_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = stats_bucket_low(i) + stats_bucket_width(i) / 2;
            if (v < h->min_us)
                v = h->min_us;
            if (v > h->max_us)
                v = h->max_us;
            return v;
        }
    }
    return h->max_us;
}

uint64_t stats_max(const struct histogram *h)
{
    return h->max_us;
}

uint64_t stats_min(const struct histogram *h)
{
    return h->min_us;
}

double stats_mean(const struct histogram *h)
{
    return h->count ? (double)h->sum_us / (double)h->count : 0.0;
}
