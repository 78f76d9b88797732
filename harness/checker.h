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
 *   false refusals       answered 409 sold_out, yet a ticket row
 *   unknown outcomes     class info, and how they resolved (booked or not)
 *   drift                the Redis gate's counter minus the database's
 *                        available seats (phases 4 and 6)
 *   undersold            seats unsold after recovery while requests were
 *                        refused: min(available, refused)
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
    unsigned char refusals;    /* decisions rows (sold_out, failed) */
};

struct check_input {
    const struct history_log *history;
    const struct check_fact *facts;    /* indexed by job, JOBS of them */
    long long jobs;
    const struct nemesis_plan *plan;   /* NULL: no fault */
    long long available, oversold, duplicate_users;   /* the audit after recovery */
    bool gate_known;                   /* the gate's counter was read */
    long long drift;                   /* counter - available */
};

struct check_result {
    long long requests, ok, fail, info;
    long long oversold, lost, duplicated, false_confirmations, false_refusals;
    long long unknown_booked, unknown_not_booked;
    bool drift_known;
    long long drift;
    long long refused, undersold;
    long long window_requests, window_ok;
    double availability;      /* -1: no request in a fault window */
    double recover_s;         /* -1: no fault, or no ok answer after it */
};

/* checker_load_facts fills FACTS (JOBS of them, zeroed first) from the
 * ticket and decision rows of the run's request ids: 0, or -1. */
int checker_load_facts(PGconn *db, long long event_id, const char *run_id, long long user_base,
                       long long jobs, struct check_fact *facts);

void checker_compute(const struct check_input *in, struct check_result *out);

/* checker_is_bug: oversold, lost, duplicated, a false confirmation or a
 * false refusal. Drift and undersold are costs, not lies. */
bool checker_is_bug(const struct check_result *r);

/* checker_verdict: "clean", "clean, degraded (...)" or "BUG (...)". */
void checker_verdict(const struct check_result *r, char *out, size_t out_len);

void checker_write_human(FILE *out, const struct check_result *r);
void checker_write_fields(FILE *out, const struct check_result *r);
void checker_write_json(FILE *out, const struct check_result *r, const char *run_id, int phase,
                        const struct nemesis_plan *plan, uint64_t start_us);

#endif
