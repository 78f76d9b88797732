/* booking.h -- one booking request and what answers it: the data that the
 * services, the harness and the replay all speak of. */
#ifndef LAB_BOOKING_H
#define LAB_BOOKING_H

#include "lab.h"
#include "parse.h"

struct booking {
    long long event_id;
    long long user_id;
    char request_id[PARSE_REQUEST_ID_MAX + 1];
    long long generation;  /* the sale it belongs to (events.generation); 0: any */
};

struct booking_reply {
    long long ticket_id;   /* set when LAB_BOOKED */
    bool counted;          /* the booking read the seat counter and wrote it back: */
    long long counter_read, counter_wrote;   /* what it read and what it wrote (the
                                                201 tells both: the harness's explainer
                                                groups the bookings by what they read) */
};

/* booking_counted notes in REPLY the counter value a booking read and the
 * one it wrote back. A phase's booking calls it once its write went through,
 * so that the 201 can show the race: every booking that read the same value
 * wrote the same value, and only one of their decrements counted. */
static inline void booking_counted(struct booking_reply *reply, long long read, long long wrote)
{
    reply->counted = true;
    reply->counter_read = read;
    reply->counter_wrote = wrote;
}

#endif
