/* admit.c -- one claim per request id, in PostgreSQL or in Redis.
 *
 * The claim is taken before the booking, so a retry that comes while the
 * first request is being answered finds "in_progress" and takes nothing;
 * the answer is stored after the booking, so a later retry gets it back. A
 * failure of a backing service leaves no claim: the client's retry is a new
 * try. A claim in progress names its holder (the PostgreSQL backend, or the
 * process's holder id in Redis); one whose holder is gone is resolved from
 * the database by the next request with its id. Reset deletes an event's
 * claims with its tickets (db_reset_sale, admit_reset); a Redis that lost
 * them gets the answered ones back from the database (admit_rebuild). */
#include "booking/admit.h"
#include "booking/admit_orphan.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include "clients/cache.h"
#include "gate/gate.h"
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
    char user[24], st[24], ticket[24], holder[24];
    int used = 0, fields;

    if (!value || state_len < sizeof st)
        return false;
    fields = sscanf(value, "%23s %23s %23s%n %23s%n", user, st, ticket, &used, holder, &used);
    if (fields < 3 || value[used] != '\0' || (fields == 4 && strcmp(st, "in_progress") != 0))
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

void admit_judge_stored(const struct booking *b, const struct db_request *stored,
                        enum admit_outcome *outcome, struct admit_prior *prior)
{
    admit_judge(b, stored->event_id, stored->user_id, stored->state, stored->ticket_id, outcome,
                prior);
}

/* The holder of this process's claims in Redis: 16 hex digits drawn once.
 * A claim in progress names it; the key ADMIT_HOLDER_KEY of it lives as long
 * as the process renews it (admit_heartbeat), so a claim whose process died
 * is known by its missing key. */
#define ADMIT_HOLDER_TTL_MS 3000

static char admit_holder_id[17];

static void admit_draw_holder(void)
{
    uint64_t x;

    if (getrandom(&x, sizeof x, 0) != sizeof x)
        x = lab_now_us() ^ ((uint64_t)getpid() << 40);
    snprintf(admit_holder_id, sizeof admit_holder_id, "%016" PRIx64, x);
}

static const char *admit_holder(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, admit_draw_holder);
    return admit_holder_id;
}

void admit_heartbeat(struct conns *c)
{
    static _Atomic long long last_us;
    long long now = (long long)lab_now_us();

    if (now - atomic_load(&last_us) < 1000000 || !c->cache)
        return;
    atomic_store(&last_us, now);
    if (!cache_set_ttl(c->cache, ADMIT_HOLDER_KEY, admit_holder(), ADMIT_HOLDER_TTL_MS))
        atomic_store(&last_us, 0);
}

/* ---------------------------------------------------------------------- */
/* The scripts of the claims in Redis                                       */
/* ---------------------------------------------------------------------- */

/* Every script of a claim in Redis takes the same KEYS, the first N of:
 * [1] the event's claims, [2] its gate counter, [3] the index of every
 * claimed id's event, [4] the event's claims in progress (id -> "HOLDER MS",
 * what the sweep looks at), [5] the set of events with claims in progress. */

/* The gate's claim. ARGV: request id, user id, the answer known already
 * ("" if none), event id, this process's holder id. Returns (enum
 * admit_gate_code)
 *   {0, stored value}   the id was claimed before;
 *   {5, stored value}   ... but is still in progress and its holder is gone;
 *   {6, event}          the id was claimed for another event;
 *   {1, generation}     the seat was taken and the id claimed in progress;
 *   {2, generation}     the known answer was stored;
 *   {3, generation}     the gate was sold out (stored as such);
 *   {4, generation}     there is no counter: nothing was claimed nor taken. */
/* The gate script's pieces, shared with the zoo's split gate below: the
 * head (a prior claim, an id of another event, the sale's generation), the
 * claim in progress of a request that took its seat, and the tail (the
 * claim's value stored, its event indexed). */
