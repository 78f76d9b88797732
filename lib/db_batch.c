/* db_batch.c -- the consumer's batch booking (see db_batch.h).
 *
 * Arrays travel as one text parameter each, in PostgreSQL's array syntax
 * ({"a","b"}), and unnest() turns them back into rows: one statement, one
 * round trip, whatever the batch size. */
#include "db_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "db_exec.h"

/* A growing text buffer for one array literal. */
struct db_array {
    char *s;
    size_t len, cap;
    bool failed;             /* out of memory: the statement is not sent */
};

/* array_add appends ITEM, quoted, to the literal A ({"x","y"}). Request ids
 * and numbers hold no quote or backslash (parse_request_id allows A-Z a-z
 * 0-9 _ -), but any would be escaped. */
static void array_add(struct db_array *a, const char *item)
{
    size_t need = a->len + 2 * strlen(item) + 8;

    if (a->failed)
        return;
    if (need > a->cap) {
        size_t cap = need * 2;
        char *s = realloc(a->s, cap);
        if (!s) {
            a->failed = true;
            return;
        }
        a->s = s;
        a->cap = cap;
    }
    a->s[a->len] = a->len == 0 ? '{' : ',';
    a->len++;
    a->s[a->len++] = '"';
    for (; *item; item++) {
        if (*item == '"' || *item == '\\')
            a->s[a->len++] = '\\';
        a->s[a->len++] = *item;
    }
    a->s[a->len++] = '"';
    a->s[a->len] = '\0';
}

/* array_num appends the number V. */
static void array_num(struct db_array *a, long long v)
{
    struct db_num n;

    array_add(a, db_num(&n, v));
}

/* array_text closes the literal and returns it ("{}" when empty); array_add
 * always leaves room for the closing brace. Called once per array, last. */
static const char *array_text(struct db_array *a)
{
    if (!a->len)
        return "{}";
    if (a->s[a->len - 1] != '}') {
        a->s[a->len++] = '}';
        a->s[a->len] = '\0';
    }
    return a->s;
}

/* mark_decided sets OUT[i] = LAB_DUPLICATE for every request already decided
 * (a ticket, or a decision of its generation or a later one: a request
 * sent again after a reset is not decided by the 'stale' of its first copy)
 * and for the second copy of a request id in the batch in the same
 * generation; the others are left LAB_QUEUED. */
static enum lab_status mark_decided(PGconn *db, const struct booking *b, size_t n,
                                    enum lab_status *out)
{
    struct db_array ids = { 0 }, gens = { 0 };
    const char *params[2];
    PGresult *r;
    enum lab_status st;

    for (size_t i = 0; i < n; i++) {
        out[i] = LAB_QUEUED;
        for (size_t j = 0; j < i; j++)
            if (strcmp(b[i].request_id, b[j].request_id) == 0 &&
                b[i].generation == b[j].generation)
                out[i] = LAB_DUPLICATE;
        array_add(&ids, b[i].request_id);
        array_num(&gens, b[i].generation);
    }
    params[0] = array_text(&ids);
    params[1] = array_text(&gens);
    st = ids.failed || gens.failed
             ? LAB_ERR_DB
             : db_exec(db,
                       "SELECT r, g FROM unnest($1::text[], $2::bigint[]) m(r, g) WHERE "
                       "EXISTS (SELECT 1 FROM tickets t WHERE t.request_id = r) OR "
                       "EXISTS (SELECT 1 FROM decisions d WHERE d.request_id = r "
                       "        AND (g = 0 OR d.generation >= g))",
                       2, params, PGRES_TUPLES_OK, &r);
    free(ids.s);
    free(gens.s);
    if (st != LAB_OK)
        return st;
    for (int row = 0; row < PQntuples(r); row++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(PQgetvalue(r, row, 0), b[i].request_id) == 0 &&
                strtoll(PQgetvalue(r, row, 1), NULL, 10) == b[i].generation)
                out[i] = LAB_DUPLICATE;
    PQclear(r);
    return LAB_OK;
}

enum lab_status db_mark_stale(PGconn *db, const struct booking *b, size_t n,
                              enum lab_status *out)
{
    struct db_array ids = { 0 }, evs = { 0 }, users = { 0 }, gens = { 0 };
    const char *params[4];
    PGresult *r;
    enum lab_status st;
    size_t asked = 0;

