/* admit.c -- one claim per request id, in PostgreSQL or in Redis.
 *
 * The claim is taken before the booking, so a retry that comes while the
 * first request is being answered finds "in_progress" and takes nothing;
 * the answer is stored after the booking, so a later retry gets it back. A
 * failure of a backing service leaves no claim: the client's retry is a new
 * try. Reset deletes an event's claims with its tickets (db_reset_sale,
 * cache_reset_requests). */
#include "booking/admit.h"

#include <stdio.h>
#include <string.h>
#include "clients/cache.h"
#include "db.h"
#include "service/phase.h"
#include "parse.h"

/* The final answers a claim can store. */
static const enum lab_status admit_answers[] = { LAB_BOOKED, LAB_SOLD_OUT, LAB_QUEUED,
                                                 LAB_DUPLICATE, LAB_LIMIT, LAB_STALE };

bool admit_parse_state(const char *name, enum lab_status *answer)
{
    for (size_t i = 0; name && i < sizeof admit_answers / sizeof admit_answers[0]; i++) {
        if (strcmp(name, lab_status_name(admit_answers[i])) == 0) {
            *answer = admit_answers[i];
            return true;
        }
    }
    return false;
}

bool admit_parse_cache(const char *value, long long *user_id, char *state, size_t state_len,
                       long long *ticket_id)
{
    char user[24], st[24], ticket[24];
    int used = 0;

    if (!value || state_len < sizeof st ||
        sscanf(value, "%23s %23s %23s%n", user, st, ticket, &used) != 3 || value[used] != '\0')
        return false;
    if (!parse_long(user, 1, PARSE_ID_MAX, user_id) || !parse_long(ticket, 0, PARSE_ID_MAX,
                                                                   ticket_id))
        return false;
    snprintf(state, state_len, "%s", st);
    return true;
}

/* admit_judge turns the stored claim of an id into the outcome of a new
 * request with the same id. */
static void admit_judge(const struct booking *b, long long event_id, long long user_id,
                        const char *state, long long ticket_id, enum admit_outcome *outcome,
                        struct admit_prior *prior)
{
    if (event_id != b->event_id || user_id != b->user_id)
        *outcome = ADMIT_REUSED;
    else if (!admit_parse_state(state, &prior->answer))
        *outcome = ADMIT_IN_PROGRESS;
    else {
        *outcome = ADMIT_REPLAY;
        prior->ticket_id = ticket_id;
    }
}

/* admit_in_cache: the gate phases keep their claims beside the gate. */
static bool admit_in_cache(const struct conns *c)
{
    return c->svc->phase->admit == ADMIT_AT_GATE;
}

enum lab_status admit_claim(struct conns *c, struct booking *b, enum lab_status known,
                            enum admit_outcome *outcome, struct admit_prior *prior)
{
    enum lab_status st;
    bool first;

    *outcome = ADMIT_FIRST;
    if (admit_in_cache(c)) {
        char value[128], state[24];
        long long user_id, ticket_id;

        if ((st = conns_cache(c)) != LAB_OK ||
            (st = cache_claim_request(c->cache, b->event_id, b->request_id, b->user_id,
                                      known == LAB_OK ? "in_progress" : lab_status_name(known),
                                      &first, &b->generation, value, sizeof value)) != LAB_OK)
            return st;
        if (first)
            return LAB_OK;
        if (!admit_parse_cache(value, &user_id, state, sizeof state, &ticket_id)) {
            lab_log("admit: unreadable claim of %s: %.64s", b->request_id, value);
            return LAB_ERR_CACHE;
        }
        admit_judge(b, b->event_id, user_id, state, ticket_id, outcome, prior);
        return LAB_OK;
    } else {
        struct db_request stored;

        if ((st = conns_db(c)) != LAB_OK ||
            (st = db_request_claim(c->db, b, &first, &stored)) != LAB_OK)
            return st;
        if (!first)
            admit_judge(b, stored.event_id, stored.user_id, stored.state, stored.ticket_id,
                        outcome, prior);
        else if (known != LAB_OK)
            admit_finish(c, b, known, 0);
        return LAB_OK;
    }
}

void admit_finish(struct conns *c, const struct booking *b, enum lab_status answer,
                  long long ticket_id)
{
    enum lab_status ignored, st;
    bool final = admit_parse_state(lab_status_name(answer), &ignored);

    if (admit_in_cache(c)) {
        char value[96];

        snprintf(value, sizeof value, "%lld %s %lld", b->user_id, lab_status_name(answer),
                 answer == LAB_BOOKED ? ticket_id : 0);
        st = conns_cache(c);
        if (st == LAB_OK)
            st = final ? cache_finish_request(c->cache, b->event_id, b->request_id, value)
                       : cache_release_request(c->cache, b->event_id, b->request_id);
    } else {
        st = conns_db(c);
        if (st == LAB_OK)
            st = final ? db_request_finish(c->db, b->request_id, lab_status_name(answer),
                                           answer == LAB_BOOKED ? ticket_id : 0)
                       : db_request_release(c->db, b->request_id);
    }
    if (st != LAB_OK)
        lab_log("admit: could not store the answer of %s (%s)", b->request_id,
                lab_status_name(st));
}

