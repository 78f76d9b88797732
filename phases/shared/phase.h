/* phase.h -- what makes one phase's service different from another: a
 * descriptor, defined in phases/phaseN-NAME/phase.c and handed to
 * service_main(), naming its booking function. Everything else (HTTP,
 * configuration, connections) is shared. */
#ifndef LAB_PHASE_H
#define LAB_PHASE_H

#include "booking.h"
#include "conns.h"

/* Every phase's booking function has this signature: C is the calling
 * thread's connections, B the request; REPLY gets the ticket when booked. */
typedef enum lab_status book_fn(struct conns *c, const struct booking *b,
                                struct booking_reply *reply);

enum phase_needs {
    NEEDS_CACHE = 1 << 0,      /* Redis: gate, status cache, reset seeds it */
    NEEDS_QUEUE = 1 << 1,      /* Kafka: POST answers 202, a consumer decides */
};

/* One concurrency control a phase can run its booking with (--strategy). */
struct strategy {
    const char *name;          /* "for-update", "atomic", ... */
    book_fn *book;
};

struct phase {
    int number;                /* 2 .. 6 */
    const char *name;          /* "unsafe", "lock", "redis", "kafka", "combined" */
    unsigned needs;            /* enum phase_needs */
    book_fn *book;             /* answers POST /api/bookings */
    book_fn *decide;           /* NEEDS_QUEUE: the consumer's booking of one message */
    const struct strategy *strategies; /* --strategy choices, NULL-terminated, the
                                  first one the default (its book is .book);
                                  NULL: the phase has only .book */
};

/* booking_think is the pause of a real service checking a payment: the same
 * call at the same point of every phase's booking. */
void booking_think(const struct conns *c);

/* service_main runs PHASE's service: parses ARGV, checks the backing
 * services, serves until SIGINT/SIGTERM. Each phase's main() is one call. */
int service_main(const struct phase *phase, int argc, char **argv);

#endif
