/* gate.h -- the Redis gate of phases 4 and 6: a seat counter in front of
 * the database, taken before the booking, given back when a booking does
 * not happen, and kept true to the database after faults. The claim of a
 * request id and the take run as one script in the booking pipeline
 * (booking/admit.c); these are the steps a booking thread runs. */
#ifndef LAB_GATE_H
#define LAB_GATE_H

#include "booking.h"
#include "clients/conns.h"

/* gate_seed seeds a missing counter (Redis restarted, or the event was
 * never reset) from PostgreSQL, after putting back the claims of the
 * sale's answered requests that Redis lost with it: LAB_OK, LAB_NOT_FOUND
 * (no such event), LAB_ERR_CACHE or LAB_ERR_DB. */
enum lab_status gate_seed(struct conns *c, long long event_id);

/* gate_give_back returns a seat whose booking did not happen. */
void gate_give_back(struct conns *c, long long event_id);

/* gate_uncertain notes a take whose answer was lost (a timeout: Redis
 * paused, restarted): it may have taken a seat, or may still take it.
 * gate_settle, on the next take that reaches Redis, gives those seats back
 * (gate.c). */
void gate_uncertain(long long event_id);
void gate_settle(struct conns *c);

/* gate_close sets the counter to 0: the database refused a booking for
 * want of seats (gate.c). gate_refused_count: how many times, since the
 * process started; none in a sale without faults, where the gate lets
 * through no more requests than there are seats. */
void gate_close(struct conns *c, long long event_id);
long long gate_refused_count(void);

/* gate_rebuild sets every event's counter to the database's available
 * seats, and puts back the answered claims Redis lost: at a service's start
 * (gate.c). */
enum lab_status gate_rebuild(const struct service *svc);

/* gate_follow_primary rebuilds the gate the same way when the process's
 * Redis connections landed on another primary (a Sentinel failover), on
 * the gate's pipe thread before a round trip (gate.c). */
void gate_follow_primary(const struct service *svc);

#endif
