/* rate.c -- the open loop's schedule: see rate.h. */
#include "rate.h"

uint64_t rate_due_us(uint64_t start_us, long long k, double rate_per_s)
{
    if (rate_per_s <= 0 || k <= 0)
        return start_us;
    /* k * 1e6 / rate in floating point: exact to the microsecond for any
     * run shorter than a century (2^53 us) */
    return start_us + (uint64_t)((double)k * 1e6 / rate_per_s);
}

int rate_wait_ms(uint64_t now_us, uint64_t start_us, long long k, double rate_per_s, int cap_ms)
{
    uint64_t due = rate_due_us(start_us, k, rate_per_s);
    uint64_t wait_ms;

    if (due <= now_us)
        return 0;
    wait_ms = (due - now_us + 999u) / 1000u;
    return wait_ms > (uint64_t)cap_ms ? cap_ms : (int)wait_ms;
}

uint64_t rate_latency_us(uint64_t due_us, uint64_t sent_us, uint64_t now_us)
{
    uint64_t from = due_us && due_us < sent_us ? due_us : sent_us;

    return now_us > from ? now_us - from : 0;
}
