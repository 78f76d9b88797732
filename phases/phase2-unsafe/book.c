/* Phase 2, the crash: read the counter, think, write back what was read
 * minus one, insert the ticket. No lock, no transaction. */
#include "db.h"
#include "service/phase.h"

enum lab_status phase2_book(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    long long seats;
    enum lab_status st;

    if ((st = db_read_seats(c->db, b->event_id, DB_PLAIN, &seats)) != LAB_OK)
        return st;
    if (seats <= 0)
        return LAB_SOLD_OUT;
    /* RACE: from the read above to the write below, every other booking of
     * this event reads the same `seats`, sees a seat, and will write the same
     * `seats - 1`: one decrement survives, every booking inserts a ticket. */
    booking_think(c);
    if ((st = db_write_seats(c->db, b->event_id, seats - 1)) != LAB_OK)
        return st;
    booking_counted(reply, seats, seats - 1);
    if ((st = db_insert_ticket(c->db, b, &reply->ticket_id)) != LAB_OK)
        return st;
    return LAB_BOOKED;
}
