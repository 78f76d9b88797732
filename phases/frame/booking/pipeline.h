/* pipeline.h -- POST /api/bookings as a booking that moves through named
 * steps, each started when the previous one's answer arrives, never by a
 * thread that sleeps for it:
 *
 *   parse      the polling thread reads the query once into a struct booking
 *   admit      the request id is claimed (booking/admit.c): in PostgreSQL on
 *              a booking thread (phases 2, 3); in Redis with the gate's
 *              seat, one script sent through the Redis pipe (4, 6); or not
 *              before the queue (5: the consumer decides an id once)
 *   book       a booking thread runs the phase's book (2, 3, 4), or
 *   send       the phase hands the booking to Kafka (5, 6), and the broker's
 *              delivery report answers it
 *   answer     the HTTP answer, from whichever thread has the last word
 *   undo       what a request took and never used goes back (a seat, a claim)
 *
 * The request's state between the steps is a struct booking_job, which the
 * HTTP request owns (http_set_job). docs/architecture.md has the diagram. */
#ifndef LAB_PIPELINE_H
#define LAB_PIPELINE_H

#include "http/http.h"

/* The route's three parts (booking/api.c): the front step on the polling
 * thread, the booking thread's handler, and the undo of a request the
 * front step passed that is answered 503 without being run. */
enum http_front_result pipeline_front(const struct service *svc, struct http_request *req,
                                      struct http_reply *reply);
void pipeline_book(const struct service *svc, struct http_request *req, struct http_reply *reply);
void pipeline_undo(const struct service *svc, struct http_request *req, struct http_reply *reply);

/* pipeline_thread_start opens a booking thread's connections when it
 * starts (http_start): PostgreSQL, and Redis for a gate phase. A failure is
 * only logged: the first booking tries again. */
void pipeline_thread_start(const struct service *svc);

/* pipeline_start / pipeline_stop start and stop what the pipeline needs
 * beside the HTTP server for SVC's phase (the Redis pipe of the gate
 * phases, the sale watcher of phase 5): before http_start, after
 * http_stop. pipeline_start is false when a thread cannot be started. */
bool pipeline_start(struct service *svc);
void pipeline_stop(struct service *svc);

#endif
