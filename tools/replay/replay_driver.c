/* replay_driver.c -- the replay's driver (see replay_driver.h): it connects
 * the sessions, hands each one its steps in the plan's order, tells a
 * finished step from one blocked on a lock, and holds a blocked session's
 * later steps back until its lock comes free. */
#include "replay_core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

/* How often the driver asks pg_blocking_pids() while a step runs. This is a
 * polling interval, not a synchronisation: a step that finishes wakes the
 * driver at once, and "blocked" is what PostgreSQL says, not a timeout. */
#define REPLAY_POLL_MS 5

/* ------------------------------------------------------------------------
 * The driver
 * --------------------------------------------------------------------- */

/* deadline_in returns the CLOCK_MONOTONIC time MS milliseconds from now. */
static struct timespec deadline_in(int ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += (long)ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* settle waits until S's running step has finished (*FINISHED) or S waits
 * for a lock, which PostgreSQL's pg_blocking_pids() tells. Nothing else runs
 * meanwhile, so the answer is the same on every run. */
static enum lab_status settle(struct replay *r, struct session *s, bool *finished)
{
    int pids[REPLAY_MAX_SESSIONS + 1];
    size_t n;
    enum lab_status st;

    pthread_mutex_lock(&r->mu);
    while (s->state == SESSION_RUNNING) {
        struct timespec until;

        pthread_mutex_unlock(&r->mu);
        st = db_blocking_pids(r->observer, s->backend_pid, pids, REPLAY_MAX_SESSIONS + 1, &n);
        pthread_mutex_lock(&r->mu);
        if (st != LAB_OK) {
            pthread_mutex_unlock(&r->mu);
            return st;
        }
        if (s->state != SESSION_RUNNING)
            break;
        if (n > 0) {
            s->n_blockers = 0;
            for (size_t i = 0; i < n && i < REPLAY_MAX_SESSIONS + 1; i++) {
                int who = -1 - pids[i];
                for (int k = 0; k < r->plan.sessions; k++)
                    if (r->s[k].backend_pid == pids[i])
                        who = k;
                s->blockers[s->n_blockers++] = who;
            }
            *finished = false;
            pthread_mutex_unlock(&r->mu);
            return LAB_OK;
        }
        until = deadline_in(REPLAY_POLL_MS);
        pthread_cond_timedwait(&r->done, &r->mu, &until);
    }
    s->state = SESSION_IDLE;
    *finished = true;
    pthread_mutex_unlock(&r->mu);
    return LAB_OK;
}

/* finish prints the line of S's finished step. */
static void finish(struct replay *r, struct session *s, bool resumed)
{
    char did[128];

    if (s->st != LAB_OK && s->st != LAB_SOLD_OUT)
        r->failed = true;
    timeline_describe(r, s, resumed, did, sizeof did);
    timeline_line(r, s->step, s->index, did, true);
}

/* run_step hands step I to its session and waits until it finished or
 * blocked; a blocked step is printed as such and left running. */
static void run_step(struct replay *r, int i)
{
    struct session *s = &r->s[r->plan.steps[i].session];
    char did[128], who[96];
    bool finished;

    pthread_mutex_lock(&r->mu);
    s->step = i;
    s->action = r->plan.steps[i].action;
    s->state = SESSION_RUNNING;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&r->mu);
    if (settle(r, s, &finished) != LAB_OK) {
        r->failed = true;
        return;
    }
    if (finished) {
        finish(r, s, false);
        return;
    }
    s->waiting = true;
    r->res->waited[s->index] = true;
    timeline_blockers(s, who, sizeof who);
    snprintf(did, sizeof did, "%s: %c waits for %s row lock", replay_action_name(s->action),
             replay_session_name(s->index), who);
    timeline_line(r, i, s->index, did, true);
}

/* resume checks every waiting session: one whose lock came free finishes
 * its step (printed with what it read then), then runs the steps it held
 * back, until it waits again. Repeats while anything moved, because one
 * session's commit can free the next one's lock. */
static void resume(struct replay *r)
{
    bool moved = true;

    while (moved && !r->failed) {
        moved = false;
        for (int k = 0; k < r->plan.sessions && !r->failed; k++) {
            struct session *s = &r->s[k];
            bool finished;

            if (!s->waiting)
                continue;
            if (settle(r, s, &finished) != LAB_OK) {
                r->failed = true;
                return;
            }
            if (!finished)
                continue;
            s->waiting = false;
            moved = true;
            finish(r, s, true);
            while (!s->waiting && !r->failed && s->next_deferred < s->n_deferred)
                run_step(r, s->deferred[s->next_deferred++]);
        }
    }
}

