/* gate.h -- the Redis gate of phases 4 and 6: a seat counter in front of
 * the database, taken before the booking, given back when a booking does
 * not happen, and kept true to the database after faults. The claim of a
 * request id and the take run as one script in the booking pipeline
 * (booking/admit.c); these are the steps a booking thread runs. */
#ifndef LAB_GATE_H
#define LAB_GATE_H

#include "booking.h"
#include "clients/conns.h"

/* gate_take_seat takes a seat from the Redis counter: LAB_OK, LAB_SOLD_OUT,
 * LAB_NOT_FOUND (no such event), LAB_ERR_CACHE or LAB_ERR_DB. A counter
 * that is missing (Redis restarted, never reset) is seeded from PostgreSQL. */
enum lab_status gate_take_seat(struct conns *c, long long event_id);

/* gate_give_back returns a seat whose booking did not happen. */
void gate_give_back(struct conns *c, long long event_id);

/* gate_uncertain notes a take whose answer was lost (a timeout: Redis
 * paused, restarted): it may have taken a seat, or may still take it.
 * gate_settle, on the next take that reaches Redis, gives those seats back
 * (gate.c). */
void gate_uncertain(long long event_id);
void gate_settle(struct conns *c);

/* gate_close sets the counter to 0: the database refused a booking for
 * want of seats (gate.c). */
void gate_close(struct conns *c, long long event_id);

/* gate_rebuild sets every event's counter to the database's available
 * seats: at a service's start (gate.c). */
enum lab_status gate_rebuild(const struct service *svc);

#endif
