/* replay_driver.h -- the replay's core: one thread and one PostgreSQL
 * connection per session, a driver that hands each session one step at a
 * time in the plan's order, and a third connection that watches.
 *
 * The sessions run the phases' own statements (db_read_seats,
 * db_write_seats, db_insert_ticket, db_begin, db_commit from db.c, and the
 * other strategies' from db_strategy.c and db_explore.c). When a step
 * blocks on a lock, the driver sees it from pg_blocking_pids(), not from a
 * timeout, and goes on with the other sessions; the blocked session's later
 * steps wait for it, in order. A serialization failure or a deadlock ends
 * the session's booking (rolled back, its SQLSTATE kept), not the run. */
#ifndef LAB_REPLAY_DRIVER_H
#define LAB_REPLAY_DRIVER_H

#include <stdbool.h>
#include <stdio.h>
#include "lab.h"
#include "replay_plan.h"

struct replay_config {
    const char *conninfo;        /* libpq connection string */
    int phase;                   /* 2: no lock; 3: transaction + FOR UPDATE */
    const struct replay_strategy *strategy;  /* NULL: the phase's own */
    enum replay_isolation isolation;          /* DEFAULT: set nothing */
    long long event_id;          /* reset to SEATS seats before the run */
    long long seats;
    const char *interleaving;    /* its name, for the timeline's header */
    struct replay_plan plan;     /* as given: replay_run adapts it to the strategy */
    FILE *out;                   /* where the timeline goes; NULL: nothing printed */
    int poll_ms;                 /* pg_blocking_pids() while a step runs (0: 5 ms) */
};

/* How a session's booking ended. */
enum replay_outcome {
    REPLAY_PENDING,              /* not ended (a run cut short) */
    REPLAY_BOOKED,               /* its ticket is written (and committed) */
    REPLAY_SOLD_OUT,             /* it saw no seat left */
    REPLAY_LIMIT,                /* check-then-insert: the user holds the limit already */
    REPLAY_ABORTED,              /* a serialization failure or a deadlock: see sqlstate */
    REPLAY_GAVE_UP,              /* optimistic: its compare-and-set lost, one attempt */
};

struct replay_result {
    long long seats;             /* the counter after the reset */
    long long counter;           /* the counter at the end */
    long long tickets;           /* ticket rows at the end */
    long long lost_updates;      /* tickets - (seats - counter): decrements overwritten */
    long long oversold;          /* tickets beyond the seats */
    long long duplicate_users;   /* users holding more tickets than the limit */
    bool waited[REPLAY_MAX_SESSIONS];  /* the session was seen waiting for a lock */
    enum replay_outcome outcome[REPLAY_MAX_SESSIONS];
    char sqlstate[REPLAY_MAX_SESSIONS][6];   /* of an ABORTED session */
    int executed[REPLAY_MAX_STEPS];          /* the plan's steps that ran a statement, in the
                                                order they ended */
    int n_executed;
};

/* replay_run resets the event, runs the plan and prints the timeline and
 * the verdict. LAB_OK, or LAB_ERR_DB when a connection or a statement
 * failed (the reason is logged); RES is filled only on LAB_OK. */
enum lab_status replay_run(const struct replay_config *cfg, struct replay_result *res);

/* For many plans on the same connections (tools/explore): replay_open
 * connects the observer and CFG->plan.sessions sessions (NULL on failure,
 * logged); replay_once resets the event and runs PLAN (adapted to the
 * strategy; at most as many sessions), as replay_run does; replay_close
 * ends the sessions. CFG must outlive the replay. */
struct replay;
struct replay *replay_open(const struct replay_config *cfg);
enum lab_status replay_once(struct replay *r, const struct replay_plan *plan,
                            struct replay_result *res);
void replay_close(struct replay *r);

/* "booked", "sold out", "limit", "aborted", "gave up", "pending". */
const char *replay_outcome_name(enum replay_outcome outcome);

#endif