#define ADMIT_GATE_HEAD \
    "local prev = redis.call('HGET', KEYS[1], ARGV[1]) " \
    "if prev then " \
    "  local h = string.match(prev, '^%d+ in_progress %d+ (%x+)$') " \
    "  if h and redis.call('EXISTS', '" ADMIT_HOLDER_KEY "' .. h) == 0 then " \
    "    return {5, prev} end " \
    "  return {0, prev} " \
    "end " \
    "local ev = redis.call('HGET', KEYS[3], ARGV[1]) " \
    "if ev and ev ~= ARGV[4] then return {6, ev} end " \
    "local gen = redis.call('HGET', KEYS[1], '#generation') or '0' " \
    "local value = ARGV[3] .. ' 0' " \
    "local code = 2 "
#define ADMIT_GATE_IN_PROGRESS \
    "    redis.call('SET', '" ADMIT_HOLDER_KEY "' .. ARGV[5], '1', 'PX', " \
    "               " ADMIT_STR(ADMIT_HOLDER_TTL_MS) ") " \
    "    local now = redis.call('TIME') " \
    "    redis.call('HSET', KEYS[4], ARGV[1], ARGV[5] .. ' ' .. (now[1] * 1000 + " \
    "               math.floor(now[2] / 1000))) " \
    "    redis.call('SADD', KEYS[5], ARGV[4]) " \
    "    value = 'in_progress 0 ' .. ARGV[5]; code = 1 "
#define ADMIT_GATE_TAIL \
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. value) " \
    "redis.call('HSET', KEYS[3], ARGV[1], ARGV[4]) " \
    "return {code, gen}"

static const char admit_gate_script[] =
    ADMIT_GATE_HEAD
    "if ARGV[3] == '' then "
    "  local n = redis.call('GET', KEYS[2]) "
    "  if not n then return {4, gen} end "
    "  if tonumber(n) <= 0 then value = 'sold_out 0'; code = 3 "
    "  else "
    "    redis.call('DECR', KEYS[2]) "
    ADMIT_GATE_IN_PROGRESS
    "  end "
    "end "
    ADMIT_GATE_TAIL;

/* The zoo's split gate (docs/zoo.md): the gate's one script cut into
 * round trips of their own, each cut a planted bug. Without atomic-gate the
 * count is read by a GET of its own first, and this script takes a seat on
 * what was read (ARGV[6], the count): every request that read 1 before any
 * of them took it goes through. Without claim-first the seat was taken
 * before the claim (admit_take_script) and ARGV[6] is 'held': a request
 * whose id was claimed before (a retry) gets the first answer, and the
 * seat it took is never used nor given back. KEYS and ARGV[1..5] as the
 * gate script's, with no known answer (ARGV[3] ''). */
static const char admit_gate_split_script[] =
    ADMIT_GATE_HEAD
    "if ARGV[6] ~= 'held' then "
    "  if redis.call('EXISTS', KEYS[2]) == 0 then return {4, gen} end "
    "  if tonumber(ARGV[6]) <= 0 then value = 'sold_out 0'; code = 3 "
    "  else redis.call('DECR', KEYS[2]) end "
    "end "
    "if code ~= 3 then "
    ADMIT_GATE_IN_PROGRESS
    "end "
    ADMIT_GATE_TAIL;

/* The zoo's take before the claim (without claim-first). KEYS[1]: the
 * counter. ARGV[1]: the count a GET read before (without atomic-gate too),
 * or '' to read it here. Returns 1 (a seat taken), 0 (none left) or -1 (no
 * counter). */
static const char admit_take_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
    "local n = ARGV[1] "
    "if n == '' then n = redis.call('GET', KEYS[1]) end "
    "if tonumber(n) <= 0 then return 0 end "
    "redis.call('DECR', KEYS[1]) "
    "return 1";

/* The answer of a claim. ARGV: request id, value. */
static const char admit_finish_script[] =
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) "
    "redis.call('HDEL', KEYS[4], ARGV[1]) "
    "return 1";

/* A claim dropped (its request got no answer: a retry is a new try). ARGV:
 * request id. */
static const char admit_drop_script[] =
    "redis.call('HDEL', KEYS[1], ARGV[1]) "
    "redis.call('HDEL', KEYS[4], ARGV[1]) "
    "return 1";

