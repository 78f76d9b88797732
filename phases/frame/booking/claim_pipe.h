/* claim_pipe.h -- phase 5's request-id claims, many per statement.
 *
 * Phase 5 answers 202 once Kafka holds the message; its claim of the
 * request id must come first (a retry replays, an id reused elsewhere is
 * refused, /result knows the id), but a PostgreSQL round trip per request
 * on the way to the 202 would cost the phase its point. So one thread, with
 * its own connection, claims every id submitted since its last statement in
 * one INSERT (db_request_claim_many), and settles every claim whose message
 * Kafka took (state 'queued') or refused (dropped) in one more. No request
 * thread waits for it: the claim's answer continues the request. */
#ifndef LAB_CLAIM_PIPE_H
#define LAB_CLAIM_PIPE_H

#include "booking.h"
#include "clients/conns.h"
#include "db_batch.h"

struct claim_call;

typedef void claim_done_fn(struct claim_call *call, enum lab_status st);

/* One claim on its way: B (its generation is set when the id is claimed
 * first), and what the statement found. DONE runs on the pipe's thread with
 * LAB_OK and RESULT set, or LAB_ERR_DB when PostgreSQL failed. */
struct claim_call {
    struct claim_call *next;       /* the pipe's list */
    struct booking *b;
    enum db_claim_result result;
    struct db_request prior;       /* RESULT == DB_CLAIM_PRIOR */
    claim_done_fn *done;
};

struct claim_pipe;

/* claim_pipe_start starts the thread on SVC's database; NULL if it cannot. */
struct claim_pipe *claim_pipe_start(const struct service *svc);

/* claim_pipe_submit queues CALL for the next statement. */
void claim_pipe_submit(struct claim_pipe *p, struct claim_call *call);

/* claim_pipe_settle stores the end of a first request's claim: QUEUED (its
 * message is in Kafka: a retry replays the 202) or not (the claim goes: a
 * retry is a new try). Kept, and tried again, until PostgreSQL takes it. */
void claim_pipe_settle(struct claim_pipe *p, const char *request_id, bool queued);

/* claim_pipe_stop settles what it can and stops the thread. */
void claim_pipe_stop(struct claim_pipe *p);

#endif