    for (size_t i = 0; i < n; i++) {
        if (out[i] != LAB_QUEUED || b[i].generation == 0)
            continue;
        array_add(&ids, b[i].request_id);
        array_num(&evs, b[i].event_id);
        array_num(&users, b[i].user_id);
        array_num(&gens, b[i].generation);
        asked++;
    }
    if (asked == 0)
        return LAB_OK;
    params[0] = array_text(&ids);
    params[1] = array_text(&evs);
    params[2] = array_text(&users);
    params[3] = array_text(&gens);
    /* A sale's generation only grows: a message of an older one is stale
     * whatever happens next, so no lock is needed to say so. */
    st = ids.failed || evs.failed || users.failed || gens.failed
             ? LAB_ERR_DB
             : db_exec(db,
                       "WITH m AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], "
                       "           $4::bigint[]) m(request_id, event_id, user_id, generation)), "
                       "s AS (SELECT m.* FROM m JOIN events e ON e.id = m.event_id "
                       "      WHERE m.generation < e.generation), "
                       "ins AS (INSERT INTO decisions (request_id, event_id, user_id, decision, "
                       "        generation) SELECT request_id, event_id, user_id, 'stale', "
                       "        generation FROM s ON CONFLICT (request_id) DO NOTHING) "
                       "SELECT request_id, generation FROM s",
                       4, params, PGRES_TUPLES_OK, &r);
    free(ids.s), free(evs.s), free(users.s), free(gens.s);
    if (st != LAB_OK)
        return st;
    for (int row = 0; row < PQntuples(r); row++)
        for (size_t i = 0; i < n; i++)
            if (out[i] == LAB_QUEUED && strcmp(PQgetvalue(r, row, 0), b[i].request_id) == 0 &&
                strtoll(PQgetvalue(r, row, 1), NULL, 10) == b[i].generation)
                out[i] = LAB_STALE;
    PQclear(r);
    return LAB_OK;
}

/* cmp_ll orders event ids: rows are locked in ascending id order, so that
 * two transactions never wait for each other's locks in a circle. */
static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

/* The sale's rules for one event, read under its row lock. */
struct batch_event {
    bool found;
    long long seats, generation, per_user_limit;
};

/* lock_event takes EVENT_ID's row lock and reads its counter, generation
 * and per-user limit (found = false: no such event). DB_PLAIN reads them
 * without the lock (the zoo's --without for-update): nothing then stops
 * another transaction from writing the row between this read and the
 * batch's own write. */
static enum lab_status lock_event(PGconn *db, long long event_id, enum db_read_mode mode,
                                  struct batch_event *e)
{
    static const char *const locked = "SELECT available_seats, generation, per_user_limit "
                                      "FROM events WHERE id = $1::bigint FOR UPDATE";
    static const char *const plain = "SELECT available_seats, generation, per_user_limit "
                                     "FROM events WHERE id = $1::bigint";
    long long row[3];
    enum lab_status st;

    st = db_event_numbers(db, mode == DB_FOR_UPDATE ? locked : plain, event_id, row, 3);
    e->found = st == LAB_OK;
    if (e->found) {
        e->seats = row[0];
        e->generation = row[1];
        e->per_user_limit = row[2];
    }
    return st == LAB_NOT_FOUND ? LAB_OK : st;
}

/* tickets_held sets HELD[i], for every undecided request of EVENT_ID, to
 * the tickets its user holds for the event already: the per-user limit's
 * count, made under the row lock as phase 3's INSERT makes it. AGAIN (the
 * planted bug --without dedupe) leaves out the tickets of the batch's own
 * request ids: a request booked before does not count against its user,
 * so that booking it again looks harmless. */
