/* steps.h -- the non-SQL steps a phase's booking is built from: the Redis
 * gate (phases 4, 6) and handing a booking to Kafka (phases 5, 6). The SQL
 * steps are in db.h. */
#ifndef LAB_STEPS_H
#define LAB_STEPS_H

#include "booking.h"
#include "clients/conns.h"

/* gate_take_seat takes a seat from the Redis counter: LAB_OK, LAB_SOLD_OUT,
 * LAB_NOT_FOUND (no such event), LAB_ERR_CACHE or LAB_ERR_DB. A counter
 * that is missing (Redis restarted, never reset) is seeded from PostgreSQL. */
enum lab_status gate_take_seat(struct conns *c, long long event_id);

/* gate_give_back returns a seat whose booking did not happen. */
void gate_give_back(struct conns *c, long long event_id);

/* gate_known: LAB_SOLD_OUT when the gate's sold-out memo (--gate-memo-ms)
 * already knows that B's event is sold out, with no round trip; else LAB_OK.
 * The gate phases' front_known. */
enum lab_status gate_known(struct conns *c, const struct booking *b, struct booking_reply *reply);

/* gate_undo gives back the seat of B, which the gate let through but which
 * was never run (the HTTP backlog was full, say): the gate phases'
 * front_undo. Always LAB_OK. */
enum lab_status gate_undo(struct conns *c, const struct booking *b, struct booking_reply *reply);

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

/* enqueue_booking sends B to Kafka and waits for the broker's ack:
 * LAB_QUEUED, or LAB_ERR_QUEUE. */
enum lab_status enqueue_booking(struct conns *c, const struct booking *b);

#endif