/* A claim and its seat given back, for a request that held both and was
 * never run. ARGV: request id, the generation the seat was taken in. The
 * seat goes back to a counter that exists and is still of that sale: a
 * missing one is seeded from the database, which counts right; a reset's
 * new counter never had the seat. */
static const char admit_undo_script[] =
    "redis.call('HDEL', KEYS[1], ARGV[1]) "
    "redis.call('HDEL', KEYS[4], ARGV[1]) "
    "if redis.call('EXISTS', KEYS[2]) == 1 and "
    "   (redis.call('HGET', KEYS[1], '#generation') or '0') == ARGV[2] then "
    "  redis.call('INCR', KEYS[2]) end "
    "return 1";

/* A claim whose holder is gone, settled if it still has the value it was
 * found with (one request or sweep settles it). ARGV: request id, that
 * value, the answer to store ("": drop the claim). 1 if settled here. */
static const char admit_orphan_script[] =
    "if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end "
    "if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) "
    "else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end "
    "redis.call('HDEL', KEYS[4], ARGV[1]) "
    "return 1";

const char *const admit_scripts[] = { admit_gate_script, admit_finish_script, admit_undo_script,
                                      NULL };

/* admit_keys starts CALL with SCRIPT and the first N keys of B's event. */
static bool admit_keys(struct cache_call *call, const char *script, const struct booking *b,
                       int n)
{
    call->script = script;
    call->argc = 0;
    call->used = 0;
    return cache_call_arg(call, "%d", n) &&
           cache_call_arg(call, "event:%lld:requests", b->event_id) &&
           cache_call_arg(call, "event:%lld:seats", b->event_id) &&
           cache_call_arg(call, ADMIT_EVENT_INDEX) &&
           cache_call_arg(call, "event:%lld:claiming", b->event_id) &&
           (n < 5 || cache_call_arg(call, ADMIT_CLAIMING_EVENTS));
}

/* ---------------------------------------------------------------------- */
/* A claim whose holder is gone, resolved from the database                 */
/* ---------------------------------------------------------------------- */

/* admit_resolve_db resolves the PostgreSQL claim PRIOR whose holder is gone:
 * a ticket booked under the id is the answer (stored, and replayed); none,
 * and the claim is taken over so that this request runs as the first. */
static enum lab_status admit_resolve_db(struct conns *c, struct booking *b,
                                        const struct db_request *stored,
                                        enum admit_outcome *outcome, struct admit_prior *prior)
{
    enum lab_status st;
    bool taken;

    if (stored->booked_ticket_id > 0) {
        if ((st = db_request_finish(c->db, b->request_id, lab_status_name(LAB_BOOKED),
                                    stored->booked_ticket_id)) != LAB_OK)
            return st;
        lab_log("admit: claim of %s resolved: its holder is gone, its ticket %lld found",
                b->request_id, stored->booked_ticket_id);
        *outcome = ADMIT_REPLAY;
        prior->answer = LAB_BOOKED;
        prior->ticket_id = stored->booked_ticket_id;
        return LAB_OK;
    }
    if ((st = db_request_take_over(c->db, b, stored, &taken)) != LAB_OK)
        return st;
    *outcome = taken ? ADMIT_FIRST : ADMIT_IN_PROGRESS;
    if (taken)
        lab_log("admit: claim of %s taken over: its holder is gone, no ticket", b->request_id);
    return LAB_OK;
}

/* admit_settle_orphan settles B's claim ORPHAN, whose holder is gone, if
 * it still has that value (one request or sweep does it): ANSWER stored on
 * it when the database has one (FOUND), else the claim dropped. *DONE:
 * whether this call settled it. The seat it held is not given back: the
 * gate's rebuild at the service's start counts it free already (gate.c). */
