/* phase.h -- what makes one phase's service different from another: a
 * descriptor, defined in phases/phaseN-NAME/phase.c and handed to
 * service_main(), naming its booking function. Everything else (HTTP,
 * configuration, connections) is shared. */
#ifndef LAB_PHASE_H
#define LAB_PHASE_H

#include <stdbool.h>
#include <stddef.h>
#include "booking.h"
#include "clients/conns.h"
#include "clients/queue.h"
#include "db.h"
#include "service/safeguard.h"

/* Every phase's booking function has this signature: C is the calling
 * thread's connections, B the request; REPLY gets the ticket when booked. */
typedef enum lab_status book_fn(struct conns *c, const struct booking *b,
                                struct booking_reply *reply);

/* The consumer's booking of a whole poll batch (--batch N > 1): OUT[i]
 * gets B[i]'s decision (db_batch.h); LAB_OK once it is committed. */
typedef enum lab_status batch_fn(struct conns *c, const struct booking *b, size_t n,
                                 enum lab_status *out);

/* An asynchronous phase's booking on the API side: it hands B on to Kafka
 * and returns at once. LAB_OK: SEND->done will tell the broker's verdict
 * (the 202 is answered there); anything else: refused at once, reason in
 * ERR. The same signature in phases 5 and 6. */
typedef enum lab_status send_fn(const struct service *svc, const struct booking *b,
                                struct queue_send *send, char *err, size_t err_len);

/* Where a phase claims a request id (booking/admit.c): */
enum phase_admit {
    ADMIT_IN_DB,               /* PostgreSQL's requests table, on a booking thread (2, 3) */
    ADMIT_AT_GATE,             /* Redis, with the gate's seat in the same script (4, 6) */
    ADMIT_IN_DB_BATCH,         /* PostgreSQL's requests table, many claims per statement,
                                  by the claim pipe: no thread waits for it (5) */
};

/* One concurrency control a phase can run its booking with (--strategy).
 * An asynchronous phase's strategy may replace the API's and the
 * consumer's steps too (NULL: the phase's own). A planted strategy is one
 * of the zoo's bugs (docs/zoo.md), never a lab result: the service says so
 * wherever it says which safeguards are off. */
struct strategy {
    const char *name;          /* "for-update", "atomic", ... */
    book_fn *book;
    unsigned safeguards;       /* safeguards only this strategy has (SAFEGUARD_BIT):
                                  --without accepts them with it alone */
    bool planted;              /* a planted bug: the zoo's, not the lab's */
    send_fn *send;             /* asynchronous phases: replaces the phase's .send */
    book_fn *decide;           /* ... its .decide */
    batch_fn *decide_batch;    /* ... its .decide_batch (NULL: one message at a time) */
    bool unclaimed;            /* asynchronous: the API claims no request id and takes no
                                  seat; .send is its first step (the Java demo's order) */
};

struct phase {
    int number;                /* 2 .. 6 */
    const char *name;          /* "unsafe", "lock", "redis", "kafka", "combined" */
    enum phase_admit admit;    /* where a request id is claimed */
    book_fn *book;             /* the synchronous phases (2-4): answers POST
                                  /api/bookings, on a booking thread */
    send_fn *send;             /* the asynchronous phases (5, 6): hands the booking
                                  on; the answer comes with the broker's verdict */
    book_fn *decide;           /* asynchronous phases: the consumer's booking of one message */
    const struct strategy *strategies; /* --strategy choices, NULL-terminated, the
                                  first one the default (its book is .book);
                                  NULL: the phase has only .book */
    batch_fn *decide_batch;    /* asynchronous phases: the same for a poll batch (--batch N) */
    int batch;                 /* the consumer's default --batch (0: one at a time) */
    unsigned safeguards;       /* what --without may switch off here (SAFEGUARD_BIT) */
    const char *planted;       /* set by strategy_choose: the planted strategy's
                                  name, or NULL */
    bool unclaimed;            /* set by strategy_choose: the strategy's .unclaimed */
};

/* What the frame asks of a phase, from its table: it has the Redis gate
 * (and with it the status cache, and a reset seeds the counter), or it is
 * asynchronous (POST answers 202, a Kafka consumer decides). */
static inline bool phase_has_gate(const struct phase *p)
{
    return p->admit == ADMIT_AT_GATE;
}

static inline bool phase_is_async(const struct phase *p)
{
    return p->send != NULL;
}

/* booking_read_mode is MODE, the read a booking asks for, unless the
 * service runs --without for-update (the zoo, docs/zoo.md): then DB_PLAIN,
 * and the race is phase 2's again. */
enum db_read_mode booking_read_mode(const struct conns *c, enum db_read_mode mode);

/* booking_book_batch is db_book_batch on C's connection, with what the
 * service planted in it (--without for-update, --without dedupe): the
 * consumers' batch of phases 5 and 6, the zoo's switches kept out of them. */
enum lab_status booking_book_batch(struct conns *c, const struct booking *b, size_t n,
                                   enum lab_status *out);

/* booking_think is the pause of a real service checking a payment: the same
 * call at the same point of every phase's booking. */
void booking_think(const struct conns *c);

/* service_main runs PHASE's service: parses ARGV, checks the backing
 * services, serves until SIGINT/SIGTERM. Each phase's main() is one call. */
int service_main(const struct phase *phase, int argc, char **argv);

#endif
