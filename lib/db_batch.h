/* db_batch.h -- the consumer's batch booking: a whole poll batch of queued
 * requests decided in one transaction (phases 5 and 6 with --batch N).
 *
 * The same decision as phase 3's transaction taken N times in a row, in the
 * order the messages came: each event's row is locked once (SELECT ... FOR
 * UPDATE), the first `seats` undecided requests of that event are booked
 * (unless stale or over the per-user limit, as db_insert_ticket checks),
 * the rest refused, the counter written once, the tickets and the refusals
 * inserted with one multi-row statement each, then one COMMIT. */
#ifndef LAB_DB_BATCH_H
#define LAB_DB_BATCH_H

#include <stddef.h>
#include <libpq-fe.h>
#include "booking.h"
#include "db.h"
#include "lab.h"

/* The most requests one call decides. */
#define DB_BATCH_MAX 1000

/* db_book_batch decides the N bookings B (N <= DB_BATCH_MAX) in one
 * transaction. OUT[i] gets LAB_BOOKED, LAB_SOLD_OUT, LAB_LIMIT (the user holds
 * the event's per-user limit), LAB_STALE (admitted in an earlier generation
 * of the sale), LAB_NOT_FOUND (no such event: recorded as 'failed'), or LAB_DUPLICATE for a request that was
 * decided before (a redelivery, or twice in the batch: nothing is written for
 * it). Returns LAB_OK once committed; LAB_ERR_DB after a rollback, when
 * nothing of the batch was written. */
/* db_mark_stale finds, among the requests B whose OUT[i] is LAB_QUEUED, the
 * messages of an earlier generation of their sale (a reset came since they
 * were admitted), records them all 'stale' with one statement, before any
 * lock or think time, and sets their OUT[i] to LAB_STALE. */
enum lab_status db_mark_stale(PGconn *db, const struct booking *b, size_t n,
                              enum lab_status *out);

/* Phase 5's claims, many in one statement (booking/claim_pipe.c). Each
 * claim's RESULT: the id is B's now (FIRST, with the sale's GENERATION),
 * was claimed before (PRIOR), or the event does not exist (NO_EVENT); or
 * ASK_AGAIN: claimed by someone else meanwhile, or a claim whose holder is
 * gone, for a booking thread to sort out with db_request_claim. The same
 * statement settles the claims of earlier requests: 'queued' on QUEUED
 * (their message is in Kafka: a retry replays the 202), RELEASED dropped
 * (it is not: a retry is a new try). */
enum db_claim_result { DB_CLAIM_FIRST, DB_CLAIM_PRIOR, DB_CLAIM_NO_EVENT, DB_CLAIM_ASK_AGAIN };

struct db_claim {
    const struct booking *b;
    enum db_claim_result result;
    long long generation;
    struct db_request prior;
};
enum lab_status db_request_claim_many(PGconn *db, struct db_claim *claims, size_t n,
                                      const char *const *queued, size_t n_queued,
                                      const char *const *released, size_t n_released);

enum lab_status db_book_batch(PGconn *db, const struct booking *b, size_t n,
                              enum lab_status *out);

/* What the zoo plants in a batch (docs/zoo.md), each a safeguard of the
 * consumer's transaction switched off; all false is db_book_batch. */
struct db_batch_plant {
    bool unlocked;     /* --without for-update: each event row read without its
                          lock: the same decisions, with no row lock held */
    bool again;        /* --without dedupe: no request is looked up as decided
                          before, the ticket INSERT skips a request id booked
                          already (ON CONFLICT DO NOTHING) and the per-user
                          limit does not count the request's own ticket; so a
                          redelivered message that was booked is booked again,
                          and takes a second seat off the counter for the one
                          ticket row (PHANTOM below zero) */
};

/* db_book_batch_planted is db_book_batch with PLANT's safeguards off. */
enum lab_status db_book_batch_planted(PGconn *db, const struct booking *b, size_t n,
                                      enum lab_status *out, const struct db_batch_plant *plant);

#endif
