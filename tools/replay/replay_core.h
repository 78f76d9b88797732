/* replay_core.h -- what the replay's three parts share, inside tools/replay
 * only: the sessions (replay_session.c), the timeline (replay_timeline.c)
 * and the driver that hands out the steps (replay_driver.c).
 *
 * One mutex guards the hand-over between the driver and the sessions: the
 * driver sets a session's step and state RUNNING; the session runs it with
 * the mutex released, stores the outcome, sets DONE and signals. A session's
 * connection is touched only by its own thread; the observer connection only
 * by the driver. */
#ifndef LAB_REPLAY_CORE_H
#define LAB_REPLAY_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>
#include "replay_driver.h"

enum session_state { SESSION_IDLE, SESSION_RUNNING, SESSION_DONE };

struct replay;

/* One session: its connection, its thread, the step it runs. */
struct session {
    struct replay *r;
    int index;                     /* 0 = A */
    PGconn *db;
    PGcancel *cancel;              /* to stop a wait at shutdown */
    int backend_pid;
    pthread_t thread;
    bool started;
    pthread_cond_t wake;           /* a step was handed over, quit, or the mutex is ours */
    /* under r->mu */
    enum session_state state;
    enum replay_action action;
    bool quit;
    enum lab_status st;            /* the outcome of the last step */
    long long value;               /* seats read or written, ticket id, tickets counted */
    bool mutex_wait;               /* local-mutex: waits for the process's mutex */
    long long ticket_id;           /* the ticket it inserted (0: none) */
    /* the session's own memory: its thread writes it while RUNNING */
    long long seats_read;
    long long version;             /* optimistic: the version read */
    long long limit;               /* check-then-insert: the per-user limit read */
    bool in_tx;
    bool holds_mutex;
    enum replay_outcome outcome;   /* how its booking ended (PENDING: not yet) */
    bool ended_now;                /* the last step is the one that ended it */
    char sqlstate[6];              /* of an abort */
    /* the driver's bookkeeping */
    int step;                      /* index of the running step in the plan */
    bool waiting;                  /* that step waits for a lock */
    int blockers[REPLAY_MAX_SESSIONS + 1];  /* who it waits for, as session indexes */
    size_t n_blockers;             /* (-1 - pid for a backend outside the replay) */
    int deferred[REPLAY_MAX_STEPS];/* its later steps, held back while it waits */
    int n_deferred, next_deferred;
};

/* One run: the plan, the sessions, the observer connection. */
struct replay {
    const struct replay_config *cfg;
    const struct replay_strategy *strategy;
    struct replay_plan plan;
    int opened;                    /* sessions connected */
    pthread_mutex_t mu;
    pthread_cond_t done;           /* a session finished a step, or began to wait */
    PGconn *observer;
    struct session s[REPLAY_MAX_SESSIONS];
    struct replay_result *res;
    bool failed;
    /* local-mutex: the process's mutex, first come first served, under mu */
    int mutex_holder;              /* -1: free */
    int mutex_queue[REPLAY_MAX_SESSIONS];
    int mutex_waiters;
    bool closing;                  /* replay_close: a mutex waiter gives up */
};

/* session_main is a session's thread (replay_session.c): it waits for a
 * step, runs it with the phases' statements, reports, until told to quit. */
void *session_main(void *arg);

/* The timeline (replay_timeline.c): what the driver prints. */
void timeline_header(struct replay *r);
void timeline_line(struct replay *r, int step, int session, const char *did, bool with_state);
void timeline_blockers(const struct session *s, char *buf, size_t len);
void timeline_describe(const struct replay *r, const struct session *s, bool resumed, char *buf,
                       size_t len);
void timeline_waits(const struct replay *r, const struct session *s, char *buf, size_t len);
enum lab_status timeline_verdict(struct replay *r);

#endif
