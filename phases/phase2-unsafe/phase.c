/* Phase 2: the unsafe read-modify-write, and nothing else. */
#include "phase.h"

book_fn phase2_book;

const struct phase lab_phase = {
    .number = 2,
    .name = "unsafe",
    .needs = 0,
    .book = phase2_book,
};
