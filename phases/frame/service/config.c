/* config.c -- flags and environment of a phase's service. */
#include "service/config.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include "lab.h"
#include "parse.h"
#include "db_batch.h"
#include "clients/queue.h"

void config_usage(const char *program)
{
    fprintf(stderr,
            "usage: %s [options]\n"
            "  --listen HOST:PORT      where to listen (env LAB_HTTP, default %s)\n"
            "  --threads N             booking threads = PostgreSQL connections (default 16)\n"
            "  --think-ms MS           pause inside each booking, 0..10000 (default 20)\n"
            "  --cache-ttl-ms MS       life of a cached status in Redis (default 1000)\n"
            "  --queue-timeout-ms MS   longest wait for Kafka's ack (default 5000)\n"
            "  --partitions N          partitions of the booking topic (default 3)\n"
            "  --linger-ms MS          phases 5, 6: how long the producer gathers messages\n"
            "                          into one request to the broker, 0..1000 (default %d)\n"
            "  --acks all|1            phases 5, 6: a message is stored once every in-sync\n"
            "                          replica has it (all, idempotent: default) or its\n"
            "                          partition's leader alone (1: lost if the leader dies)\n"
            "  --gate-memo-ms MS       phases 4, 6: after Redis said sold out, refuse the\n"
            "                          event without asking it for MS ms, 0..1000 (default 0)\n"
            "  --batch N               consumer: decide up to N messages per transaction,\n"
            "                          1..%d (default: all, up to 1000; 1: one message, one transaction)\n"
            "  --commit-interval-ms MS consumer: store each offset after the database commit and\n"
            "                          commit them every MS ms, 0..60000 (default 0: each batch's\n"
            "                          at once); a killed worker redelivers up to MS ms of them\n"
            "  --role api|worker|all   asynchronous phases: what this process runs (default all)\n"
            "  --topic NAME            Kafka topic (default " QUEUE_TOPIC_DEFAULT ")\n"
            "  --group NAME            Kafka consumer group (default " QUEUE_GROUP_DEFAULT ")\n"
            "  --strategy NAME         the booking's concurrency control, among the phase's\n"
            "                          own (phase 2: unsafe, local-mutex; phase 3: for-update,\n"
            "                          atomic, optimistic, serializable, advisory;\n"
            "                          phase 6: default, demo)\n"
            "  --retries N             optimistic, serializable: attempts after a conflict (default 3)\n"
            "  --without NAME[,NAME]   the zoo: switch a safeguard off, a planted bug (repeatable;\n"
            "                          the phase's own, docs/zoo.md): for-update, reread,\n"
            "                          atomic-gate, give-back, claim-first, rebuild, fence,\n"
            "                          commit-after, dedupe, ack-first\n"
            "environment: LAB_PG, LAB_REDIS, LAB_KAFKA, LAB_HTTP (see infra/lab.env);\n"
            "  PostgreSQL's password as libpq takes it (in LAB_PG, PGPASSWORD, PGPASSFILE),\n"
            "  Redis's in LAB_REDIS_PASSWORD or LAB_REDIS_PASSFILE (LAB_REDIS_USER: an ACL\n"
            "  user); the lab's own from .lab/ (docs/bring-your-own.md);\n"
            "  LAB_ADMIN_TOKEN: Bearer token of POST /api/admin/reset (required, and generated\n"
            "  when unset, unless --listen is a loopback address)\n",
            program, LAB_HTTP_DEFAULT, QUEUE_LINGER_MS_DEFAULT, DB_BATCH_MAX);
}

/* config_int parses the value of flag NAME into OUT within [MIN, MAX]. */
static bool config_int(const char *name, const char *v, long long min, long long max, int *out,
                       char *err, size_t err_len)
{
    long long n;

    if (!parse_long(v, min, max, &n)) {
        snprintf(err, err_len, "%s needs a whole number from %lld to %lld, not '%s'", name, min,
                 max, v ? v : "");
        return false;
    }
    *out = (int)n;
    return true;
}

