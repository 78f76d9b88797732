/* worker.h -- what one thread owns: its PostgreSQL connection, its Redis
 * connection, and a pointer to the service it works for.
 *
 * libpq and hiredis connections must not be shared between threads, so each
 * booking worker of http.c (and the Kafka consumer thread) gets its own, made
 * on first use and remade after a failure. No lock guards them. */
#ifndef LAB_WORKER_H
#define LAB_WORKER_H

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include "config.h"
#include "lab.h"
#include "queue.h"

struct service {
    const struct config *cfg;
    struct queue_producer *queue;   /* NEEDS_QUEUE with an API role, else NULL */
};

struct worker {
    const struct service *svc;
    PGconn *db;
    redisContext *cache;
};

/* worker_self returns the calling thread's worker, made on first use and
 * freed (connections closed) when the thread exits. */
struct worker *worker_self(const struct service *svc);

/* worker_db / worker_cache make sure the connection is up, reconnecting if
 * a previous failure broke it: LAB_OK, or LAB_ERR_DB / LAB_ERR_CACHE. */
enum lab_status worker_db(struct worker *w);
enum lab_status worker_cache(struct worker *w);

/* worker_think is the pause of a real service checking a payment: the same
 * call at the same point of every phase's booking. */
void worker_think(const struct worker *w);

/* worker_free closes W's connections (the consumer thread's own worker). */
void worker_free(struct worker *w);

#endif
