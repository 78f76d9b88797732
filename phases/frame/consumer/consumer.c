/* consumer.c -- one message, one decision, one commit.
 *
 * The order of the steps is what makes the asynchronous phases exact:
 *   1. the message's request was decided already (a redelivery after a
 *      crash between our database commit and our offset commit)? skip it;
 *   2. decide it with the phase's booking (the phase-3 transaction);
 *   3. a refusal is written to `decisions` (a booking is its ticket row;
 *      a request for an event that does not exist is recorded as failed);
 *   4. only then commit the Kafka offset.
 * A failure before step 4 leaves the offset where it was, and the message is
 * tried again: at-least-once delivery, made exactly-once by step 1 and by the
 * unique request_id of tickets. */
#include "consumer/consumer.h"

#include <stdlib.h>
#include "db.h"
#include "service/phase.h"

/* consumer_pause sleeps RETRY_MS and doubles it, up to 2 s: the pause
 * between two tries at PostgreSQL or Redis while they are down. */
static void consumer_pause(int *retry_ms)
{
    lab_sleep_ms(*retry_ms);
    *retry_ms = *retry_ms < 2000 ? *retry_ms * 2 : 2000;
}

/* consumer_record writes a refusal (step 3), trying again until it is
 * written or the consumer stops. The decision itself is never taken twice
 * for one delivery: in phase 6 it gave the seat back to Redis already, and
 * deciding again would give it back a second time. */
static enum lab_status consumer_record(struct consumer *c, struct conns *conns,
                                       const struct booking *b, const char *decision)
{
    bool recorded;
    int retry_ms = 100;

    while (conns_db(conns) != LAB_OK || db_record_decision(conns->db, b, decision, &recorded) != LAB_OK) {
        if (atomic_load(&c->stop))
            return LAB_ERR_DB;
        lab_log("consumer: cannot record %s for %s; trying again in %d ms", decision,
                b->request_id, retry_ms);
        consumer_pause(&retry_ms);
    }
    return LAB_OK;
}

/* consumer_decide runs steps 1 to 3 for one booking. */
static enum lab_status consumer_decide(struct consumer *c, struct conns *conns,
                                       const struct booking *b)
{
    struct booking_reply reply;
    enum lab_status st, before;

    if ((st = conns_db(conns)) != LAB_OK)
        return st;
    if (phase_has_gate(c->svc->phase) && (st = conns_cache(conns)) != LAB_OK)
        return st;
    if ((st = db_result(conns->db, b->request_id, &before)) != LAB_OK)
        return st;
    if (before != LAB_QUEUED)
        return before;
    st = c->svc->phase->decide(conns, b, &reply);
    /* a refusal is stored under its reason; a message of an earlier
     * generation of the sale (a reset came in between) is 'stale' */
    if ((st == LAB_SOLD_OUT || st == LAB_NOT_FOUND || st == LAB_LIMIT || st == LAB_STALE) &&
        consumer_record(c, conns, b, st == LAB_NOT_FOUND ? "failed" : lab_status_name(st))
            != LAB_OK)
        return LAB_ERR_DB;
    return st == LAB_DUPLICATE ? LAB_BOOKED : st;
}

void *consumer_run(void *arg)
{
    struct consumer *c = arg;
    struct conns *conns = calloc(1, sizeof *conns);
    struct booking b;
    struct queue_message *m;
    enum lab_status st;
    int retry_ms;

    if (!conns) {
        lab_log("consumer: out of memory");
        return NULL;
    }
    conns->svc = c->svc;
    if (c->svc->cfg->batch > 1 && c->svc->phase->decide_batch)
        return consumer_batch_run(c, conns);
    while (!atomic_load(&c->stop)) {
        if (!(m = queue_next(c->queue, &b, 200)))
            continue;
        /* A failed decision (PostgreSQL or Redis down) is tried again with a
         * growing pause: the message stays uncommitted until it is decided. */
        retry_ms = 100;
        while ((st = consumer_decide(c, conns, &b)) >= LAB_ERR_DB && !atomic_load(&c->stop)) {
            lab_log("consumer: %s deciding %s; trying again in %d ms", lab_status_name(st),
                    b.request_id, retry_ms);
            consumer_pause(&retry_ms);
        }
        if (st < LAB_ERR_DB)
            queue_done(c->queue, m);
        else
            queue_drop(m);          /* shutting down: not committed, redelivered later */
    }
    conns_free(conns);
    return NULL;
}
