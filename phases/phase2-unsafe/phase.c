/* Phase 2: the unsafe read-modify-write, and nothing else; or, with
 * --strategy local-mutex, the same inside an in-process mutex. */
#include "service/phase.h"

book_fn phase2_book, phase2_book_mutex;

static const struct strategy phase2_strategies[] = {
    { .name = "unsafe", .book = phase2_book },
    { .name = "local-mutex", .book = phase2_book_mutex },
    { .name = NULL },
};

static const struct phase phase2 = {
    .number = 2,
    .name = "unsafe",
    .book = phase2_book,
    .strategies = phase2_strategies,
};

int main(int argc, char **argv)
{
    return service_main(&phase2, argc, argv);
}
