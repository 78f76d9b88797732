/* claims.h -- request ids left claimed "in_progress" once a sale is quiet.
 *
 * Every phase claims a request id before it books (docs/architecture.md,
 * "Integrity of a sale") and stores the answer after: a retry of the id
 * gets that answer, or 409 in_progress while the first try is still being
 * answered. A claim still in_progress after the sale went quiet (every
 * answer given, the queue drained, the lab recovered from its faults) will
 * never be answered: every retry of that id is refused for good. The
 * claims live in two places, and both are counted:
 *
 *   PostgreSQL  table requests, state 'in_progress' (phases 2, 3, 5);
 *   Redis       hash event:N:requests, values "USER STATE TICKET" whose
 *               STATE word is in_progress (the gate phases 4 and 6); the
 *               field "#generation" is the sale's, not a claim. Only the
 *               run's own request ids are counted: the reset of a phase
 *               without a gate leaves an earlier gate phase's hash alone,
 *               and its claims are not this sale's.
 *
 * claims_value_stuck is the rule, pure and unit-tested; the two readers
 * are one query and one HVALS. */
#ifndef HARNESS_CLAIMS_H
#define HARNESS_CLAIMS_H

#include <libpq-fe.h>
#include <stdbool.h>

/* claims_value_stuck: VALUE, one of the Redis hash's values, is a claim
 * whose state word is in_progress. */
bool claims_value_stuck(const char *value);

/* claims_stuck_db counts the event's in_progress rows of table requests:
 * 0 with *STUCK set, or -1 when the query failed. */
int claims_stuck_db(PGconn *db, long long event_id, long long *stuck);

/* claims_stuck_redis counts the in_progress values of event:EVENT_ID:requests
 * whose request ids start with PREFIX (the run's id), on the Redis server at
 * REDIS_ADDR (LAB_REDIS: "host:port", or the Sentinels of the primary),
 * waiting TIMEOUT_MS at most: 0 with *STUCK set
 * (0 for a hash that does not exist), or -1. */
int claims_stuck_redis(const char *redis_addr, long long event_id, const char *prefix,
                       int timeout_ms, long long *stuck);

#endif
