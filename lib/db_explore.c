/* db_explore.c -- the explorer's statements (db_explore.h), beside db.c's
 * and through its db_exec: PQexecParams, text parameters, every result
 * cleared. */
#include "db_explore.h"
#include "db.h"
#include "db_exec.h"

/* db_set_isolation: the level is one of three fixed texts, never a
 * parameter (SET takes no bind parameters); the enum chooses the text. */
enum lab_status db_set_isolation(PGconn *db, enum db_isolation level)
{
    static const char *const sql[] = {
        [DB_READ_COMMITTED] =
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
        [DB_REPEATABLE_READ] =
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        [DB_SERIALIZABLE] =
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    };

    return db_exec(db, sql[level], 0, NULL, PGRES_COMMAND_OK, NULL);
}

/* db_count_user_tickets is the check of check-then-insert: a plain read,
 * so two bookings of one user can both count 0 before either inserts. */
enum lab_status db_count_user_tickets(PGconn *db, long long event_id, long long user_id,
                                      long long *count, long long *limit)
{
    struct db_num ev, us;
    const char *params[] = { db_num(&ev, event_id), db_num(&us, user_id) };
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
    *count = db_value(r, 0);
    *limit = db_value(r, 1);
    PQclear(r);
    return LAB_OK;
}

/* db_insert_ticket_unchecked is db_insert_ticket's INSERT less its count:
 * whatever the caller's own check saw, the row is written. No row means
 * the event is gone or was reset since B was admitted. */
enum lab_status db_insert_ticket_unchecked(PGconn *db, const struct booking *b,
                                           long long *ticket_id)
{
    struct db_num ev, us, gen;
    const char *params[] = { db_num(&ev, b->event_id), db_num(&us, b->user_id), b->request_id,
                             db_num(&gen, b->generation) };
    PGresult *r;
    enum lab_status st;
    long long seats;

    st = db_exec(db,
                 "INSERT INTO tickets (event_id, user_id, request_id, generation) "
                 "SELECT e.id, $2::bigint, $3, e.generation FROM events e "
                 "WHERE e.id = $1::bigint AND ($4::bigint = 0 OR e.generation = $4::bigint) "
                 "RETURNING id",
                 4, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) == 1) {
        *ticket_id = db_value(r, 0);
        PQclear(r);
        return LAB_OK;
    }
    PQclear(r);
    st = db_read_seats(db, b->event_id, DB_PLAIN, &seats);
    return st == LAB_OK ? LAB_STALE : st;
}
