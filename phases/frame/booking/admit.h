/* admit.h -- a request id is claimed once (docs/architecture.md, "Integrity
 * of a sale"). Every phase's POST /api/bookings claims the request id before
 * the booking and stores the answer after it, so a retry with the same id
 * costs nothing (no seat, no message) and gets the first request's answer.
 * Phases without a Redis gate (2, 3, 5) claim in PostgreSQL's requests
 * table, the gate phases (4, 6) in Redis, next to the gate's counter. */
#ifndef LAB_ADMIT_H
#define LAB_ADMIT_H

#include "booking.h"
#include "clients/cache_pipe.h"
#include "clients/conns.h"

enum admit_outcome {
    ADMIT_FIRST,         /* the id is ours: book it, then admit_finish() */
    ADMIT_REPLAY,        /* answered before: PRIOR holds the answer */
    ADMIT_IN_PROGRESS,   /* the first request with this id is still being answered */
    ADMIT_REUSED,        /* the id was used for another user or event */
};

/* What the first request with this id was answered. */
struct admit_prior {
    enum lab_status answer;   /* LAB_BOOKED, LAB_SOLD_OUT, LAB_QUEUED, ... */
    long long ticket_id;      /* when LAB_BOOKED */
};

/* admit_claim claims B's request id; on ADMIT_FIRST it sets B->generation
 * to the sale's generation. KNOWN is LAB_OK, or the answer when it is known
 * before the booking (the gate's sold-out memo): the gate phases store it
 * with the claim, in the same round trip, and need no admit_finish.
 * LAB_NOT_FOUND: no such event (phases 2, 3, 5); LAB_ERR_*: the store failed. */
enum lab_status admit_claim(struct conns *c, struct booking *b, enum lab_status known,
                            enum admit_outcome *outcome, struct admit_prior *prior);

/* admit_finish stores ANSWER (and TICKET_ID) for a claimed id; an answer
 * that is not final (a failed backing service, an unknown event) drops the
 * claim instead, so that a retry tries again. */
void admit_finish(struct conns *c, const struct booking *b, enum lab_status answer,
                  long long ticket_id);

/* The gate phases' claim, sent through the Redis pipe: one script claims
 * B's request id and takes the gate's seat (or stores KNOWN, the answer the
 * sold-out memo knows, or the gate's refusal, with the claim). false when
 * the call cannot be built (an id too long for its buffer). */
bool admit_gate_call(struct cache_call *call, const struct booking *b, enum lab_status known);

/* admit_gate_reply reads the script's reply R into *OUTCOME and PRIOR as
 * admit_claim does, and on ADMIT_FIRST sets B->generation and *ANSWER:
 * LAB_OK (the request holds a seat and the claim: book it), LAB_SOLD_OUT
 * (the gate refused; stored), KNOWN (stored), or LAB_NOT_FOUND (no counter:
 * nothing was claimed or taken; a booking thread seeds it, admit_claim and
 * the phase's front). LAB_ERR_CACHE when R is missing or malformed. */
enum lab_status admit_gate_reply(struct booking *b, const redisReply *r, enum lab_status known,
                                 enum admit_outcome *outcome, struct admit_prior *prior,
                                 enum lab_status *answer);

/* The scripts of these calls, for the pipe to load ahead (NULL-ended). */
extern const char *const admit_scripts[];

/* admit_finish_call is admit_finish of a gate phase as a pipe call;
 * admit_undo_call gives the gate's seat back and drops the claim, for a
 * request that held both and was never run. false: the call cannot be built. */
bool admit_finish_call(struct cache_call *call, const struct booking *b, enum lab_status answer,
                       long long ticket_id);
bool admit_undo_call(struct cache_call *call, const struct booking *b);

/* admit_parse_state reads a stored state name (lab_status_name of a final
 * answer); false for "in_progress" or anything else. Pure, unit-tested. */
bool admit_parse_state(const char *name, enum lab_status *answer);

/* admit_parse_cache reads the Redis value "USER STATE TICKET"; false when
 * it is malformed. Pure, unit-tested. */
bool admit_parse_cache(const char *value, long long *user_id, char *state, size_t state_len,
                       long long *ticket_id);

#endif
