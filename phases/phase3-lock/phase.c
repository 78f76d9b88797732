/* Phase 3: the booking runs in a transaction holding the row lock. */
#include "phase3.h"

static const struct phase phase3 = {
    .number = 3,
    .name = "lock",
    .needs = 0,
    .book = phase3_book,
};

int main(int argc, char **argv)
{
    return service_main(&phase3, argc, argv);
}
