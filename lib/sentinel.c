/* sentinel.c -- one server or the Sentinels of a primary: see sentinel.h. */
#include "sentinel.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "lab.h"
#include "parse.h"
#include "secrets.h"

#define SENTINEL_SCHEME "sentinel://"

/* The Sentinels' answers that named a server which was not the primary. */
static _Atomic long long redis_not_primary;

long long redis_not_primary_count(void)
{
    return atomic_load_explicit(&redis_not_primary, memory_order_relaxed);
}

/* redis_addr_fail writes the reason for refusing TEXT, with both forms. */
static bool redis_addr_fail(const char *text, const char *why, char *err, size_t err_len)
{
    snprintf(err, err_len, "bad Redis address '%s': %s (want HOST:PORT or "
             "sentinel://HOST:PORT,HOST:PORT,.../NAME)", text ? text : "", why);
    return false;
}

/* redis_name_ok: 1 to REDIS_ADDR_NAME - 1 characters of [A-Za-z0-9_.-]. */
static bool redis_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n < REDIS_ADDR_NAME && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "abcdefghijklmnopqrstuvwxyz"
                                                   "0123456789_.-") == n;
}

bool redis_addr_parse(const char *text, struct redis_addr *a, char *err, size_t err_len)
{
    char list[REDIS_ADDR_SENTINELS * (REDIS_ADDR_HOST + 8)];
    const char *rest, *slash;
    char *item, *save = NULL;
    size_t n;

    memset(a, 0, sizeof *a);
    if (!text || !*text)
        return redis_addr_fail(text, "empty", err, err_len);
    if (strncmp(text, SENTINEL_SCHEME, strlen(SENTINEL_SCHEME)) != 0) {
        if (!parse_host_port(text, a->host[0], REDIS_ADDR_HOST, &a->port[0]) ||
            strchr(text, '/') || strchr(text, ','))
            return redis_addr_fail(text, "not HOST:PORT", err, err_len);
        return true;
    }
    rest = text + strlen(SENTINEL_SCHEME);
    slash = strchr(rest, '/');
    if (!slash)
        return redis_addr_fail(text, "no /NAME of the primary after the Sentinels", err, err_len);
    if (!redis_name_ok(slash + 1))
        return redis_addr_fail(text, "the primary's NAME is 1 to 63 characters of "
                               "A-Z a-z 0-9 _ . -", err, err_len);
    snprintf(a->name, sizeof a->name, "%s", slash + 1);
    n = (size_t)(slash - rest);
    if (n == 0)
        return redis_addr_fail(text, "no Sentinel listed", err, err_len);
    if (n >= sizeof list)
        return redis_addr_fail(text, "the list of Sentinels is too long", err, err_len);
    memcpy(list, rest, n);
    list[n] = '\0';
    if (list[0] == ',' || list[n - 1] == ',' || strstr(list, ",,"))
        return redis_addr_fail(text, "an empty Sentinel in the list", err, err_len);
    for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        int i = a->sentinels;

        if (i == REDIS_ADDR_SENTINELS)
            return redis_addr_fail(text, "more than 8 Sentinels", err, err_len);
        if (!parse_host_port(item, a->host[i], REDIS_ADDR_HOST, &a->port[i]))
            return redis_addr_fail(text, "a Sentinel is not HOST:PORT", err, err_len);
        a->sentinels++;
    }
    return true;
}

/* redis_authenticate makes a new connection to WHERE usable: AUTH with the
 * password found for the address TEXT (secrets.h), or a PING when there is
 * none, so that a server that wants a password says so at connect time,
 * with a hint, rather than at the first booking. A server that needs no
 * password (AUTH "called without any password configured") is fine as it
 * is. The Sentinels and the servers of a replicated topology share the
 * lab's password. */
static bool redis_authenticate(redisContext *c, const char *text, const char *where, char *err,
                               size_t err_len)
{
    char user[128], pass[512];
    int found = secrets_redis_auth(text, user, sizeof user, pass, sizeof pass, err, err_len);
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
        snprintf(err, err_len, "Redis at %s: %s", where, c->errstr);
        return false;
    }
    ok = r->type != REDIS_REPLY_ERROR ||
         (found && strstr(r->str, "without any password configured"));
    if (!ok)
        snprintf(err, err_len, "Redis at %s: %s%s", where, r->str,
                 found ? " (LAB_REDIS_PASSWORD or LAB_REDIS_PASSFILE: docs/bring-your-own.md)"
                       : " (no password given: set LAB_REDIS_PASSWORD, docs/bring-your-own.md)");
    freeReplyObject(r);
    return ok;
}

