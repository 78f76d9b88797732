/* cache.c -- the Redis side of phases 4 and 6, on hiredis.
 *
 * Every command goes through cache_command(), which checks the reply type and
 * frees it, so no function here leaks a reply or misreads an error. */
#include "clients/cache.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "parse.h"
#include "secrets.h"

/* cache_authenticate makes a new connection usable: AUTH with the password
 * found for HOST_PORT (secrets.h), or a PING when there is none, so that a
 * Redis that wants a password says so at connect time, with a hint, rather
 * than at the first booking. A server that needs no password (AUTH "called
 * without any password configured") is fine as it is. */
static bool cache_authenticate(redisContext *c, const char *host_port, char *err,
                               size_t err_len)
{
    char user[128], pass[512];
    int found = secrets_redis_auth(host_port, user, sizeof user, pass, sizeof pass, err, err_len);
    redisReply *r;
    bool ok;

    if (found < 0)
        return false;
    if (found && user[0])
        r = redisCommand(c, "AUTH %s %s", user, pass);
    else if (found)
        r = redisCommand(c, "AUTH %s", pass);
    else
        r = redisCommand(c, "PING");
    explicit_bzero(pass, sizeof pass);
    if (!r) {
        snprintf(err, err_len, "Redis at %s: %s", host_port, c->errstr);
        return false;
    }
    ok = r->type != REDIS_REPLY_ERROR ||
         (found && strstr(r->str, "without any password configured"));
    if (!ok)
        snprintf(err, err_len, "Redis at %s: %s%s", host_port, r->str,
                 found ? " (LAB_REDIS_PASSWORD or LAB_REDIS_PASSFILE: docs/bring-your-own.md)"
                       : " (no password given: set LAB_REDIS_PASSWORD, docs/bring-your-own.md)");
    freeReplyObject(r);
    return ok;
}

/* cache_connect opens one connection to HOST_PORT and authenticates it:
 * every connection of the lab, the first and each reconnection, is made
 * here. */
redisContext *cache_connect(const char *host_port, char *err, size_t err_len)
{
    char host[128];
    int port;
    struct timeval timeout = { 2, 0 };
    redisContext *c;

    if (!parse_host_port(host_port, host, sizeof host, &port)) {
        snprintf(err, err_len, "bad Redis address '%s' (want HOST:PORT)", host_port);
        return NULL;
    }
    c = redisConnectWithTimeout(host, port, timeout);
    if (!c || c->err) {
        snprintf(err, err_len, "Redis at %s: %s", host_port, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, timeout);    /* a stopped Redis gives an error, not a hang */
    if (!cache_authenticate(c, host_port, err, err_len)) {
        redisFree(c);
        return NULL;
    }
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
