/* Phase 3: the booking runs in a transaction holding the row lock. */
#include "phase.h"

book_fn phase3_book;

const struct phase lab_phase = {
    .number = 3,
    .name = "lock",
    .needs = 0,
    .book = phase3_book,
};
