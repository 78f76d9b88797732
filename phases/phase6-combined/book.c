/* Phase 6, combined: the Redis gate at the API, Kafka behind it, and the
 * consumer's phase-3 transaction as the last word. */
#include "db_batch.h"
#include "phase3.h"
#include "steps.h"

/* The gate, on the HTTP polling thread: sold out in Redis is a 409 at
 * once, nothing is queued and no booking thread is involved. */
enum lab_status phase6_gate(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    (void)reply;
    return gate_take_seat(c, b->event_id);
}

enum lab_status phase6_book(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    enum lab_status st;

    (void)reply;
    /* RACE closed: only requests holding a seat (the gate) reach the queue. */
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

/* The consumer's booking of a poll batch: as phase6_decide, for the whole
 * batch in one transaction; once it is committed, a refusal for want of
 * seats closes the gate and one for the per-user limit gives its seat back. */
enum lab_status phase6_decide_batch(struct conns *c, const struct booking *b, size_t n,
                                    enum lab_status *out)
{
    enum lab_status st = db_book_batch(c->db, b, n, out);

    for (size_t i = 0; st == LAB_OK && i < n; i++)
        if (out[i] == LAB_SOLD_OUT)
            gate_close(c, b[i].event_id);
        else if (out[i] == LAB_LIMIT)
            gate_give_back(c, b[i].event_id);
    return st;
}
