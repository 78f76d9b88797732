/* api.c -- the endpoints of the booking service.
 *
 * Each handler checks its parameters, makes sure the thread's connections
 * are up, does its work through db.h / cache.h / the phase's booking
 * function, and turns the lab_status it gets into an HTTP answer. Nothing
 * here differs between phases except through svc->phase. */
#include "booking/api.h"

#include "booking/admit.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "clients/cache.h"
#include "db.h"
#include "gate/gate_memo.h"
#include "service/phase.h"

/* ---------------------------------------------------------------------- */
/* Parameters and failures                                                  */
/* ---------------------------------------------------------------------- */

/* api_id reads the id parameter NAME; on failure it fills a 400 reply. */
static bool api_id(struct http_request *req, const char *name, long long *id,
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
static void api_failed(struct http_reply *reply, enum lab_status st, long long event_id)
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

/* api_connect brings up the connections the API side of this phase uses:
 * PostgreSQL unless the booking only goes to Kafka, Redis if it has a gate. */
static enum lab_status api_connect(struct conns *c, bool for_booking)
{
    enum lab_status st = LAB_OK;

    if (!for_booking || !(c->svc->phase->needs & NEEDS_QUEUE))
        st = conns_db(c);
    if (st == LAB_OK && for_booking && (c->svc->phase->needs & NEEDS_CACHE))
        st = conns_cache(c);
    return st;
}

/* api_make_request_id names a request that came without one: unique within
 * this process and, by the start time in it, across restarts. */
static time_t api_started;

static void api_note_start(void)
{
    api_started = time(NULL);
}

static void api_make_request_id(char *buf, size_t len)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static atomic_uint_fast64_t seq;

    pthread_once(&once, api_note_start);
    snprintf(buf, len, "srv-%lld-%" PRIuFAST64, (long long)api_started,
             atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed));
}

/* ---------------------------------------------------------------------- */
/* POST /api/bookings                                                       */
/* ---------------------------------------------------------------------- */

/* api_booking_args reads a booking's parameters into B; on failure it fills
 * a 400 reply. The request id is the client's, or a new one. When the front
 * step passed the request, its note holds "REQUEST_ID GENERATION": the id
 * it claimed (made up if the client gave none) and the sale it was admitted
 * in; *PASSED tells so. */
static bool api_booking_args(struct http_request *req, struct booking *b, bool *passed,
                             struct http_reply *reply)
{
    const char *rid = http_arg(req, "requestId");
    const char *note = http_note(req);
    char id[PARSE_REQUEST_ID_MAX + 1];
    long long generation;

    *passed = false;
    if (!api_id(req, "eventId", &b->event_id, reply) || !api_id(req, "userId", &b->user_id, reply))
        return false;
    if (rid && !parse_request_id(rid)) {
        http_error(reply, 400, "bad_request", "requestId must be 1 to %d characters of "
                   "A-Z a-z 0-9 _ -", PARSE_REQUEST_ID_MAX);
        return false;
    }
    if (note[0] && sscanf(note, "%64s %lld", id, &generation) == 2) {
        snprintf(b->request_id, sizeof b->request_id, "%s", id);
        b->generation = generation;
        *passed = true;
    } else if (rid)
        snprintf(b->request_id, sizeof b->request_id, "%s", rid);
    else
        api_make_request_id(b->request_id, sizeof b->request_id);
    return true;
}

/* api_book_answer turns the booking's outcome ST into the HTTP answer. */
static void api_book_answer(struct http_reply *reply, enum lab_status st, const struct booking *b,
                            const struct booking_reply *br)
{
    switch (st) {
    case LAB_BOOKED:
        http_json(reply, 201, "{\"status\":\"booked\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\",\"ticketId\":%lld}",
                  b->event_id, b->user_id, b->request_id, br->ticket_id);
        break;
    case LAB_SOLD_OUT:
        http_json(reply, 409, "{\"status\":\"sold_out\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", b->event_id, b->user_id, b->request_id);
        break;
    case LAB_QUEUED:
        snprintf(reply->location, sizeof reply->location, "/api/bookings/result?requestId=%s",
                 b->request_id);
        http_json(reply, 202, "{\"status\":\"queued\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", b->event_id, b->user_id, b->request_id);
        break;
    case LAB_DUPLICATE:
        http_error(reply, 409, "duplicate", "request %s was booked already", b->request_id);
        break;
    case LAB_LIMIT:
    case LAB_STALE:
        http_json(reply, 409, "{\"status\":\"%s\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", lab_status_name(st), b->event_id, b->user_id,
                  b->request_id);
        break;
    default:
        api_failed(reply, st, b->event_id);
        if (st == LAB_ERR_CACHE)
            http_nothing_done(reply);   /* the gate failed: nothing reached the database */
        break;
    }
}

