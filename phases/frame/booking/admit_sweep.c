/* admit_sweep.c -- the sweep: claims whose holder is gone, settled every
 * 2 s even when nobody retries them (admit.h, admit_sweeper_start). */
#include "booking/admit.h"
#include "booking/admit_orphan.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include "clients/cache.h"
#include "db.h"
#include "parse.h"

/* A claim in progress for longer than this is lost even if its holder
 * lives (a claim script whose answer the holder never got: Redis paused);
 * no request holds one that long (the queue's and the locks' timeouts are
 * 5 s). */
#define ADMIT_CLAIM_LEASE_MS 60000

/* KEYS: the event's claims in progress ("HOLDER MS" by id), its claims.
 * Returns the id and the value of every claim in progress whose holder's
 * key is gone or that is older than ADMIT_CLAIM_LEASE_MS, and forgets the
 * entries whose claim is no longer in progress. */
static const char admit_sweep_script[] =
    "local out = {} "
    "local now = redis.call('TIME') "
    "local now_ms = now[1] * 1000 + math.floor(now[2] / 1000) "
    "local all = redis.call('HGETALL', KEYS[1]) "
    "for i = 1, #all, 2 do "
    "  local v = redis.call('HGET', KEYS[2], all[i]) "
    "  local h, t = string.match(all[i + 1], '^(%x+) (%d+)$') "
    "  if not v or not string.find(v, ' in_progress ', 1, true) or not h then "
    "    redis.call('HDEL', KEYS[1], all[i]) "
    "  elseif redis.call('EXISTS', '" ADMIT_HOLDER_KEY "' .. h) == 0 or "
    "         now_ms - tonumber(t) > " ADMIT_STR(ADMIT_CLAIM_LEASE_MS) " then "
    "    out[#out + 1] = all[i]; out[#out + 1] = v "
    "  end "
    "end "
    "return out";

/* admit_sweep_event settles the orphaned claims of EVENT_ID in Redis;
 * *LEFT: whether it still has claims in progress. */
static enum lab_status admit_sweep_event(struct conns *c, long long event_id, size_t *settled,
                                         bool *left)
{
    char k1[64], k2[64];
    const char *argv[] = { "2", k1, k2 };
    redisReply *r, *n;
    enum lab_status st;

    snprintf(k1, sizeof k1, "event:%lld:claiming", event_id);
    snprintf(k2, sizeof k2, "event:%lld:requests", event_id);
    if ((st = cache_eval(c->cache, admit_sweep_script, 3, argv, &r)) != LAB_OK)
        return st;
    for (size_t i = 0; st == LAB_OK && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
         i += 2) {
        struct booking b = { .event_id = event_id };
        char state[24];
        long long ticket_id;
        enum lab_status answer;
        bool found, done;

        if (!admit_parse_cache(r->element[i + 1]->str, &b.user_id, state, sizeof state,
                               &ticket_id) || !parse_request_id(r->element[i]->str))
            continue;
        snprintf(b.request_id, sizeof b.request_id, "%s", r->element[i]->str);
        if ((st = admit_orphan_answer(c, &b, &found, &answer, &ticket_id)) == LAB_OK &&
            (st = admit_settle_orphan(c, &b, r->element[i + 1]->str, found, answer, ticket_id,
                                      &done)) == LAB_OK && done)
            (*settled)++;
    }
    freeReplyObject(r);
    if (st != LAB_OK)
        return st;
    n = redisCommand(c->cache, "HLEN event:%lld:claiming", event_id);
    *left = !n || n->type != REDIS_REPLY_INTEGER || n->integer > 0;
    freeReplyObject(n);
    return LAB_OK;
}

/* admit_sweep settles every claim whose holder is gone, as the next
 * request with its id would: the database's answer stored, or the claim
 * dropped. Without it, a claim of a killed process whose client never
 * retries would stay in progress until the next reset. */
static void admit_sweep(struct conns *c)
{
    size_t settled = 0;
    enum lab_status st;

    if (!admit_in_cache(c)) {
        long long booked = 0, dropped = 0;

        if (conns_db(c) == LAB_OK &&
            db_request_sweep(c->db, c->svc->phase->send != NULL, &booked, &dropped) == LAB_OK &&
            booked + dropped > 0)
            lab_log("admit: %lld claims of gone holders settled from the database, %lld dropped",
                    booked, dropped);
        return;
    }
    if (conns_cache(c) != LAB_OK) {
        return;
    }
    redisReply *events = redisCommand(c->cache, "SMEMBERS " ADMIT_CLAIMING_EVENTS);

    for (size_t i = 0; events && events->type == REDIS_REPLY_ARRAY && i < events->elements; i++) {
        long long event_id;
        bool left = true;

        if (!parse_long(events->element[i]->str, 1, PARSE_ID_MAX, &event_id))
            continue;
        st = admit_sweep_event(c, event_id, &settled, &left);
        if (st == LAB_OK && !left)
            freeReplyObject(redisCommand(c->cache, "SREM " ADMIT_CLAIMING_EVENTS " %lld",
                                         event_id));
    }
    freeReplyObject(events);
    if (settled > 0)
        lab_log("admit: %zu claims of gone holders settled", settled);
}

/* The sweeper thread: one sweep every ADMIT_SWEEP_MS, on its own
 * connections. */
#define ADMIT_SWEEP_MS 2000

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, started;
    pthread_t thread;
    const struct service *svc;
} admit_sweeper = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static void *admit_sweeper_run(void *arg)
{
    struct conns c = { .svc = arg };

    pthread_mutex_lock(&admit_sweeper.lock);
    while (!admit_sweeper.stop) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ADMIT_SWEEP_MS / 1000;
        pthread_cond_timedwait(&admit_sweeper.wake, &admit_sweeper.lock, &until);
        if (admit_sweeper.stop)
            break;
        pthread_mutex_unlock(&admit_sweeper.lock);
        admit_sweep(&c);
        pthread_mutex_lock(&admit_sweeper.lock);
    }
    pthread_mutex_unlock(&admit_sweeper.lock);
    if (c.cache)
        redisFree(c.cache);
    PQfinish(c.db);
    return NULL;
}

bool admit_sweeper_start(const struct service *svc)
{
    admit_sweeper.stop = false;
    admit_sweeper.started = pthread_create(&admit_sweeper.thread, NULL, admit_sweeper_run,
                                           (void *)svc) == 0;
    return admit_sweeper.started;
}

void admit_sweeper_stop(void)
{
    if (!admit_sweeper.started)
        return;
    pthread_mutex_lock(&admit_sweeper.lock);
    admit_sweeper.stop = true;
    pthread_cond_signal(&admit_sweeper.wake);
    pthread_mutex_unlock(&admit_sweeper.lock);
    pthread_join(admit_sweeper.thread, NULL);
    admit_sweeper.started = false;
}
