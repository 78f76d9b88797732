/* Phase 3: the booking runs in a transaction holding the row lock; or,
 * with --strategy, one of the other correct answers to the race. */
#include "phase3.h"

static const struct strategy phase3_strategies[] = {
    { .name = "for-update", .book = phase3_book },
    { .name = "atomic", .book = phase3_book_atomic },
    { .name = "optimistic", .book = phase3_book_optimistic,
      .safeguards = SAFEGUARD_BIT(SAFEGUARD_REREAD) },
    { .name = "serializable", .book = phase3_book_serializable },
    { .name = "advisory", .book = phase3_book_advisory },
    { .name = NULL },
};

static const struct phase phase3 = {
    .number = 3,
    .name = "lock",
    .book = phase3_book,
    .strategies = phase3_strategies,
    .safeguards = SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE),
};

int main(int argc, char **argv)
{
    return service_main(&phase3, argc, argv);
}
