/* Phase 5, Kafka async: the API only queues the request; a consumer books it
 * later with phase 3's decision, in the order of its partition. */
#include "db_batch.h"
#include "phase3.h"

/* The API's booking: the request goes to Kafka, and the broker's
 * acknowledgement answers it (202). */
enum lab_status phase5_send(const struct service *svc, const struct booking *b,
                            struct queue_send *send, char *err, size_t err_len)
{
    /* RACE moved: bookings of one event share a partition, so one consumer
     * decides them in order; the 202 only says the request is stored. */
    return queue_send_async(svc->queue, b, send, err, err_len);
}

/* The consumer's booking: phase 3, unchanged. */
enum lab_status phase5_decide(struct conns *c, const struct booking *b,
                              struct booking_reply *reply)
{
    return phase3_book(c, b, reply);
}

/* The consumer's booking of a poll batch (--batch N): phase 3's decision,
 * taken for the whole batch under one row lock, in one transaction
 * (--without dedupe: a request decided before is booked again). */
enum lab_status phase5_decide_batch(struct conns *c, const struct booking *b, size_t n,
                                    enum lab_status *out)
{
    return booking_book_batch(c, b, n, out);
}
