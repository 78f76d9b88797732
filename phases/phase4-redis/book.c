/* Phase 4, Redis gatekeeper: take a seat from the Redis counter first; only
 * a request that got one goes on to phase 3's transaction. */
#include "phase3.h"
#include "gate/gate.h"

/* The gate: sold out in Redis is answered at once; PostgreSQL never sees
 * it, and it never waits behind the row lock. The booking pipeline takes
 * the seat in the same Redis script that claims the request id; this is the
 * same step on a booking thread, for a counter that must first be seeded
 * from PostgreSQL. */
enum lab_status phase4_gate(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    (void)reply;
    return gate_take_seat(c, b->event_id);
}

enum lab_status phase4_book(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    enum lab_status st;

    /* RACE closed twice: the gate let at most `seats` requests through, and
     * those still take phase 3's row lock. */
    st = phase3_book(c, b, reply);
    if (st == LAB_SOLD_OUT)
        gate_close(c, b->event_id);       /* the database is sold out: so is the gate */
    else if (st != LAB_BOOKED)
        gate_give_back(c, b->event_id);   /* not sold: the seat goes back */
    return st;
}