/* drive runs the plan: each step goes to its session, unless that session
 * is waiting, in which case the step is held back until it is free. */
static void drive(struct replay *r)
{
    for (int i = 0; i < r->plan.count && !r->failed; i++) {
        struct session *s = &r->s[r->plan.steps[i].session];

        if (s->waiting || s->next_deferred < s->n_deferred) {
            char did[128];
            s->deferred[s->n_deferred++] = i;
            snprintf(did, sizeof did, "%s: held back, %c still waits",
                     replay_action_name(r->plan.steps[i].action), replay_session_name(s->index));
            timeline_line(r, i, s->index, did, false);
            continue;
        }
        run_step(r, i);
        resume(r);
    }
    for (int k = 0; k < r->plan.sessions && !r->failed; k++) {
        if (r->s[k].waiting) {
            lab_log("session %c still waits for a lock nobody in the replay holds",
                    replay_session_name(k));
            r->failed = true;
        }
    }
}

/* ------------------------------------------------------------------------
 * Setting up and ending
 * --------------------------------------------------------------------- */

/* open_sessions connects every session and starts its thread. */
static bool open_sessions(struct replay *r)
{
    char err[256];

    for (int k = 0; k < r->plan.sessions; k++) {
        struct session *s = &r->s[k];

        s->r = r;
        s->index = k;
        pthread_cond_init(&s->wake, NULL);
        if (!(s->db = db_connect(r->cfg->conninfo, err, sizeof err))) {
            lab_log("session %c: cannot connect: %s", replay_session_name(k), err);
            return false;
        }
        s->backend_pid = PQbackendPID(s->db);
        s->cancel = PQgetCancel(s->db);
        if (pthread_create(&s->thread, NULL, session_main, s) != 0) {
            lab_log("session %c: cannot start its thread", replay_session_name(k));
            return false;
        }
        s->started = true;
    }
    return true;
}

/* close_sessions ends every thread. A session still waiting (a run cut
 * short) has its statement cancelled; the others roll back what is open. */
static void close_sessions(struct replay *r)
{
    char err[256];

    for (int k = 0; k < r->plan.sessions; k++) {
        struct session *s = &r->s[k];
        pthread_mutex_lock(&r->mu);
        if (s->state == SESSION_RUNNING && s->cancel)
            PQcancel(s->cancel, err, sizeof err);
        while (s->state == SESSION_RUNNING)
            pthread_cond_wait(&r->done, &r->mu);
        s->quit = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&r->mu);
    }
    for (int k = 0; k < REPLAY_MAX_SESSIONS; k++) {
        struct session *s = &r->s[k];
        if (s->started)
            pthread_join(s->thread, NULL);
        if (s->cancel)
            PQfreeCancel(s->cancel);
        if (s->db)
            PQfinish(s->db);
        if (s->r)
            pthread_cond_destroy(&s->wake);
    }
}

/* replay_run: the observer connects and resets the event, the sessions
 * connect and start, the plan is driven, the sessions end (rolling back
 * whatever a cut-short run left open), and only then is the verdict read, so
 * that it sees every commit. */
enum lab_status replay_run(const struct replay_config *cfg, struct replay_result *res)
{
    struct replay *r = calloc(1, sizeof *r);
    pthread_condattr_t attr;
    char err[256];
    enum lab_status st = LAB_ERR_DB;

    if (!r)
        return LAB_ERR_DB;
    memset(res, 0, sizeof *res);
    r->cfg = cfg;
    r->res = res;
    r->plan = cfg->plan;
    replay_plan_for_phase(&r->plan, cfg->phase);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->done, &attr);
    pthread_condattr_destroy(&attr);

    if (!(r->observer = db_connect(cfg->conninfo, err, sizeof err))) {
        lab_log("observer: cannot connect: %s", err);
        goto out;
    }
    if (db_reset(r->observer, cfg->event_id, cfg->seats) != LAB_OK)
        goto out;
    res->seats = cfg->seats;
    if (open_sessions(r)) {
        timeline_header(r);
        drive(r);
    } else {
        r->failed = true;
    }
    close_sessions(r);
    if (!r->failed)
        st = timeline_verdict(r);
out:
    if (r->observer)
        PQfinish(r->observer);
    pthread_cond_destroy(&r->done);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return st;
}
