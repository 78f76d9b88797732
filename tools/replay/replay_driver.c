/* replay_driver.c -- the replay's driver (see replay_driver.h): it connects
 * the sessions, hands each one its steps in the plan's order, tells a
 * finished step from one blocked on a lock, and holds a blocked session's
 * later steps back until its lock comes free. */
#include "replay_core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_explore.h"

/* How often the driver asks pg_blocking_pids() while a step runs. This is a
 * polling interval, not a synchronisation: a step that finishes wakes the
 * driver at once, and "blocked" is what PostgreSQL says, not a timeout. */
#define REPLAY_POLL_MS 5

/* Sessions that wait for one another when the plan has run out wait for
 * PostgreSQL's deadlock detector (deadlock_timeout, 1 s by default), which
 * ends one of them with 40P01; this bounds how long the driver lets it. */
#define REPLAY_DEADLOCK_WAIT_MS 30000

/* A step waiting only for backends outside the replay (autovacuum
 * truncating the tickets table holds its lock for a moment; the deleted
 * rows of every reset give it work) is not a wait of the schedule: the
 * driver polls on until it ends, at most this long. */
#define REPLAY_OUTSIDE_WAIT_MS 30000

/* ms_since: milliseconds from T (CLOCK_MONOTONIC) to now. */
static long long ms_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000LL + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* replay_outcome_name: the timeline's and the explorer's word for it. */
const char *replay_outcome_name(enum replay_outcome outcome)
{
    static const char *const names[] = {
        [REPLAY_PENDING] = "pending", [REPLAY_BOOKED] = "booked",
        [REPLAY_SOLD_OUT] = "sold out", [REPLAY_LIMIT] = "limit",
        [REPLAY_ABORTED] = "aborted", [REPLAY_GAVE_UP] = "gave up",
    };
    return names[outcome];
}

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
 * for a lock another session holds, which PostgreSQL's pg_blocking_pids()
 * tells (local-mutex's mutex: the session itself, mutex_wait). Nothing
 * else of the replay runs meanwhile, so the answer is the same on every
 * run; a wait for backends outside the replay alone is waited out. */
static enum lab_status settle(struct replay *r, struct session *s, bool *finished)
{
    int pids[REPLAY_MAX_SESSIONS + 1];
    size_t n;
    enum lab_status st;
    struct timespec outside_since = { 0, 0 };

    pthread_mutex_lock(&r->mu);
    while (s->state == SESSION_RUNNING) {
        struct timespec until;

        if (s->mutex_wait) {
            /* the holder and those queued ahead, as pg_blocking_pids()
             * names a lock's holders and the waiters ahead */
            s->n_blockers = 0;
            s->blockers[s->n_blockers++] = r->mutex_holder;
            for (int q = 0; q < r->mutex_waiters && r->mutex_queue[q] != s->index; q++)
                s->blockers[s->n_blockers++] = r->mutex_queue[q];
            *finished = false;
            pthread_mutex_unlock(&r->mu);
            return LAB_OK;
        }
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
            size_t inside = 0;

            s->n_blockers = 0;
            for (size_t i = 0; i < n && i < REPLAY_MAX_SESSIONS + 1; i++) {
                int who = -1 - pids[i];
                for (int k = 0; k < r->plan.sessions; k++)
                    if (r->s[k].backend_pid == pids[i])
                        who = k;
                inside += who >= 0;
                s->blockers[s->n_blockers++] = who;
            }
            if (inside > 0) {
                *finished = false;
                pthread_mutex_unlock(&r->mu);
                return LAB_OK;
            }
            if (outside_since.tv_sec == 0)
                clock_gettime(CLOCK_MONOTONIC, &outside_since);
            else if (ms_since(&outside_since) > REPLAY_OUTSIDE_WAIT_MS) {
                pthread_mutex_unlock(&r->mu);
                lab_log("session %c waits for backend %d, outside the replay, for over %d s",
                        replay_session_name(s->index), pids[0], REPLAY_OUTSIDE_WAIT_MS / 1000);
                return LAB_ERR_DB;
            }
        }
        until = deadline_in(r->cfg->poll_ms > 0 ? r->cfg->poll_ms : REPLAY_POLL_MS);
        pthread_cond_timedwait(&r->done, &r->mu, &until);
    }
    s->state = SESSION_IDLE;
    *finished = true;
    pthread_mutex_unlock(&r->mu);
    return LAB_OK;
}

/* finish prints the line of S's finished step and notes, if it ran a
 * statement (a step skipped after its booking ended did not), that it
 * ended then. */
