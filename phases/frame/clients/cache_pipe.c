/* cache_pipe.c -- one thread that talks to Redis for every request: see
 * cache_pipe.h for the contract. */
#include "clients/cache_pipe.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_PIPE_SCRIPTS 8       /* distinct scripts a pipe loads, at most */

struct cache_pipe {
    struct conns conns;            /* the pipe thread's own connection (conns_cache) */
    void (*before)(struct conns *c);
    const char *const *preload;    /* scripts loaded on each new connection */
    pthread_t thread;
    pthread_mutex_t lock;          /* guards the list and stop */
    pthread_cond_t ready;          /* a call was submitted, or stop was set */
    struct cache_call *head, *tail;
    struct cache_call *kept;       /* kept calls that failed: the pipe thread's own */
    bool stop;
    /* The scripts loaded on this connection: text (by address) -> SHA1.
     * Forgotten when the connection is made again (a restarted Redis has
     * none). */
    redisContext *loaded_on;
    const char *script[CACHE_PIPE_SCRIPTS];
    char sha[CACHE_PIPE_SCRIPTS][41];
    int scripts;
};

bool cache_call_arg(struct cache_call *call, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof call->buf - call->used;
    int n;

    if (call->argc >= CACHE_CALL_ARGS)
        return false;
    va_start(ap, fmt);
    n = vsnprintf(call->buf + call->used, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        return false;
    call->argv[call->argc++] = call->buf + call->used;
    call->used += (size_t)n + 1;
    return true;
}

/* cache_pipe_load loads SCRIPT on the pipe's connection (one round trip)
 * and returns its SHA1; NULL when Redis refuses or fails. */
static const char *cache_pipe_load(struct cache_pipe *p, const char *script)
{
    redisContext *c = p->conns.cache;
    redisReply *r;
    int i = p->scripts;

    if (i == CACHE_PIPE_SCRIPTS)
        return NULL;
    r = redisCommand(c, "SCRIPT LOAD %s", script);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
        lab_log("cache: cannot load a script: %s", r && r->type == REDIS_REPLY_ERROR ? r->str
                                                                                   : c->errstr);
        freeReplyObject(r);
        return NULL;
    }
    memcpy(p->sha[i], r->str, 41);
    p->script[i] = script;
    p->scripts++;
    freeReplyObject(r);
    return p->sha[i];
}

/* cache_pipe_sha returns the SHA1 of SCRIPT on the pipe's connection. A
 * new connection (a restarted Redis has no scripts) first loads the
 * preloaded ones; a script seen for the first time is loaded then. */
static const char *cache_pipe_sha(struct cache_pipe *p, const char *script)
{
    if (p->loaded_on != p->conns.cache) {
        p->loaded_on = p->conns.cache;
        p->scripts = 0;
        for (const char *const *s = p->preload; s && *s; s++)
            if (!cache_pipe_load(p, *s))
                break;
    }
    for (int i = 0; i < p->scripts; i++)
        if (p->script[i] == script)
            return p->sha[i];
    return script ? cache_pipe_load(p, script) : NULL;
}

/* cache_pipe_loaded: SCRIPT is loaded on the current connection (no I/O). */
static bool cache_pipe_loaded(const struct cache_pipe *p, const char *script)
{
    if (p->loaded_on != p->conns.cache)
        return false;
    for (int i = 0; i < p->scripts; i++)
        if (p->script[i] == script)
            return true;
    return false;
}

/* cache_pipe_append writes CALL into the connection's output buffer:
 * false when it cannot be (its script does not load). */
static bool cache_pipe_append(struct cache_pipe *p, struct cache_call *call)
{
    const char *argv[CACHE_CALL_ARGS + 2];
    int argc = 0;

    if (call->script) {
        const char *sha = cache_pipe_sha(p, call->script);

        if (!sha)
            return false;
        argv[argc++] = "EVALSHA";
        argv[argc++] = sha;
    }
    for (int i = 0; i < call->argc; i++)
        argv[argc++] = call->argv[i];
    return redisAppendCommandArgv(p->conns.cache, argc, argv, NULL) == REDIS_OK;
}

/* cache_pipe_done hands CALL its REPLY, or keeps it for a later round
 * trip when it failed and must land (call->keep). */
static void cache_pipe_done(struct cache_pipe *p, struct cache_call *call,
                            const redisReply *reply)
{
    bool failed = !reply || reply->type == REDIS_REPLY_ERROR;

    if (failed && call->keep && ++call->tries < CACHE_CALL_TRIES) {
        call->next = p->kept;
        p->kept = call;
        return;
    }
    call->done(call, reply);
}