enum lab_status admit_settle_orphan(struct conns *c, const struct booking *b,
                                           const char *orphan, bool found,
                                           enum lab_status answer, long long ticket_id,
                                           bool *done)
{
    struct cache_call call;
    redisReply *r;
    enum lab_status st;

    if (!admit_keys(&call, admit_orphan_script, b, 4) ||
        !cache_call_arg(&call, "%s", b->request_id) || !cache_call_arg(&call, "%s", orphan) ||
        !cache_call_arg(&call, "%s", found ? admit_value(b->user_id, answer, ticket_id).text
                                           : ""))
        return LAB_ERR_CACHE;
    if ((st = cache_eval(c->cache, call.script, call.argc, call.argv, &r)) != LAB_OK)
        return st;
    *done = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return LAB_OK;
}

/* admit_orphan_answer asks the database what became of B's request, whose
 * claim's holder is gone: *FOUND with the answer a retry replays (the
 * asynchronous phase replays its 202: the decision is the consumer's to
 * tell). */
enum lab_status admit_orphan_answer(struct conns *c, const struct booking *b, bool *found,
                                    enum lab_status *answer, long long *ticket_id)
{
    enum lab_status st;

    if ((st = conns_db(c)) != LAB_OK ||
        (st = db_request_outcome(c->db, b->request_id, found, answer, ticket_id)) != LAB_OK)
        return st;
    if (*found && c->svc->phase->send)
        *answer = LAB_QUEUED, *ticket_id = 0;
    return LAB_OK;
}

/* admit_resolve_cache resolves the Redis claim ORPHAN (its value) of a
 * process that died: the database's answer under the id, if there is one,
 * is stored on the claim and replayed; none, and the claim is dropped, so
 * that the request runs the gate again as the first (*AGAIN). */
static enum lab_status admit_resolve_cache(struct conns *c, struct booking *b, const char *orphan,
                                           enum admit_outcome *outcome,
                                           struct admit_prior *prior, bool *again)
{
    enum lab_status st, answer;
    long long ticket_id;
    bool found, done;

    *again = false;
    if ((st = admit_orphan_answer(c, b, &found, &answer, &ticket_id)) != LAB_OK ||
        (st = admit_settle_orphan(c, b, orphan, found, answer, ticket_id, &done)) != LAB_OK)
        return st;
    if (found) {
        lab_log("admit: claim of %s resolved from the database: %s", b->request_id,
                lab_status_name(answer));
        *outcome = ADMIT_REPLAY;
        prior->answer = answer;
        prior->ticket_id = ticket_id;
        return LAB_OK;
    }
    if (done)
        lab_log("admit: claim of %s dropped: its holder is gone, no answer stored",
                b->request_id);
    *again = true;                  /* dropped, by this request or another: run the gate */
    return LAB_OK;
}

/* ---------------------------------------------------------------------- */
/* Claim and finish on a booking thread                                     */
/* ---------------------------------------------------------------------- */

/* admit_kept_done frees a kept store once Redis took it (or the pipe gave
 * up on it, which it says). */
static void admit_kept_done(struct cache_call *call, const redisReply *reply)
{
    if (!reply || reply->type == REDIS_REPLY_ERROR)
        lab_log("admit: a claim's answer was lost (Redis %s)",
                reply ? reply->str : "did not answer");
    free(call);
}

static bool admit_forget_call(struct cache_call *call, const struct booking *b);

/* admit_forget_later (admit.h): the drop is kept by the pipe until Redis
 * takes it, which is most often after the lost script (sent first, on the
 * old connection); should it come first, it drops nothing, and the sweep
 * settles the claim once it is ADMIT_CLAIM_LEASE_MS old. */
void admit_forget_later(const struct service *svc, const struct booking *b)
{
    struct cache_call *call = calloc(1, sizeof *call);

    gate_uncertain(b->event_id);
    if (!svc->pipe || !call || !admit_forget_call(call, b)) {
        lab_log("admit: the claim of %s may stay in progress (out of memory)", b->request_id);
        free(call);
        return;
    }
    call->keep = true;
    call->done = admit_kept_done;
    cache_pipe_submit(svc->pipe, call);
}

/* admit_gate_here runs the gate's claim script on the booking thread's own
 * connection, as the pipe does, and does what the pipe cannot: seeds a
 * missing counter (and the claims Redis lost with it) from the database,
 * and resolves a claim whose holder is gone. */
