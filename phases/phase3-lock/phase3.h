/* phase3.h -- phase 3's booking, the transaction that holds the event row's
 * lock. Phases 4, 5 and 6 call it unchanged (the Makefile's phase list says
 * which phases use which): what they add is in front of it, not inside. */
#ifndef LAB_PHASE3_H
#define LAB_PHASE3_H

#include "phase.h"

book_fn phase3_book;

#endif
