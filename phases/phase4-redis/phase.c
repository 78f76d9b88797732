/* Phase 4: Redis gate and status cache in front of phase 3. */
#include "service/phase.h"

book_fn phase4_book;

static const struct phase phase4 = {
    .number = 4,
    .name = "redis",
    .admit = ADMIT_AT_GATE,    /* the claim and the seat in one Redis script */
    .book = phase4_book,
    .safeguards = SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE) | SAFEGUARD_BIT(SAFEGUARD_ATOMIC_GATE) |
                  SAFEGUARD_BIT(SAFEGUARD_GIVE_BACK) | SAFEGUARD_BIT(SAFEGUARD_CLAIM_FIRST) |
                  SAFEGUARD_BIT(SAFEGUARD_REBUILD),
};

int main(int argc, char **argv)
{
    return service_main(&phase4, argc, argv);
}
