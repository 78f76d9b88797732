/* report.h -- what an attack amounts to, and how it is written down.
 *
 * THE COUNTING RULE, stated once: every request the attack starts ends in
 * exactly one outcome. For the bookings that is
 *
 *     attempted = booked + queued + sold_out + errors
 *     errors    = connect + timeout + http_4xx + http_5xx + protocol
 *
 * (booked = 201 "booked", queued = 202 "queued", sold_out = 409 "sold_out";
 * any other answer to a booking is an error of one of the five kinds). The
 * status reads and the requests to a custom --path have "ok" in place of
 * booked/queued/sold_out. counts_balanced() checks the rule after the run.
 *
 * Pure: nothing here talks to the network or the database. */
#ifndef HARNESS_REPORT_H
#define HARNESS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "contention.h"
#include "explain.h"

enum outcome {
    OUTCOME_BOOKED,        /* 201 {"status":"booked"} */
    OUTCOME_QUEUED,        /* 202 {"status":"queued"} */
    OUTCOME_SOLD_OUT,      /* 409 {"status":"sold_out"} */
    OUTCOME_OK,            /* 1xx-3xx to a status read or a custom path */
    OUTCOME_ERR_CONNECT,   /* no connection could be made */
    OUTCOME_ERR_TIMEOUT,   /* no whole answer within --timeout-ms */
    OUTCOME_ERR_4XX,       /* a 4xx other than a booking's 409 */
    OUTCOME_ERR_5XX,       /* a 5xx */
    OUTCOME_ERR_PROTOCOL,  /* not HTTP we can read, closed mid-answer, or an
                              answer the API does not give (201 "queued") */
    OUTCOME_COUNT
};

#define OUTCOME_FIRST_ERROR OUTCOME_ERR_CONNECT

/* Counters of one kind of request; one set per thread, merged at the end. */
struct counts {
    long long attempted;
    long long n[OUTCOME_COUNT];
};

const char *outcome_name(enum outcome o);

/* What an answer means: BODY_STATUS is the body's "status" field ("" when
 * there is none). A booking must say in its body what its code says. */
enum outcome report_classify_booking(int http_status, const char *body_status);
enum outcome report_classify_plain(int http_status);

void counts_merge(struct counts *into, const struct counts *from);
long long counts_errors(const struct counts *c);
long long counts_ended(const struct counts *c);
bool counts_balanced(const struct counts *c, bool booking);

/* Everything the human summary, the JSON object and the CSV row say. */
struct summary {
    /* the service, from /healthz */
    int phase;
    char phase_name[32];
    bool async;
    long long think_ms;
    char planted[320];           /* the zoo's planted bug ("without give-back"): "" for
                                    none; the verdict line says so (docs/zoo.md) */

    /* the attack's shape */
    const char *mode;            /* "burst" or "sustained" */
    bool audited;                /* the booking workload: reset and audit ran */
    char path[1040];             /* "METHOD /path" of a custom run; "" for bookings */
    long long event_id, seats, users, concurrency, threads, reads_per_booking;
    int clicks;                  /* --clicks: bookings per user in the burst */

    /* answers */
    struct counts bookings;      /* the bookings, or the custom path's requests */
    struct counts reads;         /* the status reads (--reads-per-booking) */
    uint64_t p50_us, p90_us, p99_us, max_us;
    uint64_t p999_us, p9999_us;  /* p99.9 and p99.99 */
    long long rate;              /* --rate: the open loop's requests/s; 0: closed loop */
    uint64_t read_p50_us, read_p99_us;
    double wall_s, req_per_s;

    /* the asynchronous phases' queue */
    bool drained;                /* a drain was waited for */
    bool drain_timed_out;
    double drain_s, decided_per_s;
    long long decided, lost;

    /* the audit */
    long long total_seats, available, sold, oversold, phantom, duplicates;
    long long per_user_limit;  /* the event's declared policy (0: not read) */
    long long other_runs;      /* tickets/decisions of another generation of the sale */
    long long booked_decisions;  /* 201 answers (+ queued requests decided booked) */
    long long mismatch;          /* ticket rows of this run - booked_decisions */
    long long undersold;         /* seats left unsold while more were refused
                                    (audit_undersold; the demand is the users,
                                    however many tries each made) */

