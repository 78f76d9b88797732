/* consumer_batch.c -- the consumer with --batch N > 1: a poll batch, one
 * decision, one commit.
 *
 * The same four steps as consumer.c, for up to N messages at once:
 *   1. take what the broker has ready, up to N messages (waiting for the
 *      first, then at most CONSUMER_GATHER_MS for more);
 *   2. decide them all with the phase's decide_batch, in one transaction:
 *      a request decided before is skipped, the event's row is locked once,
 *      the tickets and the refusals are written with one INSERT each;
 *   3. (the refusals were written in that same transaction);
 *   4. only after the COMMIT, commit the offsets of the batch, one request
 *      to the broker.
 * A failure before step 4 rolls the whole batch back and tries it again;
 * a crash between the COMMIT and step 4 redelivers it, and step 2 finds
 * every request decided. */
#include "consumer/consumer.h"

#include <stdint.h>
#include <stdlib.h>
#include "db_batch.h"
#include "service/phase.h"

/* How long a batch may wait for more messages after its first: a few
 * milliseconds of decision latency for fewer, larger transactions. */
#define CONSUMER_GATHER_MS 5

/* batch_decide brings the connections up and runs the phase's batch booking. */
static enum lab_status batch_decide(struct consumer *c, struct conns *conns,
                                    const struct booking *b, size_t n, enum lab_status *out)
{
    enum lab_status st;

    if ((st = conns_db(conns)) != LAB_OK)
        return st;
    if (phase_has_gate(c->svc->phase) && (st = conns_cache(conns)) != LAB_OK)
        return st;
    return c->svc->phase->decide_batch(conns, b, n, out);
}

void *consumer_batch_run(struct consumer *c, struct conns *conns)
{
    size_t max = (size_t)c->svc->cfg->batch;
    struct booking *b = calloc(max, sizeof *b);
    struct queue_message **m = calloc(max, sizeof *m);
    enum lab_status *out = calloc(max, sizeof *out);
    enum lab_status st;
    uint64_t gather_until_us;
    int retry_ms;
    size_t n;
    bool committed;

    if (!b || !m || !out) {
        lab_log("consumer: out of memory for a batch of %zu", max);
        goto done;
    }
    while (!atomic_load(&c->stop)) {
        if (!(m[0] = queue_next(c->queue, &b[0], 200)))
            continue;
        /* gather for up to CONSUMER_GATHER_MS after the first message: a
         * larger batch costs PostgreSQL less per decision */
        gather_until_us = lab_now_us() + CONSUMER_GATHER_MS * 1000u;
        for (n = 1; n < max; n++) {
            uint64_t now = lab_now_us();
            int wait_ms = now < gather_until_us ? (int)((gather_until_us - now + 999) / 1000) : 0;

            if (!(m[n] = queue_next(c->queue, &b[n], wait_ms)))
                break;
        }
        committed = consumer_took(c, b, m, n);
        retry_ms = 100;
        while ((st = batch_decide(c, conns, b, n, out)) >= LAB_ERR_DB &&
               !atomic_load(&c->stop)) {
            lab_log("consumer: %s deciding a batch of %zu; trying again in %d ms",
                    lab_status_name(st), n, retry_ms);
            lab_sleep_ms(retry_ms);
            retry_ms = retry_ms < 2000 ? retry_ms * 2 : 2000;
        }
        if (st < LAB_ERR_DB) {
            consumer_finish(c, m, n, committed);
        } else {
            for (size_t i = 0; i < n; i++)
                queue_drop(m[i]);    /* shutting down: redelivered later */
        }
    }
done:
    free(b);
    free(m);
    free(out);
    conns_free(conns);
    return NULL;
}
