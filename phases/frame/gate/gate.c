/* gate.c -- keeping the Redis gate true to the database after faults
 * (docs/faults.md): rebuilt from PostgreSQL when a service starts, closed
 * when PostgreSQL says the event is sold out, given back the seats of takes
 * whose answer was lost. Every correction errs on the side of too many
 * seats in the gate: the database's transaction refuses the excess (and
 * closes the gate), while a gate short of seats would leave them unsold. */
#include "gate/gate.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "booking/admit.h"
#include "clients/cache.h"
#include "service/phase.h"
#include "db.h"

/* The takes whose answer was lost, for one event at a time (the lab sells
 * one): a process-wide count, taken whole by the thread that settles it. */
static _Atomic long long gate_lost_takes;
static _Atomic long long gate_lost_event;

void gate_uncertain(long long event_id)
{
    atomic_store(&gate_lost_event, event_id);
    atomic_fetch_add(&gate_lost_takes, 1);
}

/* gate_settle gives back the seats of the lost takes. A take whose command
 * never ran is given back too: one seat too many, refused by the database
 * at the end of the sale. Into a counter that Redis lost (restart), nothing:
 * the reseed from the database counts right. */
void gate_settle(struct conns *c)
{
    long long n, event_id;
    bool done = false;

    if (atomic_load_explicit(&gate_lost_takes, memory_order_relaxed) == 0)
        return;
    n = atomic_exchange(&gate_lost_takes, 0);
    event_id = atomic_load(&gate_lost_event);
    if (n <= 0)
        return;
    if (cache_give_back_many(c->cache, event_id, n, &done) != LAB_OK) {
        atomic_fetch_add(&gate_lost_takes, n);   /* still unreachable: later */
        return;
    }
    lab_log("gate: %lld seats of takes with a lost answer %s", n,
            done ? "given back" : "dropped (the counter is gone; reseeded from the database)");
}

/* The bookings the gate let through and the database refused for want of
 * a seat, since the process started (GET /api/stats, "gateRefused"). */
static _Atomic long long gate_refused;

long long gate_refused_count(void)
{
    return atomic_load_explicit(&gate_refused, memory_order_relaxed);
}

/* gate_close sets the counter to 0 once the database refused a booking
 * for want of seats. The gate had let through more requests than there
 * were seats (it was reseeded while seats were in flight, or given seats
 * back that had been sold): the database is right, and no seat ever comes
 * back in the lab (no cancellations), so 0 is the true count. Giving the
 * refused request's seat back, as before, kept the excess forever. */
void gate_close(struct conns *c, long long event_id)
{
    atomic_fetch_add_explicit(&gate_refused, 1, memory_order_relaxed);
    if (conns_cache(c) != LAB_OK || cache_seed(c->cache, event_id, 0, false) != LAB_OK)
        lab_log("gate: could not close the gate of event %lld", event_id);
}

/* gate_rebuild sets every event's counter to the database's available
 * seats, at a service's start: a process killed between taking a seat and
 * booking it (or queueing it) left the counter short, and nothing else
 * would ever give those seats back. Seats in flight elsewhere (queued in
 * Kafka) are counted as free: the excess is refused by the database and
 * closed by gate_close, never oversold. Without rebuild (the zoo,
 * docs/zoo.md) the gate is left as the process finds it: a planted bug. */
enum lab_status gate_rebuild(const struct service *svc)
{
    char err[256];
    PGconn *db;
    redisContext *cache;
    PGresult *res;
    enum lab_status st = LAB_OK;

    if (safeguard_off(svc->cfg, SAFEGUARD_REBUILD)) {
        lab_log("gate: not rebuilt from the database (--without rebuild)");
        return LAB_OK;
    }
    db = db_connect(svc->cfg->pg, err, sizeof err);
    if (!db) {
        lab_log("gate: %s", err);
        return LAB_ERR_DB;
    }
    cache = cache_connect(svc->cfg->redis, err, sizeof err);
    if (!cache) {
        lab_log("gate: %s", err);
        PQfinish(db);
        return LAB_ERR_CACHE;
    }
    res = PQexecParams(db, "SELECT id, available_seats FROM events", 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lab_log("gate: %s", PQerrorMessage(db));
        st = LAB_ERR_DB;
    }
    for (int i = 0; st == LAB_OK && i < PQntuples(res); i++) {
        long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        long long seats = strtoll(PQgetvalue(res, i, 1), NULL, 10);

        long long was;
        bool found = false;

        /* what the gate said, for the log: after a failover, the new
         * primary's counter against the database (the seats in flight
         * make the database's the higher; decrements the replica missed
         * make the counter the higher) */
        if (cache_read_seats(cache, id, &was, &found) == LAB_OK && found && was != seats)
            lab_log("gate: event %lld: the counter said %lld, the database %lld available", id,
                    was, seats);
        st = admit_rebuild(db, cache, id, svc->phase->send != NULL);
        if (st == LAB_OK)
            st = cache_seed(cache, id, seats < 0 ? 0 : seats, false);
    }
    if (st == LAB_OK)
        lab_log("gate: rebuilt from the database (%d events)", PQntuples(res));
    PQclear(res);
    redisFree(cache);
    PQfinish(db);
    return st;
}

/* The primary moves seen by gate_follow_primary (cache_primary_changes). */
static _Atomic unsigned gate_primary_seen;

/* gate_follow_primary rebuilds the gate when this process's connections
 * landed on another Redis primary (a failover, docs/cluster.md): the
 * replica that took over may miss the last decrements and claims its
 * primary acknowledged before it died (replication is asynchronous), so
 * its counter is not to be trusted; the database's is, as after a restart
 * (gate_rebuild, the same path: the seats in flight counted free, the
 * excess refused by the database and closed by gate_close). Without
 * rebuild (the zoo, docs/zoo.md) the new primary's counter stands. It runs
 * on the gate's Redis pipe before each round trip (booking/pipeline.c); a
 * rebuild that fails is tried again on the next one. */
void gate_follow_primary(const struct service *svc)
{
    unsigned now = cache_primary_changes();
    long long n;

    if (now == atomic_load(&gate_primary_seen))
        return;
    if (safeguard_off(svc->cfg, SAFEGUARD_REBUILD)) {
        lab_log("gate: a new Redis primary, its counter kept (--without rebuild)");
        atomic_store(&gate_primary_seen, now);
        return;
    }
    lab_log("gate: a new Redis primary: rebuilding the gate from the database");
    if (gate_rebuild(svc) != LAB_OK)
        return;
    atomic_store(&gate_primary_seen, now);
    /* the takes whose answer was lost went to the old primary, and none
     * was booked: the database counts their seats free already, so giving
     * them back too (gate_settle) would be a seat too many each */
    n = atomic_exchange(&gate_lost_takes, 0);
    if (n > 0)
        lab_log("gate: %lld seats of takes with a lost answer dropped (counted by the rebuild)", n);
}
