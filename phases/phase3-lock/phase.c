/* Phase 3: the booking runs in a transaction holding the row lock; or,
 * with --strategy, one of the other correct answers to the race, or the
 * zoo's planted check-then-insert (docs/zoo.md). */
#include "phase3.h"

/* The row lock is for-update's own safeguard: --without for-update with
 * another strategy would plant nothing, so it is refused there (exit 2). */
static const struct strategy phase3_strategies[] = {
    { .name = "for-update", .book = phase3_book,
      .safeguards = SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE) },
    { .name = "atomic", .book = phase3_book_atomic },
    { .name = "optimistic", .book = phase3_book_optimistic,
      .safeguards = SAFEGUARD_BIT(SAFEGUARD_REREAD) },
    { .name = "serializable", .book = phase3_book_serializable },
    { .name = "advisory", .book = phase3_book_advisory },
    { .name = "check-then-insert", .book = phase3_book_check_then_insert, .planted = true },
    { .name = NULL },
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
