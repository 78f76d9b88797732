/* Phase 3 with --strategy advisory: phase 2's steps after taking an advisory
 * lock named by the event id (pg_advisory_xact_lock). The lock is on a
 * number the application chose, not on the row: it protects only the code
 * that takes it, and it lives in the database, where every instance sees it. */
#include "db.h"
#include "phase3.h"

enum lab_status phase3_book_advisory(struct conns *c, const struct booking *b,
                                     struct booking_reply *reply)
{
    long long seats;
    enum lab_status st;

    if ((st = db_begin(c->db)) != LAB_OK)
        return st;
    if ((st = db_advisory_lock(c->db, b->event_id)) != LAB_OK ||
        (st = db_read_seats(c->db, b->event_id, DB_PLAIN, &seats)) != LAB_OK)
        goto rollback;
    if (seats <= 0) {
        st = LAB_SOLD_OUT;
        goto rollback;
    }
    /* RACE closed: every booking of this event waits for the advisory lock
     * above, in every instance, until we commit. */
    booking_think(c);
    if ((st = db_write_seats(c->db, b->event_id, seats - 1)) != LAB_OK)
        goto rollback;
    booking_counted(reply, seats, seats - 1);
    if ((st = db_insert_ticket(c->db, b, &reply->ticket_id)) != LAB_OK)
        goto rollback;
    if ((st = db_commit(c->db)) != LAB_OK)
        return st;
    return LAB_BOOKED;
rollback:
    db_rollback(c->db);
    return st;
}
