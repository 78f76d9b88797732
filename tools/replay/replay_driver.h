/* replay_driver.h -- the replay's core: one thread and one PostgreSQL
 * connection per session, a driver that hands each session one step at a
 * time in the plan's order, and a third connection that watches.
 *
 * The sessions run the phases' own statements (db_read_seats,
 * db_write_seats, db_insert_ticket, db_begin, db_commit from db.c). When a
 * step blocks on a row lock, the driver sees it from pg_blocking_pids(), not
 * from a timeout, and goes on with the other sessions; the blocked session's
 * later steps wait for it, in order. */
#ifndef LAB_REPLAY_DRIVER_H
#define LAB_REPLAY_DRIVER_H

#include <stdbool.h>
#include <stdio.h>
#include "lab.h"
#include "replay_plan.h"

struct replay_config {
    const char *conninfo;        /* libpq connection string */
    int phase;                   /* 2: no lock; 3: transaction + FOR UPDATE */
    long long event_id;          /* reset to SEATS seats before the run */
    long long seats;
    const char *interleaving;    /* its name, for the timeline's header */
    struct replay_plan plan;     /* as given: replay_run adapts it to the phase */
    FILE *out;                   /* where the timeline goes */
};

struct replay_result {
    long long seats;             /* the counter after the reset */
    long long counter;           /* the counter at the end */
    long long tickets;           /* ticket rows at the end */
    long long lost_updates;      /* tickets - (seats - counter): decrements overwritten */
    long long oversold;          /* tickets beyond the seats */
    bool waited[REPLAY_MAX_SESSIONS];  /* the session was seen waiting for a lock */
};

/* replay_run resets the event, runs the plan and prints the timeline and
 * the verdict. LAB_OK, or LAB_ERR_DB when a connection or a statement
 * failed (the reason is logged); RES is filled only on LAB_OK. */
enum lab_status replay_run(const struct replay_config *cfg, struct replay_result *res);

#endif
