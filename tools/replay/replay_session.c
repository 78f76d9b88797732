/* replay_session.c -- a replay session: one thread, one PostgreSQL
 * connection, running one booking step at a time with the phases' own
 * statements (db_read_seats, db_write_seats, db_insert_ticket, db_begin,
 * db_commit, and the other strategies' db_take_seat, db_read_versioned,
 * db_write_if_version, db_advisory_lock, db_count_user_tickets,
 * db_insert_ticket_unchecked, from db_strategy.c). */
#include "replay_core.h"

#include <stdio.h>
#include <string.h>

#include "booking.h"
#include "db.h"

/* ------------------------------------------------------------------------
 * The process's mutex (local-mutex): every session is a thread of this one
 * process, as the booking threads of one phase 2 instance are
 * --------------------------------------------------------------------- */

/* mutex_acquire takes the mutex, first come first served (so that a run
 * is the same every time), waiting if another session holds it. The
 * driver learns of the wait from mutex_wait, as it learns of a row lock's
 * from pg_blocking_pids(). false: the replay is closing. */
static bool mutex_acquire(struct session *s)
{
    struct replay *r = s->r;
    bool got;

    pthread_mutex_lock(&r->mu);
    if (r->mutex_holder < 0 && r->mutex_waiters == 0) {
        r->mutex_holder = s->index;
    } else {
        r->mutex_queue[r->mutex_waiters++] = s->index;
        s->mutex_wait = true;
        pthread_cond_broadcast(&r->done);
        while (r->mutex_holder != s->index && !r->closing)
            pthread_cond_wait(&s->wake, &r->mu);
        s->mutex_wait = false;     /* mutex_release cleared it already, unless closing */
    }
    got = r->mutex_holder == s->index;
    s->holds_mutex = got;
    pthread_mutex_unlock(&r->mu);
    return got;
}

/* mutex_release hands the mutex to the first session waiting, if any: that
 * session stops waiting here, when it is given the mutex, not when its
 * thread wakes up, so that the driver never sees it waiting for a mutex it
 * holds. */
static void mutex_release(struct session *s)
{
    struct replay *r = s->r;

    if (!s->holds_mutex)
        return;
    pthread_mutex_lock(&r->mu);
    s->holds_mutex = false;
    if (r->mutex_waiters > 0) {
        r->mutex_holder = r->mutex_queue[0];
        memmove(r->mutex_queue, r->mutex_queue + 1,
                (size_t)(--r->mutex_waiters) * sizeof r->mutex_queue[0]);
        r->s[r->mutex_holder].mutex_wait = false;
        pthread_cond_signal(&r->s[r->mutex_holder].wake);
    } else {
        r->mutex_holder = -1;
    }
    pthread_mutex_unlock(&r->mu);
}

/* ------------------------------------------------------------------------
 * A session: one thread running the phases' statements
 * --------------------------------------------------------------------- */

/* end_booking records how S's booking ended: what is open is rolled back
 * and the mutex given back, the later steps are skipped. */
static void end_booking(struct session *s, enum replay_outcome outcome)
{
    if (s->in_tx) {
        db_rollback(s->db);
        s->in_tx = false;
    }
    mutex_release(s);
    s->outcome = outcome;
    s->ended_now = true;
}

/* failed turns a failed statement into the step's status: a conflict
 * (40001, 40P01, 55P03) ends the booking as PostgreSQL aborted it, and the
 * run goes on; anything else is a failure of the run. */
static enum lab_status failed(struct session *s, enum lab_status st)
{
    static const char *const states[] = {
        [CONTENTION_SERIALIZATION] = "40001",
        [CONTENTION_DEADLOCK] = "40P01",
        [CONTENTION_LOCK_NOT_AVAILABLE] = "55P03",
    };
    enum contention_class k = db_last_conflict();

    if (st == LAB_ERR_DB && k != CONTENTION_NONE) {
        snprintf(s->sqlstate, sizeof s->sqlstate, "%s", states[k]);
        end_booking(s, REPLAY_ABORTED);
        return LAB_OK;
    }
    if (s->in_tx) {
        db_rollback(s->db);
        s->in_tx = false;
    }
    mutex_release(s);
    return st;
}

