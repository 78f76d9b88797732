/* conns.h -- what one thread owns: its PostgreSQL connection, its Redis
 * connection, and a pointer to the service it works for.
 *
 * libpq and hiredis connections must not be shared between threads, so each
 * booking thread of http.c (and the Kafka consumer thread) gets its own, made
 * on first use and remade after a failure. No lock guards them. */
#ifndef LAB_CONNS_H
#define LAB_CONNS_H

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include "service/config.h"
#include "lab.h"

struct phase;
struct queue_producer;
struct cache_pipe;
struct claim_pipe;

/* The service a thread works for: set up once in service.c (and
 * pipeline_start), read-only after. */
struct service {
    const struct config *cfg;
    const struct phase *phase;      /* what this service is (each phase.c) */
    struct queue_producer *queue;   /* an asynchronous phase with an API role, else NULL */
    struct cache_pipe *pipe;        /* the gate phases' Redis pipe (booking/pipeline.c) */
    struct claim_pipe *claims;      /* phase 5's claims, many per statement (booking/claim_pipe.c) */
};

struct conns {
    const struct service *svc;
    PGconn *db;
    redisContext *cache;
};

/* conns_self returns the calling thread's connections, made on first use and
 * freed (connections closed) when the thread exits. */
struct conns *conns_self(const struct service *svc);

/* conns_db / conns_cache make sure the connection is up, reconnecting if
 * a previous failure broke it: LAB_OK, or LAB_ERR_DB / LAB_ERR_CACHE. */
enum lab_status conns_db(struct conns *c);
enum lab_status conns_cache(struct conns *c);

/* conns_free closes C's connections (the consumer thread's own). */
void conns_free(struct conns *c);

#endif
