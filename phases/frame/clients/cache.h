/* cache.h -- Redis: the seat gatekeeper and the status cache (phases 4, 6).
 *
 * Each thread owns one redisContext (hiredis contexts are not thread-safe).
 * Keys: "event:<id>:seats" is the gate's counter; "event:<id>:status" is the
 * cached answer of GET /api/bookings/status, with a TTL. */
#ifndef LAB_CACHE_H
#define LAB_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <hiredis/hiredis.h>
#include "lab.h"

/* cache_connect: NULL with a reason in ERR when Redis cannot be reached. */
redisContext *cache_connect(const char *host_port, char *err, size_t err_len);

/* cache_take_seat atomically takes one seat from the counter, never going
 * below zero: LAB_OK (got one), LAB_SOLD_OUT (none left), LAB_NOT_FOUND
 * (no counter: the event was never seeded), LAB_ERR_CACHE. */
enum lab_status cache_take_seat(redisContext *c, long long event_id);

/* cache_give_back returns a seat taken by cache_take_seat whose booking
 * did not happen. */
enum lab_status cache_give_back(redisContext *c, long long event_id);

/* cache_give_back_many returns N seats at once, only to a counter that
 * exists (a missing one is seeded from the database instead); *done tells
 * whether it did. */
enum lab_status cache_give_back_many(redisContext *c, long long event_id, long long n, bool *done);

/* cache_seed sets the counter to SEATS and drops the cached status; with
 * ONLY_IF_MISSING it leaves an existing counter alone (SET NX). */
enum lab_status cache_seed(redisContext *c, long long event_id, long long seats,
                           bool only_if_missing);

/* cache_read_seats reads the counter for the audit; *found is false when
 * there is none. */
enum lab_status cache_read_seats(redisContext *c, long long event_id, long long *seats,
                                 bool *found);

/* The status cache: cache_get_status sets *hit; cache_put_status stores
 * SEATS for TTL_MS milliseconds. */
enum lab_status cache_get_status(redisContext *c, long long event_id, long long *seats, bool *hit);
enum lab_status cache_put_status(redisContext *c, long long event_id, long long seats, int ttl_ms);

/* Request claims of the gate phases (admit.c): the hash
 * "event:<id>:requests" maps a request id to "USER STATE TICKET", and its
 * field "#generation" holds the sale's generation, written by the reset.
 * cache_claim_request stores STATE with a new claim ("in_progress", or the
 * answer when it is known already) and sets *FIRST; when true, *GENERATION
 * is the sale's (0: never reset through the API), otherwise PRIOR (size LEN)
 * is the stored value. */
enum lab_status cache_claim_request(redisContext *c, long long event_id, const char *request_id,
                                    long long user_id, const char *state, bool *first,
                                    long long *generation, char *prior, size_t len);
enum lab_status cache_finish_request(redisContext *c, long long event_id, const char *request_id,
                                     const char *value);
enum lab_status cache_release_request(redisContext *c, long long event_id,
                                      const char *request_id);
/* cache_reset_requests forgets every claim of the event and records its
 * new GENERATION. */
enum lab_status cache_reset_requests(redisContext *c, long long event_id, long long generation);

#endif