/* begin opens S's transaction: the serializable strategy's own BEGIN
 * ISOLATION LEVEL SERIALIZABLE unless the replay runs another level, a
 * plain BEGIN (the session's level) otherwise. */
static enum lab_status begin(struct session *s)
{
    enum replay_isolation iso = s->r->cfg->isolation;
    enum lab_status st;

    if (s->r->strategy->kind == REPLAY_SERIALIZABLE_TX &&
        (iso == REPLAY_ISOLATION_DEFAULT || iso == REPLAY_ISOLATION_SERIALIZABLE))
        st = db_begin_serializable(s->db);
    else
        st = db_begin(s->db);
    if (st == LAB_OK)
        s->in_tx = true;
    return st;
}

/* session_booking: the booking S makes, as the phases fill it in. */
static struct booking session_booking(const struct session *s)
{
    struct booking b = { .event_id = s->r->cfg->event_id,
                         .user_id = s->r->strategy->same_user ? 1 : s->index + 1 };

    snprintf(b.request_id, sizeof b.request_id, "replay-%lld-%c", s->r->cfg->event_id,
             replay_session_name(s->index));
    return b;
}

/* session_read reads the counter the strategy's way: phase 2 plainly (its
 * mutex first with local-mutex), phase 3 (and check-then-insert, after its
 * count) in a new transaction with the row lock, optimistic with the
 * version and no transaction, serializable in a new transaction, advisory
 * inside the one its lock opened. A sold-out read ends the booking, as the
 * phases do. */
static enum lab_status session_read(struct session *s, long long *value)
{
    const struct replay_config *cfg = s->r->cfg;
    enum replay_kind kind = s->r->strategy->kind;
    bool locked = kind == REPLAY_FOR_UPDATE || kind == REPLAY_CHECK_THEN_INSERT;
    enum lab_status st;

    if (kind == REPLAY_LOCAL_MUTEX && !mutex_acquire(s))
        return LAB_ERR_DB;
    if ((locked || kind == REPLAY_SERIALIZABLE_TX) && (st = begin(s)) != LAB_OK)
        return failed(s, st);
    if (kind == REPLAY_OPTIMISTIC)
        st = db_read_versioned(s->db, cfg->event_id, &s->seats_read, &s->version);
    else
        st = db_read_seats(s->db, cfg->event_id, locked ? DB_FOR_UPDATE : DB_PLAIN,
                           &s->seats_read);
    if (st != LAB_OK)
        return failed(s, st);
    *value = s->seats_read;
    if (s->seats_read <= 0)
        end_booking(s, REPLAY_SOLD_OUT);
    return LAB_OK;
}

/* session_write writes what was read minus one; optimistic opens its
 * transaction here and writes only if the version is the one it read: a
 * lost compare-and-set is a booking given up (one attempt, no retry). */
static enum lab_status session_write(struct session *s, long long *value)
{
    const struct replay_config *cfg = s->r->cfg;
    enum lab_status st;
    bool won = false;

    *value = s->seats_read - 1;
    if (s->r->strategy->kind != REPLAY_OPTIMISTIC) {
        st = db_write_seats(s->db, cfg->event_id, *value);
        return st == LAB_OK ? LAB_OK : failed(s, st);
    }
    if ((st = begin(s)) != LAB_OK ||
        (st = db_write_if_version(s->db, cfg->event_id, s->version, *value, &won)) != LAB_OK)
        return failed(s, st);
    if (!won)
        end_booking(s, REPLAY_GAVE_UP);
    return LAB_OK;
}

/* session_other runs the steps that are not phase 2's: the advisory lock
 * and the conditional decrement (each opening its transaction), the count
 * of check-then-insert (a statement of its own, before any transaction). */
