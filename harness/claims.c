/* claims.c -- counting the stuck claims (claims.h). */
#include "claims.h"
#include "sentinel.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "parse.h"

/* claims_value_stuck reads the second word of "USER STATE TICKET", the
 * format the gate phases store (phases/frame/booking/admit.c). */
bool claims_value_stuck(const char *value)
{
    static const char word[] = "in_progress";
    const char *p = value ? strchr(value, ' ') : NULL;

    if (!p)
        return false;
    p++;
    return strncmp(p, word, sizeof word - 1) == 0 &&
           (p[sizeof word - 1] == ' ' || p[sizeof word - 1] == '\0');
}

/* claims_stuck_db: one count over the event's claims. */
int claims_stuck_db(PGconn *db, long long event_id, long long *stuck)
{
    char event_text[32];
    const char *params[1] = { event_text };
    PGresult *res;
    int rc = -1;

    snprintf(event_text, sizeof event_text, "%lld", event_id);
    res = PQexecParams(db, "SELECT count(*) FROM requests WHERE event_id = $1::bigint "
                           "AND state = 'in_progress'", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        parse_long(PQgetvalue(res, 0, 0), 0, PARSE_ID_MAX, stuck))
        rc = 0;
    else
        lab_log("claims: %s", PQerrorMessage(db));
    PQclear(res);
    return rc;
}

/* claims_stuck_redis: a connection of its own (lib/sentinel.c: one server,
 * or the primary the Sentinels name), one HGETALL, closed again: it runs
 * once per attack, after the sale. */
int claims_stuck_redis(const char *redis_addr, long long event_id, const char *prefix,
                       int timeout_ms, long long *stuck)
{
    size_t prefix_len = strlen(prefix);
    char err[256];
    int rc = -1;
    redisContext *ctx;
    redisReply *reply;

    ctx = redis_open(redis_addr, timeout_ms, NULL, err, sizeof err);
    if (!ctx) {
        lab_log("claims: cannot reach Redis: %s", err);
        return -1;
    }
    reply = redisCommand(ctx, "HGETALL event:%lld:requests", event_id);
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        *stuck = 0;
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            const redisReply *field = reply->element[i], *value = reply->element[i + 1];
            *stuck += field->type == REDIS_REPLY_STRING && value->type == REDIS_REPLY_STRING &&
                      strncmp(field->str, prefix, prefix_len) == 0 &&
                      claims_value_stuck(value->str);
        }
        rc = 0;
    } else {
        lab_log("claims: HGETALL event:%lld:requests failed: %s", event_id,
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : ctx->errstr);
    }
    freeReplyObject(reply);
    redisFree(ctx);
    return rc;
}