static enum lab_status tickets_held(PGconn *db, long long event_id, const struct booking *b,
                                    size_t n, const enum lab_status *out, long long *held,
                                    bool again)
{
    struct db_array users = { 0 }, ids = { 0 };
    struct db_num id;
    const char *params[3];
    PGresult *r;
    enum lab_status st;

    for (size_t i = 0; i < n; i++) {
        held[i] = 0;
        if (out[i] == LAB_QUEUED && b[i].event_id == event_id) {
            array_num(&users, b[i].user_id);
            if (again)
                array_add(&ids, b[i].request_id);
        }
    }
    params[0] = db_num(&id, event_id);
    params[1] = array_text(&users);
    params[2] = array_text(&ids);
    st = users.failed || ids.failed
             ? LAB_ERR_DB
         : again ? db_exec(db, "SELECT user_id, count(*) FROM tickets WHERE event_id = $1::bigint "
                           "AND user_id = ANY($2::bigint[]) AND request_id <> ALL($3::text[]) "
                           "GROUP BY user_id", 3, params, PGRES_TUPLES_OK, &r)
                 : db_exec(db, "SELECT user_id, count(*) FROM tickets WHERE event_id = $1::bigint "
                           "AND user_id = ANY($2::bigint[]) GROUP BY user_id",
                           2, params, PGRES_TUPLES_OK, &r);
    free(users.s);
    free(ids.s);
    if (st != LAB_OK)
        return st;
    for (int row = 0; row < PQntuples(r); row++) {
        long long user = strtoll(PQgetvalue(r, row, 0), NULL, 10);
        long long count = strtoll(PQgetvalue(r, row, 1), NULL, 10);
        for (size_t i = 0; i < n; i++)
            if (b[i].event_id == event_id && b[i].user_id == user)
                held[i] = count;
    }
    PQclear(r);
    return LAB_OK;
}

/* decide_events locks each event of the batch once, in id order, and
 * decides its undecided requests in the order they came, by phase 3's
 * rules: a request of an earlier generation of the sale (a reset came in
 * between) is stale; with no seat left, sold out; a user at the event's
 * per-user limit, refused for it; else booked. GEN[i] gets the generation
 * each row is written with; MODE is how each event row is read (lock_event). */
static enum lab_status decide_events(PGconn *db, const struct booking *b, size_t n,
                                     enum lab_status *out, long long *gen,
                                     enum db_read_mode mode, bool again)
{
    long long events[DB_BATCH_MAX], held[DB_BATCH_MAX];
    size_t ne = 0;
    enum lab_status st;

    for (size_t i = 0; i < n; i++)
        if (out[i] == LAB_QUEUED)
            events[ne++] = b[i].event_id;
    qsort(events, ne, sizeof events[0], cmp_ll);
    for (size_t k = 0; k < ne; k++) {
        struct batch_event e = { 0 };
        long long left;

        if (k > 0 && events[k] == events[k - 1])
            continue;
        if ((st = lock_event(db, events[k], mode, &e)) != LAB_OK ||
            (e.found && (st = tickets_held(db, events[k], b, n, out, held, again)) != LAB_OK))
            return st;
        left = e.seats;
        for (size_t i = 0; i < n; i++) {
            if (out[i] != LAB_QUEUED || b[i].event_id != events[k])
                continue;
            gen[i] = b[i].generation ? b[i].generation : e.found ? e.generation : 1;
            if (!e.found)
                out[i] = LAB_NOT_FOUND;
            else if (b[i].generation && b[i].generation != e.generation)
                out[i] = LAB_STALE;
            else if (left <= 0)
                out[i] = LAB_SOLD_OUT;
            else if (held[i] >= e.per_user_limit)
                out[i] = LAB_LIMIT;
            else {
                out[i] = LAB_BOOKED;
                left--;
                for (size_t j = 0; j < n; j++)   /* the user holds one more */
                    if (b[j].event_id == b[i].event_id && b[j].user_id == b[i].user_id)
                        held[j]++;
            }
        }
        if (e.found && left != e.seats && (st = db_write_seats(db, events[k], left)) != LAB_OK)
            return st;
    }
    return LAB_OK;
}

/* insert_rows writes every ticket with one INSERT and every refusal with
 * another, each row with its generation GEN[i]. AGAIN (--without dedupe)
 * makes the tickets' INSERT idempotent: a request id booked before is
 * skipped without an error, and the seat its redelivery took stays taken. */