/* cache_pipe_fail answers the calls from CALL on with no reply. */
static void cache_pipe_fail(struct cache_pipe *p, struct cache_call *call)
{
    struct cache_call *next;

    for (; call; call = next) {
        next = call->next;
        cache_pipe_done(p, call, NULL);
    }
}

/* cache_pipe_round_trip sends BATCH in one pipeline and hands out the
 * replies in order. A connection that fails half-way fails the rest of the
 * batch, and is made again for the next one. */
static void cache_pipe_round_trip(struct cache_pipe *p, struct cache_call *batch)
{
    struct cache_call *call, *next, *sent = NULL, **sent_tail = &sent;

    if (conns_cache(&p->conns) != LAB_OK) {
        for (call = batch; call; call = call->next)
            call->sent = false;
        cache_pipe_fail(p, batch);
        return;
    }
    if (p->before)
        p->before(&p->conns);
    if (p->kept) {                  /* connected: the kept calls go first */
        struct cache_call *last = p->kept;

        while (last->next)
            last = last->next;
        last->next = batch;
        batch = p->kept;
        p->kept = NULL;
    }
    /* every script of the batch loaded first: a load is a round trip of its
     * own, and one made after a call was appended would read that call's
     * reply as its own, and every reply after it would go to the wrong call */
    for (call = batch; call; call = call->next)
        if (call->script && !p->conns.cache->err)
            cache_pipe_sha(p, call->script);
    for (call = batch; call; call = next) {
        next = call->next;
        call->next = NULL;
        call->sent = false;
        if (p->conns.cache->err || (call->script && !cache_pipe_loaded(p, call->script)) ||
            !cache_pipe_append(p, call)) {
            cache_pipe_done(p, call, NULL);
            continue;
        }
        call->sent = true;
        *sent_tail = call;
        sent_tail = &call->next;
    }
    for (call = sent; call; call = next) {
        void *reply = NULL;

        next = call->next;
        if (redisGetReply(p->conns.cache, &reply) != REDIS_OK) {
            lab_log("cache: %s", p->conns.cache->errstr);
            cache_pipe_fail(p, call);  /* the context is marked: conns_cache makes a new one */
            return;
        }
        if (((redisReply *)reply)->type == REDIS_REPLY_ERROR &&
            strncmp(((redisReply *)reply)->str, "NOSCRIPT", 8) == 0)
            p->loaded_on = NULL;     /* SCRIPT FLUSH: load them again next time */
        cache_pipe_done(p, call, reply);
        freeReplyObject(reply);
    }
}

/* The pipe's thread: whatever was submitted since the last round trip is
 * the next batch. Idle, it still makes a round trip every
 * CACHE_PIPE_TICK_MS: the BEFORE hook runs (a heartbeat) and the kept calls
 * are tried again. At stop, the kept calls get their failure. */
#define CACHE_PIPE_TICK_MS 1000

static void *cache_pipe_run(void *arg)
{
    struct cache_pipe *p = arg;
    struct cache_call *batch;
    bool stop;

    /* ready before the first request (else on it): connected, scripts loaded */
    if (conns_cache(&p->conns) == LAB_OK)
        cache_pipe_sha(p, NULL);
    do {
        struct timespec until;
        bool ticked = false;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CACHE_PIPE_TICK_MS / 1000;
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stop && !ticked)
            ticked = pthread_cond_timedwait(&p->ready, &p->lock, &until) != 0;
        batch = p->head;
        p->head = p->tail = NULL;
        stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (batch || (ticked && !stop))
            cache_pipe_round_trip(p, batch);
    } while (!stop || batch);
    for (struct cache_call *call = p->kept, *next; call; call = next) {
        next = call->next;
        call->keep = false;
        call->done(call, NULL);
    }
    p->kept = NULL;
    return NULL;
}

struct cache_pipe *cache_pipe_start(const struct service *svc, void (*before)(struct conns *c),
                                    const char *const *scripts)
{
    struct cache_pipe *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    p->conns.svc = svc;
    p->before = before;
    p->preload = scripts;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->ready, NULL);
    if (pthread_create(&p->thread, NULL, cache_pipe_run, p) != 0) {
        pthread_cond_destroy(&p->ready);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

void cache_pipe_submit(struct cache_pipe *p, struct cache_call *call)
{
    call->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = call;
    else
        p->head = call;
    p->tail = call;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->lock);
}

void cache_pipe_stop(struct cache_pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    if (p->conns.cache)
        redisFree(p->conns.cache);
    pthread_cond_destroy(&p->ready);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
