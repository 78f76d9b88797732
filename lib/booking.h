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
};

#endif
