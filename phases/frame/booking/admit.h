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
#include "db.h"

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

/* admit_claim claims B's request id on a booking thread; on ADMIT_FIRST
 * it sets B->generation to the sale's generation and *ANSWER: LAB_OK (go on
 * and book; the gate phases hold the gate's seat), or the answer already
 * known and stored with the claim (KNOWN, the gate's refusal). KNOWN is
 * LAB_OK or the answer known before the booking (the gate's sold-out memo).
 * A claim in progress whose holder is gone is resolved here from the
 * database (its ticket replayed, or the claim taken over); the gate phases
 * seed a missing counter first, with the claims Redis lost with it.
 * LAB_NOT_FOUND: no such event (phases 2, 3); LAB_ERR_*: a store failed. */
enum lab_status admit_claim(struct conns *c, struct booking *b, enum lab_status known,
                            enum admit_outcome *outcome, struct admit_prior *prior,
                            enum lab_status *answer);

/* admit_finish stores ANSWER (and TICKET_ID) for a claimed id; an answer
 * that is not final (a failed backing service, an unknown event) drops the
 * claim instead, so that a retry tries again. A store that fails is tried
 * again (the gate phases' by the pipe, until Redis takes it). */
void admit_finish(struct conns *c, const struct booking *b, enum lab_status answer,
                  long long ticket_id);

/* admit_judge_stored turns STORED, the claim a new request with B's id
 * found, into its *OUTCOME and PRIOR answer (as admit_claim does). */
void admit_judge_stored(const struct booking *b, const struct db_request *stored,
                        enum admit_outcome *outcome, struct admit_prior *prior);

/* admit_lookup finds REQUEST_ID's claim: *SEEN, and *ANSWER the stored
 * answer (with *TICKET_ID when booked), or LAB_OK while it is in progress
 * (or queued). */
enum lab_status admit_lookup(struct conns *c, const char *request_id, bool *seen,
                             enum lab_status *answer, long long *ticket_id);

/* A claim's value in Redis: "USER STATE TICKET", and for a claim in
 * progress " HOLDER" after it. */
struct admit_value {
    char text[96];
};
struct admit_value admit_value(long long user_id, enum lab_status answer, long long ticket_id);

/* The hash of every claimed id's event, for the gate phases: an id is
 * claimed for one event only (422 on any other). */
#define ADMIT_EVENT_INDEX "requests:event"

/* The set of events that have claims in progress (for the sweep). */
#define ADMIT_CLAIMING_EVENTS "claiming:events"

/* The gate script's reply codes (admit_gate_reply reads them). */
enum admit_gate_code {
    ADMIT_GATE_PRIOR,        /* claimed before: the stored value */
    ADMIT_GATE_TAKEN,        /* seat taken, id claimed in progress */
    ADMIT_GATE_STORED,       /* the known answer was stored */
    ADMIT_GATE_SOLD_OUT,     /* the gate refused; stored */
    ADMIT_GATE_NO_COUNTER,   /* no counter: nothing done (seed it) */
    ADMIT_GATE_ORPHANED,     /* claimed in progress by a holder that is gone */
    ADMIT_GATE_REUSED,       /* claimed for another event */
    ADMIT_GATE_MALFORMED = -1,
};
enum admit_gate_code admit_gate_last_code(const redisReply *r);

/* The gate phases' claim, sent through the Redis pipe: one script claims
 * B's request id and takes the gate's seat (or stores KNOWN, the answer the
 * sold-out memo knows, or the gate's refusal, with the claim). false when
 * the call cannot be built (an id too long for its buffer). */
bool admit_gate_call(struct cache_call *call, const struct booking *b, enum lab_status known);

/* admit_gate_reply reads the script's reply R into *OUTCOME and PRIOR as
 * admit_claim does, and on ADMIT_FIRST sets B->generation and *ANSWER:
 * LAB_OK (the request holds a seat and the claim: book it), LAB_SOLD_OUT
 * (the gate refused; stored), KNOWN (stored), or LAB_NOT_FOUND (no counter,
 * or a claim whose holder is gone: nothing was done; a booking thread's
 * admit_claim does what it takes). LAB_ERR_CACHE when R is missing or
 * malformed. */
