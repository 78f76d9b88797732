/* Phase 4, Redis gatekeeper: take a seat from the Redis counter first; only
 * a request that got one goes on to phase 3's transaction. */
#include "phase3.h"
#include "gate/gate.h"

/* The gate ran before this, in the booking pipeline: one Redis script
 * claimed the request id and took a seat from the counter (booking/admit.c),
 * so sold out in Redis was answered at once; PostgreSQL never saw it, and
 * it never waited behind the row lock. A request here holds a seat. */
enum lab_status phase4_book(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    enum lab_status st;

    /* RACE closed twice: the gate let at most `seats` requests through, and
     * those still take phase 3's row lock. */
    st = phase3_book(c, b, reply);
    if (st == LAB_SOLD_OUT)
        gate_close(c, b->event_id);       /* the database is sold out: so is the gate */
    else if (st != LAB_BOOKED && st != LAB_STALE)
        gate_give_back(c, b->event_id);   /* not sold: the seat goes back (a stale
                                             one was taken from a sale reset since) */
    return st;
}
