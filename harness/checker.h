/* checker.h -- after the faults: what the history and the database say.
 *
 * Run once the services are back and the queue is drained. For every
 * request of the history it knows what the client was told (history.h) and
 * what the database holds (a ticket row, a refusal row); from the two:
 *
 *   oversold             tickets beyond the seats (the audit's figure)
 *   lost                 answered 202, never decided
 *   duplicated           a request decided twice (a ticket and a refusal,
 *                        or two rows), plus users holding two tickets
 *   false confirmations  answered 201, no ticket row
 *   acknowledged, then lost
 *                        the two above together: what a client was told
 *                        was done (201 booked, 202 accepted) and is gone
 *                        (a failover to a standby or a Kafka leader that had
 *                        not yet received it: docs/cluster.md)
 *   false refusals       answered 409 sold_out, yet a ticket row
 *   unknown outcomes     class info, and how they resolved (booked or not)
 *   drift                the Redis gate's counter minus the database's
 *                        available seats (phases 4 and 6), once the sale is
 *                        quiet: a bug when not 0
 *   phantom              the database's counter minus the seats its ticket
 *                        rows leave (the audit's figure): a bug when not 0,
 *                        the counter sells more or fewer seats than there are
 *   undersold            seats unsold after recovery while requests were
 *                        refused: min(unsold, refused), the unsold seats
 *                        counted from the ticket rows, not the counter
 *   answers disagree     request ids whose tries were told different final
 *                        outcomes (--retry-same-id; see checker_try_final)
 *   stuck claims         request ids of the event still claimed in_progress
 *                        once the sale is quiet (claims.h): a retry of each
 *                        is answered 409 in_progress for good
 *   availability         the share of requests invoked in a fault window
 *                        that were answered ok
 *   time to recover      from the start of the heal to the first ok answer
 *                        of a request invoked after it
 *
 * checker_compute is pure arithmetic (unit-tested); checker_load_facts is
 * its one SQL query. */
#ifndef HARNESS_CHECKER_H
#define HARNESS_CHECKER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "history.h"
#include "nemesis.h"

/* What the database holds of one request (one job). */
struct check_fact {
    unsigned char tickets;     /* ticket rows with its request id */
    unsigned char refusals;    /* decisions rows (sold_out, failed, limit, stale) */
    unsigned char decision;    /* the refusal's kind, an enum history_answer
                                  (failed: HISTORY_ANSWER_ERROR) */
    long long ticket_id;       /* its ticket row's id; 0: none */
};

/* What the checker makes of one request id (one job) over all its tries. */
struct check_id {
    int tries;                 /* records of the id in the history */
    unsigned char final;       /* enum history_answer: its first final outcome,
                                  HISTORY_ANSWER_NONE while it has none */
    bool disagree;             /* a later final outcome differed from it */
    long long ticket_id;       /* for a booked final: the ticket (0: unknown) */
};

struct check_input {
    const struct history_log *history;
    const struct check_fact *facts;    /* indexed by job, JOBS of them */
    long long jobs;
    const struct nemesis_plan *plan;   /* NULL: no fault */
    long long available, oversold, duplicate_users;   /* the audit after recovery */
    long long phantom;                 /* the audit's: available - (seats - sold) */
    bool gate_known;                   /* the gate's counter was read */
    long long drift;                   /* counter - available */
    bool claims_known;                 /* the claims were read (claims.h) */
    long long stuck_claims;            /* ids of the event still in_progress */
    struct check_id *ids;              /* JOBS of them: filled by checker_compute */
};

struct check_result {
    long long requests, ok, fail, info;
    long long oversold, lost, duplicated, false_confirmations, false_refusals;
    long long acked_lost;     /* false_confirmations + lost */
    long long unknown_booked, unknown_not_booked;
    bool drift_known;
    long long drift;
    long long refused, undersold;
    long long phantom;        /* the counter against the ticket rows: a bug unless 0 */
    long long window_requests, window_ok;
    double availability;      /* -1: no request in a fault window */
    double recover_s;         /* -1: no fault, or no ok answer after it */
    long long ids;            /* request ids with at least one try */
    long long same_id_retries;  /* tries after an id's first (try 2, 3, ...) */
    long long answers_disagree; /* ids whose final outcomes differ */
    char planted[320];          /* the service's planted bug (the zoo), "" for none:
                                   the verdict says so */
    bool claims_known;
    long long stuck_claims;
};

/* checker_load_facts fills FACTS (JOBS of them, zeroed first) from the
 * ticket and decision rows of the run's request ids: 0, or -1. */
int checker_load_facts(PGconn *db, long long event_id, const char *run_id, long long user_base,
                       long long jobs, struct check_fact *facts);

/* checker_try_final: the final outcome one try R was told, with the
 * database's FACT of its id: 201 booked (its ticket: the answer's, else the
 * database's), 409 sold_out, limit, duplicate, stale, 422 reused, any other
 * 4xx (HISTORY_ANSWER_ERROR); a 202 counts as what the database decided for
 * the id (booked with its ticket, or the refusal), as GET
 * /api/bookings/result would tell. Not final (HISTORY_ANSWER_NONE): no
 * answer, a timeout, a 5xx, 409 in_progress, a 202 still undecided. */
enum history_answer checker_try_final(const struct history_record *r,
                                      const struct check_fact *fact, long long *ticket_id);

/* checker_answers_agree: two final outcomes agree when they are the same,
 * and two bookings when their tickets are (a ticket not known agrees). */
bool checker_answers_agree(enum history_answer a, long long ticket_a, enum history_answer b,
                           long long ticket_b);

void checker_compute(const struct check_input *in, struct check_result *out);

/* checker_is_bug: oversold, lost, duplicated, a false confirmation or a
 * false refusal, a counter out of step with the ticket rows (phantom), a
 * gate out of step with the database (drift), answers that disagree,
 * claims stuck in_progress. Undersold is a cost, not a lie. */
bool checker_is_bug(const struct check_result *r);

/* checker_verdict: "clean", "clean, degraded (...)" or "BUG (...)". */
void checker_verdict(const struct check_result *r, char *out, size_t out_len);

void checker_write_human(FILE *out, const struct check_result *r);
void checker_write_fields(FILE *out, const struct check_result *r);
void checker_write_json(FILE *out, const struct check_result *r, const char *run_id, int phase,
                        const struct nemesis_plan *plan, uint64_t start_us);

/* checker_write_ids writes one JSON line per request id that was tried:
 * {"requestId":"<run>-<user>","tries":2,"final":"booked","ticketId":7,
 *  "agree":true}; "final" is "none" when no try was told a final outcome. */
void checker_write_ids(FILE *out, const struct check_id *ids, long long jobs, const char *run_id,
                       long long user_base);

#endif
