/* timeline.h -- the run over time, for the charts (--timeline FILE).
 *
 * One CSV row every few tens of milliseconds, from the moment the users are
 * released to the end of the queue's drain:
 *
 *   t_s,finished,accepted,decided
 *
 * t_s: seconds since the release; finished: users whose booking ended
 * (answered, or failed); accepted: bookings answered booked (201) or queued
 * (202); decided: the event's ticket and decision rows this run added. For
 * an asynchronous phase the gap between accepted and decided is the queue.
 *
 * Written by the main thread only, which reads the client threads' counters
 * with relaxed loads: the hot path takes no lock for it. A timeline that
 * was never opened (no --timeline) ignores every call. */
#ifndef HARNESS_TIMELINE_H
#define HARNESS_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TIMELINE_EVERY_MS 50   /* the sampling period during the attack */

extern const char timeline_csv_header[];

struct timeline {
    FILE *out;           /* NULL: no timeline wanted */
    uint64_t start_us;   /* the release of the users: t_s = 0 */
    bool failed;         /* a write failed: reported by timeline_close */
};

/* timeline_open creates (or truncates) PATH and writes the header; an empty
 * PATH leaves TL closed, so that every later call does nothing. 0, or -1
 * with the reason in ERR. */
int timeline_open(struct timeline *tl, const char *path, char *err, size_t err_len);

/* timeline_start sets the clock's zero. */
void timeline_start(struct timeline *tl, uint64_t start_us);

/* timeline_row writes one sample taken at NOW_US. */
void timeline_row(struct timeline *tl, uint64_t now_us, long long finished, long long accepted,
                  long long decided);

/* timeline_close closes the file: 0, or -1 with the reason in ERR when a
 * row could not be written. */
int timeline_close(struct timeline *tl, char *err, size_t err_len);

#endif