/* api_admit claims B's request id (admit.h): one claim per id, so that a
 * retry gets the first answer and takes nothing. KNOWN: LAB_OK, or the
 * answer known already, stored with the claim. True when the request goes
 * on (to its booking, or to be answered KNOWN); false when REPLY holds its
 * answer already. */
static bool api_admit(struct conns *c, struct booking *b, enum lab_status known,
                      struct http_reply *reply)
{
    enum admit_outcome outcome;
    struct admit_prior prior;
    struct booking_reply br = { 0 };
    enum lab_status st = admit_claim(c, b, known, &outcome, &prior);

    if (st != LAB_OK) {
        api_failed(reply, st, b->event_id);
        http_nothing_done(reply);   /* no claim: nothing was tried */
        return false;
    }
    switch (outcome) {
    case ADMIT_IN_PROGRESS:
        http_json(reply, 409, "{\"status\":\"in_progress\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", b->event_id, b->user_id, b->request_id);
        return false;
    case ADMIT_REUSED:
        http_error(reply, 422, "request_id_reused", "request %s was used for another "
                   "event or user", b->request_id);
        return false;
    case ADMIT_REPLAY:
        br.ticket_id = prior.ticket_id;
        api_book_answer(reply, prior.answer, b, &br);
        return false;
    default:
        return true;
    }
}

/* api_let_in: the claim of B's request id, then the phase's front step
 * (the gate) if it has one. True when the request goes on to its booking
 * (B holds the sale's generation); false when REPLY holds its answer: a
 * retry's, the front step's refusal (stored on the claim), or KNOWN, the
 * answer the front step knew with no round trip (stored with the claim). */
static bool api_let_in(struct conns *c, struct booking *b, enum lab_status known,
                       struct http_reply *reply)
{
    const struct phase *phase = c->svc->phase;
    struct booking_reply br = { 0 };
    enum lab_status st;

    if (!api_admit(c, b, known, reply))
        return false;
    st = known != LAB_OK ? known : phase->front ? phase->front(c, b, &br) : LAB_OK;
    if (st == LAB_OK)
        return true;
    if (known == LAB_OK)
        admit_finish(c, b, st, 0);
    api_book_answer(reply, st, b, &br);
    return false;
}

/* api_book_front runs on the polling thread, for a phase with a front step
 * (the Redis gate of phases 4 and 6): the claim of the request id, then the
 * gate, both in Redis. A refusal or a replay is answered there and then,
 * never queued behind the booking threads and their row lock. A request
 * that passed goes on to api_book with its id and generation in the note;
 * if it is never run, api_book_undo gives back what it took. */
static bool api_book_front(const struct service *svc, struct http_request *req,
                           struct http_reply *reply)
{
    struct booking b = { 0 };
    struct booking_reply br = { 0 };
    struct conns *c;
    enum lab_status known;
    bool passed;

    if (!svc->phase->front)
        return false;
    if (!api_booking_args(req, &b, &passed, reply))
        return true;
    if (!(c = conns_self(svc))) {
        api_book_answer(reply, LAB_ERR_CACHE, &b, &br);
        return true;
    }
    /* the sold-out memo's answer travels with the claim: one round trip */
    known = svc->phase->front_known ? svc->phase->front_known(c, &b, &br) : LAB_OK;
    if (!api_let_in(c, &b, known, reply))
        return true;
    snprintf(http_note(req), HTTP_NOTE_MAX, "%s %lld", b.request_id, b.generation);
    return false;
}

/* api_book_undo: a request the front step passed was not run (the backlog
 * was full, the service is stopping, or it waited too long); REPLY holds
 * its 503 already. The gate's seat goes back and the claim is dropped, so
 * that the client's retry is a new try. */
static void api_book_undo(const struct service *svc, struct http_request *req,
                          struct http_reply *reply)
{
    struct booking b = { 0 };
    struct http_reply ignored = { 0 };
    struct conns *c = conns_self(svc);
    bool passed;

    (void)reply;
    if (!api_booking_args(req, &b, &passed, &ignored) || !passed)
        return;
    if (!c) {
        lab_log("api: out of memory: the gate's seat of %s is not given back", b.request_id);
        return;
    }
    if (svc->phase->front_undo)
        svc->phase->front_undo(c, &b, NULL);
    admit_finish(c, &b, LAB_ERR_CACHE, 0);
}

