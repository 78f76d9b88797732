/* db.c -- the lab's SQL, one statement per function.
 *
 * All statements go through db_exec(), which runs PQexecParams with text
 * parameters, checks the result status and logs PostgreSQL's own message on
 * failure. Numbers travel as decimal text: the server casts them ($1::bigint). */
#include "db.h"
#include "db_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Plumbing                                                                 */
/* ---------------------------------------------------------------------- */

/* db_connect opens one connection. connect_timeout keeps a run from hanging
 * when PostgreSQL is down; the caller decides whether that is fatal. */
PGconn *db_connect(const char *conninfo, char *err, size_t err_len)
{
    const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *vals[] = { conninfo, "3", "ticket-race-lab", NULL };
    PGconn *db = PQconnectdbParams(keys, vals, 1);

    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(err, err_len, "%s", db ? PQerrorMessage(db) : "out of memory");
        err[strcspn(err, "\n")] = '\0';
        PQfinish(db);
        return NULL;
    }
    return db;
}

/* The conflict class of this thread's last failed statement (contention.h). */
static _Thread_local enum contention_class db_conflict;

/* db_last_conflict lets a strategy ask why its statement failed without
 * db_exec's callers all passing the SQLSTATE up: per thread, like the PGconn. */
enum contention_class db_last_conflict(void)
{
    return db_conflict;
}

/* db_exec runs SQL with N text parameters. On success it returns LAB_OK and,
 * if RES is not NULL, hands the result over (the caller PQclears it). A
 * conflict (serialization failure, deadlock, lock not available) is counted
 * rather than logged: the strategies that provoke it retry. */
enum lab_status db_exec(PGconn *db, const char *sql, int n, const char *const *params,
                        ExecStatusType want, PGresult **res)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);

    db_conflict = CONTENTION_NONE;
    if (PQresultStatus(r) != want) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        enum lab_status st = state && strcmp(state, "23505") == 0 ? LAB_DUPLICATE : LAB_ERR_DB;
        db_conflict = contention_classify(state);
        contention_note(db_conflict);
        if (st == LAB_ERR_DB && db_conflict == CONTENTION_NONE) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", PQerrorMessage(db));
            msg[strcspn(msg, "\n")] = '\0';
            lab_log("db: %s", msg);
        }
        PQclear(r);
        return st;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return LAB_OK;
}

/* db_value reads a bigint from row 0, column COL of R. */
long long db_value(const PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? 0 : strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

const char *db_num(struct db_num *n, long long v)
{
    snprintf(n->s, sizeof n->s, "%lld", v);
    return n->s;
}

enum lab_status db_begin(PGconn *db)
{
    return db_exec(db, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL);
}

enum lab_status db_commit(PGconn *db)
{
    return db_exec(db, "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL);
}

/* db_rollback is called on a path that already failed: its own failure
 * (a dead connection) changes nothing for the caller. */
void db_rollback(PGconn *db)
{
    db_exec(db, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK, NULL);
}

/* ---------------------------------------------------------------------- */
/* The booking steps                                                        */
/* ---------------------------------------------------------------------- */

/* db_read_seats reads the counter. With DB_FOR_UPDATE it also takes the
 * event row's lock, which the transaction keeps until COMMIT or ROLLBACK. */
enum lab_status db_read_seats(PGconn *db, long long event_id, enum db_read_mode mode,
                              long long *seats)
{
    static const char *plain = "SELECT available_seats FROM events WHERE id = $1::bigint";
    static const char *locked =
        "SELECT available_seats FROM events WHERE id = $1::bigint FOR UPDATE";
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db, mode == DB_FOR_UPDATE ? locked : plain, 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    *seats = db_value(r, 0);
    PQclear(r);
    return LAB_OK;
}

/* db_write_seats writes an absolute value: whatever the caller computed from
 * what it read. That is the read-modify-write of phase 2, and the reason a
 * concurrent booking's decrement can be overwritten (a lost update). */
enum lab_status db_write_seats(PGconn *db, long long event_id, long long seats)
{
    struct db_num id, n;
    const char *params[] = { db_num(&id, event_id), db_num(&n, seats) };

    return db_exec(db, "UPDATE events SET available_seats = $2::integer WHERE id = $1::bigint",
                   2, params, PGRES_COMMAND_OK, NULL);
}

/* db_insert_ticket writes the sold seat. A request id already booked gives
 * LAB_DUPLICATE (unique index), which is how a redelivered Kafka message is
 * kept from booking twice. */
enum lab_status db_insert_ticket(PGconn *db, const struct booking *b, long long *ticket_id)
{
    struct db_num ev, us;
    const char *params[] = { db_num(&ev, b->event_id), db_num(&us, b->user_id), b->request_id };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "INSERT INTO tickets (event_id, user_id, request_id) "
                 "VALUES ($1::bigint, $2::bigint, $3) RETURNING id",
                 3, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *ticket_id = db_value(r, 0);
    PQclear(r);
    return LAB_OK;
}

/* ---------------------------------------------------------------------- */
/* Decisions of the asynchronous phases                                     */
/* ---------------------------------------------------------------------- */

enum lab_status db_record_decision(PGconn *db, const struct booking *b, const char *decision,
                                   bool *recorded)
{
    struct db_num ev, us;
    const char *params[] = { b->request_id, db_num(&ev, b->event_id), db_num(&us, b->user_id),
                             decision };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "INSERT INTO decisions (request_id, event_id, user_id, decision) "
                 "VALUES ($1, $2::bigint, $3::bigint, $4) ON CONFLICT (request_id) DO NOTHING",
                 4, params, PGRES_COMMAND_OK, &r);
    if (st != LAB_OK)
        return st;
    *recorded = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return LAB_OK;
}

/* db_result: a ticket row means booked, a decision row means turned down,
 * neither means the consumer has not got to it yet. */
enum lab_status db_result(PGconn *db, const char *request_id, enum lab_status *result)
{
    const char *params[] = { request_id };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "SELECT (SELECT count(*) FROM tickets WHERE request_id = $1), "
                 "(SELECT count(*) FROM decisions WHERE request_id = $1)",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *result = db_value(r, 0) ? LAB_BOOKED : db_value(r, 1) ? LAB_SOLD_OUT : LAB_QUEUED;
    PQclear(r);
    return LAB_OK;
}

enum lab_status db_count_decided(PGconn *db, long long event_id, long long *decided)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "SELECT (SELECT count(*) FROM tickets WHERE event_id = $1::bigint) + "
                 "(SELECT count(*) FROM decisions WHERE event_id = $1::bigint)",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *decided = db_value(r, 0);
    PQclear(r);
    return LAB_OK;
}

