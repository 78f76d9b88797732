/* conns.c -- per-thread connections, made lazily, kept for the thread's life. */
#include "clients/conns.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "clients/cache.h"
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

/* Session limits (docs/faults.md): a waiter gives up on a row lock after
 * DB_LOCK_TIMEOUT_MS instead of waiting forever behind a stalled holder,
 * and a session idle inside a transaction for DB_IDLE_IN_TX_TIMEOUT_MS (its
 * process stopped: SIGSTOP, a debugger) is ended by the server, which
 * releases its locks. Both far above the think time inside a booking. */
#define DB_LOCK_TIMEOUT_MS 5000
#define DB_IDLE_IN_TX_TIMEOUT_MS 5000

/* db_stale tells whether an idle connection was closed by the server (a
 * PostgreSQL restart): PQstatus still says CONNECTION_OK until libpq reads
 * the end of the socket, which poll shows without a round trip. A server
 * that shuts down first sends "terminating connection" and then closes:
 * libpq may read the message alone (PQconsumeInput succeeds, the status is
 * still OK) and see the end only on the next statement, which fails. So a
 * connection that has anything to read while idle is made again (a notice
 * while idle is rare; these connections LISTEN to nothing). */
static bool db_stale(PGconn *db)
{
    struct pollfd p = { .fd = PQsocket(db), .events = POLLIN };

    if (p.fd < 0)
        return true;
    if (poll(&p, 1, 0) <= 0)
        return false;
    /* readable while idle: the server's farewell, or the end of the connection */
    return true;
}

/* db_limit_session sets the session limits above on a new connection. */
static bool db_limit_session(PGconn *db)
{
    char lock_ms[16], idle_ms[16];
    const char *params[2] = { lock_ms, idle_ms };
    PGresult *res;
    bool ok;

    snprintf(lock_ms, sizeof lock_ms, "%d", DB_LOCK_TIMEOUT_MS);
    snprintf(idle_ms, sizeof idle_ms, "%d", DB_IDLE_IN_TX_TIMEOUT_MS);
    res = PQexecParams(db, "SELECT set_config('lock_timeout', $1, false), "
                       "set_config('idle_in_transaction_session_timeout', $2, false)",
                       2, NULL, params, NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        lab_log("db: cannot set the session limits: %s", PQerrorMessage(db));
    PQclear(res);
    return ok;
}

/* conns_db reconnects when the connection is missing, broken, or closed by
 * the server while idle, so that a PostgreSQL restart costs the requests
 * in flight, not the next one of every thread. */
enum lab_status conns_db(struct conns *c)
{
    char err[256];

    if (c->db && PQstatus(c->db) == CONNECTION_OK && !db_stale(c->db))
        return LAB_OK;
    PQfinish(c->db);
    c->db = db_connect(c->svc->cfg->pg, err, sizeof err);
    if (!c->db) {
        lab_log("db: %s", err);
        return LAB_ERR_DB;
    }
    if (!db_limit_session(c->db)) {
        PQfinish(c->db);
        c->db = NULL;
        return LAB_ERR_DB;
    }
    return LAB_OK;
}

/* cache_stale: an idle Redis connection has nothing to read, so a socket
 * that is readable (the end of it: Redis restarted) is one to make again,
 * found without a round trip, before a command fails on it. */
static bool cache_stale(const redisContext *cache)
{
    char byte;
    ssize_t n = recv(cache->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

/* conns_cache does the same for Redis: hiredis marks a context with err
 * after an I/O failure, and such a context is of no further use; one that
 * Redis closed while it was idle is made again too. */
enum lab_status conns_cache(struct conns *c)
{
    char err[256];

    if (c->cache && !c->cache->err && !cache_stale(c->cache))
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
