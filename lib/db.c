/* db.c -- the lab's SQL, one statement per function.
 *
 * All statements go through db_exec(), which runs PQexecParams with text
 * parameters, checks the result status and logs PostgreSQL's own message on
 * failure. Numbers travel as decimal text: the server casts them ($1::bigint). */
#include "db.h"
#include "db_exec.h"
#include "secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Plumbing                                                                 */
/* ---------------------------------------------------------------------- */

/* db_connect opens one connection. connect_timeout keeps a run from hanging
 * when PostgreSQL is down; the caller decides whether that is fatal. The
 * lab's passfile comes first (secrets.h), so that CONNINFO overrides it. */
PGconn *db_connect(const char *conninfo, char *err, size_t err_len)
{
    const char *passfile = secrets_pg_passfile(conninfo);
    const char *keys[] = { "passfile", "dbname", "connect_timeout", "application_name", NULL };
    const char *vals[] = { passfile ? passfile : "", conninfo, "3", "ticket-race-lab", NULL };
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

/* db_finish judges R, the result of a statement that should end in WANT:
 * LAB_OK, and R handed over in RES when it is not NULL (the caller PQclears
 * it); otherwise R is cleared and a unique violation is LAB_DUPLICATE, a
 * conflict (serialization failure, deadlock, lock not available) is counted
 * rather than logged (the strategies that provoke it retry), anything else
 * logged and LAB_ERR_DB. db_exec and db_exec_named both end here. */
static enum lab_status db_finish(PGconn *db, PGresult *r, ExecStatusType want,
                                 PGresult **res)
{
    if (res)
        *res = NULL;
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

/* db_exec runs SQL with N text parameters, judged by db_finish. */
enum lab_status db_exec(PGconn *db, const char *sql, int n, const char *const *params,
                        ExecStatusType want, PGresult **res)
{
    return db_finish(db, PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0), want, res);
}

/* db_exec_named runs SQL as the prepared statement NAME of this
 * connection: prepared the first time it is missing (a new connection),
 * then planned once, not at every call; judged by db_finish. For
 * statements a thread runs many times a second on its own connection (phase
 * 5's claims). Outside an explicit transaction only: the failed first try
 * would abort one. */
enum lab_status db_exec_named(PGconn *db, const char *name, const char *sql, int n,
                              const char *const *params, ExecStatusType want, PGresult **res)
{
    PGresult *r = PQexecPrepared(db, name, n, params, NULL, NULL, 0);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    if (state && strcmp(state, "26000") == 0) {     /* no such prepared statement */
        PQclear(r);
        r = PQprepare(db, name, sql, n, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            lab_log("db: cannot prepare %s: %s", name, PQerrorMessage(db));
            PQclear(r);
            return LAB_ERR_DB;
        }
        PQclear(r);
        r = PQexecPrepared(db, name, n, params, NULL, NULL, 0);
    }
    return db_finish(db, r, want, res);
}

/* db_value reads a bigint from row 0, column COL of R. */
long long db_value(const PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? 0 : strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

long long db_row_value(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
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

enum lab_status db_event_numbers(PGconn *db, const char *sql, long long event_id,
                                 long long *out, int n)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db, sql, 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    for (int i = 0; i < n; i++)
        out[i] = db_value(r, i);
    PQclear(r);
    return LAB_OK;
}

/* db_read_seats reads the counter. With DB_FOR_UPDATE it also takes the
 * event row's lock, which the transaction keeps until COMMIT or ROLLBACK. */
enum lab_status db_read_seats(PGconn *db, long long event_id, enum db_read_mode mode,
                              long long *seats)
{
    static const char *plain = "SELECT available_seats FROM events WHERE id = $1::bigint";
    static const char *locked =
        "SELECT available_seats FROM events WHERE id = $1::bigint FOR UPDATE";

    return db_event_numbers(db, mode == DB_FOR_UPDATE ? locked : plain, event_id, seats, 1);
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
 * kept from booking twice. The same statement holds the sale's two rules:
 * no row is written when the event was reset since B was admitted
 * (B->generation, 0 for "any": LAB_STALE) or when the user holds
 * events.per_user_limit tickets already (LAB_LIMIT). Under phase 3's row
 * lock both checks are exact; phase 2 runs them unlocked and races past the
 * limit, which is its lesson. */
enum lab_status db_insert_ticket(PGconn *db, const struct booking *b, long long *ticket_id)
{
    struct db_num ev, us, gen;
    const char *params[] = { db_num(&ev, b->event_id), db_num(&us, b->user_id), b->request_id,
                             db_num(&gen, b->generation) };
    PGresult *r;
    enum lab_status st;
    bool stale;

    st = db_exec(db,
                 "INSERT INTO tickets (event_id, user_id, request_id, generation) "
                 "SELECT e.id, $2::bigint, $3, e.generation FROM events e "
                 "WHERE e.id = $1::bigint AND ($4::bigint = 0 OR e.generation = $4::bigint) "
                 "AND (SELECT count(*) FROM tickets t WHERE t.event_id = e.id "
                 "     AND t.user_id = $2::bigint) < e.per_user_limit "
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
    /* Nothing written: which rule said no? */
    st = db_exec(db, "SELECT ($2::bigint <> 0 AND generation <> $2::bigint)::int FROM events "
                 "WHERE id = $1::bigint", 2, (const char *const[]){ params[0], params[3] },
                 PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    stale = db_value(r, 0) != 0;
    PQclear(r);
    return stale ? LAB_STALE : LAB_LIMIT;
}

/* ---------------------------------------------------------------------- */
/* Requests: one claim per request id (docs/architecture.md, idempotency)    */
/* ---------------------------------------------------------------------- */

/* db_request_claim claims B's request id for B's event and user, in the
 * event's current generation (written to B->generation), on behalf of this
 * connection's backend (the claim's holder). When the id was claimed
 * before, *FIRST is false and PRIOR holds the stored claim: its event, user,
 * state and ticket, and for a claim still in progress whether its holder is
 * gone (the backend that took it has ended: its process was killed, or
 * PostgreSQL restarted; or the claim is older than DB_CLAIM_LEASE_S) and the
 * ticket booked under the id, if any. LAB_NOT_FOUND: no such event. */
enum lab_status db_request_claim(PGconn *db, struct booking *b, bool *first,
                                 struct db_request *prior)
{
    struct db_num ev, us;
    const char *params[] = { b->request_id, db_num(&ev, b->event_id), db_num(&us, b->user_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "INSERT INTO requests (request_id, event_id, user_id, generation, holder_pid) "
                 "SELECT $1, e.id, $3::bigint, e.generation, pg_backend_pid() FROM events e "
                 "WHERE e.id = $2::bigint ON CONFLICT (request_id) DO NOTHING "
                 "RETURNING generation",
                 3, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *first = PQntuples(r) == 1;
    if (*first) {
        b->generation = db_value(r, 0);
        PQclear(r);
        return LAB_OK;
    }
    PQclear(r);
    st = db_exec(db, "SELECT r.event_id, r.user_id, r.ticket_id, r.state, "
                 "(r.state = 'in_progress' AND " DB_CLAIM_GONE("r") ")::int, "
                 "coalesce((SELECT t.id FROM tickets t WHERE t.request_id = r.request_id), 0), "
                 "r.holder_pid, r.created_at::text "
                 "FROM requests r WHERE r.request_id = $1", 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LAB_NOT_FOUND;      /* no event to claim it in */
    }
    prior->event_id = db_value(r, 0);
    prior->user_id = db_value(r, 1);
    prior->ticket_id = db_value(r, 2);
    snprintf(prior->state, sizeof prior->state, "%s", PQgetvalue(r, 0, 3));
    prior->orphaned = db_value(r, 4) != 0;
    prior->booked_ticket_id = db_value(r, 5);
    prior->holder_pid = db_value(r, 6);
    snprintf(prior->claimed_at, sizeof prior->claimed_at, "%s", PQgetvalue(r, 0, 7));
    PQclear(r);
    return LAB_OK;
}

/* db_request_sweep settles every claim in progress whose holder is gone
 * (as db_request_claim tells): with a ticket under its id (QUEUED: or a
 * decision, for the asynchronous phase) its answer is stored ('booked', or
 * 'queued': the 202 phase 5 gives); without one it is dropped. Claims
 * locked by a request resolving them are skipped. */
enum lab_status db_request_sweep(PGconn *db, bool queued, long long *answered,
                                 long long *dropped)
{
    const char *params[] = { queued ? "queued" : "booked" };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "WITH o AS (SELECT r.request_id, coalesce(t.id, 0) AS ticket_id, "
                 "  (t.id IS NOT NULL OR ($1 = 'queued' AND EXISTS (SELECT 1 FROM decisions d "
                 "   WHERE d.request_id = r.request_id))) AS found "
                 "  FROM requests r LEFT JOIN tickets t ON t.request_id = r.request_id "
                 "  WHERE r.state = 'in_progress' AND " DB_CLAIM_GONE("r") " "
                 "  FOR UPDATE OF r SKIP LOCKED), "
                 "a AS (UPDATE requests q SET state = $1, ticket_id = CASE WHEN $1 = 'booked' "
                 "      THEN o.ticket_id ELSE 0 END FROM o "
                 "      WHERE q.request_id = o.request_id AND o.found RETURNING 1), "
                 "d AS (DELETE FROM requests q USING o WHERE q.request_id = o.request_id "
                 "      AND NOT o.found RETURNING 1) "
                 "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM d)",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *answered = db_value(r, 0);
    *dropped = db_value(r, 1);
    PQclear(r);
    return LAB_OK;
}

/* db_request_lookup reads REQUEST_ID's claim into STORED (*FOUND). */
enum lab_status db_request_lookup(PGconn *db, const char *request_id, bool *found,
                                  struct db_request *stored)
{
    const char *params[] = { request_id };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db, "SELECT event_id, user_id, ticket_id, state FROM requests "
                 "WHERE request_id = $1", 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *found = PQntuples(r) == 1;
    if (*found) {
        stored->event_id = db_value(r, 0);
        stored->user_id = db_value(r, 1);
        stored->ticket_id = db_value(r, 2);
        snprintf(stored->state, sizeof stored->state, "%s", PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    return LAB_OK;
}

/* db_request_take_over makes this connection's backend the holder of
 * PRIOR, a claim whose holder is gone, if nobody took it over since (the
 * holder and the time are compared): *TAKEN, and B->generation is the
 * sale's. The claim stays in progress: the request runs as if first. */
enum lab_status db_request_take_over(PGconn *db, struct booking *b,
                                     const struct db_request *prior, bool *taken)
{
    struct db_num h;
    const char *params[] = { b->request_id, db_num(&h, prior->holder_pid), prior->claimed_at };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db, "UPDATE requests r SET holder_pid = pg_backend_pid(), created_at = now(), "
                 "generation = e.generation FROM events e WHERE r.request_id = $1 "
                 "AND e.id = r.event_id AND r.state = 'in_progress' "
                 "AND r.holder_pid = $2::integer AND r.created_at::text = $3 "
                 "RETURNING r.generation", 3, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *taken = PQntuples(r) == 1;
    if (*taken)
        b->generation = db_value(r, 0);
    PQclear(r);
    return LAB_OK;
}

/* db_request_finish stores the answer of a claimed request: STATE (a
 * lab_status_name) and the ticket when booked. */
enum lab_status db_request_finish(PGconn *db, const char *request_id, const char *state,
                                  long long ticket_id)
{
    struct db_num t;
    const char *params[] = { request_id, state, db_num(&t, ticket_id) };

    return db_exec(db, "UPDATE requests SET state = $2, ticket_id = $3::bigint "
                   "WHERE request_id = $1", 3, params, PGRES_COMMAND_OK, NULL);
}

/* db_request_release drops a claim whose request got no answer (a backing
 * service failed): a retry may try again. */
enum lab_status db_request_release(PGconn *db, const char *request_id)
{
    const char *params[] = { request_id };

    return db_exec(db, "DELETE FROM requests WHERE request_id = $1 AND state = 'in_progress'",
                   1, params, PGRES_COMMAND_OK, NULL);
}

/* ---------------------------------------------------------------------- */
/* Decisions of the asynchronous phases                                     */
/* ---------------------------------------------------------------------- */

enum lab_status db_record_decision(PGconn *db, const struct booking *b, const char *decision,
                                   bool *recorded)
{
    struct db_num ev, us, gen;
    const char *params[] = { b->request_id, db_num(&ev, b->event_id), db_num(&us, b->user_id),
                             decision, db_num(&gen, b->generation) };
    PGresult *r;
    enum lab_status st;

    /* generation 0 (a message from before generations): the current one; a
     * decision of an earlier generation is recorded as 'stale', whatever it was */
    st = db_exec(db,
                 "INSERT INTO decisions (request_id, event_id, user_id, decision, generation) "
                 "SELECT $1, $2::bigint, $3::bigint, CASE WHEN g.cur <> g.gen THEN 'stale' "
                 "ELSE $4 END, g.gen FROM (SELECT coalesce((SELECT generation FROM events "
                 "WHERE id = $2::bigint), 1) AS cur) c, LATERAL (SELECT c.cur, CASE WHEN "
                 "$5::bigint = 0 THEN c.cur ELSE $5::bigint END AS gen) g "
                 "ON CONFLICT (request_id) DO UPDATE SET event_id = EXCLUDED.event_id, "
                 "user_id = EXCLUDED.user_id, decision = EXCLUDED.decision, "
                 "generation = EXCLUDED.generation, decided_at = now() "
                 "WHERE decisions.generation < EXCLUDED.generation",
                 5, params, PGRES_COMMAND_OK, &r);
    if (st != LAB_OK)
        return st;
    *recorded = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return LAB_OK;
}

/* db_request_outcome: what the database holds as the answer of REQUEST_ID:
 * a ticket (booked, *TICKET_ID), or a decision of the consumer (its stored
 * reason: sold_out, failed = no such event, limit, stale); *FOUND is false
 * when there is neither. */
enum lab_status db_request_outcome(PGconn *db, const char *request_id, bool *found,
                                   enum lab_status *answer, long long *ticket_id)
{
    static const enum lab_status decided[] = { LAB_QUEUED, LAB_SOLD_OUT, LAB_NOT_FOUND,
                                               LAB_LIMIT, LAB_STALE };
    const char *params[] = { request_id };
    PGresult *r;
    enum lab_status st;
    long long d;

    st = db_exec(db,
                 "SELECT coalesce((SELECT id FROM tickets WHERE request_id = $1), 0), "
                 "coalesce((SELECT CASE decision WHEN 'sold_out' THEN 1 WHEN 'failed' THEN 2 "
                 " WHEN 'limit' THEN 3 ELSE 4 END FROM decisions WHERE request_id = $1), 0)",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *ticket_id = db_value(r, 0);
    d = db_value(r, 1);
    PQclear(r);
    *answer = *ticket_id > 0 ? LAB_BOOKED : decided[d >= 0 && d <= 4 ? d : 0];
    *found = *answer != LAB_QUEUED;
    return LAB_OK;
}

/* db_answer_named reads a stored answer: a decision's reason, or "booked". */
static enum lab_status db_answer_named(const char *name)
{
    static const enum lab_status named[] = { LAB_BOOKED, LAB_SOLD_OUT, LAB_LIMIT, LAB_STALE };

    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcmp(name, lab_status_name(named[i])) == 0)
            return named[i];
    return LAB_NOT_FOUND;           /* 'failed': there was no such event */
}

/* db_answers lists the answered requests of EVENT_ID's current sale (its
 * *GENERATION): every ticket, and every decision of the consumer, for the
 * gate phases' claims to be rebuilt after Redis lost them. *OUT is
 * malloc'd (N entries), to free. */
enum lab_status db_answers(PGconn *db, long long event_id, long long *generation,
                           struct db_answer **out, size_t *n)
{
    struct db_num ev;
    const char *params[] = { db_num(&ev, event_id) };
    PGresult *r;
    enum lab_status st;
    int rows;

    *out = NULL;
    *n = 0;
    st = db_exec(db,
                 "SELECT e.generation, x.request_id, x.user_id, x.ticket_id, x.answer "
                 "FROM events e LEFT JOIN LATERAL ("
                 "  SELECT request_id, user_id, id AS ticket_id, 'booked' AS answer "
                 "  FROM tickets WHERE event_id = e.id AND generation = e.generation "
                 "  UNION ALL SELECT request_id, user_id, 0, decision FROM decisions "
                 "  WHERE event_id = e.id AND generation = e.generation) x ON true "
                 "WHERE e.id = $1::bigint",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    rows = PQntuples(r);
    if (rows == 0) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    *generation = db_value(r, 0);
    *out = calloc((size_t)rows, sizeof **out);
    if (!*out) {
        PQclear(r);
        return LAB_ERR_DB;
    }
    for (int i = 0; i < rows; i++) {
        struct db_answer *a = &(*out)[*n];

        if (PQgetisnull(r, i, 1))
            continue;
        snprintf(a->request_id, sizeof a->request_id, "%s", PQgetvalue(r, i, 1));
        a->user_id = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        a->ticket_id = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        a->answer = db_answer_named(PQgetvalue(r, i, 4));
        (*n)++;
    }
    PQclear(r);
    return LAB_OK;
}

/* db_request_decided: the answer already decided for B in its generation
 * of the sale or a later one (a ticket, or a decision), or LAB_QUEUED: a
 * 'stale' decision of an earlier copy of the request, sent before a reset,
 * does not decide a copy sent after it. */
enum lab_status db_request_decided(PGconn *db, const struct booking *b, enum lab_status *answer)
{
    long long ticket_id;
    bool found;
    enum lab_status st;
    struct db_num gen;
    const char *params[] = { b->request_id, db_num(&gen, b->generation) };
    PGresult *r;

    if ((st = db_request_outcome(db, b->request_id, &found, answer, &ticket_id)) != LAB_OK ||
        !found || *answer == LAB_BOOKED || b->generation == 0)
        return st;
    st = db_exec(db, "SELECT count(*) FROM decisions WHERE request_id = $1 "
                 "AND generation >= $2::bigint", 2, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (db_value(r, 0) == 0)
        *answer = LAB_QUEUED;
    PQclear(r);
    return LAB_OK;
}

/* db_result: the stored answer of REQUEST_ID (db_request_outcome), or
 * LAB_QUEUED when the consumer has not got to it yet. */
enum lab_status db_result(PGconn *db, const char *request_id, enum lab_status *result)
{
    long long ticket_id;
    bool found;

    return db_request_outcome(db, request_id, &found, result, &ticket_id);
}

enum lab_status db_count_decided(PGconn *db, long long event_id, long long *decided)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "SELECT (SELECT count(*) FROM tickets WHERE event_id = $1::bigint) + "
                 "(SELECT count(*) FROM decisions d WHERE d.event_id = $1::bigint AND "
                 " d.generation = (SELECT generation FROM events WHERE id = $1::bigint))",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    *decided = db_value(r, 0);
    PQclear(r);
    return LAB_OK;
}

/* db_live_counts reads the live page's figures in one statement, so that
 * the counter and the tickets it is compared with belong to one snapshot:
 * the harness's live page polls it every 150 ms during a run. */
enum lab_status db_live_counts(PGconn *db, long long event_id, struct db_live *out)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;

    st = db_exec(db,
                 "SELECT e.available_seats, e.total_seats, "
                 "(SELECT count(*) FROM tickets t WHERE t.event_id = e.id), "
                 "(SELECT count(*) FROM decisions d WHERE d.event_id = e.id "
                 " AND d.generation = e.generation) "
                 "FROM events e WHERE e.id = $1::bigint",
                 1, params, PGRES_TUPLES_OK, &r);
    if (st != LAB_OK)
        return st;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return LAB_NOT_FOUND;
    }
    out->available = db_value(r, 0);
    out->total_seats = db_value(r, 1);
    out->tickets = db_value(r, 2);
    out->decided = out->tickets + db_value(r, 3);
    PQclear(r);
    return LAB_OK;
}

/* ---------------------------------------------------------------------- */
/* Reset and audit                                                          */
/* ---------------------------------------------------------------------- */

/* db_reset_sale puts the event back on sale with SEATS seats and a limit
 * of PER_USER tickets per user, as a new generation, in one transaction so
 * that an audit never sees it half reset. The event row is written first:
 * that waits for any booking holding its lock (phase 3's FOR UPDATE) to
 * finish, so its ticket is committed and deleted below rather than landing
 * after the reset; a booking that comes later carries the old generation and
 * is refused by db_insert_ticket. *GENERATION gets the new one (may be NULL).
 */
enum lab_status db_reset_sale(PGconn *db, long long event_id, long long seats, int per_user,
                              long long *generation)
{
    struct db_num id, n, pu;
    const char *params[] = { db_num(&id, event_id), db_num(&n, seats),
                             db_num(&pu, per_user > 0 ? per_user : 1) };
    PGresult *r;
    enum lab_status st;

    if ((st = db_begin(db)) != LAB_OK)
        return st;
    if ((st = db_exec(db,
                      "INSERT INTO events (id, name, total_seats, available_seats, "
                      "per_user_limit) VALUES ($1::bigint, 'Event ' || $1, $2::integer, "
                      "$2::integer, $3::integer) "
                      "ON CONFLICT (id) DO UPDATE SET total_seats = EXCLUDED.total_seats, "
                      "available_seats = EXCLUDED.available_seats, "
                      "per_user_limit = EXCLUDED.per_user_limit, "
                      "generation = events.generation + 1 RETURNING generation",
                      3, params, PGRES_TUPLES_OK, &r)) != LAB_OK)
        goto fail;
    if (generation)
        *generation = db_value(r, 0);
    PQclear(r);
    if ((st = db_exec(db, "DELETE FROM tickets WHERE event_id = $1::bigint", 1, params,
                      PGRES_COMMAND_OK, NULL)) != LAB_OK ||
        (st = db_exec(db, "DELETE FROM decisions WHERE event_id = $1::bigint", 1, params,
                      PGRES_COMMAND_OK, NULL)) != LAB_OK ||
        (st = db_exec(db, "DELETE FROM requests WHERE event_id = $1::bigint", 1, params,
                      PGRES_COMMAND_OK, NULL)) != LAB_OK)
        goto fail;
    return db_commit(db);
fail:
    db_rollback(db);
    return st;
}

/* db_reset: db_reset_sale with the default policy, one ticket per user. */
enum lab_status db_reset(PGconn *db, long long event_id, long long seats)
{
    return db_reset_sale(db, event_id, seats, 1, NULL);
}

/* db_audit counts in one statement, so the figures belong to one snapshot. */
enum lab_status db_audit(PGconn *db, long long event_id, struct audit *a)
{
    struct db_num id;
    const char *params[] = { db_num(&id, event_id) };
    PGresult *r;
    enum lab_status st;

    a->gate_known = false;          /* the database's side only: audit_set_gate adds Redis */
    a->cache_drift = 0;
    st = db_exec(db,
                 "SELECT e.total_seats, e.available_seats, "
                 "(SELECT count(*) FROM tickets t WHERE t.event_id = e.id), "
                 "(SELECT count(*) FROM (SELECT user_id FROM tickets t WHERE t.event_id = e.id "
                 " GROUP BY user_id HAVING count(*) > e.per_user_limit) d), "
                 "e.per_user_limit, "
                 "(SELECT count(*) FROM tickets t WHERE t.event_id = e.id "
                 " AND t.generation <> e.generation), "
                 "(SELECT count(*) FROM decisions d WHERE d.event_id = e.id "
                 " AND d.generation <> e.generation AND d.decision <> 'stale') "
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
    a->per_user_limit = db_value(r, 4);
    a->other_runs = db_value(r, 5) + db_value(r, 6);
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