    /* once the sale is quiet (answered, drained, recovered) */
    bool gate_known;             /* the service's audit gave the Redis gate's count */
    long long cache_drift;       /* the gate's free seats - available: a bug unless 0 */
    bool gate_counter;           /* the gate had a counter; false with gate_known:
                                    none (Redis came back empty), drift 0 */
    bool claims_db_known, claims_redis_known;
    long long stuck_claims_db;   /* request ids still in_progress in PostgreSQL */
    long long stuck_claims_redis;  /* ... in Redis (claims.h): a bug unless 0 */

    /* --retry-same-id: the client's retries and what their answers said */
    int retry_same_id;           /* N, 0: none */
    long long same_id_retries;   /* tries that sent an id again */
    bool answers_checked;        /* the checker compared the tries of every id */
    long long answers_disagree;  /* ids told different final outcomes: a bug */

    /* --backlog: a reset under a queue of N bookings, then the new sale */
    long long backlog;           /* N; 0: none */
    long long backlog_accepted;  /* of them answered booked or queued */
    bool first_ticket_known;
    long long first_ticket_after_reset_ms;  /* the reset's answer to the new sale's
                                               first ticket row (the database's clock) */
    bool backlog_booked_known;
    long long backlog_booked;    /* tickets of the new sale held by the backlog's
                                    requests, admitted before the reset: a bug
                                    (the generation fence let them in) */

    /* the instances and their concurrency control (GET /api/stats) */
    long long instances;         /* --url a,b,...: how many */
    char strategy[32];           /* "" when the service has no /api/stats */
    struct contention contention; /* what the attack added: retries, gave up,
                                    conflicts by SQLSTATE class */
    bool gate_refused_known;     /* every instance has a Redis gate and said, before
                                    and after, how often the database refused it */
    long long gate_refused;      /* requests the gate let through that the database
                                    then refused for want of a seat (gate leaks) */
    bool faulted;                /* --fault: the lab was broken during the run */

    /* a BUG verdict of a booking run, explained: the bookings that read the
       same counter value, the instances, the users with two tickets */
    struct explanation explain;
    char explain_path[1100];     /* where the whole explanation went; "" for none */
};

/* report_gate_leak: the gate let through more requests than it had seats,
 * in a run that no fault and no failed request can explain: a bug (the
 * gate's check and take were not one step). After a fault, or a request
 * that failed (whose seat may have been given back and sold all the same),
 * the database refusing the excess is the correction working. */
bool report_gate_leak(const struct summary *s);

/* report_unanswered: bookings that timed out or lost their connection. */
long long report_unanswered(const struct summary *s);

/* report_stuck_claims: the claims of both stores that were read; -1 when
 * neither could be. */
long long report_stuck_claims(const struct summary *s);

/* The run found a bug: oversold, phantom, duplicates, lost, undersold, a
 * mismatch that the unanswered bookings cannot explain, a gate out of step
 * with the database (cache_drift), claims stuck in_progress, request ids
 * whose tries were told different outcomes, or requests of a sale reset
 * since booked into the new one (backlog_booked). */
bool report_is_bug(const struct summary *s);

/* report_verdict: the human verdict line, "clean" or the bugs found. */
void report_verdict(const struct summary *s, char *out, size_t out_len);

/* The CSV verdict column: "clean", "BUG", or "none" without an audit. */
const char *report_verdict_word(const struct summary *s);

void report_write_human(FILE *out, const struct summary *s);
void report_write_json(FILE *out, const struct summary *s);

/* The CSV file: a header when the file is new or empty, then one row per
 * attack. TIMESTAMP is ISO 8601 UTC, GIT_REV the build's revision. */
extern const char report_csv_header[];
int report_csv_row(char *out, size_t out_len, const struct summary *s, const char *timestamp,
                   const char *git_rev);
int report_append_csv(const char *path, const struct summary *s, const char *timestamp,
                      const char *git_rev, char *err, size_t err_len);

#endif
