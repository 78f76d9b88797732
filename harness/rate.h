/* rate.h -- the open loop's schedule (--rate R), as wrk2 does it.
 *
 * A closed loop sends the next request when the previous answer came: a
 * server that stalls makes the client wait and send less, and the stall
 * hides from the percentiles (coordinated omission). An open loop fixes
 * when each request is due, whatever happens: request k of a thread is due
 * at start + k / rate, and its latency is measured from that due time, so a
 * request that could not even be sent on time (every connection busy) counts
 * its wait too. Pure arithmetic, unit-tested. */
#ifndef HARNESS_RATE_H
#define HARNESS_RATE_H

#include <stdint.h>

/* rate_due_us: when request K (0, 1, ...) of a stream of RATE_PER_S requests
 * per second that began at START_US is due. */
uint64_t rate_due_us(uint64_t start_us, long long k, double rate_per_s);

/* rate_wait_ms: how long a thread sleeps at NOW_US before request K is due,
 * in whole milliseconds rounded up (epoll's unit: a request goes out less
 * than 1 ms late, and that lateness is measured), at most CAP_MS; 0 if it is
 * due. Rounding down would spin on epoll_wait(0) and steal the CPU the
 * service under test needs. */
int rate_wait_ms(uint64_t now_us, uint64_t start_us, long long k, double rate_per_s, int cap_ms);

/* rate_latency_us: the open loop's latency of an answer at NOW_US to a
 * request due at DUE_US and sent at SENT_US: from the due time (0 due: the
 * closed loop, from the send). */
uint64_t rate_latency_us(uint64_t due_us, uint64_t sent_us, uint64_t now_us);

#endif
