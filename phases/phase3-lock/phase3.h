/* phase3.h -- phase 3's booking, the transaction that holds the event row's
 * lock. Phases 4, 5 and 6 call it unchanged (the Makefile's phase list says
 * which phases use which): what they add is in front of it, not inside.
 * The other strategies (--strategy, book_*.c) are phase 3's own. */
#ifndef LAB_PHASE3_H
#define LAB_PHASE3_H

#include "db.h"
#include "db_batch.h"
#include "service/phase.h"

book_fn phase3_book;
book_fn phase3_book_atomic, phase3_book_optimistic, phase3_book_serializable,
    phase3_book_advisory;

/* The zoo's planted strategy (docs/zoo.md): the per-user limit checked by
 * a SELECT of its own before the lock, the ticket inserted without it. */
book_fn phase3_book_check_then_insert;

/* phase3_read_mode: how phase3_book reads the event row for C's service,
 * DB_FOR_UPDATE, or DB_PLAIN when it runs --without for-update. */
enum db_read_mode phase3_read_mode(const struct conns *c);

/* phase3_batch_plant: what C's service planted in the consumer's batch
 * (phases 5 and 6; docs/zoo.md): --without for-update, --without dedupe. */
struct db_batch_plant phase3_batch_plant(const struct conns *c);

#endif
