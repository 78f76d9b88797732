/* Phase 6: Redis gate, Kafka queue, PostgreSQL lock. */
#include "db_batch.h"
#include "service/phase.h"

book_fn phase6_decide;
send_fn phase6_send;
batch_fn phase6_decide_batch;

static const struct phase phase6 = {
    .number = 6,
    .name = "combined",
    .admit = ADMIT_AT_GATE,    /* the claim and the seat in one Redis script */
    .send = phase6_send,
    .decide = phase6_decide,
    .decide_batch = phase6_decide_batch,
    .batch = DB_BATCH_MAX,     /* a poll batch per transaction (--batch 1: one by one) */
};

int main(int argc, char **argv)
{
    return service_main(&phase6, argc, argv);
}
