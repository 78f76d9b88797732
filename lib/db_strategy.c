/* db_strategy.c -- the statements of phase 3's other strategies (atomic,
 * optimistic, serializable, advisory), beside db.c's and through its
 * db_exec: PQexecParams, text parameters, every result cleared. */
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