static void api_book(const struct service *svc, struct http_request *req, struct http_reply *reply)
{
    struct booking b = { 0 };
    struct booking_reply br = { 0 };
    struct conns *c;
    enum lab_status st;
    bool passed;   /* the front step claimed the id and let the request through */

    if (!api_booking_args(req, &b, &passed, reply))
        return;
    c = conns_self(svc);
    st = c ? api_connect(c, true) : LAB_ERR_DB;
    if (!passed) {
        if (st != LAB_OK) {
            api_failed(reply, st, b.event_id);
            http_nothing_done(reply);   /* no connection: nothing was tried */
            return;
        }
        if (!api_let_in(c, &b, LAB_OK, reply))
            return;
    } else if (!c) {
        api_failed(reply, st, b.event_id);
        return;
    }
    /* a connection that failed for a passed request fails its booking, and
     * the phase's book gives the gate's seat back */
    st = svc->phase->book(c, &b, &br);
    admit_finish(c, &b, st, br.ticket_id);
    api_book_answer(reply, st, &b, &br);
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
    if ((svc->phase->needs & NEEDS_CACHE) && c && conns_cache(c) == LAB_OK &&
        cache_get_status(c->cache, event_id, &seats, &hit) == LAB_OK && hit) {
        http_json(reply, 200, "{\"eventId\":%lld,\"available\":%lld,\"source\":\"cache\"}",
                  event_id, seats);
        return;
    }
    st = c ? api_connect(c, false) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_read_seats(c->db, event_id, DB_PLAIN, &seats);
    if (st != LAB_OK) {
        api_failed(reply, st, event_id);
        return;
    }
    if ((svc->phase->needs & NEEDS_CACHE) && c->cache && !c->cache->err)
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
    st = c ? api_connect(c, false) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_audit(c->db, event_id, &a);
    if (st != LAB_OK) {
        api_failed(reply, st, event_id);
        return;
    }
    if (svc->phase->needs & NEEDS_CACHE) {
        if (conns_cache(c) == LAB_OK &&
            cache_read_seats(c->cache, event_id, &cached, &found) == LAB_OK && found)
            snprintf(cache_part, sizeof cache_part, ",\"cacheAvailable\":%lld,\"cacheDrift\":%lld",
                     cached, cached - a.available);
        else
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

static void api_result(const struct service *svc, struct http_request *req,
                       struct http_reply *reply)
{
    const char *rid = http_arg(req, "requestId");
    struct conns *c = conns_self(svc);
    enum lab_status st, result;

    if (!parse_request_id(rid)) {
        http_error(reply, 400, "bad_request", "requestId must be 1 to %d characters of "
                   "A-Z a-z 0-9 _ -", PARSE_REQUEST_ID_MAX);
        return;
    }
    st = c ? api_connect(c, false) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_result(c->db, rid, &result);
    if (st != LAB_OK) {
        api_failed(reply, st, 0);
        return;
    }
    /* what is stored: a 'failed' decision (no such event) is said as such */
    http_json(reply, 200, "{\"requestId\":\"%s\",\"status\":\"%s\"}", rid,
              result == LAB_QUEUED ? "pending" : result == LAB_NOT_FOUND ? "failed"
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
    st = c ? api_connect(c, false) : LAB_ERR_DB;
    if (st == LAB_OK)
        st = db_reset_sale(c->db, event_id, seats, (int)per_user, &generation);
    if (st == LAB_OK && (svc->phase->needs & NEEDS_CACHE) && (st = conns_cache(c)) == LAB_OK &&
        (st = cache_seed(c->cache, event_id, seats, false)) == LAB_OK)
        st = cache_reset_requests(c->cache, event_id, generation);
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
    (void)req;
    http_json(reply, 200, "{\"status\":\"ok\",\"phase\":%d,\"name\":\"%s\",\"async\":%s,"
              "\"thinkMs\":%d,\"threads\":%d}",
              svc->phase->number, svc->phase->name,
              (svc->phase->needs & NEEDS_QUEUE) ? "true" : "false", svc->cfg->think_ms,
              svc->cfg->threads);
}

/* Only /healthz is quick: it touches no connection, so the polling thread
 * answers it and a health check never waits behind the bookings. A booking
 * goes through its phase's front step (the gate) on the polling thread first. */
const struct http_route api_routes[] = {
    { "POST", "/api/bookings", api_book, false, api_book_front, api_book_undo },
    { "GET", "/api/bookings/status", api_status, false, NULL, NULL },
    { "GET", "/api/bookings/audit", api_audit, false, NULL, NULL },
    { "GET", "/api/bookings/result", api_result, false, NULL, NULL },
    { "POST", "/api/admin/reset", api_reset, false, NULL, NULL },
    { "GET", "/healthz", api_health, true, NULL, NULL },
    { "GET", "/api/stats", api_stats, true, NULL, NULL },
    { NULL, NULL, NULL, false, NULL, NULL },
};
