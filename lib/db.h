/* db.h -- every SQL statement of the lab, each behind one small function.
 *
 * Each thread owns its PGconn (libpq connections are not to be shared
 * between threads). Every statement goes through PQexecParams, every result
 * is checked and cleared. A function returns LAB_OK or LAB_ERR_DB (logged
 * once, with PostgreSQL's message), never exits. */
#ifndef LAB_DB_H
#define LAB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>
#include "lab.h"
#include "audit.h"
#include "booking.h"
#include "contention.h"

/* db_connect opens a connection or returns NULL with the reason in ERR. */
PGconn *db_connect(const char *conninfo, char *err, size_t err_len);

/* How db_read_seats reads the counter: a plain read, or one that takes the
 * row lock until the transaction ends (SELECT ... FOR UPDATE). */
enum db_read_mode { DB_PLAIN, DB_FOR_UPDATE };

enum lab_status db_begin(PGconn *db);
enum lab_status db_commit(PGconn *db);
void db_rollback(PGconn *db);

/* The booking steps, shared by every phase and by the replay. */
enum lab_status db_read_seats(PGconn *db, long long event_id, enum db_read_mode mode,
                              long long *seats);
enum lab_status db_write_seats(PGconn *db, long long event_id, long long seats);
enum lab_status db_insert_ticket(PGconn *db, const struct booking *b, long long *ticket_id);

/* A request's claim (db_request_claim): what the first request with this id
 * asked for and what it was answered. */
struct db_request {
    long long event_id, user_id, ticket_id;
    char state[16];      /* "in_progress" or a lab_status_name */
    bool orphaned;       /* in progress, and its holder is gone */
    long long booked_ticket_id;   /* the ticket booked under the id (0: none) */
    long long holder_pid;         /* the backend that holds it, and since when */
    char claimed_at[48];
};

/* A claim in progress for longer than this is taken to be lost even if the
 * backend that took it is alive (its answer could not be stored). */
#define DB_CLAIM_LEASE_S "60"

/* DB_CLAIM_GONE(R): SQL, true when the claim row R (in progress) has lost
 * its holder: the backend that took it has ended (its process was killed,
 * or PostgreSQL restarted), or it is older than DB_CLAIM_LEASE_S. The one
 * definition the claim, the claim pipe and the sweep share. */
#define DB_CLAIM_GONE(R)                                                              \
    "(" R ".created_at < now() - interval '" DB_CLAIM_LEASE_S " seconds' OR "        \
    "NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = " R ".holder_pid "    \
    "AND a.backend_start <= " R ".created_at))"

/* One claim per request id (docs/architecture.md, "Integrity of a sale"):
 * db_request_claim sets *FIRST and B->generation, or fills PRIOR;
 * db_request_finish stores the answer; db_request_release drops a claim
 * that got none. */
enum lab_status db_request_claim(PGconn *db, struct booking *b, bool *first,
                                 struct db_request *prior);
enum lab_status db_request_finish(PGconn *db, const char *request_id, const char *state,
                                  long long ticket_id);
enum lab_status db_request_release(PGconn *db, const char *request_id);
enum lab_status db_request_sweep(PGconn *db, bool queued, long long *answered,
                                 long long *dropped);
enum lab_status db_request_lookup(PGconn *db, const char *request_id, bool *found,
                                  struct db_request *stored);
enum lab_status db_request_decided(PGconn *db, const struct booking *b, enum lab_status *answer);
enum lab_status db_request_outcome(PGconn *db, const char *request_id, bool *found,
                                   enum lab_status *answer, long long *ticket_id);

/* An answered request of a sale, for a rebuild of the gate's claims. */
struct db_answer {
    char request_id[PARSE_REQUEST_ID_MAX + 1];
    long long user_id, ticket_id;
    enum lab_status answer;
};
enum lab_status db_answers(PGconn *db, long long event_id, long long *generation,
                           struct db_answer **out, size_t *n);
enum lab_status db_request_take_over(PGconn *db, struct booking *b,
                                     const struct db_request *prior, bool *taken);

/* db_last_conflict: the conflict class of the calling thread's last failed
 * statement (CONTENTION_NONE after a success): what a strategy retries on. */
enum contention_class db_last_conflict(void);

