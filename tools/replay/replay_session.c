/* replay_session.c -- a replay session: one thread, one PostgreSQL
 * connection, running one booking step at a time with the phases' own
 * statements (db_read_seats, db_write_seats, db_insert_ticket, db_begin,
 * db_commit). */
#include "replay_core.h"

#include <stdio.h>

#include "booking.h"
#include "db.h"

/* ------------------------------------------------------------------------
 * A session: one thread running the phases' statements
 * --------------------------------------------------------------------- */

/* session_read is the first step: phase 2 reads the counter plainly, phase
 * 3 opens a transaction and takes the row lock with the read, exactly as
 * phase3_book does; a sold-out read in phase 3 rolls back at once. */
static enum lab_status session_read(struct session *s, long long *value)
{
    const struct replay_config *cfg = s->r->cfg;
    enum lab_status st;

    if (cfg->phase == 3) {
        if ((st = db_begin(s->db)) != LAB_OK)
            return st;
        s->in_tx = true;
    }
    st = db_read_seats(s->db, cfg->event_id, cfg->phase == 3 ? DB_FOR_UPDATE : DB_PLAIN,
                       &s->seats_read);
    if (st == LAB_OK && s->seats_read <= 0) {
        s->sold_out = true;
        st = LAB_SOLD_OUT;
    }
    if (st != LAB_OK && s->in_tx) {
        db_rollback(s->db);
        s->in_tx = false;
    }
    *value = s->seats_read;
    return st == LAB_SOLD_OUT ? LAB_OK : st;
}

/* session_step runs one action on the session's connection. A session that
 * read 0 skips its write and insert (LAB_SOLD_OUT), as the phases do. */
static enum lab_status session_step(struct session *s, enum replay_action action,
                                    long long *value)
{
    const struct replay_config *cfg = s->r->cfg;
    struct booking b = { .event_id = cfg->event_id, .user_id = s->index + 1 };
    enum lab_status st = LAB_OK;

    if (action == REPLAY_READ)
        return session_read(s, value);
    if (s->sold_out)
        return LAB_SOLD_OUT;
    switch (action) {
    case REPLAY_WRITE:
        *value = s->seats_read - 1;
        st = db_write_seats(s->db, cfg->event_id, *value);
        break;
    case REPLAY_INSERT:
        snprintf(b.request_id, sizeof b.request_id, "replay-%lld-%c", cfg->event_id,
                 replay_session_name(s->index));
        st = db_insert_ticket(s->db, &b, value);
        break;
    case REPLAY_COMMIT:
        if (!s->in_tx)
            return LAB_OK;         /* phase 2: every statement committed itself */
        s->in_tx = false;
        return db_commit(s->db);
    case REPLAY_READ:
        break;
    }
    if (st != LAB_OK && s->in_tx) {
        db_rollback(s->db);
        s->in_tx = false;
    }
    return st;
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
        s->state = SESSION_DONE;
        pthread_cond_broadcast(&r->done);
    }
    pthread_mutex_unlock(&r->mu);
    if (s->in_tx)
        db_rollback(s->db);
    return NULL;
}

