/* Phase 3 with --strategy atomic: no read at all. One conditional UPDATE
 * takes the seat if one is left; the database checks and writes in one
 * statement, so there is nothing between the two for a race to use. */
#include "db.h"
#include "phase3.h"

enum lab_status phase3_book_atomic(struct conns *c, const struct booking *b,
                                   struct booking_reply *reply)
{
    enum lab_status st;

    if ((st = db_begin(c->db)) != LAB_OK)
        return st;
    /* RACE closed: "available_seats > 0" and "- 1" are one statement; the
     * row stays locked by it until we commit the ticket with it. */
    if ((st = db_take_seat(c->db, b->event_id)) != LAB_OK)
        goto rollback;
    booking_think(c);
    if ((st = db_insert_ticket(c->db, b, &reply->ticket_id)) != LAB_OK)
        goto rollback;
    if ((st = db_commit(c->db)) != LAB_OK)
        return st;
    return LAB_BOOKED;
rollback:
    db_rollback(c->db);
    return st;
}
