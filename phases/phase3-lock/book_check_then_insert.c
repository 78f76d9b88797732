/* Phase 3 with --strategy check-then-insert: a planted bug of the zoo
 * (docs/zoo.md), never a lab result. The per-user limit is checked the way
 * it is often written by hand: count the user's tickets with a SELECT of
 * its own, outside any lock, then book under phase 3's row lock and insert
 * the ticket with no limit in the INSERT, all at READ COMMITTED. The seats
 * stay exact (the row lock guards them); the limit does not: two clicks of
 * one user at once both count 0 and both get a ticket. */
#include "db.h"
#include "phase3.h"

enum lab_status phase3_book_check_then_insert(struct conns *c, const struct booking *b,
                                              struct booking_reply *reply)
{
    long long held, limit, seats;
    enum lab_status st;

    if ((st = db_count_user_tickets(c->db, b, &held, &limit)) != LAB_OK)
        return st;
    if (held >= limit)
        return LAB_LIMIT;
    /* RACE planted: the count above is already history; another click of
     * the same user may be booking now, and nothing below counts again. */
    if ((st = db_begin(c->db)) != LAB_OK)
        return st;
    if ((st = db_read_seats(c->db, b->event_id, DB_FOR_UPDATE, &seats)) != LAB_OK)
        goto rollback;
    if (seats <= 0) {
        st = LAB_SOLD_OUT;
        goto rollback;
    }
    booking_think(c);
    booking_counted(reply, seats, seats - 1);   /* told only if it commits */
    if ((st = db_write_seats(c->db, b->event_id, seats - 1)) != LAB_OK ||
        (st = db_insert_ticket_unchecked(c->db, b, &reply->ticket_id)) != LAB_OK ||
        (st = db_commit(c->db)) != LAB_OK)
        goto rollback;
    return LAB_BOOKED;
rollback:
    db_rollback(c->db);
    return st;
}