static enum lab_status admit_gate_here(struct conns *c, struct booking *b, enum lab_status known,
                                       enum admit_outcome *outcome, struct admit_prior *prior,
                                       enum lab_status *answer)
{
    struct cache_call call;
    enum lab_status st;

    for (int tries = 0; tries < 3; tries++) {
        redisReply *r;
        enum admit_gate_code code;
        bool again;

        if ((st = conns_cache(c)) != LAB_OK)
            return st;
        if (!admit_gate_call(&call, b, known))
            return LAB_ERR_CACHE;
        if ((st = cache_eval(c->cache, call.script, call.argc, call.argv, &r)) != LAB_OK) {
            admit_forget_later(c->svc, b);   /* it may still run when Redis answers again */
            return st;
        }
        st = admit_gate_reply(b, r, known, outcome, prior, answer);
        code = admit_gate_last_code(r);
        if (st == LAB_OK && code == ADMIT_GATE_ORPHANED)
            st = admit_resolve_cache(c, b, r->element[1]->str, outcome, prior, &again);
        else
            again = st == LAB_OK && code == ADMIT_GATE_NO_COUNTER &&
                    (st = gate_seed(c, b->event_id)) == LAB_OK;
        freeReplyObject(r);
        if (st != LAB_OK || !again)
            return st;
    }
    return LAB_ERR_CACHE;
}

enum lab_status admit_claim(struct conns *c, struct booking *b, enum lab_status known,
                            enum admit_outcome *outcome, struct admit_prior *prior,
                            enum lab_status *answer)
{
    struct db_request stored;
    enum lab_status st;
    bool first;

    *outcome = ADMIT_FIRST;
    *answer = LAB_OK;
    if (admit_in_cache(c))
        return admit_gate_here(c, b, known, outcome, prior, answer);
    if ((st = conns_db(c)) != LAB_OK ||
        (st = db_request_claim(c->db, b, &first, &stored)) != LAB_OK)
        return st;
    if (first)
        return LAB_OK;
    if (stored.orphaned && stored.event_id == b->event_id && stored.user_id == b->user_id)
        return admit_resolve_db(c, b, &stored, outcome, prior);
    admit_judge(b, stored.event_id, stored.user_id, stored.state, stored.ticket_id, outcome,
                prior);
    return LAB_OK;
}

enum lab_status admit_lookup(struct conns *c, const char *request_id, bool *seen,
                             enum lab_status *answer, long long *ticket_id)
{
    char state[24];
    long long user_id;
    enum lab_status st;
    redisReply *r = NULL;

    *seen = false;
    *answer = LAB_OK;
    if (!admit_in_cache(c)) {
        struct db_request stored;

        if ((st = db_request_lookup(c->db, request_id, seen, &stored)) != LAB_OK || !*seen)
            return st;
        if (admit_parse_state(stored.state, answer))
            *ticket_id = stored.ticket_id;
        else
            *answer = LAB_OK;
        return LAB_OK;
    }
    if ((st = conns_cache(c)) != LAB_OK)
        return st;
    {
        char key[64];
        const char *argv[] = { "2", ADMIT_EVENT_INDEX, key, request_id };
        /* KEYS: the index, the claims' key prefix. ARGV: the id. */
        static const char lookup[] =
            "local ev = redis.call('HGET', KEYS[1], ARGV[1]) "
            "if not ev then return false end "
            "return redis.call('HGET', KEYS[2] .. ev .. ':requests', ARGV[1])";

        snprintf(key, sizeof key, "event:");
        if ((st = cache_eval(c->cache, lookup, 4, argv, &r)) != LAB_OK)
            return st;
    }
    if (r->type == REDIS_REPLY_STRING &&
        admit_parse_cache(r->str, &user_id, state, sizeof state, ticket_id)) {
        *seen = true;
        if (!admit_parse_state(state, answer))
            *answer = LAB_OK;
    }
    freeReplyObject(r);
    return LAB_OK;
}

struct admit_value admit_value(long long user_id, enum lab_status answer, long long ticket_id)
{
    struct admit_value v;

