/* booking.h -- one booking request and the signature every phase implements. */
#ifndef LAB_BOOKING_H
#define LAB_BOOKING_H

#include "lab.h"
#include "parse.h"

struct booking {
    long long event_id;
    long long user_id;
    char request_id[PARSE_REQUEST_ID_MAX + 1];
};

struct booking_reply {
    long long ticket_id;   /* set when LAB_BOOKED */
};

struct worker;             /* a thread's own connections: see worker.h */

/* Every phase's booking function has this signature. */
typedef enum lab_status book_fn(struct worker *w, const struct booking *b,
                                struct booking_reply *reply);

#endif