static enum lab_status session_other(struct session *s, enum replay_action action,
                                     long long *value)
{
    const struct replay_config *cfg = s->r->cfg;
    struct booking b = session_booking(s);
    enum lab_status st = LAB_OK;

    if (action == REPLAY_LOCK || action == REPLAY_TAKE)
        st = begin(s);
    if (st != LAB_OK)
        return failed(s, st);
    switch (action) {
    case REPLAY_LOCK:
        st = db_advisory_lock(s->db, cfg->event_id);
        break;
    case REPLAY_CHECK:
        st = db_count_user_tickets(s->db, &b, value, &s->limit);
        if (st == LAB_OK && *value >= s->limit)
            end_booking(s, REPLAY_LIMIT);
        break;
    case REPLAY_TAKE:
        st = db_take_seat(s->db, cfg->event_id);
        if (st == LAB_SOLD_OUT) {
            end_booking(s, REPLAY_SOLD_OUT);
            st = LAB_OK;
        }
        break;
    default:
        break;
    }
    return st == LAB_OK ? LAB_OK : failed(s, st);
}

/* session_insert writes the ticket: with the limit rule in the INSERT, or
 * without it for check-then-insert. Outside a transaction it is the end of
 * the booking (and of local-mutex's mutex). */
static enum lab_status session_insert(struct session *s, long long *value)
{
    struct booking b = session_booking(s);
    enum lab_status st;

    if (s->r->strategy->kind == REPLAY_CHECK_THEN_INSERT)
        st = db_insert_ticket_unchecked(s->db, &b, value);
    else
        st = db_insert_ticket(s->db, &b, value);
    if (st != LAB_OK)
        return failed(s, st);
    if (!s->in_tx) {
        mutex_release(s);
        s->outcome = REPLAY_BOOKED;
    }
    return LAB_OK;
}

/* session_step runs one action on the session's connection. A session
 * whose booking ended (sold out, aborted...) skips the rest
 * (LAB_SOLD_OUT), as the phases do. */
static enum lab_status session_step(struct session *s, enum replay_action action,
                                    long long *value)
{
    enum lab_status st;

    s->ended_now = false;
    if (s->outcome != REPLAY_PENDING)
        return action == REPLAY_COMMIT && !s->r->strategy->transaction ? LAB_OK : LAB_SOLD_OUT;
    switch (action) {
    case REPLAY_READ:
        return session_read(s, value);
    case REPLAY_WRITE:
        return session_write(s, value);
    case REPLAY_INSERT:
        return session_insert(s, value);
    case REPLAY_COMMIT:
        if (!s->in_tx)
            return LAB_OK;         /* phase 2: every statement committed itself */
        s->in_tx = false;
        if ((st = db_commit(s->db)) != LAB_OK)
            return failed(s, st);
        s->outcome = REPLAY_BOOKED;
        return LAB_OK;
    case REPLAY_LOCK:
    case REPLAY_TAKE:
    case REPLAY_CHECK:
        return session_other(s, action, value);
    }
    return LAB_ERR_DB;
}

/* session_main waits for a step, runs it, reports, until told to quit; a
 * transaction still open then (a run cut short) is rolled back. */
void *session_main(void *arg)
{
    struct session *s = arg;
    struct replay *r = s->r;

    pthread_mutex_lock(&r->mu);
    for (;;) {
        enum replay_action action;
        enum lab_status st;
        long long value = 0;

        while (s->state != SESSION_RUNNING && !s->quit)
            pthread_cond_wait(&s->wake, &r->mu);
        if (s->state != SESSION_RUNNING)
            break;
        action = s->action;
        pthread_mutex_unlock(&r->mu);
        st = session_step(s, action, &value);
        pthread_mutex_lock(&r->mu);
        s->st = st;
        s->value = value;
        if (action == REPLAY_INSERT && st == LAB_OK)
            s->ticket_id = value;
        s->state = SESSION_DONE;
        pthread_cond_broadcast(&r->done);
    }
    pthread_mutex_unlock(&r->mu);
    if (s->in_tx)
        db_rollback(s->db);
    mutex_release(s);
    return NULL;
}