/* ---------------------------------------------------------------------- */
/* The gate phases' claim as one script, through the Redis pipe             */
/* ---------------------------------------------------------------------- */

/* KEYS: the event's claims, its gate counter. ARGV: request id, user id,
 * the answer known already ("" if none). Returns {0, stored value} for an
 * id claimed before; otherwise {1, generation} when the seat was taken and
 * the id claimed in_progress, {2, generation} when the known answer was
 * stored, {3, generation} when the gate was sold out (stored as such), and
 * {4, generation} when there is no counter (nothing claimed nor taken). */
static const char admit_gate_script[] =
    "local prev = redis.call('HGET', KEYS[1], ARGV[1]) "
    "if prev then return {0, prev} end "
    "local gen = redis.call('HGET', KEYS[1], '#generation') or '0' "
    "local state = ARGV[3] "
    "local code = 2 "
    "if state == '' then "
    "  local n = redis.call('GET', KEYS[2]) "
    "  if not n then return {4, gen} end "
    "  if tonumber(n) <= 0 then state = 'sold_out'; code = 3 "
    "  else redis.call('DECR', KEYS[2]); state = 'in_progress'; code = 1 end "
    "end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. state .. ' 0') "
    "return {code, gen}";

/* KEYS: the event's claims, its gate counter. ARGV: request id. Drops the
 * claim and gives the seat back to a counter that exists (a missing one is
 * seeded from the database, which counts right). */
static const char admit_undo_script[] =
    "redis.call('HDEL', KEYS[1], ARGV[1]) "
    "if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCR', KEYS[2]) end "
    "return 1";

const char *const admit_scripts[] = { admit_gate_script, admit_undo_script, NULL };

/* admit_keys starts CALL with SCRIPT and B's two keys. */
static bool admit_keys(struct cache_call *call, const char *script, const struct booking *b)
{
    call->script = script;
    call->argc = 0;
    call->used = 0;
    return cache_call_arg(call, "2") &&
           cache_call_arg(call, "event:%lld:requests", b->event_id) &&
           cache_call_arg(call, "event:%lld:seats", b->event_id);
}

bool admit_gate_call(struct cache_call *call, const struct booking *b, enum lab_status known)
{
    return admit_keys(call, admit_gate_script, b) &&
           cache_call_arg(call, "%s", b->request_id) &&
           cache_call_arg(call, "%lld", b->user_id) &&
           cache_call_arg(call, "%s", known == LAB_OK ? "" : lab_status_name(known));
}

enum lab_status admit_gate_reply(struct booking *b, const redisReply *r, enum lab_status known,
                                 enum admit_outcome *outcome, struct admit_prior *prior,
                                 enum lab_status *answer)
{
    static const enum lab_status answers[] = { LAB_OK, LAB_OK, LAB_SOLD_OUT, LAB_NOT_FOUND };
    char state[24];
    long long code, user_id, ticket_id;

    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING) {
        if (r)
            lab_log("admit: unexpected reply to the gate's claim of %s: %s", b->request_id,
                    r->type == REDIS_REPLY_ERROR ? r->str : "?");
        return LAB_ERR_CACHE;
    }
    code = r->element[0]->integer;
    if (code == 0) {
        if (!admit_parse_cache(r->element[1]->str, &user_id, state, sizeof state, &ticket_id)) {
            lab_log("admit: unreadable claim of %s: %.64s", b->request_id, r->element[1]->str);
            return LAB_ERR_CACHE;
        }
        admit_judge(b, b->event_id, user_id, state, ticket_id, outcome, prior);
        return LAB_OK;
    }
    if (code < 1 || code > 4)
        return LAB_ERR_CACHE;
    *outcome = ADMIT_FIRST;
    if (!parse_long(r->element[1]->str, 0, PARSE_ID_MAX, &b->generation))
        b->generation = 0;
    *answer = code == 2 ? known : answers[code - 1];
    return LAB_OK;
}

bool admit_finish_call(struct cache_call *call, const struct booking *b, enum lab_status answer,
                       long long ticket_id)
{
    call->script = NULL;
    call->argc = 0;
    call->used = 0;
    return cache_call_arg(call, "HSET") &&
           cache_call_arg(call, "event:%lld:requests", b->event_id) &&
           cache_call_arg(call, "%s", b->request_id) &&
           cache_call_arg(call, "%lld %s %lld", b->user_id, lab_status_name(answer),
                          answer == LAB_BOOKED ? ticket_id : 0);
}

bool admit_undo_call(struct cache_call *call, const struct booking *b)
{
    return admit_keys(call, admit_undo_script, b) && cache_call_arg(call, "%s", b->request_id);
}
