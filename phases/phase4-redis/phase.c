/* Phase 4: Redis gate and status cache in front of phase 3. */
#include "phase.h"

book_fn phase4_book;

const struct phase lab_phase = {
    .number = 4,
    .name = "redis",
    .needs = NEEDS_CACHE,
    .book = phase4_book,
};
