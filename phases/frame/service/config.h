/* config.h -- a service's settings: flags first, then environment, then the
 * defaults of infra/lab.env. */
#ifndef LAB_CONFIG_H
#define LAB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "clients/queue.h"
#include "service/safeguard.h"

enum config_role { ROLE_ALL, ROLE_API, ROLE_WORKER };

struct config {
    char http_host[64];        /* --listen HOST:PORT, default LAB_HTTP */
    int http_port;
    const char *pg;            /* LAB_PG: libpq connection string */
    const char *redis;         /* LAB_REDIS: host:port, or sentinel://...: lib/sentinel.h */
    const char *kafka;         /* LAB_KAFKA: bootstrap servers */
    int threads;               /* --threads: booking threads, each with its own
                                  PGconn and redisContext: the database pool */
    int think_ms;              /* --think-ms: the pause inside every booking */
    int cache_ttl_ms;          /* --cache-ttl-ms: life of a cached status */
    int queue_timeout_ms;      /* --queue-timeout-ms: longest wait for a Kafka ack */
    int partitions;            /* --partitions: of the booking topic, when created */
    int linger_ms;             /* --linger-ms: the producer's linger.ms */
    enum queue_acks acks;      /* --acks all|1: when Kafka counts a message stored */
    int gate_memo_ms;          /* --gate-memo-ms: how long the gate trusts a
                                  "sold out" from Redis (0: not at all) */
    int batch;                 /* --batch: messages the consumer decides per
                                  transaction (0: the phase's default) */
    int commit_interval_ms;    /* --commit-interval-ms: the consumer's offsets committed
                                  every so often (0: each batch's at once) */
    enum config_role role;     /* --role api|worker|all (phases 5-6) */
    const char *topic;         /* --topic */
    const char *group;         /* --group: the consumer group */
    char admin_token[72];      /* LAB_ADMIN_TOKEN, or generated off loopback; "" = none */
    const char *strategy;      /* --strategy: NULL for the phase's default */
    int retries;               /* --retries: attempts after a conflict */
    unsigned without;          /* --without: safeguards switched off (SAFEGUARD_BIT),
                                  for the zoo of planted bugs (docs/zoo.md) */
};

/* safeguard_off: this service runs without safeguard S (--without S). */
static inline bool safeguard_off(const struct config *c, enum safeguard s)
{
    return (c->without & SAFEGUARD_BIT(s)) != 0;
}

/* config_parse fills C from ARGV. On a bad flag it writes the reason to ERR
 * and returns false; --help returns false with ERR empty. */
bool config_parse(struct config *c, int argc, char **argv, char *err, size_t err_len);

/* config_loopback: the service listens on a loopback address (127.x.x.x)
 * and so only this machine can reach it. */
bool config_loopback(const struct config *c);

/* config_admin_token settles the admin token: LAB_ADMIN_TOKEN when set;
 * otherwise none on loopback, and a random one off loopback, which it
 * returns true for (the caller prints it). False with ERR when
 * LAB_ADMIN_TOKEN is unusable or no random token can be made. */
bool config_admin_token(struct config *c, bool *generated, char *err, size_t err_len);

/* config_usage prints the flags to stderr. */
void config_usage(const char *program);

#endif