    snprintf(v.text, sizeof v.text, "%lld %s %lld", user_id, lab_status_name(answer),
             answer == LAB_BOOKED ? ticket_id : 0);
    return v;
}

/* admit_store stores ANSWER on the claim (or drops the claim when the
 * answer is not final) on the thread's connection. */
static enum lab_status admit_store(struct conns *c, const struct booking *b, bool final,
                                   enum lab_status answer, long long ticket_id)
{
    enum lab_status st;

    if (admit_in_cache(c)) {
        struct cache_call call;
        redisReply *r;

        if ((st = conns_cache(c)) != LAB_OK)
            return st;
        if (!(final ? admit_finish_call(&call, b, answer, ticket_id)
                    : admit_release_call(&call, b)))
            return LAB_ERR_CACHE;
        if ((st = cache_eval(c->cache, call.script, call.argc, call.argv, &r)) == LAB_OK)
            freeReplyObject(r);
        return st;
    }
    if ((st = conns_db(c)) != LAB_OK)
        return st;
    return final ? db_request_finish(c->db, b->request_id, lab_status_name(answer),
                                     answer == LAB_BOOKED ? ticket_id : 0)
                 : db_request_release(c->db, b->request_id);
}

/* admit_finish stores the answer; a failure is tried again once on a new
 * connection, and then, for a claim in Redis, handed to the pipe, which
 * keeps it until Redis takes it. A PostgreSQL claim that still could not
 * be stored has lost its holder with its connection: the next request with
 * its id resolves it from the tickets. */
void admit_finish(struct conns *c, const struct booking *b, enum lab_status answer,
                  long long ticket_id)
{
    enum lab_status ignored, st;
    bool final = admit_parse_state(lab_status_name(answer), &ignored);

    st = admit_store(c, b, final, answer, ticket_id);
    if (st != LAB_OK)
        st = admit_store(c, b, final, answer, ticket_id);
    if (st == LAB_OK)
        return;
    if (admit_in_cache(c) && c->svc->pipe) {
        struct cache_call *call = calloc(1, sizeof *call);

        if (call && (final ? admit_finish_call(call, b, answer, ticket_id)
                           : admit_release_call(call, b))) {
            lab_log("admit: the answer of %s is kept until Redis takes it", b->request_id);
            call->keep = true;
            call->done = admit_kept_done;
            cache_pipe_submit(c->svc->pipe, call);
            return;
        }
        free(call);
    }
    lab_log("admit: could not store the answer of %s (%s)", b->request_id,
            lab_status_name(st));
}

/* ---------------------------------------------------------------------- */
/* The gate phases' claim as one script, through the Redis pipe             */
/* ---------------------------------------------------------------------- */

bool admit_gate_call(struct cache_call *call, const struct booking *b, enum lab_status known)
{
    return admit_keys(call, admit_gate_script, b, 5) &&
           cache_call_arg(call, "%s", b->request_id) &&
           cache_call_arg(call, "%lld", b->user_id) &&
           cache_call_arg(call, "%s", known == LAB_OK ? "" : lab_status_name(known)) &&
           cache_call_arg(call, "%lld", b->event_id) &&
           cache_call_arg(call, "%s", admit_holder());
}

enum admit_gate_code admit_gate_last_code(const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[0]->integer < 0 || r->element[0]->integer > ADMIT_GATE_REUSED)
        return ADMIT_GATE_MALFORMED;
    return (enum admit_gate_code)r->element[0]->integer;
}

enum lab_status admit_gate_reply(struct booking *b, const redisReply *r, enum lab_status known,
                                 enum admit_outcome *outcome, struct admit_prior *prior,
                                 enum lab_status *answer)
{
    char state[24];
    long long user_id, ticket_id;
    enum admit_gate_code code = admit_gate_last_code(r);

