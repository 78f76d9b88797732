/* Phase 5: POST queues to Kafka (202); a consumer books. */
#include "db_batch.h"
#include "service/phase.h"

book_fn phase5_decide;
send_fn phase5_send;
batch_fn phase5_decide_batch;

static const struct phase phase5 = {
    .number = 5,
    .name = "kafka",
    .admit = ADMIT_IN_DB_BATCH, /* claimed in PostgreSQL, many per statement, before the queue */
    .send = phase5_send,
    .decide = phase5_decide,
    .decide_batch = phase5_decide_batch,
    .batch = DB_BATCH_MAX,     /* a poll batch per transaction (--batch 1: one by one) */
    .safeguards = SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE) | SAFEGUARD_BIT(SAFEGUARD_FENCE) |
                  SAFEGUARD_BIT(SAFEGUARD_COMMIT_AFTER) | SAFEGUARD_BIT(SAFEGUARD_DEDUPE) |
                  SAFEGUARD_BIT(SAFEGUARD_ACK_FIRST),
};

int main(int argc, char **argv)
{
    return service_main(&phase5, argc, argv);
}
