/* Phase 5: POST queues to Kafka (202); a consumer books. */
#include "phase.h"

book_fn phase5_book, phase5_decide;

const struct phase lab_phase = {
    .number = 5,
    .name = "kafka",
    .needs = NEEDS_QUEUE,
    .book = phase5_book,
    .decide = phase5_decide,
};
