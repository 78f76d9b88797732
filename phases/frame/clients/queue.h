/* queue.h -- the Kafka side of the asynchronous phases (5 and 6).
 *
 * One producer handle for the whole service: librdkafka handles are
 * thread-safe, and one handle batches every thread's messages on one
 * connection. The service hands a booking over with queue_send_async() and
 * answers 202 from its delivery report, once the broker acknowledged the
 * message (acks=all, idempotent producer): a 202 is only ever given for a
 * message that is stored, and no thread waits for it. queue_send() is the
 * same hand-off for a caller that waits (the tests).
 *
 * One consumer per worker process (or thread), in one consumer group: the
 * topic is keyed by eventId, so one partition, hence one consumer, serialises
 * the bookings of an event. Offsets are committed by hand, only after the
 * database committed the decision. */
#ifndef LAB_QUEUE_H
#define LAB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include "booking.h"
#include "lab.h"

#define QUEUE_TOPIC_DEFAULT "booking-requests"
#define QUEUE_GROUP_DEFAULT "booking-workers"

/* The longest message queue_encode() can write is about 140 bytes
 * ({"eventId":<16 digits>,"userId":<16 digits>,"requestId":"<64 chars>"}). */
#define QUEUE_MSG_MAX 256

struct queue_producer;
struct queue_consumer;
struct queue_message;      /* one consumed message, owned by the caller until queue_done() */

/* Which brokers must have a message before it counts as stored (--acks):
 * every in-sync replica (acks=all, the idempotent producer: the default), or
 * the partition's leader alone (acks=1: a leader that dies before its
 * followers fetched the message takes it along, 202 answered already). */
enum queue_acks {
    QUEUE_ACKS_ALL = 0,
    QUEUE_ACKS_LEADER,
};

/* queue_acks_name: "all" or "1", as the flag and Kafka spell them. */
const char *queue_acks_name(enum queue_acks acks);

/* queue_producer_open connects to BROKERS and makes sure TOPIC exists
 * (created with PARTITIONS partitions and the brokers' default replication
 * factor if missing); ACKS says when a message counts as stored. Returns
 * NULL with a reason in ERR when the broker cannot be reached within
 * TIMEOUT_MS. */
struct queue_producer *queue_producer_open(const char *brokers, const char *topic,
                                           int partitions, int timeout_ms, int linger_ms,
                                           enum queue_acks acks, char *err, size_t err_len);

/* The producer's default linger.ms (--linger-ms): how long librdkafka
 * gathers messages into one request to the broker. */
#define QUEUE_LINGER_MS_DEFAULT 1

/* A hand-off to Kafka that nobody waits for (queue_send_async): DONE is
 * called exactly once, on the producer's poller thread, with LAB_OK once
 * the broker stored the message, or LAB_ERR_QUEUE and a REASON when
 * librdkafka gave up on it (after the producer's timeout at most). It must
 * not block: that thread serves every delivery report of the process. */
struct queue_send {
    void (*done)(struct queue_send *send, enum lab_status st);
    const char *reason;        /* set before DONE is called: librdkafka's words, or NULL */
};

/* queue_send_async produces B as queue_send does, and returns at once:
 * LAB_OK when librdkafka took the message (SEND->done will be called, and
 * SEND must live until then), LAB_ERR_QUEUE with a reason in ERR when it
 * refused it (SEND->done is never called). Safe from any thread. */
enum lab_status queue_send_async(struct queue_producer *q, const struct booking *b,
                                 struct queue_send *send, char *err, size_t err_len);

/* queue_producer_unacked plants the zoo's --without ack-first in Q: from
 * now on its queue_send_async is queue_send_unacked. The service calls it
 * once at start, so that no phase's send carries the switch. */
void queue_producer_unacked(struct queue_producer *q);

/* queue_send_unacked is the zoo's planted bug --without ack-first: it
 * produces B as queue_send_async does, then calls SEND->done(LAB_OK) at
 * once, before the broker has the message (the Java demo's 202). Kafka's
 * verdict comes later to nobody: a message it never stores is only
 * logged. LAB_ERR_QUEUE as queue_send_async when librdkafka refuses it. */
enum lab_status queue_send_unacked(struct queue_producer *q, const struct booking *b,
                                   struct queue_send *send, char *err, size_t err_len);

/* queue_send produces B as JSON {"eventId":..,"userId":..,"requestId":".."}
 * keyed by eventId and waits for the delivery report: LAB_OK once the broker
 * stored it, LAB_ERR_QUEUE (and a reason in ERR) on failure or after
 * TIMEOUT_MS. Safe to call from many threads at once. */
enum lab_status queue_send(struct queue_producer *q, const struct booking *b, int timeout_ms,
                           char *err, size_t err_len);

/* queue_producer_close flushes what is in flight and frees the handle. */
void queue_producer_close(struct queue_producer *q);

/* queue_consumer_open joins GROUP and subscribes to TOPIC; auto-commit off,
 * auto.offset.reset=earliest. With COMMIT_INTERVAL_MS > 0 (--commit-interval-ms)
 * queue_done and queue_done_batch only store the offsets, and librdkafka
 * commits what is stored every COMMIT_INTERVAL_MS: fewer requests to the
 * broker, and a worker killed redelivers what it decided in its last
 * interval (found decided). NULL with a reason in ERR on failure. */
struct queue_consumer *queue_consumer_open(const char *brokers, const char *topic,
                                           const char *group, int commit_interval_ms,
                                           char *err, size_t err_len);

/* queue_next waits up to TIMEOUT_MS for a message and decodes it into B.
 * Returns NULL on timeout; a message that does not decode is logged,
 * committed and skipped (it can never be booked). */
struct queue_message *queue_next(struct queue_consumer *c, struct booking *b, int timeout_ms);

/* queue_done commits the message's offset (synchronously) and frees it.
 * Call it only after the database committed what the message decided. */
enum lab_status queue_done(struct queue_consumer *c, struct queue_message *m);

/* queue_done_batch commits the offsets past the N messages M (the highest
 * of each partition) and frees them: one request to the broker for a whole
 * batch, not waited for (a failure is logged; the batch may then come
 * again and is found decided). Call it only after the database committed. */
enum lab_status queue_done_batch(struct queue_consumer *c, struct queue_message **m, size_t n);

/* queue_commit_polled commits the offsets past the N messages M at once,
 * waiting for the broker, without freeing them: the zoo's planted bug
 * --without commit-after, the offset committed before the database decided
 * the messages. The caller frees them with queue_drop once decided. */
enum lab_status queue_commit_polled(struct queue_consumer *c, struct queue_message **m,
                                    size_t n);

/* queue_drop frees M without committing it: it will be delivered again. */
void queue_drop(struct queue_message *m);

/* queue_consumer_close leaves the group cleanly and frees the handle. */
void queue_consumer_close(struct queue_consumer *c);

/* queue_encode / queue_decode: the message format, pure (unit-tested). */
int queue_encode(const struct booking *b, char *buf, size_t len);
bool queue_decode(const char *buf, size_t len, struct booking *b);

#endif
