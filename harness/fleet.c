/* fleet.c -- every instance's contention counters (fleet.h). */
#include "fleet.h"

#include <string.h>
#include "wire.h"

/* fleet_read_one adds one instance's counters to OUT (and its gate's
 * refusals, when it has a gate); false when it has none to give
 * (unreachable, or no such endpoint). */
static bool fleet_read_one(const struct client_target *target, int timeout_ms,
                           struct fleet_stats *out)
{
    struct http_response r;
    struct contention k = { 0 };
    long long gate_refused;
    char err[256];
    const char *body;
    size_t len;

    if (client_fetch(target, "GET", "/api/stats", timeout_ms, &r, err, sizeof err) != 0 ||
        r.status != 200)
        return false;
    body = http_response_body(&r, &len);
    if (!json_pick_long(body, len, "retries", &k.retries))
        return false;
    json_pick_long(body, len, "serialization", &k.serialization);
    json_pick_long(body, len, "deadlock", &k.deadlock);
    json_pick_long(body, len, "lockNotAvailable", &k.lock_not_available);
    json_pick_long(body, len, "gaveUp", &k.gave_up);
    if (out->strategy[0] == '\0')
        json_pick_string(body, len, "strategy", out->strategy, sizeof out->strategy);
    if (json_pick_long(body, len, "gateRefused", &gate_refused)) {
        out->gate_refused += gate_refused;
        out->gate_answered++;
    }
    out->k.retries += k.retries;
    out->k.serialization += k.serialization;
    out->k.deadlock += k.deadlock;
    out->k.lock_not_available += k.lock_not_available;
    out->k.gave_up += k.gave_up;
    return true;
}

/* fleet_read: the counters only grow, so the caller reads them before and
 * after the attack and keeps the difference (contention_diff). */
void fleet_read(const struct client_target *targets, int n, int timeout_ms,
                struct fleet_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++)
        out->answered += fleet_read_one(&targets[i], timeout_ms, out);
}
