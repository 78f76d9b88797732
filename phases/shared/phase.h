/* phase.h -- what makes one phase's service different from another: a
 * descriptor, defined in phases/phaseN-NAME/phase.c, naming its booking
 * function. Everything else (HTTP, configuration, connections) is shared. */
#ifndef LAB_PHASE_H
#define LAB_PHASE_H

#include "booking.h"

enum phase_needs {
    NEEDS_CACHE = 1 << 0,      /* Redis: gate, status cache, reset seeds it */
    NEEDS_QUEUE = 1 << 1,      /* Kafka: POST answers 202, a consumer decides */
};

struct phase {
    int number;                /* 2 .. 6 */
    const char *name;          /* "unsafe", "lock", "redis", "kafka", "combined" */
    unsigned needs;            /* enum phase_needs */
    book_fn *book;             /* answers POST /api/bookings */
    book_fn *decide;           /* NEEDS_QUEUE: the consumer's booking of one message */
};

extern const struct phase lab_phase;

#endif