enum lab_status admit_gate_reply(struct booking *b, const redisReply *r, enum lab_status known,
                                 enum admit_outcome *outcome, struct admit_prior *prior,
                                 enum lab_status *answer);

/* The scripts of these calls, for the pipe to load ahead (NULL-ended). */
extern const char *const admit_scripts[];

/* The zoo's split gate (docs/zoo.md): with a safeguard of the gate off,
 * the claim and the take of the pipe's requests run as several round trips
 * instead of one script, a planted bug. ADMIT_SPLIT_READ (--without
 * atomic-gate): a GET reads the count, then the claim takes a seat on what
 * was read. ADMIT_SPLIT_TAKE (--without claim-first): a seat is taken, then
 * the id is claimed, and a retry keeps the seat it took. admit_gate_split
 * says which of them CFG plants (0: none, the one script). */
enum { ADMIT_SPLIT_READ = 1u, ADMIT_SPLIT_TAKE = 2u };
unsigned admit_gate_split(const struct config *cfg);

/* admit_gate_first_call builds the first round trip of the split gate
 * SPLIT for B; admit_gate_next_call turns CALL, whose reply is R, into the
 * next one, *LAST when that is the claim whose reply admit_gate_reply reads.
 * false: the call cannot be built (or R is not a reply these calls get). */
bool admit_gate_first_call(struct cache_call *call, const struct booking *b, unsigned split);
bool admit_gate_next_call(struct cache_call *call, const struct booking *b, unsigned split,
                          const redisReply *r, bool *last);

/* admit_finish_call is admit_finish of a gate phase as a pipe call;
 * admit_undo_call gives the gate's seat back and drops the claim, for a
 * request that held both and was never run; admit_release_call only drops
 * the claim. false: the call cannot be built. */
bool admit_finish_call(struct cache_call *call, const struct booking *b, enum lab_status answer,
                       long long ticket_id);
bool admit_undo_call(struct cache_call *call, const struct booking *b);
bool admit_release_call(struct cache_call *call, const struct booking *b);

/* admit_forget_later is for a gate claim script of B whose answer was lost
 * (sent, then a timeout: it may still run when Redis answers again): its
 * seat is the gate's to give back (gate_uncertain), and its claim is dropped
 * by a call the pipe keeps until Redis takes it, if it is still the one the
 * script left in progress, which no answer would ever settle. */
void admit_forget_later(const struct service *svc, const struct booking *b);

/* admit_heartbeat renews this process's holder key (at most once a
 * second): while it lives, the claims in progress it holds are its own. */
void admit_heartbeat(struct conns *c);

/* admit_sweeper_start starts a thread that settles, every 2 s, the claims
 * whose holder is gone (the database's answer stored, or the claim
 * dropped), so that none stays in progress when nobody retries it.
 * admit_sweeper_stop stops it. */
bool admit_sweeper_start(const struct service *svc);
void admit_sweeper_stop(void);

/* admit_reset puts the gate of EVENT_ID back to SEATS for the sale
 * GENERATION and forgets the event's claims, in one step. */
enum lab_status admit_reset(redisContext *cache, long long event_id, long long seats,
                            long long generation);

/* admit_rebuild puts back the claims of EVENT_ID's answered requests that
 * Redis lost (a restart): each ticket, and each decision of the consumer,
 * of the current sale, as the answer a retry replays (QUEUED: the 202 of
 * the asynchronous phase), and the sale's generation. Claims that exist are
 * left alone. */
enum lab_status admit_rebuild(PGconn *db, redisContext *cache, long long event_id, bool queued);

/* admit_parse_state reads a stored state name (lab_status_name of a final
 * answer); false for "in_progress" or anything else. Pure, unit-tested. */
bool admit_parse_state(const char *name, enum lab_status *answer);

/* admit_parse_cache reads the Redis value "USER STATE TICKET" (and the
 * holder after a claim in progress); false when it is malformed. Pure,
 * unit-tested. */
bool admit_parse_cache(const char *value, long long *user_id, char *state, size_t state_len,
                       long long *ticket_id);

#endif
