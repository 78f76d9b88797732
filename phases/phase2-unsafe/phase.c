/* Phase 2: the unsafe read-modify-write, and nothing else. */
#include "phase.h"

book_fn phase2_book;

static const struct phase phase2 = {
    .number = 2,
    .name = "unsafe",
    .needs = 0,
    .book = phase2_book,
};

int main(int argc, char **argv)
{
    return service_main(&phase2, argc, argv);
}
