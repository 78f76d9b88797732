/* book_demo.c -- phase 6's planted strategy, --strategy demo (docs/zoo.md):
 * the Java demo's own order of steps (TicketBlitz's README, its sequence
 * diagram), rebuilt to be attacked, never a lab result.
 *
 *   API       publish the request to Kafka and answer 202 at once: no claim
 *             of the request id, no seat taken, no wait for the broker;
 *   consumer  DECR the Redis counter; below 0, stop processing (nobody is
 *             told); else phase 3's transaction.
 *
 * What it leaves out is what phase 6 adds, one safeguard each: the 202
 * waits for the broker (a message Kafka never stored was answered 202:
 * LOST); a request id is claimed once (a retry is a second message that
 * takes a second seat); a seat the database refused or failed goes back
 * to the gate (here it stays taken: the counter ends below the database);
 * every request gets a decision (here a refusal is silence: a client that
 * asks what became of its 202 never learns). */
#include "phase3.h"

#include <stdio.h>
#include <stdlib.h>
#include "clients/cache.h"

book_fn phase6_demo_decide;
send_fn phase6_demo_send;
batch_fn phase6_demo_decide_batch;

/* The demo's gate in the consumer: one DECR of the counter, its new value
 * the answer (a missing counter, Redis restarted empty, reads as -1). */
static const char demo_decr_script[] = "return redis.call('DECR', KEYS[1])";

/* The API's booking: the message handed to the producer is answered 202
 * there and then, claimed by nobody. */
enum lab_status phase6_demo_send(const struct service *svc, const struct booking *b,
                                 struct queue_send *send, char *err, size_t err_len)
{
    /* RACE: 202 before the broker has the message, and for every copy of a
     * request id: Kafka down or this process killed now, and the request
     * is never decided; a retry is booked as a new request */
    return queue_send_unacked(svc->queue, b, send, err, err_len);
}

/* demo_take decrements EVENT_ID's counter in Redis: *LEFT is what it says
 * is left after this request's seat. */
static enum lab_status demo_take(struct conns *c, long long event_id, long long *left)
{
    char key[64];
    const char *argv[] = { "1", key };
    redisReply *r;
    enum lab_status st;

    if (!c->cache)
        return LAB_ERR_CACHE;
    snprintf(key, sizeof key, "event:%lld:seats", event_id);
    if ((st = cache_eval(c->cache, demo_decr_script, 2, argv, &r)) != LAB_OK)
        return st;
    st = r->type == REDIS_REPLY_INTEGER ? LAB_OK : LAB_ERR_CACHE;
    *left = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return st;
}

/* The consumer's booking of one message, the demo's way. Whatever it
 * decides, it answers LAB_QUEUED unless booked: the consumer then records
 * nothing and goes on (a failure included: the demo's listener throws, and
 * its error handler logs the message and skips it). */
enum lab_status phase6_demo_decide(struct conns *c, const struct booking *b,
                                   struct booking_reply *reply)
{
    long long left;
    enum lab_status st;

    if ((st = demo_take(c, b->event_id, &left)) != LAB_OK) {
        lab_log("demo: Redis failed for request %s: dropped", b->request_id);
        return LAB_QUEUED;
    }
    if (left < 0)
        return LAB_QUEUED;          /* sold out: stop processing, tell nobody */
    /* RACE: the seat is taken in Redis; if the transaction fails or is
     * refused (the user's limit, a request id booked already), it stays
     * taken: the counter ends below the database's seats */
    st = phase3_book(c, b, reply);
    if (st != LAB_BOOKED && st != LAB_SOLD_OUT)
        lab_log("demo: request %s not booked (%s): its seat stays taken", b->request_id,
                lab_status_name(st));
    return st == LAB_BOOKED ? LAB_BOOKED : LAB_QUEUED;
}

/* The consumer's booking of a poll batch, the demo's way: one message at
 * a time, each with its DECR and its own transaction; the batch is always
 * done (its offsets committed), whatever became of each message. */
enum lab_status phase6_demo_decide_batch(struct conns *c, const struct booking *b, size_t n,
                                         enum lab_status *out)
{
    struct booking_reply reply;

    for (size_t i = 0; i < n; i++)
        out[i] = phase6_demo_decide(c, &b[i], &reply);
    return LAB_OK;
}
