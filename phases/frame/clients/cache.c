/* cache.c -- the Redis side of phases 4 and 6, on hiredis.
 *
 * Every command goes through cache_command(), which checks the reply type and
 * frees it, so no function here leaks a reply or misreads an error. */
#include "clients/cache.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "parse.h"
#include "sentinel.h"

/* The primary this process's connections last landed on (its run_id), and
 * how many times that changed: a failover (or the primary restarted). Only
 * an address of Sentinels has a run_id; one server is taken as it is. */
static pthread_mutex_t cache_primary_lock = PTHREAD_MUTEX_INITIALIZER;
static char cache_primary[REDIS_RUN_ID];
static _Atomic unsigned cache_primary_moves;

unsigned cache_primary_changes(void)
{
    return atomic_load(&cache_primary_moves);
}

/* cache_note_primary remembers RUN_ID as the primary of the moment, and
 * counts a change when it is another server than before. */
static void cache_note_primary(const char *run_id)
{
    if (!run_id[0])
        return;
    pthread_mutex_lock(&cache_primary_lock);
    if (cache_primary[0] && strcmp(cache_primary, run_id) != 0) {
        atomic_fetch_add(&cache_primary_moves, 1);
        lab_log("cache: a new Redis primary (run_id %.12s..., was %.12s...)", run_id,
                cache_primary);
    }
    memcpy(cache_primary, run_id, sizeof cache_primary);
    pthread_mutex_unlock(&cache_primary_lock);
}

/* cache_connect opens one connection to the Redis that ADDR names, and
 * authenticates it (lib/sentinel.c): every connection of the lab, the
 * first and each reconnection, is made here, so each reconnection asks
 * the Sentinels again. */
redisContext *cache_connect(const char *addr, char *err, size_t err_len)
{
    char run_id[REDIS_RUN_ID];
    redisContext *c = redis_open(addr, 2000, run_id, err, err_len);

    if (c)
        cache_note_primary(run_id);
    return c;
}

/* cache_command runs one command and hands back its reply when its type is
 * WANT (or REDIS_REPLY_NIL, a missing key); anything else is an error. */
static enum lab_status cache_command(redisContext *c, int want, redisReply **out,
                                     const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r) {
        lab_log("cache: %s", c->errstr);
        return LAB_ERR_CACHE;
    }
    if (r->type != want && r->type != REDIS_REPLY_NIL) {
        lab_log("cache: unexpected reply: %s", r->type == REDIS_REPLY_ERROR ? r->str : "?");
        freeReplyObject(r);
        return LAB_ERR_CACHE;
    }
    if (out)
        *out = r;
    else
        freeReplyObject(r);
    return LAB_OK;
}

enum lab_status cache_give_back(redisContext *c, long long event_id)
{
    return cache_command(c, REDIS_REPLY_INTEGER, NULL, "INCR event:%lld:seats", event_id);
}

/* Adds ARGV[1] to an existing counter; -1 when there is none (INCRBY alone
 * would create it, and a gate of only the seats given back would stand in
 * the way of the reseed from the database). */
static const char *cache_give_back_script =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
    "return redis.call('INCRBY', KEYS[1], ARGV[1])";

enum lab_status cache_give_back_many(redisContext *c, long long event_id, long long n, bool *done)
{
    redisReply *r;
    enum lab_status st;

    st = cache_command(c, REDIS_REPLY_INTEGER, &r, "EVAL %s 1 event:%lld:seats %lld",
                       cache_give_back_script, event_id, n);
    if (st != LAB_OK)
        return st;
    *done = r->type == REDIS_REPLY_INTEGER && r->integer >= 0;
    freeReplyObject(r);
    return LAB_OK;
}

enum lab_status cache_seed(redisContext *c, long long event_id, long long seats,
                           bool only_if_missing)
{
    enum lab_status st;

    if (only_if_missing)
        return cache_command(c, REDIS_REPLY_STATUS, NULL, "SET event:%lld:seats %lld NX",
                             event_id, seats);
    st = cache_command(c, REDIS_REPLY_STATUS, NULL, "SET event:%lld:seats %lld", event_id, seats);
    if (st != LAB_OK)
        return st;
    return cache_command(c, REDIS_REPLY_INTEGER, NULL, "DEL event:%lld:status", event_id);
}

/* cache_read_number reads an integer-valued string key. */
static enum lab_status cache_read_number(redisContext *c, const char *what, long long event_id,
                                         long long *value, bool *found)
{
    redisReply *r;
    enum lab_status st;

    st = cache_command(c, REDIS_REPLY_STRING, &r, "GET event:%lld:%s", event_id, what);
    if (st != LAB_OK)
        return st;
    *found = r->type == REDIS_REPLY_STRING && parse_long(r->str, -PARSE_ID_MAX, PARSE_ID_MAX,
                                                         value);
    freeReplyObject(r);
    return LAB_OK;
}

enum lab_status cache_read_seats(redisContext *c, long long event_id, long long *seats,
                                 bool *found)
{
    return cache_read_number(c, "seats", event_id, seats, found);
}

enum lab_status cache_get_status(redisContext *c, long long event_id, long long *seats, bool *hit)
{
    return cache_read_number(c, "status", event_id, seats, hit);
}

enum lab_status cache_put_status(redisContext *c, long long event_id, long long seats, int ttl_ms)
{
    return cache_command(c, REDIS_REPLY_STATUS, NULL, "SET event:%lld:status %lld PX %d",
                         event_id, seats, ttl_ms);
}

/* cache_eval runs SCRIPT with ARGC arguments (the number of keys first, then
 * the keys and the arguments, as EVAL takes them) and hands back its reply,
 * which the caller frees. An error reply is a failure, logged. */
enum lab_status cache_eval(redisContext *c, const char *script, int argc, const char *const *argv,
                           redisReply **out)
{
    const char *args[CACHE_EVAL_ARGS + 2];
    redisReply *r;

    if (argc > CACHE_EVAL_ARGS)
        return LAB_ERR_CACHE;
    args[0] = "EVAL";
    args[1] = script;
    for (int i = 0; i < argc; i++)
        args[i + 2] = argv[i];
    r = redisCommandArgv(c, argc + 2, args, NULL);
    if (!r) {
        lab_log("cache: %s", c->errstr);
        return LAB_ERR_CACHE;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        lab_log("cache: script failed: %s", r->str);
        freeReplyObject(r);
        return LAB_ERR_CACHE;
    }
    *out = r;
    return LAB_OK;
}

/* cache_set_ttl sets PREFIX NAME to 1 for TTL_MS: a key that says its
 * owner is alive as long as the owner renews it. */
bool cache_set_ttl(redisContext *c, const char *prefix, const char *name, int ttl_ms)
{
    return cache_command(c, REDIS_REPLY_STATUS, NULL, "SET %s%s 1 PX %d", prefix, name,
                         ttl_ms) == LAB_OK;
}
