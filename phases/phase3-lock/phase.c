/* Phase 3: the booking runs in a transaction holding the row lock; or,
 * with --strategy, one of the other correct answers to the race. */
#include "phase3.h"

static const struct strategy phase3_strategies[] = {
    { "for-update", phase3_book },
    { "atomic", phase3_book_atomic },
    { "optimistic", phase3_book_optimistic },
    { "serializable", phase3_book_serializable },
    { "advisory", phase3_book_advisory },
    { NULL, NULL },
};

static const struct phase phase3 = {
    .number = 3,
    .name = "lock",
    .book = phase3_book,
    .strategies = phase3_strategies,
};

int main(int argc, char **argv)
{
    return service_main(&phase3, argc, argv);
}
