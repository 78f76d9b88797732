/* Phase 3, pessimistic lock: the same steps as phase 2, inside one
 * transaction that holds the event row's lock from the read to the commit. */
#include "db.h"
#include "phase3.h"

/* phase3_read_mode is how phase 3's transaction reads the event row: FOR
 * UPDATE, or a plain read when the service runs --without for-update (a
 * planted bug of the zoo, docs/zoo.md). Phases 5 and 6 ask it for their
 * consumer's batch too, so that the flag means the same everywhere. */
enum db_read_mode phase3_read_mode(const struct conns *c)
{
    return safeguard_off(c->svc->cfg, SAFEGUARD_FOR_UPDATE) ? DB_PLAIN : DB_FOR_UPDATE;
}

/* phase3_batch_plant: the batch's own switches, read from the service's
 * --without (a struct, so that the consumer's call stays one line). */
struct db_batch_plant phase3_batch_plant(const struct conns *c)
{
    return (struct db_batch_plant){
        .unlocked = safeguard_off(c->svc->cfg, SAFEGUARD_FOR_UPDATE),
        .again = safeguard_off(c->svc->cfg, SAFEGUARD_DEDUPE),
    };
}

enum lab_status phase3_book(struct conns *c, const struct booking *b,
                            struct booking_reply *reply)
{
    long long seats;
    enum lab_status st;

    if ((st = db_begin(c->db)) != LAB_OK)
        return st;
    if ((st = db_read_seats(c->db, b->event_id, phase3_read_mode(c), &seats)) != LAB_OK)
        goto rollback;
    if (seats <= 0) {
        st = LAB_SOLD_OUT;
        goto rollback;
    }
    /* RACE closed: FOR UPDATE made every other booking of this event wait at
     * its own read until we commit, so nobody else can read `seats` now.
     * (--without for-update: a plain read, and the race is phase 2's again:
     * the UPDATE below waits for the row, then writes a count read before.) */
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
