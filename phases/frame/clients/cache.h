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

/* cache_connect: a connection to the Redis of ADDR (LAB_REDIS: host:port,
 * or sentinel://...: the primary the Sentinels name); NULL with a reason in
 * ERR when Redis cannot be reached. */
redisContext *cache_connect(const char *addr, char *err, size_t err_len);

/* cache_primary_changes counts the times a connection of this process
 * landed on another primary than the one before (Sentinels only: a
 * failover). The gate is rebuilt when it moves (gate_follow_primary). */
unsigned cache_primary_changes(void);

/* cache_give_back returns a seat taken by the gate (booking/admit.c) whose
 * booking did not happen. */
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

/* cache_eval runs a script (EVAL's arguments after the script: the number
 * of keys, the keys, the arguments) and hands back its reply to free. */
#define CACHE_EVAL_ARGS 12
enum lab_status cache_eval(redisContext *c, const char *script, int argc, const char *const *argv,
                           redisReply **out);

/* cache_set_ttl sets the key PREFIX NAME for TTL_MS (a liveness key). */
bool cache_set_ttl(redisContext *c, const char *prefix, const char *name, int ttl_ms);

#endif
