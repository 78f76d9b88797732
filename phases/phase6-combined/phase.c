/* Phase 6: Redis gate, Kafka queue, PostgreSQL lock. */
#include "db_batch.h"
#include "service/phase.h"

book_fn phase6_decide;
send_fn phase6_send;
batch_fn phase6_decide_batch;
book_fn phase6_demo_decide;
send_fn phase6_demo_send;
batch_fn phase6_demo_decide_batch;

/* --strategy: the lab's phase 6 ("default", named as before there was a
 * choice), or the Java demo's order of steps, planted for the zoo
 * (book_demo.c). */
static const struct strategy phase6_strategies[] = {
    { .name = "default" },
    { .name = "demo", .planted = true, .unclaimed = true, .send = phase6_demo_send,
      .decide = phase6_demo_decide, .decide_batch = phase6_demo_decide_batch },
    { .name = NULL },
};

static const struct phase phase6 = {
    .number = 6,
    .name = "combined",
    .admit = ADMIT_AT_GATE,    /* the claim and the seat in one Redis script */
    .send = phase6_send,
    .decide = phase6_decide,
    .decide_batch = phase6_decide_batch,
    .batch = DB_BATCH_MAX,     /* a poll batch per transaction (--batch 1: one by one) */
    .strategies = phase6_strategies,
    .safeguards = SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE) | SAFEGUARD_BIT(SAFEGUARD_ATOMIC_GATE) |
                  SAFEGUARD_BIT(SAFEGUARD_GIVE_BACK) | SAFEGUARD_BIT(SAFEGUARD_CLAIM_FIRST) |
                  SAFEGUARD_BIT(SAFEGUARD_REBUILD) | SAFEGUARD_BIT(SAFEGUARD_FENCE) |
                  SAFEGUARD_BIT(SAFEGUARD_COMMIT_AFTER) | SAFEGUARD_BIT(SAFEGUARD_DEDUPE) |
                  SAFEGUARD_BIT(SAFEGUARD_ACK_FIRST),
};

int main(int argc, char **argv)
{
    return service_main(&phase6, argc, argv);
}
