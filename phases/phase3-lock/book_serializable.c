/* Phase 3 with --strategy serializable: phase 2's steps, unchanged and
 * unlocked, in a SERIALIZABLE transaction. PostgreSQL lets the race start
 * and aborts all but one of the racers (SQLSTATE 40001); they run again, at
 * most --retries times. */
#include "db.h"
#include "phase3.h"
#include "service/strategy.h"

/* serializable_attempt is one transaction; a conflict rolls it back. */
static enum lab_status serializable_attempt(struct conns *c, const struct booking *b,
                                            struct booking_reply *reply, bool *conflict)
{
    long long seats;
    enum lab_status st;

    if ((st = db_begin_serializable(c->db)) != LAB_OK)
        return st;
    if ((st = db_read_seats(c->db, b->event_id, DB_PLAIN, &seats)) != LAB_OK)
        goto rollback;
    if (seats <= 0) {
        st = LAB_SOLD_OUT;
        goto rollback;
    }
    /* RACE detected at the write or the commit: whoever commits second after
     * reading the same `seats` gets a serialization failure, not a ticket. */
    booking_think(c);
    booking_counted(reply, seats, seats - 1);   /* told only if it commits */
    if ((st = db_write_seats(c->db, b->event_id, seats - 1)) != LAB_OK ||
        (st = db_insert_ticket(c->db, b, &reply->ticket_id)) != LAB_OK ||
        (st = db_commit(c->db)) != LAB_OK)
        goto rollback;
    return LAB_BOOKED;
rollback:
    *conflict = contention_is_retryable(db_last_conflict());
    db_rollback(c->db);
    return st;
}

enum lab_status phase3_book_serializable(struct conns *c, const struct booking *b,
                                         struct booking_reply *reply)
{
    return retry_booking(c, b, reply, serializable_attempt);
}
