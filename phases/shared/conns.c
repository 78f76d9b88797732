/* conns.c -- per-thread connections, made lazily, kept for the thread's life. */
#include "conns.h"

#include <pthread.h>
#include <stdlib.h>
#include "cache.h"
#include "db.h"

static pthread_key_t conns_key;
static pthread_once_t conns_once = PTHREAD_ONCE_INIT;

void conns_free(struct conns *c)
{
    if (!c)
        return;
    PQfinish(c->db);
    if (c->cache)
        redisFree(c->cache);
    free(c);
}

/* Thread-exit destructor of the key: each booking thread closes its own. */
static void conns_destroy(void *p)
{
    conns_free(p);
}

static void conns_make_key(void)
{
    pthread_key_create(&conns_key, conns_destroy);
}

struct conns *conns_self(const struct service *svc)
{
    struct conns *c;

    pthread_once(&conns_once, conns_make_key);
    c = pthread_getspecific(conns_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        c->svc = svc;
        pthread_setspecific(conns_key, c);
    }
    return c;
}

/* conns_db reconnects when the connection is missing or broken, so that a
 * PostgreSQL restart costs the requests in flight, not the service. */
enum lab_status conns_db(struct conns *c)
{
    char err[256];

    if (c->db && PQstatus(c->db) == CONNECTION_OK)
        return LAB_OK;
    PQfinish(c->db);
    c->db = db_connect(c->svc->cfg->pg, err, sizeof err);
    if (!c->db) {
        lab_log("db: %s", err);
        return LAB_ERR_DB;
    }
    return LAB_OK;
}

/* conns_cache does the same for Redis: hiredis marks a context with err
 * after an I/O failure, and such a context is of no further use. */
enum lab_status conns_cache(struct conns *c)
{
    char err[256];

    if (c->cache && !c->cache->err)
        return LAB_OK;
    if (c->cache)
        redisFree(c->cache);
    c->cache = cache_connect(c->svc->cfg->redis, err, sizeof err);
    if (!c->cache) {
        lab_log("cache: %s", err);
        return LAB_ERR_CACHE;
    }
    return LAB_OK;
}

/* booking_think is the pause of a real service checking a payment: the same
 * call at the same point of every phase's booking (--think-ms). */
void booking_think(const struct conns *c)
{
    lab_sleep_ms(c->svc->cfg->think_ms);
}
