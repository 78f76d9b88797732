/* fleet.h -- the instances under attack, as a whole: what each one's
 * GET /api/stats says about the conflicts its strategy paid for (retries,
 * serialization failures, deadlocks...), summed over every --url. */
#ifndef HARNESS_FLEET_H
#define HARNESS_FLEET_H

#include "client.h"
#include "contention.h"

struct fleet_stats {
    struct contention k;     /* summed over the instances that answered */
    char strategy[32];       /* the first answer's "strategy"; "" if none */
    int answered;            /* instances that have /api/stats */
    long long gate_refused;  /* "gateRefused", summed: bookings a Redis gate let
                                through and the database refused for want of
                                a seat (phases with a gate) */
    int gate_answered;       /* instances that said "gateRefused" */
};

/* fleet_read asks each of the N TARGETS for GET /api/stats. An instance
 * without it (a service the lab did not build) adds nothing: no error. */
void fleet_read(const struct client_target *targets, int n, int timeout_ms,
                struct fleet_stats *out);

#endif
