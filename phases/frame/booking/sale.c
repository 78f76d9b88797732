/* sale.c -- the generations of the events' sales, in memory (sale.h). */
#include "booking/sale.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "db.h"

#define SALE_SLOTS 256             /* events that share a slot evict each other */

/* One slot: an event and its generation, guarded by the table's lock. The
 * readers are the polling threads, one lookup per booking. */
static struct sale_slot {
    long long event_id;            /* 0: empty (event ids start at 1) */
    long long generation;
} sale_table[SALE_SLOTS];
static pthread_rwlock_t sale_lock = PTHREAD_RWLOCK_INITIALIZER;
static atomic_bool sale_trusted;   /* the watcher has listened once: the table may be used */

static struct {
    const struct service *svc;
    pthread_t thread;
    atomic_bool stop;
    bool started;
} sale_watcher;

bool sale_generation(long long event_id, long long *generation)
{
    struct sale_slot *s = &sale_table[(unsigned long long)event_id % SALE_SLOTS];
    bool found;

    if (!atomic_load_explicit(&sale_trusted, memory_order_acquire))
        return false;
    pthread_rwlock_rdlock(&sale_lock);
    found = s->event_id == event_id;
    if (found)
        *generation = s->generation;
    pthread_rwlock_unlock(&sale_lock);
    return found;
}

/* sale_note_locked records the generation; the caller holds the lock. */
static void sale_note_locked(long long event_id, long long generation)
{
    struct sale_slot *s = &sale_table[(unsigned long long)event_id % SALE_SLOTS];

    if (s->event_id != event_id || s->generation < generation) {
        s->event_id = event_id;
        s->generation = generation;
    }
}

void sale_note(long long event_id, long long generation)
{
    pthread_rwlock_wrlock(&sale_lock);
    sale_note_locked(event_id, generation);
    pthread_rwlock_unlock(&sale_lock);
}



/* sale_refresh notes every event's generation as the database has it now:
 * after the watcher (re)started listening, so that a reset it could not
 * hear while it had no connection is known from here on, and none after
 * it is missed. Generations only grow, and the table keeps the largest it
 * was told, so a booking thread's older read cannot undo this. */
static bool sale_refresh(PGconn *db)
{
    PGresult *r = PQexecParams(db, "SELECT id, generation FROM events ORDER BY id LIMIT 100000",
                               0, NULL, NULL, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;

    if (!ok)
        lab_log("sale: cannot read the events: %s", PQerrorMessage(db));
    pthread_rwlock_wrlock(&sale_lock);
    for (int i = 0; ok && i < PQntuples(r); i++)
        sale_note_locked(strtoll(PQgetvalue(r, i, 0), NULL, 10),
                         strtoll(PQgetvalue(r, i, 1), NULL, 10));
    pthread_rwlock_unlock(&sale_lock);
    PQclear(r);
    return ok;
}

/* sale_listen connects, LISTENs and refreshes the table; NULL when
 * PostgreSQL cannot be had. */
static PGconn *sale_listen(void)
{
    char err[256];
    PGconn *db = db_connect(sale_watcher.svc->cfg->pg, err, sizeof err);
    PGresult *r;

    if (!db)
        return NULL;
    r = PQexecParams(db, "LISTEN " DB_SALE_CHANNEL, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        lab_log("sale: cannot listen: %s", PQerrorMessage(db));
        PQclear(r);
        PQfinish(db);
        return NULL;
    }
    PQclear(r);
    if (!sale_refresh(db)) {
        PQfinish(db);
        return NULL;
    }
    return db;
}

/* The watcher: listens, notes every reset it hears of, and when its
 * connection is lost makes a new one every 200 ms. The table stays in use
 * meanwhile: no reset can happen while PostgreSQL is down, and the refresh
 * after the new LISTEN catches one made in the moment before it. */
static void *sale_watch(void *arg)
{
    PGconn *db = NULL;

    (void)arg;
    while (!atomic_load(&sale_watcher.stop)) {
        struct pollfd p;
        PGnotify *n;

        if (!db) {
            if (!(db = sale_listen())) {
                poll(NULL, 0, 200);
                continue;
            }
            atomic_store_explicit(&sale_trusted, true, memory_order_release);
        }
        p = (struct pollfd){ .fd = PQsocket(db), .events = POLLIN };
        if (poll(&p, 1, 200) > 0 && (!PQconsumeInput(db) || PQstatus(db) != CONNECTION_OK)) {
            lab_log("sale: lost the database; listening again as soon as it is back");
            PQfinish(db);
            db = NULL;
            continue;
        }
        while ((n = PQnotifies(db))) {
            long long event_id, generation;

            if (sscanf(n->extra, "%lld %lld", &event_id, &generation) == 2)
                sale_note(event_id, generation);
            PQfreemem(n);
        }
    }
    atomic_store(&sale_trusted, false);
    PQfinish(db);
    return NULL;
}

bool sale_watch_start(const struct service *svc)
{
    sale_watcher.svc = svc;
    atomic_store(&sale_watcher.stop, false);
    sale_watcher.started = pthread_create(&sale_watcher.thread, NULL, sale_watch, NULL) == 0;
    return sale_watcher.started;
}

void sale_watch_stop(void)
{
    if (!sale_watcher.started)
        return;
    atomic_store(&sale_watcher.stop, true);
    pthread_join(sale_watcher.thread, NULL);
    sale_watcher.started = false;
}