/* ---------------------------------------------------------------------- */
/* Reset and audit                                                          */
/* ---------------------------------------------------------------------- */

/* db_reset puts the event back on sale with SEATS seats, in one transaction
 * so that an audit never sees it half reset. */
enum lab_status db_reset(PGconn *db, long long event_id, long long seats)
{
    struct db_num id, n;
    const char *params[] = { db_num(&id, event_id), db_num(&n, seats) };
    enum lab_status st;

    if ((st = db_begin(db)) != LAB_OK)
        return st;
    if ((st = db_exec(db, "DELETE FROM tickets WHERE event_id = $1::bigint", 1, params,
                      PGRES_COMMAND_OK, NULL)) != LAB_OK ||
        (st = db_exec(db, "DELETE FROM decisions WHERE event_id = $1::bigint", 1, params,
                      PGRES_COMMAND_OK, NULL)) != LAB_OK ||
        (st = db_exec(db,
                      "INSERT INTO events (id, name, total_seats, available_seats) "
                      "VALUES ($1::bigint, 'Event ' || $1, $2::integer, $2::integer) "
                      "ON CONFLICT (id) DO UPDATE SET total_seats = EXCLUDED.total_seats, "
                      "available_seats = EXCLUDED.available_seats",
                      2, params, PGRES_COMMAND_OK, NULL)) != LAB_OK) {
        db_rollback(db);
        return st;
    }
    return db_commit(db);
}

/* db_audit counts in one statement, so the figures belong to one snapshot. */
enum lab_status db_audit(PGconn *db, long long event_id, struct audit *a)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "SELECT e.total_seats, e.available_seats, "
                 "(SELECT count(*) FROM tickets t WHERE t.event_id = e.id), "
                 "(SELECT count(*) FROM (SELECT user_id FROM tickets t WHERE t.event_id = e.id "
                 " GROUP BY user_id HAVING count(*) > 1) d) "
                 "FROM events e WHERE e.id = $1::bigint",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    a->total_seats = db_value(r, 0);
    a->available = db_value(r, 1);
    a->sold = db_value(r, 2);
    a->duplicate_users = db_value(r, 3);
    PQclear(r);
    audit_compute(a);
    return LAB_OK;
}

/* ---------------------------------------------------------------------- */
/* The replay's observer                                                    */
/* ---------------------------------------------------------------------- */

/* db_read_event lists the counter and the ticket rows in one statement, so
 * that a timeline line never mixes two moments. The LEFT JOIN keeps the
 * event's row when it has no ticket yet (then t.id is NULL). Being a plain
 * read on its own connection, it sees committed rows only: that is the point
 * of the observer, it shows what every other client would see. */
enum lab_status db_read_event(PGconn *db, long long event_id, long long *seats,
                              struct db_ticket *tickets, size_t max, size_t *count)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;
    size_t n = 0;

    st = db_exec(db,
                 "SELECT e.available_seats, t.id, t.user_id FROM events e "
                 "LEFT JOIN tickets t ON t.event_id = e.id "
                 "WHERE e.id = $1::bigint ORDER BY t.id",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    *seats = db_value(r, 0);
    for (int row = 0; row < PQntuples(r); row++) {
        if (PQgetisnull(r, row, 1))
            continue;
        if (n < max) {
            tickets[n].id = strtoll(PQgetvalue(r, row, 1), NULL, 10);
            tickets[n].user_id = strtoll(PQgetvalue(r, row, 2), NULL, 10);
        }
        n++;
    }
    *count = n;
    PQclear(r);
    return LAB_OK;
}

/* db_blocking_pids is how the replay tells "still running" from "waiting for
 * a lock" without guessing from time: PostgreSQL's own lock manager answers,
 * one row per backend that PID waits for. */
enum lab_status db_blocking_pids(PGconn *db, int pid, int *pids, size_t max, size_t *count)
{
    struct db_num p;
    const char *params[] = { db_num(&p, pid) };
    PGresult *r;
    enum lab_status st;
    size_t n = 0;

    st = db_exec(db, "SELECT unnest(pg_blocking_pids($1::integer))", 1, params,
                 PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    for (int row = 0; row < PQntuples(r); row++) {
        if (n < max)
            pids[n] = (int)strtol(PQgetvalue(r, row, 0), NULL, 10);
        n++;
    }
    *count = n;
    PQclear(r);
    return LAB_OK;
}