    *outcome = ADMIT_FIRST;
    switch (code) {
    case ADMIT_GATE_MALFORMED:
        if (r)
            lab_log("admit: unexpected reply to the gate's claim of %s: %s", b->request_id,
                    r->type == REDIS_REPLY_ERROR ? r->str : "?");
        return LAB_ERR_CACHE;
    case ADMIT_GATE_PRIOR:
        if (!admit_parse_cache(r->element[1]->str, &user_id, state, sizeof state, &ticket_id)) {
            lab_log("admit: unreadable claim of %s: %.64s", b->request_id, r->element[1]->str);
            return LAB_ERR_CACHE;
        }
        admit_judge(b, b->event_id, user_id, state, ticket_id, outcome, prior);
        return LAB_OK;
    case ADMIT_GATE_REUSED:
        *outcome = ADMIT_REUSED;
        return LAB_OK;
    case ADMIT_GATE_ORPHANED:
    case ADMIT_GATE_NO_COUNTER:
        *answer = LAB_NOT_FOUND;     /* for a booking thread: admit_claim */
        return LAB_OK;
    default:
        break;
    }
    if (!parse_long(r->element[1]->str, 0, PARSE_ID_MAX, &b->generation))
        b->generation = 0;
    *answer = code == ADMIT_GATE_STORED ? known : code == ADMIT_GATE_SOLD_OUT ? LAB_SOLD_OUT
                                                                             : LAB_OK;
    return LAB_OK;
}

/* ---------------------------------------------------------------------- */
/* The zoo's split gate: the same claim and take in several round trips    */
/* ---------------------------------------------------------------------- */

unsigned admit_gate_split(const struct config *cfg)
{
    return (safeguard_off(cfg, SAFEGUARD_ATOMIC_GATE) ? ADMIT_SPLIT_READ : 0u) |
           (safeguard_off(cfg, SAFEGUARD_CLAIM_FIRST) ? ADMIT_SPLIT_TAKE : 0u);
}

/* admit_take_call: the take before the claim, on COUNT read before ("":
 * the script reads it). */
static bool admit_take_call(struct cache_call *call, const struct booking *b, const char *count)
{
    call->script = admit_take_script;
    call->argc = 0;
    call->used = 0;
    return cache_call_arg(call, "1") && cache_call_arg(call, "event:%lld:seats", b->event_id) &&
           cache_call_arg(call, "%s", count);
}

/* admit_split_call: the claim of the split gate, with HOW, the count read
 * before or "held" (admit_gate_split_script). */
static bool admit_split_call(struct cache_call *call, const struct booking *b, const char *how)
{
    return admit_keys(call, admit_gate_split_script, b, 5) &&
           cache_call_arg(call, "%s", b->request_id) &&
           cache_call_arg(call, "%lld", b->user_id) && cache_call_arg(call, "%s", "") &&
           cache_call_arg(call, "%lld", b->event_id) &&
           cache_call_arg(call, "%s", admit_holder()) && cache_call_arg(call, "%s", how);
}

bool admit_gate_first_call(struct cache_call *call, const struct booking *b, unsigned split)
{
    if (!(split & ADMIT_SPLIT_READ))
        return admit_take_call(call, b, "");
    call->script = NULL;
    call->argc = 0;
    call->used = 0;
    return cache_call_arg(call, "GET") && cache_call_arg(call, "event:%lld:seats", b->event_id);
}

bool admit_gate_next_call(struct cache_call *call, const struct booking *b, unsigned split,
                          const redisReply *r, bool *last)
{
    char count[24];

    *last = true;
    if (!call->script) {                        /* the GET's reply: the count read */
        if (r->type == REDIS_REPLY_NIL)          /* no counter: the one script seeds it */
            return admit_gate_call(call, b, LAB_OK);
        if (r->type != REDIS_REPLY_STRING)
            return false;
        snprintf(count, sizeof count, "%.20s", r->str);
        if (!(split & ADMIT_SPLIT_TAKE))
            return admit_split_call(call, b, count);
        *last = false;
        return admit_take_call(call, b, count);
    }
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1)   /* the take's reply: a seat */
        return admit_split_call(call, b, "held");
    if (r->type != REDIS_REPLY_INTEGER)
        return false;
    return admit_gate_call(call, b, LAB_OK);    /* none taken: the one script answers */
}