static enum lab_status insert_rows(PGconn *db, const struct booking *b, size_t n,
                                   const enum lab_status *out, const long long *gen, bool again)
{
    struct db_array t_ev = { 0 }, t_us = { 0 }, t_id = { 0 }, t_gen = { 0 };
    struct db_array d_id = { 0 }, d_ev = { 0 }, d_us = { 0 }, d_what = { 0 }, d_gen = { 0 };
    enum lab_status st = LAB_OK;

    for (size_t i = 0; i < n; i++) {
        if (out[i] == LAB_BOOKED) {
            array_num(&t_ev, b[i].event_id);
            array_num(&t_us, b[i].user_id);
            array_add(&t_id, b[i].request_id);
            array_num(&t_gen, gen[i]);
        } else if (out[i] == LAB_SOLD_OUT || out[i] == LAB_NOT_FOUND || out[i] == LAB_LIMIT ||
                   out[i] == LAB_STALE) {
            array_add(&d_id, b[i].request_id);
            array_num(&d_ev, b[i].event_id);
            array_num(&d_us, b[i].user_id);
            array_add(&d_what, out[i] == LAB_NOT_FOUND ? "failed" : lab_status_name(out[i]));
            array_num(&d_gen, gen[i]);
        }
    }
    if (t_ev.failed || t_us.failed || t_id.failed || t_gen.failed || d_id.failed ||
        d_ev.failed || d_us.failed || d_what.failed || d_gen.failed) {
        lab_log("db: batch: out of memory");
        st = LAB_ERR_DB;
    }
    if (st == LAB_OK && t_ev.len) {
        const char *p[] = { array_text(&t_ev), array_text(&t_us), array_text(&t_id),
                            array_text(&t_gen) };
        st = db_exec(db, again
                 ? "INSERT INTO tickets (event_id, user_id, request_id, generation) "
                   "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[]) "
                   "ON CONFLICT (request_id) DO NOTHING"
                 : "INSERT INTO tickets (event_id, user_id, request_id, generation) "
                   "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[])",
                 4, p, PGRES_COMMAND_OK, NULL);
    }
    if (st == LAB_OK && d_id.len) {
        const char *p[] = { array_text(&d_id), array_text(&d_ev), array_text(&d_us),
                            array_text(&d_what), array_text(&d_gen) };
        st = db_exec(db,
                 "INSERT INTO decisions (request_id, event_id, user_id, decision, generation) "
                 "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], "
                 "$5::bigint[]) ON CONFLICT (request_id) DO UPDATE SET "
                 "event_id = EXCLUDED.event_id, user_id = EXCLUDED.user_id, "
                 "decision = EXCLUDED.decision, generation = EXCLUDED.generation, "
                 "decided_at = now() WHERE decisions.generation < EXCLUDED.generation",
                 5, p, PGRES_COMMAND_OK, NULL);
    }
    free(t_ev.s), free(t_us.s), free(t_id.s), free(t_gen.s);
    free(d_id.s), free(d_ev.s), free(d_us.s), free(d_what.s), free(d_gen.s);
    return st;
}

/* db_book_batch_planted: one transaction for the whole batch; any failure
 * rolls all of it back, so a batch is written entirely or not at all.
 * PLANT (NULL: none) is what the zoo switched off (db_batch.h). */
enum lab_status db_book_batch_planted(PGconn *db, const struct booking *b, size_t n,
                                      enum lab_status *out, const struct db_batch_plant *plant)
{
    long long gen[DB_BATCH_MAX];
    enum db_read_mode mode = plant && plant->unlocked ? DB_PLAIN : DB_FOR_UPDATE;
    bool again = plant && plant->again;
    enum lab_status st = LAB_OK;

    if (n == 0)
        return LAB_OK;
    if (n > DB_BATCH_MAX)
        return LAB_ERR_DB;
    for (size_t i = 0; i < n; i++) {
        gen[i] = b[i].generation;
        out[i] = LAB_QUEUED;
    }
    if ((st = db_begin(db)) != LAB_OK)
        return st;
    /* RACE (AGAIN): nothing asks whether a request was decided before, so a
     * redelivered message takes a seat a second time */
    if ((!again && (st = mark_decided(db, b, n, out)) != LAB_OK) ||
        (st = db_mark_stale(db, b, n, out)) != LAB_OK ||
        (st = decide_events(db, b, n, out, gen, mode, again)) != LAB_OK ||
        (st = insert_rows(db, b, n, out, gen, again)) != LAB_OK) {
        db_rollback(db);
        return LAB_ERR_DB;
    }
    return db_commit(db);
}

/* db_book_batch: the safe phases' batch, each event row locked. */
enum lab_status db_book_batch(PGconn *db, const struct booking *b, size_t n,
                              enum lab_status *out)
{
    return db_book_batch_planted(db, b, n, out, NULL);
}

/* ---------------------------------------------------------------------- */
/* Claims of phase 5, many per statement                                   */
/* ---------------------------------------------------------------------- */

