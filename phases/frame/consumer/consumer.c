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
 * unique request_id of tickets. Before step 1, the messages the broker has
 * ready are sorted: those of a sale reset since they were sent are recorded
 * 'stale' all at once (db_mark_stale), with no think time and no lock. */
#include "consumer/consumer.h"

#include <stdint.h>
#include <stdlib.h>
#include "db.h"
#include "db_batch.h"
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
    before = LAB_QUEUED;
    /* RACE (--without dedupe): a message redelivered after a crash between
     * our database commit and our offset commit is decided a second time */
    if (!safeguard_off(c->svc->cfg, SAFEGUARD_DEDUPE) &&
        (st = db_request_decided(conns->db, b, &before)) != LAB_OK)
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

/* How often the messages still to decide one by one are sorted again. */
#define CONSUMER_RECHECK_MS 100

/* consumer_mark_stale records, in one statement, the messages of M that
 * belong to an earlier generation of their sale (OUT[i] = LAB_STALE), so
 * that after a reset a backlog of them costs one round trip, not a think
 * time each. Tried again until it works or the consumer stops. */
static bool consumer_mark_stale(struct consumer *c, struct conns *conns, const struct booking *b,
                                size_t n, enum lab_status *out)
{
    int retry_ms = 100;

    for (size_t i = 0; i < n; i++)
        out[i] = LAB_QUEUED;
    while (conns_db(conns) != LAB_OK || db_mark_stale(conns->db, b, n, out) != LAB_OK) {
        if (atomic_load(&c->stop))
            return false;
        lab_log("consumer: cannot sort out stale messages; trying again in %d ms", retry_ms);
        consumer_pause(&retry_ms);
        for (size_t i = 0; i < n; i++)
            out[i] = LAB_QUEUED;
    }
    return true;
}

/* consumer_one decides one message (steps 1 to 3) and commits it (step 4),
 * unless it was COMMITTED before (--without commit-after). */
static void consumer_one(struct consumer *c, struct conns *conns, const struct booking *b,
                         struct queue_message *m, bool committed)
{
    enum lab_status st;
    int retry_ms = 100;

    /* A failed decision (PostgreSQL or Redis down) is tried again with a
     * growing pause: the message stays uncommitted until it is decided. */
    while ((st = consumer_decide(c, conns, b)) >= LAB_ERR_DB && !atomic_load(&c->stop)) {
        lab_log("consumer: %s deciding %s; trying again in %d ms", lab_status_name(st),
                b->request_id, retry_ms);
        consumer_pause(&retry_ms);
    }
    if (st < LAB_ERR_DB && !committed)
        queue_done(c->queue, m);
    else
        queue_drop(m);          /* shutting down: not committed, redelivered later */
}

/* consumer_took: the planted bugs' part of a poll (consumer.h), so that
 * both consumers plant them the same way and neither changes without them. */
bool consumer_took(struct consumer *c, struct booking *b, struct queue_message **m, size_t n)
{
    const struct config *cfg = c->svc->cfg;

    if (safeguard_off(cfg, SAFEGUARD_FENCE))
        for (size_t i = 0; i < n; i++)
            b[i].generation = 0;   /* RACE: a message sent before a reset books the new sale */
    if (!safeguard_off(cfg, SAFEGUARD_COMMIT_AFTER))
        return false;
    /* RACE: committed before decided: a worker killed before its database
     * commit loses these messages, answered 202 and never decided */
    queue_commit_polled(c->queue, m, n);
    return true;
}

/* consumer_finish: step 4 for N decided messages, one request to the broker,
 * unless consumer_took committed them before step 1. */
void consumer_finish(struct consumer *c, struct queue_message **m, size_t n, bool committed)
{
    if (!committed) {
        queue_done_batch(c->queue, m, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        queue_drop(m[i]);
}

void *consumer_run(void *arg)
{
    struct consumer *c = arg;
    struct conns *conns = calloc(1, sizeof *conns);
    struct booking *b = calloc(DB_BATCH_MAX, sizeof *b);
    struct queue_message **m = calloc(DB_BATCH_MAX, sizeof *m);
    enum lab_status *out = calloc(DB_BATCH_MAX, sizeof *out);
    uint64_t checked_us;
    size_t n;
    bool committed;

    if (!conns || !b || !m || !out) {
        lab_log("consumer: out of memory");
        free(conns), free(b), free(m), free(out);
        return NULL;
    }
    conns->svc = c->svc;
    if (c->svc->cfg->batch > 1 && c->svc->phase->decide_batch) {
        free(b), free(m), free(out);
        return consumer_batch_run(c, conns);
    }
    while (!atomic_load(&c->stop)) {
        if (!(m[0] = queue_next(c->queue, &b[0], 200)))
            continue;
        /* with it, what the broker has ready now: its stale messages are
         * recorded together, before anything else; the others are decided
         * one by one, in order, each committed after its decision */
        for (n = 1; n < DB_BATCH_MAX && (m[n] = queue_next(c->queue, &b[n], 0)); n++)
            ;
        committed = consumer_took(c, b, m, n);
        if (!consumer_mark_stale(c, conns, b, n, out)) {
            for (size_t i = 0; i < n; i++)
                queue_drop(m[i]);
            break;
        }
        /* in order: a run of stale messages is committed with one request
         * to the broker, before the next message is decided; the messages
         * still to decide are sorted again every CONSUMER_RECHECK_MS, so
         * that a reset made while they are decided one by one (a think time
         * each) is heard within that time, not after all of them */
        checked_us = lab_now_us();
        for (size_t i = 0, stale = 0; i <= n; i++) {
            if (i < n && out[i] != LAB_STALE &&
                lab_now_us() - checked_us > CONSUMER_RECHECK_MS * 1000u) {
                if (!consumer_mark_stale(c, conns, &b[i], n - i, &out[i]))
                    for (size_t j = i; j < n; j++)
                        out[j] = LAB_QUEUED;
                checked_us = lab_now_us();
            }
            if (i < n && out[i] == LAB_STALE && !atomic_load(&c->stop)) {
                m[stale++] = m[i];       /* m[0..stale) are the run, all before i */
                continue;
            }
            if (stale > 0)
                consumer_finish(c, m, stale, committed);
            stale = 0;
            if (i == n)
                break;
            if (atomic_load(&c->stop))
                queue_drop(m[i]);
            else
                consumer_one(c, conns, &b[i], m[i], committed);
        }
    }
    free(b), free(m), free(out);
    conns_free(conns);
    return NULL;
}