bool admit_finish_call(struct cache_call *call, const struct booking *b, enum lab_status answer,
                       long long ticket_id)
{
    return admit_keys(call, admit_finish_script, b, 4) &&
           cache_call_arg(call, "%s", b->request_id) &&
           cache_call_arg(call, "%s", admit_value(b->user_id, answer, ticket_id).text);
}

bool admit_undo_call(struct cache_call *call, const struct booking *b)
{
    return admit_keys(call, admit_undo_script, b, 4) && cache_call_arg(call, "%s", b->request_id) &&
           cache_call_arg(call, "%lld", b->generation);
}

static bool admit_forget_call(struct cache_call *call, const struct booking *b)
{
    return admit_keys(call, admit_orphan_script, b, 4) &&
           cache_call_arg(call, "%s", b->request_id) &&
           cache_call_arg(call, "%lld in_progress 0 %s", b->user_id, admit_holder()) &&
           cache_call_arg(call, "%s", "");
}

bool admit_release_call(struct cache_call *call, const struct booking *b)
{
    return admit_keys(call, admit_drop_script, b, 4) && cache_call_arg(call, "%s", b->request_id);
}

/* ---------------------------------------------------------------------- */
/* Reset and rebuild of the gate phases' claims                            */
/* ---------------------------------------------------------------------- */

/* KEYS: the event's claims, its counter, its cached status, the index, its
 * claims in progress. ARGV: seats, generation. A reset in one step: no request can take a seat
 * of the new counter with the old generation between the two, nor find a
 * claim of the old sale. */
static const char admit_reset_script[] =
    "for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do redis.call('HDEL', KEYS[4], id) end "
    "redis.call('DEL', KEYS[1], KEYS[3], KEYS[5]) "
    "redis.call('SET', KEYS[2], ARGV[1]) "
    "redis.call('HSET', KEYS[1], '#generation', ARGV[2]) "
    "return 1";

enum lab_status admit_reset(redisContext *cache, long long event_id, long long seats,
                            long long generation)
{
    char k1[64], k2[64], k3[64], k5[64], a1[24], a2[24];
    const char *argv[] = { "5", k1, k2, k3, ADMIT_EVENT_INDEX, k5, a1, a2 };
    redisReply *r;
    enum lab_status st;

    snprintf(k1, sizeof k1, "event:%lld:requests", event_id);
    snprintf(k2, sizeof k2, "event:%lld:seats", event_id);
    snprintf(k3, sizeof k3, "event:%lld:status", event_id);
    snprintf(k5, sizeof k5, "event:%lld:claiming", event_id);
    snprintf(a1, sizeof a1, "%lld", seats);
    snprintf(a2, sizeof a2, "%lld", generation);
    if ((st = cache_eval(cache, admit_reset_script, 8, argv, &r)) == LAB_OK)
        freeReplyObject(r);
    return st;
}

enum lab_status admit_rebuild(PGconn *db, redisContext *cache, long long event_id, bool queued)
{
    struct db_answer *answers = NULL;
    size_t n = 0;
    long long generation;
    enum lab_status st;
    int pending = 0;

    if ((st = db_answers(db, event_id, &generation, &answers, &n)) != LAB_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        struct admit_value v = admit_value(answers[i].user_id,
                                           queued ? LAB_QUEUED : answers[i].answer,
                                           answers[i].ticket_id);

        redisAppendCommand(cache, "HSETNX event:%lld:requests %s %s", event_id,
                           answers[i].request_id, v.text);
        redisAppendCommand(cache, "HSETNX " ADMIT_EVENT_INDEX " %s %lld", answers[i].request_id,
                           event_id);
        pending += 2;
    }
    redisAppendCommand(cache, "HSETNX event:%lld:requests #generation %lld", event_id, generation);
    pending++;
    free(answers);
    for (; pending > 0; pending--) {
        void *reply;

        if (redisGetReply(cache, &reply) != REDIS_OK) {
            lab_log("admit: rebuilding the claims of event %lld: %s", event_id, cache->errstr);
            return LAB_ERR_CACHE;
        }
        freeReplyObject(reply);
    }
    if (n > 0)
        lab_log("admit: %zu answered claims of event %lld rebuilt from the database", n,
                event_id);
    return LAB_OK;
}
