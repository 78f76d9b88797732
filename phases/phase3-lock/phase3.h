/* phase3.h -- phase 3's booking, the transaction that holds the event row's
 * lock. Phases 4, 5 and 6 call it unchanged (the Makefile's phase list says
 * which phases use which): what they add is in front of it, not inside.
 * The other strategies (--strategy, book_*.c) are phase 3's own. */
#ifndef LAB_PHASE3_H
#define LAB_PHASE3_H

#include "service/phase.h"

book_fn phase3_book;
book_fn phase3_book_atomic, phase3_book_optimistic, phase3_book_serializable,
    phase3_book_advisory;

/* The zoo's planted strategy (docs/zoo.md): the per-user limit checked by
 * a SELECT of its own before the lock, the ticket inserted without it. */
book_fn phase3_book_check_then_insert;

#endif
