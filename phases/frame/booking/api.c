/* api.c -- the endpoints of the booking service.
 *
 * Each handler checks its parameters, makes sure the thread's connections
 * are up, does its work through db.h / cache.h / the phase's booking
 * function, and turns the lab_status it gets into an HTTP answer. Nothing
 * here differs between phases except through svc->phase. */
#include "booking/api.h"

#include "booking/pipeline.h"

#include <stdio.h>
#include <string.h>
#include "clients/cache.h"
#include "db.h"
#include "booking/admit.h"
#include "gate/gate_memo.h"
#include "service/phase.h"
#include "service/strategy.h"

/* ---------------------------------------------------------------------- */
/* Parameters and failures                                                  */
/* ---------------------------------------------------------------------- */

/* api_id reads the id parameter NAME; on failure it fills a 400 reply. */
bool api_id(struct http_request *req, const char *name, long long *id,
                   struct http_reply *reply)
{
    const char *v = http_arg(req, name);

    if (!v) {
        http_error(reply, 400, "bad_request", "missing %s", name);
        return false;
    }
    if (!parse_id(v, id)) {
        http_error(reply, 400, "bad_request", "%s must be a whole number from 1 to %lld", name,
                   PARSE_ID_MAX);
        return false;
    }
    return true;
}

/* api_failed answers a status that is not a success: 404 for a missing
 * event, 503 naming the backing service that failed. */
