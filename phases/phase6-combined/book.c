/* Phase 6, combined: the Redis gate at the API, Kafka behind it, and the
 * consumer's phase-3 transaction as the last word. */
#include "phase3.h"
#include "steps.h"

enum lab_status phase6_book(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    enum lab_status st;

    (void)reply;
    /* Sold out in Redis: 409 at once, nothing is queued. */
    if ((st = gate_take_seat(c, b->event_id)) != LAB_OK)
        return st;
    /* RACE closed: only requests holding a seat reach the queue. */
    st = enqueue_booking(c, b);
    if (st != LAB_QUEUED)
        gate_give_back(c, b->event_id);   /* never queued: the seat goes back */
    return st;
}

/* The consumer's booking: phase 3. A refusal for want of seats closes the
 * gate (it let through more than the database had); a refusal for the
 * per-user limit gives the gate its seat back; a stale one gives nothing
 * back: its seat was taken from a sale that was reset since. */
enum lab_status phase6_decide(struct conns *c, const struct booking *b,
                              struct booking_reply *reply)
{
    enum lab_status st = phase3_book(c, b, reply);

    if (st == LAB_SOLD_OUT)
        gate_close(c, b->event_id);
    else if (st == LAB_LIMIT)
        gate_give_back(c, b->event_id);
    return st;
}
