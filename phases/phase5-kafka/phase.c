/* Phase 5: POST queues to Kafka (202); a consumer books. */
#include "service/phase.h"

book_fn phase5_book, phase5_decide;
batch_fn phase5_decide_batch;

static const struct phase phase5 = {
    .number = 5,
    .name = "kafka",
    .needs = NEEDS_QUEUE,
    .book = phase5_book,
    .decide = phase5_decide,
    .decide_batch = phase5_decide_batch,
    .batch = 0,                /* one message at a time: the lesson's consumer */
};

int main(int argc, char **argv)
{
    return service_main(&phase5, argc, argv);
}