void api_failed(struct http_reply *reply, enum lab_status st, long long event_id)
{
    switch (st) {
    case LAB_NOT_FOUND:
        http_error(reply, 404, "not_found", "no event %lld", event_id);
        break;
    case LAB_ERR_CACHE:
        http_error(reply, 503, "unavailable", "Redis is unavailable");
        break;
    case LAB_ERR_QUEUE:
        http_error(reply, 503, "unavailable", "Kafka did not acknowledge the request");
        break;
    case LAB_ERR_CONFLICT:
        http_error(reply, 503, "conflict", "lost every retry to concurrent bookings: try again");
        break;
    default:
        http_error(reply, 503, "unavailable", "PostgreSQL is unavailable");
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* GET /api/bookings/status: cache-aside where the phase has a cache        */
/* ---------------------------------------------------------------------- */

static void api_status(const struct service *svc, struct http_request *req,
                       struct http_reply *reply)
{
    long long event_id, seats;
    bool hit = false;
    struct conns *c = conns_self(svc);
    enum lab_status st;

    if (!api_id(req, "eventId", &event_id, reply))
        return;
    /* Redis first; a miss, or Redis being down, falls through to PostgreSQL. */
    if (phase_has_gate(svc->phase) && c && conns_cache(c) == LAB_OK &&
        cache_get_status(c->cache, event_id, &seats, &hit) == LAB_OK && hit) {
        http_json(reply, 200, "{\"eventId\":%lld,\"available\":%lld,\"source\":\"cache\"}",
                  event_id, seats);
        return;
    }
    st = c ? conns_db(c) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_read_seats(c->db, event_id, DB_PLAIN, &seats);
    if (st != LAB_OK) {
        api_failed(reply, st, event_id);
        return;
    }
    if (phase_has_gate(svc->phase) && c->cache && !c->cache->err)
        cache_put_status(c->cache, event_id, seats, svc->cfg->cache_ttl_ms);
    http_json(reply, 200, "{\"eventId\":%lld,\"available\":%lld,\"source\":\"db\"}", event_id,
              seats);
}

/* ---------------------------------------------------------------------- */
/* GET /api/bookings/audit: the lie detector                                */
/* ---------------------------------------------------------------------- */

static void api_audit(const struct service *svc, struct http_request *req,
                      struct http_reply *reply)
{
    long long event_id, cached = 0;
    bool found = false;
    struct audit a = { 0 };
    struct conns *c = conns_self(svc);
    char cache_part[128] = "";
    enum lab_status st;

    if (!api_id(req, "eventId", &event_id, reply))
        return;
    st = c ? conns_db(c) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_audit(c->db, event_id, &a);
    if (st != LAB_OK) {
        api_failed(reply, st, event_id);
        return;
    }
    if (phase_has_gate(svc->phase)) {
        if (conns_cache(c) == LAB_OK &&
            cache_read_seats(c->cache, event_id, &cached, &found) == LAB_OK && found) {
            audit_set_gate(&a, cached);     /* a gate out of step is not clean */
            snprintf(cache_part, sizeof cache_part, ",\"cacheAvailable\":%lld,\"cacheDrift\":%lld",
                     cached, cached - a.available);
        } else
            snprintf(cache_part, sizeof cache_part, ",\"cacheAvailable\":null");
    }
    http_json(reply, 200, "{\"eventId\":%lld,\"totalSeats\":%lld,\"available\":%lld,"
              "\"sold\":%lld,\"oversold\":%lld,\"phantom\":%lld,\"duplicateUsers\":%lld,"
              "\"perUserLimit\":%lld,\"otherRuns\":%lld%s,\"verdict\":\"%s\"}",
              event_id, a.total_seats, a.available, a.sold, a.oversold, a.phantom,
              a.duplicate_users, a.per_user_limit, a.other_runs, cache_part,
              a.clean ? "clean" : "BUG");
}

/* ---------------------------------------------------------------------- */
/* GET /api/bookings/result: what became of a queued request                */
/* ---------------------------------------------------------------------- */

/* api_result answers what became of a request id, from what is stored:
 * the database's answer (a ticket, or the consumer's decision) first; else
 * the claim's (a refusal of the synchronous phases is stored only there;
 * a claim still in progress, or a request queued and not decided yet, is
 * "pending"); else the id was never seen: 404. */
static void api_result(const struct service *svc, struct http_request *req,
                       struct http_reply *reply)
{
    const char *rid = http_arg(req, "requestId");
    struct conns *c = conns_self(svc);
    enum lab_status st, result = LAB_QUEUED;
    long long ticket_id = 0;
    bool found = false, seen = false;

    if (!parse_request_id(rid)) {
        http_error(reply, 400, "bad_request", "requestId must be 1 to %d characters of "
                   "A-Z a-z 0-9 _ -", PARSE_REQUEST_ID_MAX);
        return;
    }
    st = c ? conns_db(c) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_request_outcome(c->db, rid, &found, &result, &ticket_id);
    if (st == LAB_OK && !found)
        st = admit_lookup(c, rid, &seen, &result, &ticket_id);
    if (st != LAB_OK) {
        api_failed(reply, st, 0);
        return;
    }
    if (!found && !seen) {
        http_error(reply, 404, "not_found", "no request with id %s was seen", rid);
        return;
    }
    if (result == LAB_BOOKED) {
        http_json(reply, 200, "{\"requestId\":\"%s\",\"status\":\"booked\",\"ticketId\":%lld}",
                  rid, ticket_id);
        return;
    }
    /* what is stored: a 'failed' decision (no such event) is said as such */
    http_json(reply, 200, "{\"requestId\":\"%s\",\"status\":\"%s\"}", rid,
              result == LAB_QUEUED || result == LAB_OK ? "pending"
              : result == LAB_NOT_FOUND                 ? "failed"
                                                        : lab_status_name(result));
}

/* ---------------------------------------------------------------------- */
/* POST /api/admin/reset and GET /healthz                                   */
/* ---------------------------------------------------------------------- */

/* The reset's bounds: a lab event, not a stadium (issue 14). */
#define API_RESET_EVENT_MAX 1000000LL
#define API_RESET_SEATS_MAX 100000LL
#define API_RESET_PER_USER_MAX 100LL

/* api_admin_allowed: the admin endpoints want "Authorization: Bearer TOKEN"
 * when the service has a token (config.c: always off loopback). */
static bool api_admin_allowed(const struct service *svc, struct http_request *req,
                              struct http_reply *reply)
{
    const char *auth = http_header(req, "Authorization");
    const char *token = svc->cfg->admin_token;

    if (!token[0])
        return true;
    if (auth && strncmp(auth, "Bearer ", 7) == 0 && strcmp(auth + 7, token) == 0)
        return true;
    http_error(reply, 401, "unauthorized", "admin endpoints need Authorization: Bearer "
               "<LAB_ADMIN_TOKEN>");
    return false;
}

static void api_reset(const struct service *svc, struct http_request *req,
                      struct http_reply *reply)
{
    long long event_id, seats, per_user = 1, generation = 0;
    const char *v = http_arg(req, "seats"), *pu = http_arg(req, "perUser");
    struct conns *c = conns_self(svc);
    enum lab_status st;

    if (!api_admin_allowed(svc, req, reply) || !api_id(req, "eventId", &event_id, reply))
        return;
    if (event_id > API_RESET_EVENT_MAX) {
        http_error(reply, 400, "bad_request", "eventId must be from 1 to %lld",
                   API_RESET_EVENT_MAX);
        return;
    }
    if (!v || !parse_long(v, 0, API_RESET_SEATS_MAX, &seats)) {
        http_error(reply, 400, "bad_request", "seats must be a whole number from 0 to %lld",
                   API_RESET_SEATS_MAX);
        return;
    }
    if (pu && !parse_long(pu, 1, API_RESET_PER_USER_MAX, &per_user)) {
        http_error(reply, 400, "bad_request", "perUser must be a whole number from 1 to %lld",
                   API_RESET_PER_USER_MAX);
        return;
    }
    st = c ? conns_db(c) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_reset_sale(c->db, event_id, seats, (int)per_user, &generation);
    if (st == LAB_OK && phase_has_gate(svc->phase) && (st = conns_cache(c)) == LAB_OK)
        st = admit_reset(c->cache, event_id, seats, generation);
    gate_memo_forget(event_id);
    if (st != LAB_OK) {
        api_failed(reply, st, event_id);
        return;
    }
    http_json(reply, 200, "{\"status\":\"reset\",\"eventId\":%lld,\"seats\":%lld,"
              "\"perUser\":%lld,\"generation\":%lld}", event_id, seats, per_user, generation);
}

static void api_health(const struct service *svc, struct http_request *req,
                       struct http_reply *reply)
{
    char planted[320];

    (void)req;
    strategy_planted(svc->phase, svc->cfg->without, planted, sizeof planted);
    http_json(reply, 200, "{\"status\":\"ok\",\"phase\":%d,\"name\":\"%s\",\"async\":%s,"
              "\"thinkMs\":%d,\"threads\":%d,\"planted\":\"%s\"}",
              svc->phase->number, svc->phase->name,
              phase_is_async(svc->phase) ? "true" : "false", svc->cfg->think_ms,
              svc->cfg->threads, planted);
}

/* /healthz and /api/stats are quick: they touch no connection, so the
 * polling thread answers them and a health check never waits behind the
 * bookings. A booking starts on the polling thread too (pipeline_front),
 * which hands it to its first step (booking/pipeline.h). */
const struct http_route api_routes[] = {
    { "POST", "/api/bookings", pipeline_book, false, pipeline_front, pipeline_undo },
    { "GET", "/api/bookings/status", api_status, false, NULL, NULL },
    { "GET", "/api/bookings/audit", api_audit, false, NULL, NULL },
    { "GET", "/api/bookings/result", api_result, false, NULL, NULL },
    { "POST", "/api/admin/reset", api_reset, false, NULL, NULL },
    { "GET", "/healthz", api_health, true, NULL, NULL },
    { "GET", "/api/stats", api_stats, true, NULL, NULL },
    { NULL, NULL, NULL, false, NULL, NULL },
};
