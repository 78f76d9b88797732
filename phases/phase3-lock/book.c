/* Phase 3, pessimistic lock: the same steps as phase 2, inside one
 * transaction that holds the event row's lock from the read to the commit. */
#include "db.h"
#include "phase3.h"

enum lab_status phase3_book(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    long long seats;
    enum lab_status st;

    if ((st = db_begin(c->db)) != LAB_OK)
        return st;
    if ((st = db_read_seats(c->db, b->event_id, booking_read_mode(c, DB_FOR_UPDATE),
                            &seats)) != LAB_OK)
        goto rollback;
    if (seats <= 0) {
        st = LAB_SOLD_OUT;
        goto rollback;
    }
    /* RACE closed: FOR UPDATE made every other booking of this event wait at
     * its own read until we commit, so nobody else can read `seats` now. */
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