/* The other answers to the race (phase 3's --strategy), in db_strategy.c. */

/* db_take_seat: the conditional decrement in one statement. LAB_OK when a
 * seat was taken, LAB_SOLD_OUT when none was left, LAB_NOT_FOUND. */
enum lab_status db_take_seat(PGconn *db, long long event_id);

/* db_read_versioned reads the counter and its version, with no lock. */
enum lab_status db_read_versioned(PGconn *db, long long event_id, long long *seats,
                                  long long *version);

/* db_write_if_version: compare-and-set. Writes SEATS and bumps the version
 * only if the version is still VERSION; *won tells whether it did. */
enum lab_status db_write_if_version(PGconn *db, long long event_id, long long version,
                                    long long seats, bool *won);

/* db_begin_serializable opens a SERIALIZABLE transaction. */
enum lab_status db_begin_serializable(PGconn *db);

/* db_advisory_lock takes the transaction-scoped advisory lock named by
 * EVENT_ID (pg_advisory_xact_lock), waiting for it. */
enum lab_status db_advisory_lock(PGconn *db, long long event_id);

/* The zoo's planted check-then-insert strategy (docs/zoo.md), in
 * db_strategy.c: the user's tickets of B's event and the event's per-user
 * limit, counted by a statement of their own (LAB_NOT_FOUND: no event); and
 * the ticket's INSERT without the limit rule (the generation rule kept:
 * LAB_STALE). */
enum lab_status db_count_user_tickets(PGconn *db, const struct booking *b, long long *held,
                                      long long *limit);
enum lab_status db_insert_ticket_unchecked(PGconn *db, const struct booking *b,
                                           long long *ticket_id);

/* The asynchronous phases record a turned-down request; *recorded tells
 * whether this call wrote it (false: it was decided before, a redelivery). */
enum lab_status db_record_decision(PGconn *db, const struct booking *b, const char *decision,
                                   bool *recorded);

/* db_result: LAB_BOOKED, or the stored refusal (LAB_SOLD_OUT, LAB_NOT_FOUND
 * for 'failed', LAB_LIMIT, LAB_STALE), or LAB_QUEUED (not decided yet). */
enum lab_status db_result(PGconn *db, const char *request_id, enum lab_status *result);

/* db_count_decided: ticket rows plus recorded decisions of the event. */
enum lab_status db_count_decided(PGconn *db, long long event_id, long long *decided);

/* db_live_counts: what the live page shows of the sale, in one snapshot:
 * the counter (events.available_seats), the seats on sale, the event's
 * ticket rows, and its decided count (db_count_decided's). LAB_NOT_FOUND
 * when there is no such event. */
struct db_live {
    long long available, total_seats, tickets, decided;
};
enum lab_status db_live_counts(PGconn *db, long long event_id, struct db_live *out);

/* The admin reset: the event with SEATS seats, no tickets, no decisions, no
 * requests, a new generation and PER_USER tickets per user at most.
 * db_reset is the same with one ticket per user. */
enum lab_status db_reset_sale(PGconn *db, long long event_id, long long seats, int per_user,
                              long long *generation);
enum lab_status db_reset(PGconn *db, long long event_id, long long seats);

/* db_audit fills A's raw counts and calls audit_compute(); LAB_NOT_FOUND
 * when there is no such event. */
enum lab_status db_audit(PGconn *db, long long event_id, struct audit *a);

/* The replay's observer (tools/replay): what a third connection sees of an
 * event, and which backends hold up a session's statement. */
struct db_ticket {
    long long id;        /* tickets.id */
    long long user_id;   /* tickets.user_id */
};

/* db_read_event reads the counter and the event's ticket rows, oldest first,
 * in one snapshot: up to MAX rows go to TICKETS, *COUNT is how many there are.
 * LAB_NOT_FOUND when there is no such event. */
enum lab_status db_read_event(PGconn *db, long long event_id, long long *seats,
                              struct db_ticket *tickets, size_t max, size_t *count);

/* db_blocking_pids asks pg_blocking_pids() which backends the backend PID is
 * waiting for: up to MAX go to PIDS, *COUNT is how many (0: not blocked). */
enum lab_status db_blocking_pids(PGconn *db, int pid, int *pids, size_t max, size_t *count);

#endif
