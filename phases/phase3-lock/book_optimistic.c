/* Phase 3 with --strategy optimistic: read without a lock, think, then
 * write only if nobody wrote since (a version column, compare-and-set);
 * otherwise read again, at most --retries times. */
#include "db.h"
#include "phase3.h"
#include "service/strategy.h"

/* optimistic_write is the compare-and-set of SEATS (the count to write)
 * against VERSION, then the ticket, in one transaction; *CONFLICT when the
 * version had moved on (nothing written). */
static enum lab_status optimistic_write(struct conns *c, const struct booking *b,
                                        struct booking_reply *reply, long long version,
                                        long long seats, bool *conflict)
{
    bool won = false;
    enum lab_status st;

    if ((st = db_begin(c->db)) != LAB_OK)
        return st;
    if ((st = db_write_if_version(c->db, b->event_id, version, seats, &won)) != LAB_OK)
        goto rollback;
    if (!won) {
        *conflict = true;
        st = LAB_ERR_DB;
        goto rollback;
    }
    booking_counted(reply, seats + 1, seats);   /* both callers read seats + 1 */
    if ((st = db_insert_ticket(c->db, b, &reply->ticket_id)) != LAB_OK)
        goto rollback;
    if ((st = db_commit(c->db)) != LAB_OK)
        return st;
    return LAB_BOOKED;
rollback:
    db_rollback(c->db);
    return st;
}

/* optimistic_attempt is one read-think-compare-and-set. */
static enum lab_status optimistic_attempt(struct conns *c, const struct booking *b,
                                          struct booking_reply *reply, bool *conflict)
{
    long long seats, version;
    enum lab_status st;

    if ((st = db_read_versioned(c->db, b->event_id, &seats, &version)) != LAB_OK)
        return st;
    if (seats <= 0)
        return LAB_SOLD_OUT;
    /* RACE detected, not prevented: others read the same version now; the
     * first to write bumps it, and every other write below finds no row. */
    booking_think(c);
    return optimistic_write(c, b, reply, version, seats - 1, conflict);
}

/* optimistic_stale_retry is the zoo's planted bug (--without reread,
 * docs/zoo.md): a lost compare-and-set is retried with the version read
 * again but the seat count of the first read kept, the classic "retry the
 * CAS with a fresh version and a stale value". Each retry that wins writes
 * a count others have already decremented: their decrements are lost. */
static enum lab_status optimistic_stale_retry(struct conns *c, const struct booking *b,
                                              struct booking_reply *reply)
{
    long long seats, version, ignored;
    enum lab_status st;

    if ((st = db_read_versioned(c->db, b->event_id, &seats, &version)) != LAB_OK)
        return st;
    if (seats <= 0)
        return LAB_SOLD_OUT;
    booking_think(c);
    for (int i = 0;; i++) {
        bool conflict = false;

        st = optimistic_write(c, b, reply, version, seats - 1, &conflict);
        if (!conflict)
            return st;
        if (i >= c->svc->cfg->retries) {
            contention_note_gave_up();
            return LAB_ERR_CONFLICT;
        }
        contention_note_retry();
        /* RACE planted: the version is current again, `seats` is not: the
         * compare-and-set now checks a number that no longer guards it. */
        if ((st = db_read_versioned(c->db, b->event_id, &ignored, &version)) != LAB_OK)
            return st;
    }
}

enum lab_status phase3_book_optimistic(struct conns *c, const struct booking *b,
                                       struct booking_reply *reply)
{
    if (safeguard_off(c->svc->cfg, SAFEGUARD_REREAD))
        return optimistic_stale_retry(c, b, reply);
    return retry_booking(c, b, reply, optimistic_attempt);
}
