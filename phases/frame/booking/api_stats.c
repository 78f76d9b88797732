/* api_stats.c -- GET /api/stats: what this process's bookings paid for
 * their concurrency control, by SQLSTATE class (contention.h). The counters
 * only grow; the harness reads them before and after an attack, on every
 * instance, and reports the difference. */
#include "booking/api.h"

#include <stdio.h>
#include "clients/conns.h"
#include "contention.h"
#include "gate/gate.h"
#include "sentinel.h"
#include "service/phase.h"

/* api_stats answers from the process-wide counters alone, touching no
 * connection: it is a quick route, answered by the polling thread. A phase
 * with the Redis gate adds "gateRefused": the bookings its gate let through
 * that the database then refused for want of a seat (gate_close), the
 * gate's own leak, 0 in a sale without faults; and "redisNotPrimary": the
 * connections refused because the server a Sentinel named was not the
 * primary (a failover in progress, lib/sentinel.h). */
void api_stats(const struct service *svc, struct http_request *req, struct http_reply *reply)
{
    struct contention k;
    char gate[96] = "";

    (void)req;
    contention_read(&k);
    if (phase_has_gate(svc->phase))
        snprintf(gate, sizeof gate, ",\"gateRefused\":%lld,\"redisNotPrimary\":%lld",
                 gate_refused_count(), redis_not_primary_count());
    http_json(reply, 200, "{\"phase\":%d,\"strategy\":\"%s\",\"retries\":%lld,"
              "\"serialization\":%lld,\"deadlock\":%lld,\"lockNotAvailable\":%lld,"
              "\"gaveUp\":%lld%s}",
              svc->phase->number, svc->cfg->strategy ? svc->cfg->strategy : "default",
              k.retries, k.serialization, k.deadlock, k.lock_not_available, k.gave_up, gate);
}
