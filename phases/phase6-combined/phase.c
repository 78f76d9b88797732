/* Phase 6: Redis gate, Kafka queue, PostgreSQL lock. */
#include "phase.h"

book_fn phase6_book, phase6_decide;

static const struct phase phase6 = {
    .number = 6,
    .name = "combined",
    .needs = NEEDS_CACHE | NEEDS_QUEUE,
    .book = phase6_book,
    .decide = phase6_decide,
};

int main(int argc, char **argv)
{
    return service_main(&phase6, argc, argv);
}