bool config_parse(struct config *c, int argc, char **argv, char *err, size_t err_len)
{
    const char *listen = lab_env("LAB_HTTP", LAB_HTTP_DEFAULT);

    *c = (struct config){
        .pg = lab_env("LAB_PG", LAB_PG_DEFAULT),
        .redis = lab_env("LAB_REDIS", LAB_REDIS_DEFAULT),
        .kafka = lab_env("LAB_KAFKA", LAB_KAFKA_DEFAULT),
        .threads = 16, .think_ms = 20, .cache_ttl_ms = 1000, .queue_timeout_ms = 5000,
        .partitions = 3, .role = ROLE_ALL, .retries = 3, .linger_ms = QUEUE_LINGER_MS_DEFAULT,
        .acks = QUEUE_ACKS_ALL,
        .topic = QUEUE_TOPIC_DEFAULT, .group = QUEUE_GROUP_DEFAULT,
    };
    err[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;

        if (strcmp(flag, "-h") == 0 || strcmp(flag, "--help") == 0)
            return false;
        if (!v) {
            snprintf(err, err_len, "%s: unknown option or missing value", flag);
            return false;
        }
        if (strcmp(flag, "--listen") == 0)
            listen = v;
        else if (strcmp(flag, "--threads") == 0)
            ok = config_int(flag, v, 1, 512, &c->threads, err, err_len);
        else if (strcmp(flag, "--think-ms") == 0)
            ok = config_int(flag, v, 0, 10000, &c->think_ms, err, err_len);
        else if (strcmp(flag, "--cache-ttl-ms") == 0)
            ok = config_int(flag, v, 1, 3600000, &c->cache_ttl_ms, err, err_len);
        else if (strcmp(flag, "--queue-timeout-ms") == 0)
            ok = config_int(flag, v, 100, 600000, &c->queue_timeout_ms, err, err_len);
        else if (strcmp(flag, "--partitions") == 0)
            ok = config_int(flag, v, 1, 1000, &c->partitions, err, err_len);
        else if (strcmp(flag, "--linger-ms") == 0)
            ok = config_int(flag, v, 0, 1000, &c->linger_ms, err, err_len);
        else if (strcmp(flag, "--commit-interval-ms") == 0)
            ok = config_int(flag, v, 0, 60000, &c->commit_interval_ms, err, err_len);
        else if (strcmp(flag, "--retries") == 0)
            ok = config_int(flag, v, 0, 1000, &c->retries, err, err_len);
        else if (strcmp(flag, "--without") == 0)
            ok = safeguard_parse(v, &c->without, err, err_len);
        else if (strcmp(flag, "--strategy") == 0)
            c->strategy = v;
        else if (strcmp(flag, "--gate-memo-ms") == 0)
            ok = config_int(flag, v, 0, 1000, &c->gate_memo_ms, err, err_len);
        else if (strcmp(flag, "--batch") == 0)
            ok = config_int(flag, v, 1, DB_BATCH_MAX, &c->batch, err, err_len);
        else if (strcmp(flag, "--topic") == 0)
            c->topic = v;
        else if (strcmp(flag, "--group") == 0)
            c->group = v;
        else if (strcmp(flag, "--acks") == 0) {
            if (strcmp(v, "all") == 0) c->acks = QUEUE_ACKS_ALL;
            else if (strcmp(v, "1") == 0) c->acks = QUEUE_ACKS_LEADER;
            else {
                snprintf(err, err_len, "--acks must be all or 1, not '%s'", v);
                return false;
            }
        } else if (strcmp(flag, "--role") == 0) {
            if (strcmp(v, "all") == 0) c->role = ROLE_ALL;
            else if (strcmp(v, "api") == 0) c->role = ROLE_API;
            else if (strcmp(v, "worker") == 0) c->role = ROLE_WORKER;
            else {
                snprintf(err, err_len, "--role must be api, worker or all, not '%s'", v);
                return false;
            }
        } else {
            snprintf(err, err_len, "%s: unknown option", flag);
            return false;
        }
        if (!ok)
            return false;
        i++;
    }
    if (!parse_host_port(listen, c->http_host, sizeof c->http_host, &c->http_port)) {
        snprintf(err, err_len, "cannot read the listen address '%s' (want HOST:PORT)", listen);
        return false;
    }
    return true;
}

bool config_loopback(const struct config *c)
{
    return strncmp(c->http_host, "127.", 4) == 0;
}

bool config_admin_token(struct config *c, bool *generated, char *err, size_t err_len)
{
    const char *env = lab_env("LAB_ADMIN_TOKEN", NULL);
    unsigned char random[24];

    *generated = false;
    c->admin_token[0] = '\0';
    if (env) {
        size_t n = strlen(env);
        if (n < 8 || n >= sizeof c->admin_token ||
            strspn(env, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != n) {
            snprintf(err, err_len, "LAB_ADMIN_TOKEN must be 8 to %zu characters of "
                     "A-Z a-z 0-9 _ - .", sizeof c->admin_token - 1);
            return false;
        }
        memcpy(c->admin_token, env, n + 1);
        return true;
    }
    if (config_loopback(c))
        return true;
    if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random) {
        snprintf(err, err_len, "cannot make a random admin token");
        return false;
    }
    for (size_t i = 0; i < sizeof random; i++)
        snprintf(c->admin_token + 2 * i, 3, "%02x", random[i]);
    *generated = true;
    return true;
}