static void finish(struct replay *r, struct session *s, bool resumed)
{
    char did[128];

    if (s->st != LAB_SOLD_OUT && r->res->n_executed < REPLAY_MAX_STEPS)
        r->res->executed[r->res->n_executed++] = s->step;
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
    char did[160];
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
    timeline_waits(r, s, did, sizeof did);
    timeline_line(r, i, s->index, did, true);
}

/* behind_a_waiter: S waits for a session that itself still waits. */
static bool behind_a_waiter(const struct replay *r, const struct session *s)
{
    for (size_t i = 0; i < s->n_blockers; i++) {
        int b = s->blockers[i];
        if (b >= 0 && b != s->index && r->s[b].waiting)
            return true;
    }
    return false;
}

/* resume_pass looks at the waiting sessions (those not behind another
 * waiting session, when BEHIND is false; the others when it is true): one
 * whose lock came free finishes its step (printed with what it read then),
 * then runs the steps it held back, until it waits again. True if one did. */
static bool resume_pass(struct replay *r, bool behind)
{
    bool moved = false;

    for (int k = 0; k < r->plan.sessions && !r->failed; k++) {
        struct session *s = &r->s[k];
        bool finished;

        if (!s->waiting || behind_a_waiter(r, s) != behind)
            continue;
        if (settle(r, s, &finished) != LAB_OK) {
            r->failed = true;
            return false;
        }
        if (!finished)
            continue;
        s->waiting = false;
        moved = true;
        finish(r, s, true);
        while (!s->waiting && !r->failed && s->next_deferred < s->n_deferred)
            run_step(r, s->deferred[s->next_deferred++]);
    }
    return moved;
}

/* resume lets every waiting session whose lock came free go on, until none
 * does, because one session's commit can free the next one's lock. A
 * session waiting behind another waiting session is looked at after those
 * that are not (it is freed by them, not before), so that the order in
 * which two freed sessions finish is the order PostgreSQL freed them in;
 * and then too, for who it waits behind may have changed since it was last
 * asked (a deadlock's victim, or two waiters that raced for a row). */
static void resume(struct replay *r)
{
    while (!r->failed && (resume_pass(r, false) || resume_pass(r, true)))
        ;
}

/* await_waiting lets sessions still waiting when the plan has run out
 * finish: they can only wait for one another (every other session has
 * committed or rolled back), a deadlock that PostgreSQL's detector ends by
 * aborting one of them (40P01), after which the other goes on. One not
 * ended in time fails the run. */
static void await_waiting(struct replay *r)
{
    struct timespec start;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec until;
        int waiting = -1;

        resume(r);
        if (r->failed)
            return;
        for (int k = 0; k < r->plan.sessions; k++)
            if (r->s[k].waiting)
                waiting = k;
        if (waiting < 0)
            return;
        if (ms_since(&start) > REPLAY_DEADLOCK_WAIT_MS) {
            char who[96];
            timeline_blockers(&r->s[waiting], who, sizeof who);
            lab_log("session %c still waits for a lock nobody in the replay holds "
                    "(step %d waits for %s)", replay_session_name(waiting),
                    r->s[waiting].step + 1, who);
            r->failed = true;
            return;
        }
        pthread_mutex_lock(&r->mu);
        until = deadline_in(50);
        if (r->s[waiting].state == SESSION_RUNNING)
            pthread_cond_timedwait(&r->done, &r->mu, &until);
        pthread_mutex_unlock(&r->mu);
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
    if (!r->failed)
        await_waiting(r);
}

/* ------------------------------------------------------------------------
 * Setting up and ending
 * --------------------------------------------------------------------- */

/* open_sessions connects every session, sets its isolation level when the
 * replay names one, and starts its thread. */
static bool open_sessions(struct replay *r, int sessions)
{
    static const enum db_isolation levels[] = {
        [REPLAY_ISOLATION_READ_COMMITTED] = DB_READ_COMMITTED,
        [REPLAY_ISOLATION_REPEATABLE_READ] = DB_REPEATABLE_READ,
        [REPLAY_ISOLATION_SERIALIZABLE] = DB_SERIALIZABLE,
    };
    char err[256];

    for (int k = 0; k < sessions; k++) {
        struct session *s = &r->s[k];

        s->r = r;
        s->index = k;
        pthread_cond_init(&s->wake, NULL);
        if (!(s->db = db_connect(r->cfg->conninfo, err, sizeof err))) {
            lab_log("session %c: cannot connect: %s", replay_session_name(k), err);
            return false;
        }
        if (r->cfg->isolation != REPLAY_ISOLATION_DEFAULT &&
            db_set_isolation(s->db, levels[r->cfg->isolation]) != LAB_OK)
            return false;
        s->backend_pid = PQbackendPID(s->db);
        s->cancel = PQgetCancel(s->db);
        if (pthread_create(&s->thread, NULL, session_main, s) != 0) {
            lab_log("session %c: cannot start its thread", replay_session_name(k));
            return false;
        }
        s->started = true;
        r->opened = k + 1;
    }
    return true;
}

