/* worker.c -- per-thread connections, made lazily, kept for the thread's life. */
#include "worker.h"

#include <pthread.h>
#include <stdlib.h>
#include "cache.h"
#include "db.h"

static pthread_key_t worker_key;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;

void worker_free(struct worker *w)
{
    if (!w)
        return;
    PQfinish(w->db);
    if (w->cache)
        redisFree(w->cache);
    free(w);
}

/* Thread-exit destructor of the key: each booking worker closes its own. */
static void worker_destroy(void *p)
{
    worker_free(p);
}

static void worker_make_key(void)
{
    pthread_key_create(&worker_key, worker_destroy);
}

struct worker *worker_self(const struct service *svc)
{
    struct worker *w;

    pthread_once(&worker_once, worker_make_key);
    w = pthread_getspecific(worker_key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w)
            return NULL;
        w->svc = svc;
        pthread_setspecific(worker_key, w);
    }
    return w;
}

/* worker_db reconnects when the connection is missing or broken, so that a
 * PostgreSQL restart costs the requests in flight, not the service. */
enum lab_status worker_db(struct worker *w)
{
    char err[256];

    if (w->db && PQstatus(w->db) == CONNECTION_OK)
        return LAB_OK;
    PQfinish(w->db);
    w->db = db_connect(w->svc->cfg->pg, err, sizeof err);
    if (!w->db) {
        lab_log("db: %s", err);
        return LAB_ERR_DB;
    }
    return LAB_OK;
}

/* worker_cache does the same for Redis: hiredis marks a context with err
 * after an I/O failure, and such a context is of no further use. */
enum lab_status worker_cache(struct worker *w)
{
    char err[256];

    if (w->cache && !w->cache->err)
        return LAB_OK;
    if (w->cache)
        redisFree(w->cache);
    w->cache = cache_connect(w->svc->cfg->redis, err, sizeof err);
    if (!w->cache) {
        lab_log("cache: %s", err);
        return LAB_ERR_CACHE;
    }
    return LAB_OK;
}

void worker_think(const struct worker *w)
{
    lab_sleep_ms(w->svc->cfg->think_ms);
}