/* redis_connect opens an authenticated connection to HOST:PORT, commands
 * bounded by TIMEOUT_MS too (a stopped server gives an error, not a hang). */
static redisContext *redis_connect(const char *text, const char *host, int port, int timeout_ms,
                                   char *err, size_t err_len)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    char where[REDIS_ADDR_HOST + 16];
    redisContext *c;

    snprintf(where, sizeof where, "%s:%d", host, port);
    c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        snprintf(err, err_len, "Redis at %s: %s", where, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (!redis_authenticate(c, text, where, err, err_len)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* redis_ask_sentinel asks the Sentinel I of A where A's primary is: true
 * with HOST and *PORT, false with the reason in ERR. */
static bool redis_ask_sentinel(const char *text, const struct redis_addr *a, int i,
                               int timeout_ms, char *host, size_t host_len, int *port, char *err,
                               size_t err_len)
{
    redisContext *c = redis_connect(text, a->host[i], a->port[i], timeout_ms, err, err_len);
    redisReply *r;
    long long p;
    bool ok = false;

    if (!c)
        return false;
    r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", a->name);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
        r->element[0]->len > 0 && r->element[0]->len < host_len &&
        parse_long(r->element[1]->str, 1, 65535, &p)) {
        memcpy(host, r->element[0]->str, r->element[0]->len + 1);
        *port = (int)p;
        ok = true;
    } else {
        snprintf(err, err_len, "Sentinel %s:%d does not name the primary '%s': %s", a->host[i],
                 a->port[i], a->name,
                 !r ? c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unknown name");
    }
    freeReplyObject(r);
    redisFree(c);
    return ok;
}

/* redis_is_primary checks, in one round trip, that C's server says it is a
 * master (ROLE) and reads its run_id (INFO server) into RUN_ID. */
static bool redis_is_primary(redisContext *c, const char *where, char *run_id, char *err,
                             size_t err_len)
{
    redisReply *role = NULL, *info = NULL;
    const char *id;
    bool ok = false;

    redisAppendCommand(c, "ROLE");
    redisAppendCommand(c, "INFO server");
    if (redisGetReply(c, (void **)&role) != REDIS_OK ||
        redisGetReply(c, (void **)&info) != REDIS_OK) {
        snprintf(err, err_len, "Redis at %s: %s", where, c->errstr);
    } else if (role->type != REDIS_REPLY_ARRAY || role->elements < 1 ||
               role->element[0]->type != REDIS_REPLY_STRING) {
        snprintf(err, err_len, "Redis at %s: no answer to ROLE", where);
    } else if (strcmp(role->element[0]->str, "master") != 0) {
        atomic_fetch_add_explicit(&redis_not_primary, 1, memory_order_relaxed);
        snprintf(err, err_len, "Redis at %s, named primary by a Sentinel, is a %s (a failover "
                 "in progress): asked again on the next request", where, role->element[0]->str);
    } else if (info->type != REDIS_REPLY_STRING || !(id = strstr(info->str, "run_id:")) ||
               strspn(id + 7, "0123456789abcdef") != REDIS_RUN_ID - 1) {
        snprintf(err, err_len, "Redis at %s: no run_id in INFO server", where);
    } else {
        memcpy(run_id, id + 7, REDIS_RUN_ID - 1);
        run_id[REDIS_RUN_ID - 1] = '\0';
        ok = true;
    }
    freeReplyObject(role);
    freeReplyObject(info);
    return ok;
}

redisContext *redis_open(const char *text, int timeout_ms, char *run_id, char *err,
                         size_t err_len)
{
    struct redis_addr a;
    char host[REDIS_ADDR_HOST], where[REDIS_ADDR_HOST + 16], id[REDIS_RUN_ID];
    int port = 0;
    redisContext *c;

    if (run_id)
        run_id[0] = '\0';
    if (!redis_addr_parse(text, &a, err, err_len))
        return NULL;
    if (a.sentinels == 0)
        return redis_connect(text, a.host[0], a.port[0], timeout_ms, err, err_len);
    for (int i = 0; i < a.sentinels; i++) {
        /* the reason of the last Sentinel that failed stays in ERR */
        if (redis_ask_sentinel(text, &a, i, timeout_ms, host, sizeof host, &port, err, err_len))
            break;
        port = 0;
    }
    if (port == 0)
        return NULL;
    c = redis_connect(text, host, port, timeout_ms, err, err_len);
    if (!c)
        return NULL;
    snprintf(where, sizeof where, "%s:%d", host, port);
    if (!redis_is_primary(c, where, id, err, err_len)) {
        redisFree(c);
        return NULL;
    }
    if (run_id)
        memcpy(run_id, id, sizeof id);
    return c;
}
