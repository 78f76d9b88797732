/* gate_steps.c -- the gate as steps of a booking thread: take a seat
 * (seeding a missing counter from PostgreSQL), give one back, ask the memo. */
#include "gate/gate.h"

#include "clients/cache.h"
#include "gate/gate_memo.h"
#include "db.h"

enum lab_status gate_take_seat(struct conns *c, long long event_id)
{
    enum lab_status st;
    long long seats;

    if (gate_memo_sold_out(event_id, c->svc->cfg->gate_memo_ms))
        return LAB_SOLD_OUT;          /* Redis said so a moment ago */
    if ((st = conns_cache(c)) != LAB_OK)
        return st;
    gate_settle(c);
    st = cache_take_seat(c->cache, event_id);
    if (st == LAB_ERR_CACHE)
        gate_uncertain(event_id);   /* sent: it may run when Redis answers again */
    if (st == LAB_SOLD_OUT && c->svc->cfg->gate_memo_ms > 0)
        gate_memo_note(event_id);
    if (st != LAB_NOT_FOUND)
        return st;
    /* No counter: seed it from the database (SET NX: if several threads
     * race here, the first one's value stands), then try once more. */
    if ((st = conns_db(c)) != LAB_OK ||
        (st = db_read_seats(c->db, event_id, DB_PLAIN, &seats)) != LAB_OK ||
        (st = cache_seed(c->cache, event_id, seats, true)) != LAB_OK)
        return st;
    return cache_take_seat(c->cache, event_id);
}

/* gate_give_back can fail only if Redis went away; the counter is then gone
 * or stale anyway, and the next reset puts it right. It is logged. */
void gate_give_back(struct conns *c, long long event_id)
{
    gate_memo_forget(event_id);       /* a seat is back: ask Redis again */
    if (conns_cache(c) != LAB_OK || cache_give_back(c->cache, event_id) != LAB_OK)
        lab_log("gate: could not give back a seat of event %lld", event_id);
}
