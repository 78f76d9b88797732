/* Phase 3 with --strategy optimistic: read without a lock, think, then
 * write only if nobody wrote since (a version column, compare-and-set);
 * otherwise read again, at most --retries times. */
#include "db.h"
#include "phase3.h"
#include "service/strategy.h"

/* optimistic_attempt is one read-think-compare-and-set. */
static enum lab_status optimistic_attempt(struct conns *c, const struct booking *b,
                                          struct booking_reply *reply, bool *conflict)
{
    long long seats, version;
    bool won = false;
    enum lab_status st;

    if ((st = db_read_versioned(c->db, b->event_id, &seats, &version)) != LAB_OK)
        return st;
    if (seats <= 0)
        return LAB_SOLD_OUT;
    /* RACE detected, not prevented: others read the same version now; the
     * first to write bumps it, and every other write below finds no row. */
    booking_think(c);
    if ((st = db_begin(c->db)) != LAB_OK)
        return st;
    if ((st = db_write_if_version(c->db, b->event_id, version, seats - 1, &won)) != LAB_OK)
        goto rollback;
    if (!won) {
        *conflict = true;
        st = LAB_ERR_DB;
        goto rollback;
    }
    if ((st = db_insert_ticket(c->db, b, &reply->ticket_id)) != LAB_OK)
        goto rollback;
    if ((st = db_commit(c->db)) != LAB_OK)
        return st;
    return LAB_BOOKED;
rollback:
    db_rollback(c->db);
    return st;
}

enum lab_status phase3_book_optimistic(struct conns *c, const struct booking *b,
                                       struct booking_reply *reply)
{
    return retry_booking(c, b, reply, optimistic_attempt);
}