/* close_sessions ends every thread. A session still waiting (a run cut
 * short) has its statement cancelled, or its wait for the mutex ended; the
 * others roll back what is open. */
static void close_sessions(struct replay *r)
{
    char err[256];

    pthread_mutex_lock(&r->mu);
    r->closing = true;
    pthread_mutex_unlock(&r->mu);
    for (int k = 0; k < r->opened; k++) {
        struct session *s = &r->s[k];
        pthread_mutex_lock(&r->mu);
        if (s->state == SESSION_RUNNING && s->cancel)
            PQcancel(s->cancel, err, sizeof err);
        if (s->mutex_wait)
            pthread_cond_signal(&s->wake);
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

/* replay_open: the observer and the sessions connect, the sessions' threads
 * start and wait for their first step. */
struct replay *replay_open(const struct replay_config *cfg)
{
    struct replay *r = calloc(1, sizeof *r);
    pthread_condattr_t attr;
    char err[256];

    if (!r)
        return NULL;
    r->cfg = cfg;
    r->strategy = cfg->strategy ? cfg->strategy : replay_strategy_of_phase(cfg->phase);
    r->mutex_holder = -1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->done, &attr);
    pthread_condattr_destroy(&attr);
    if (!(r->observer = db_connect(cfg->conninfo, err, sizeof err))) {
        lab_log("observer: cannot connect: %s", err);
        replay_close(r);
        return NULL;
    }
    if (!open_sessions(r, cfg->plan.sessions)) {
        replay_close(r);
        return NULL;
    }
    return r;
}

/* start_run puts every session back to "no booking yet" for the next plan. */
static void start_run(struct replay *r, const struct replay_plan *plan,
                      struct replay_result *res)
{
    memset(res, 0, sizeof *res);
    r->res = res;
    r->plan = *plan;
    replay_plan_for_strategy(&r->plan, r->strategy);
    r->failed = false;
    r->mutex_holder = -1;
    r->mutex_waiters = 0;
    for (int k = 0; k < r->opened; k++) {
        struct session *s = &r->s[k];
        s->state = SESSION_IDLE;
        s->st = LAB_OK;
        s->value = s->seats_read = s->version = s->limit = s->ticket_id = 0;
        s->outcome = REPLAY_PENDING;
        s->ended_now = s->waiting = false;
        s->sqlstate[0] = '\0';
        s->n_blockers = 0;
        s->n_deferred = s->next_deferred = 0;
    }
}

/* replay_once: the event is reset, the plan driven, and the verdict read
 * once every session has ended its booking, so that it sees every commit. */
enum lab_status replay_once(struct replay *r, const struct replay_plan *plan,
                            struct replay_result *res)
{
    const struct replay_config *cfg = r->cfg;

    start_run(r, plan, res);
    if (r->plan.sessions > r->opened) {
        lab_log("the plan has %d sessions, %d connected", r->plan.sessions, r->opened);
        return LAB_ERR_DB;
    }
    if (db_reset(r->observer, cfg->event_id, cfg->seats) != LAB_OK)
        return LAB_ERR_DB;
    res->seats = cfg->seats;
    timeline_header(r);
    drive(r);
    if (r->failed)
        return LAB_ERR_DB;
    for (int k = 0; k < r->plan.sessions; k++) {
        res->outcome[k] = r->s[k].outcome;
        memcpy(res->sqlstate[k], r->s[k].sqlstate, sizeof res->sqlstate[k]);
    }
    return timeline_verdict(r);
}

/* replay_close ends the sessions (rolling back what a cut-short run left
 * open) and frees the replay; NULL is nothing to close. */
void replay_close(struct replay *r)
{
    if (!r)
        return;
    close_sessions(r);
    if (r->observer)
        PQfinish(r->observer);
    pthread_cond_destroy(&r->done);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* replay_run: one plan on connections of its own. */
enum lab_status replay_run(const struct replay_config *cfg, struct replay_result *res)
{
    struct replay *r = replay_open(cfg);
    enum lab_status st;

    memset(res, 0, sizeof *res);
    if (!r)
        return LAB_ERR_DB;
    st = replay_once(r, &cfg->plan, res);
    replay_close(r);
    return st;
}
