/* Phase 6, combined: the Redis gate at the API, Kafka behind it, and the
 * consumer's phase-3 transaction as the last word. */
#include "db_batch.h"
#include "phase3.h"
#include "gate/gate.h"

/* The API's booking: the gate ran before this, in the booking pipeline (one
 * Redis script claimed the request id and took a seat, booking/admit.c), so
 * sold out in Redis was a 409 at once and nothing was queued. A request
 * that holds a seat goes to Kafka, and the broker's acknowledgement answers
 * it (202); one that Kafka does not take gives its seat back (the booking
 * pipeline's undo). */
enum lab_status phase6_send(const struct service *svc, const struct booking *b,
                            struct queue_send *send, char *err, size_t err_len)
{
    /* RACE closed: only requests holding a seat (the gate) reach the queue. */
    return queue_send_async(svc->queue, b, send, err, err_len);
}

/* What the gate does after the consumer's decision ST of a request that
 * held a seat: a refusal for want of seats closes it (it let through more
 * than the database had); a refusal for the per-user limit gives the seat
 * back; a stale one gives nothing back: its seat was taken from a sale that
 * was reset since. */
static void phase6_gate_after(struct conns *c, long long event_id, enum lab_status st)
{
    if (st == LAB_SOLD_OUT)
        gate_close(c, event_id);
    else if (st == LAB_LIMIT)
        gate_give_back(c, event_id);
}

/* The consumer's booking: phase 3, then the gate follows its decision. */
enum lab_status phase6_decide(struct conns *c, const struct booking *b,
                              struct booking_reply *reply)
{
    enum lab_status st = phase3_book(c, b, reply);

    phase6_gate_after(c, b->event_id, st);
    return st;
}

/* The consumer's booking of a poll batch: as phase6_decide, for the whole
 * batch in one transaction; once it is committed, the gate follows each
 * decision. */
enum lab_status phase6_decide_batch(struct conns *c, const struct booking *b, size_t n,
                                    enum lab_status *out)
{
    enum lab_status st = booking_book_batch(c, b, n, out);

    for (size_t i = 0; st == LAB_OK && i < n; i++)
        phase6_gate_after(c, b[i].event_id, out[i]);
    return st;
}
