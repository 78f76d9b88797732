/* gate_steps.c -- the gate as steps of a booking thread: seed a missing
 * counter from PostgreSQL, give a seat back. */
#include "gate/gate.h"

#include "booking/admit.h"
#include "clients/cache.h"
#include "service/phase.h"
#include "gate/gate_memo.h"
#include "db.h"

/* gate_seed (gate.h). Without rebuild (the zoo, docs/zoo.md) a missing
 * counter is taken for what Redis reads a missing key as, 0 (GET's nil,
 * DECR's start), and written so: a planted bug, the event sold out for the
 * gate from then on, and the claims Redis lost with it stay lost. */
enum lab_status gate_seed(struct conns *c, long long event_id)
{
    enum lab_status st;
    long long seats;

    if ((st = conns_cache(c)) != LAB_OK)
        return st;
    if (safeguard_off(c->svc->cfg, SAFEGUARD_REBUILD))
        return cache_seed(c->cache, event_id, 0, true);
    gate_settle(c);
    /* the claims first: a retry must find its answer before the counter
     * lets anyone through; SET NX: if several threads race here, the first
     * one's value stands */
    if ((st = conns_db(c)) != LAB_OK ||
        (st = admit_rebuild(c->db, c->cache, event_id, c->svc->phase->send != NULL)) != LAB_OK ||
        (st = db_read_seats(c->db, event_id, DB_PLAIN, &seats)) != LAB_OK)
        return st;
    return cache_seed(c->cache, event_id, seats < 0 ? 0 : seats, true);
}

/* gate_give_back can fail only if Redis went away; the counter is then gone
 * or stale anyway, and the next reset puts it right. It is logged. Without
 * give-back (the zoo, docs/zoo.md) the seat is kept: a planted bug, each
 * refused or failed booking a seat the gate never sells. */
void gate_give_back(struct conns *c, long long event_id)
{
    if (safeguard_off(c->svc->cfg, SAFEGUARD_GIVE_BACK))
        return;
    gate_memo_forget(event_id);       /* a seat is back: ask Redis again */
    if (conns_cache(c) != LAB_OK || cache_give_back(c->cache, event_id) != LAB_OK)
        lab_log("gate: could not give back a seat of event %lld", event_id);
}
