/* db_strategy.c -- the statements of phase 3's other strategies (atomic,
 * optimistic, serializable, advisory, and the zoo's planted
 * check-then-insert), beside db.c's and through its db_exec: PQexecParams,
 * text parameters, every result cleared. */
#include "db.h"
#include "db_exec.h"

#include <string.h>

/* db_take_seat decrements only when a seat is left, and says whether it did
 * by the row it returns: the check and the write are one statement, so no
 * other booking can come between them. An absent event and a sold-out one
 * both return no row; a second look tells them apart. */
enum lab_status db_take_seat(PGconn *db, long long event_id)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;
    long long seats;
    int rows;

    st = db_exec(db,
                 "UPDATE events SET available_seats = available_seats - 1 "
                 "WHERE id = $1::bigint AND available_seats > 0 RETURNING available_seats",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    rows = PQntuples(r);
    PQclear(r);
    if (rows == 1)
        return LAB_OK;
    st = db_read_seats(db, event_id, DB_PLAIN, &seats);
    return st == LAB_OK ? LAB_SOLD_OUT : st;
}

/* db_read_versioned: the optimistic read, counter and version together. */
enum lab_status db_read_versioned(PGconn *db, long long event_id, long long *seats,
                                  long long *version)
{
    long long row[2];
    enum lab_status st;

    st = db_event_numbers(db, "SELECT available_seats, version FROM events WHERE id = $1::bigint",
                          event_id, row, 2);
    if (st == LAB_OK) {
        *seats = row[0];
        *version = row[1];
    }
    return st;
}

/* db_write_if_version is the compare-and-set: the WHERE clause checks that
 * nobody wrote the row since it was read; an UPDATE of no row means someone
 * did, and the caller reads again. */
enum lab_status db_write_if_version(PGconn *db, long long event_id, long long version,
                                    long long seats, bool *won)
{
    struct db_num id, v, n;
    const char *params[] = { db_num(&id, event_id), db_num(&v, version), db_num(&n, seats) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "UPDATE events SET available_seats = $3::integer, version = version + 1 "
                 "WHERE id = $1::bigint AND version = $2::bigint",
                 3, params, PGRES_COMMAND_OK, &r);
    if (st != LAB_OK)
        return st;
    *won = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return LAB_OK;
}

/* db_begin_serializable: PostgreSQL's SERIALIZABLE (serializable snapshot
 * isolation) lets the racers run and aborts all but one of them with 40001. */
enum lab_status db_begin_serializable(PGconn *db)
{
    return db_exec(db, "BEGIN ISOLATION LEVEL SERIALIZABLE", 0, NULL, PGRES_COMMAND_OK, NULL);
}

/* db_advisory_lock: a lock on a number, not on a row; the event id is the
 * number. It is released at COMMIT or ROLLBACK. */
enum lab_status db_advisory_lock(PGconn *db, long long event_id)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };

    return db_exec(db, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, PGRES_TUPLES_OK,
                   NULL);
}

/* db_count_user_tickets reads, in a statement of its own, how many tickets
 * B's user holds for B's event and the event's per-user limit: the zoo's
 * check-then-insert strategy asks this before it takes the row lock, so the
 * answer can be out of date by the time its ticket is written. */
enum lab_status db_count_user_tickets(PGconn *db, const struct booking *b, long long *held,
                                      long long *limit)
{
    struct db_num ev, us;
    const char *params[] = { db_num(&ev, b->event_id), db_num(&us, b->user_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "SELECT (SELECT count(*) FROM tickets t WHERE t.event_id = e.id "
                 "        AND t.user_id = $2::bigint), e.per_user_limit "
                 "FROM events e WHERE e.id = $1::bigint",
                 2, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    *held = db_value(r, 0);
    *limit = db_value(r, 1);
    PQclear(r);
    return LAB_OK;
}

/* db_insert_ticket_unchecked writes the sold seat as db_insert_ticket does
 * (the unique request id, the sale's generation: LAB_STALE) but without the
 * per-user limit in the statement: the check-then-insert strategy trusts
 * the count it made before (db_count_user_tickets). LAB_NOT_FOUND: no such
 * event. */
enum lab_status db_insert_ticket_unchecked(PGconn *db, const struct booking *b,
                                           long long *ticket_id)
{
    struct db_num ev, us, gen;
    const char *params[] = { db_num(&ev, b->event_id), db_num(&us, b->user_id), b->request_id,
                             db_num(&gen, b->generation) };
    PGresult *r;
    enum lab_status st;
    long long seats;
    int rows;

    st = db_exec(db,
                 "INSERT INTO tickets (event_id, user_id, request_id, generation) "
                 "SELECT e.id, $2::bigint, $3, e.generation FROM events e "
                 "WHERE e.id = $1::bigint AND ($4::bigint = 0 OR e.generation = $4::bigint) "
                 "RETURNING id",
                 4, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    rows = PQntuples(r);
    if (rows == 1)
        *ticket_id = db_value(r, 0);
    PQclear(r);
    if (rows == 1)
        return LAB_OK;
    /* Nothing written: the event is gone, or it was reset since. */
    st = db_read_seats(db, b->event_id, DB_PLAIN, &seats);
    return st == LAB_OK ? LAB_STALE : st;
}
