/* consumer.h -- the Kafka consumer of the asynchronous phases. */
#ifndef LAB_CONSUMER_H
#define LAB_CONSUMER_H

#include <stdatomic.h>
#include "clients/queue.h"
#include "clients/conns.h"

struct consumer {
    const struct service *svc;
    struct queue_consumer *queue;  /* opened at start-up: failing there is fatal */
    atomic_bool stop;              /* set by main on SIGINT/SIGTERM */
};

/* consumer_run is the consumer thread: it takes messages one by one, decides
 * each with the phase's decide function, records the decision, and commits
 * the offset only after PostgreSQL committed. */
void *consumer_run(void *arg);

/* consumer_took runs what the zoo's planted bugs change in the N messages
 * M just polled, B their bookings (docs/zoo.md): --without fence forgets
 * the sale each was sent in (generation 0: any), --without commit-after
 * commits their offsets now, before any decision. True when it committed
 * them: the caller then only frees them (consumer_finish). Nothing, and
 * false, with every safeguard on. */
bool consumer_took(struct consumer *c, struct booking *b, struct queue_message **m, size_t n);

/* consumer_finish commits the offsets of the N decided messages M and frees
 * them; only frees them when consumer_took COMMITTED them already. */
void consumer_finish(struct consumer *c, struct queue_message **m, size_t n, bool committed);

/* consumer_batch_run is consumer_run with --batch N > 1 (consumer_batch.c):
 * up to N messages decided in one transaction, their offsets committed
 * together afterwards. It frees CONNS when it returns. */
void *consumer_batch_run(struct consumer *c, struct conns *conns);

#endif