/* The statement claims every id of the batch that nobody claimed before
 * (the first copy of an id given twice), for this connection's backend, and
 * reports for each one: claimed (with the sale's generation), or the claim
 * found (read in the statement's snapshot: from before it), or neither: no
 * such event, or a claim that appeared meanwhile (the caller asks again,
 * one by one). */
enum lab_status db_request_claim_many(PGconn *db, struct db_claim *claims, size_t n,
                                      const char *const *queued, size_t n_queued,
                                      const char *const *released, size_t n_released)
{
    struct db_array ids = { 0 }, evs = { 0 }, users = { 0 }, q = { 0 }, d = { 0 };
    const char *params[5];
    PGresult *r;
    enum lab_status st;

    for (size_t i = 0; i < n; i++) {
        array_add(&ids, claims[i].b->request_id);
        array_num(&evs, claims[i].b->event_id);
        array_num(&users, claims[i].b->user_id);
    }
    for (size_t i = 0; i < n_queued; i++)
        array_add(&q, queued[i]);
    for (size_t i = 0; i < n_released; i++)
        array_add(&d, released[i]);
    params[0] = array_text(&ids);
    params[1] = array_text(&evs);
    params[2] = array_text(&users);
    params[3] = array_text(&q);
    params[4] = array_text(&d);
    st = ids.failed || evs.failed || users.failed || q.failed || d.failed
             ? LAB_ERR_DB
             : db_exec_named(db, "lab_claim_many",
                       "WITH q AS (UPDATE requests SET state = 'queued' "
                       "           WHERE request_id = ANY($4::text[]) AND state = 'in_progress'), "
                       "d AS (DELETE FROM requests WHERE request_id = ANY($5::text[]) "
                       "      AND state = 'in_progress'), "
                       "m AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) "
                       "           WITH ORDINALITY m(request_id, event_id, user_id, i)), "
                       "f AS (SELECT DISTINCT ON (request_id) * FROM m ORDER BY request_id, i), "
                       "ins AS (INSERT INTO requests (request_id, event_id, user_id, generation, "
                       "        holder_pid) SELECT f.request_id, f.event_id, f.user_id, "
                       "        e.generation, pg_backend_pid() FROM f JOIN events e "
                       "        ON e.id = f.event_id ON CONFLICT (request_id) DO NOTHING "
                       "        RETURNING request_id, generation) "
                       "SELECT m.i, (ins.request_id IS NOT NULL AND f.i = m.i)::int, "
                       "coalesce(ins.generation, 0), "
                       "EXISTS (SELECT 1 FROM events e WHERE e.id = m.event_id)::int, "
                       "r.event_id, r.user_id, r.ticket_id, r.state, "
                       "CASE WHEN r.state = 'in_progress' THEN " DB_CLAIM_GONE("r")
                       "::int ELSE 0 END "
                       "FROM m JOIN f ON f.request_id = m.request_id "
                       "LEFT JOIN ins ON ins.request_id = m.request_id "
                       "LEFT JOIN requests r ON r.request_id = m.request_id ORDER BY m.i",
                       5, params, PGRES_TUPLES_OK, &r);
    free(ids.s), free(evs.s), free(users.s), free(q.s), free(d.s);
    if (st != LAB_OK)
        return st;
    for (int row = 0; row < PQntuples(r) && (size_t)row < n; row++) {
        struct db_claim *c = &claims[row];

        if (db_row_value(r, row, 1)) {
            c->result = DB_CLAIM_FIRST;
            c->generation = db_row_value(r, row, 2);
        } else if (!PQgetisnull(r, row, 4) && !db_row_value(r, row, 8)) {
            c->result = DB_CLAIM_PRIOR;
            c->prior.event_id = db_row_value(r, row, 4);
            c->prior.user_id = db_row_value(r, row, 5);
            c->prior.ticket_id = db_row_value(r, row, 6);
            snprintf(c->prior.state, sizeof c->prior.state, "%s", PQgetvalue(r, row, 7));
        } else if (!db_row_value(r, row, 3)) {
            c->result = DB_CLAIM_NO_EVENT;
        } else {
            c->result = DB_CLAIM_ASK_AGAIN;   /* a claim in between, or one to resolve */
        }
    }
    PQclear(r);
    return LAB_OK;
}
