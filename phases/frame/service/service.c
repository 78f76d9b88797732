/* service.c -- start-up and shutdown of a phase's service: service_main(),
 * which each phase's main() calls with its descriptor.
 *
 * Start-up checks every backing service the phase needs and exits with a
 * clear message if one is missing (the only place the lab exits on an
 * error). Then it serves until SIGINT or SIGTERM, and shuts down in order:
 * stop taking requests, stop the consumer, flush Kafka, close connections. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "booking/api.h"
#include "booking/pipeline.h"
#include "clients/cache.h"
#include "service/config.h"
#include "consumer/consumer.h"
#include "db.h"
#include "service/phase.h"
#include "service/strategy.h"
#include "gate/gate.h"
#include "sentinel.h"

/* check_backends connects once to each service the phase needs. */
static void check_backends(const struct phase *phase, const struct config *cfg)
{
    char err[256], shown[512];
    PGconn *db = db_connect(cfg->pg, err, sizeof err);

    lab_mask_secrets(cfg->pg, shown, sizeof shown); /* the conninfo alone, masked exactly */
    if (!db)
        lab_fatal("cannot reach PostgreSQL (%s): %s. Start the services: make services", shown,
                  err);
    PQfinish(db);
    if (phase_has_gate(phase)) {
        struct redis_addr addr;
        redisContext *c;

        if (!redis_addr_parse(cfg->redis, &addr, err, sizeof err))
            lab_fatal("LAB_REDIS: %s", err);
        c = cache_connect(cfg->redis, err, sizeof err);
        if (!c)
            lab_fatal("cannot reach %s. Start the services: make services", err);
        redisFree(c);
    }
}

int service_main(const struct phase *phase, int argc, char **argv)
{
    char name[32], err[256];
    struct config cfg;
    struct phase chosen;       /* PHASE with the booking of its --strategy */
    struct service svc = { .cfg = &cfg, .phase = &chosen };
    struct consumer consumer = { .svc = &svc };
    pthread_t consumer_thread;
    struct http_server *http = NULL;
    bool run_api, run_consumer, token_made;
    long long fd_limit;
    sigset_t stop_signals;
    int sig;

    snprintf(name, sizeof name, "phase%d", phase->number);
    lab_set_program(name);
    if (!config_parse(&cfg, argc, argv, err, sizeof err)) {
        if (err[0])
            fprintf(stderr, "%s: %s\n", name, err);
        config_usage(argv[0]);
        return err[0] ? 2 : 0;
    }
    if (!strategy_choose(phase, &cfg.strategy, &chosen, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", name, err);
        config_usage(argv[0]);
        return 2;
    }
    if (!strategy_check_without(&chosen, cfg.without, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", name, err);
        config_usage(argv[0]);
        return 2;
    }
    if (cfg.batch == 0)
        cfg.batch = chosen.batch > 0 && chosen.decide_batch ? chosen.batch : 1;
    if (!chosen.decide_batch)
        cfg.batch = 1;
    run_api = !phase_is_async(phase) || cfg.role != ROLE_WORKER;
    run_consumer = phase_is_async(phase) && cfg.role != ROLE_API;

    /* Signals go to sigwait() below, not to whichever thread is running. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    fd_limit = lab_raise_fd_limit();
    lab_log("open files: up to %lld (RLIMIT_NOFILE raised to its hard limit)", fd_limit);
    if (!config_admin_token(&cfg, &token_made, err, sizeof err))
        lab_fatal("%s", err);
    if (run_api && !config_loopback(&cfg))
        lab_log("WARNING: listening on %s, not loopback: anyone who can reach this port can "
                "book; admin endpoints need the token", cfg.http_host);
    if (run_api && token_made)
        lab_log("admin token (LAB_ADMIN_TOKEN was unset): %s", cfg.admin_token);

    check_backends(phase, &cfg);
    if (phase_has_gate(phase) && run_api && gate_rebuild(&svc) != LAB_OK)
        lab_fatal("cannot rebuild the Redis gate from PostgreSQL");
    if (phase_is_async(phase) && run_api &&
        !(svc.queue = queue_producer_open(cfg.kafka, cfg.topic, cfg.partitions,
                                          cfg.queue_timeout_ms, cfg.linger_ms, cfg.acks, err,
                                          sizeof err)))
        lab_fatal("cannot reach Kafka: %s. Start the services: make services", err);
    if (svc.queue)
        lab_log("queue: producer acks=%s%s", queue_acks_name(cfg.acks),
                cfg.acks == QUEUE_ACKS_ALL ? " (idempotent: every in-sync replica has a message "
                                             "before its 202)"
                                           : " (not idempotent: a 202 once the partition's leader "
                                             "has the message, lost if it dies before its followers "
                                             "fetch it)");
    if (svc.queue && safeguard_off(&cfg, SAFEGUARD_ACK_FIRST))
        queue_producer_unacked(svc.queue);
    if (run_consumer) {
        if (!(consumer.queue = queue_consumer_open(cfg.kafka, cfg.topic, cfg.group,
                                                   cfg.commit_interval_ms, err, sizeof err)))
            lab_fatal("cannot start the Kafka consumer: %s", err);
        if (pthread_create(&consumer_thread, NULL, consumer_run, &consumer) != 0)
            lab_fatal("cannot start the consumer thread");
    }
    if (run_api && !pipeline_start(&svc))
        lab_fatal("cannot start the booking pipeline's threads");
    if (run_api && !(http = http_start(&svc, api_routes, pipeline_thread_start)))
        lab_fatal("cannot listen on %s:%d (in use? see make services-status)", cfg.http_host,
                  cfg.http_port);

    if (cfg.without || chosen.planted) {
        char planted[320];
        lab_log("PLANTED BUG (%s): a zoo run (docs/zoo.md), not a lab result",
                strategy_planted(&chosen, cfg.without, planted, sizeof planted));
    }
    lab_log("phase %d (%s%s%s) ready%s%s%s, think %d ms, %d threads", phase->number,
            phase->name, cfg.strategy ? ", " : "", cfg.strategy ? cfg.strategy : "", run_api ? " on " : "", run_api ? cfg.http_host : "",
            run_consumer ? " with a Kafka consumer" : "", cfg.think_ms, cfg.threads);
    if (run_consumer && cfg.batch > 1)
        lab_log("consumer: up to %d messages per transaction (--batch)", cfg.batch);
    sigwait(&stop_signals, &sig);
    lab_log("%s: shutting down", strsignal(sig));

    http_stop(http);
    if (run_api)
        pipeline_stop(&svc);
    if (run_consumer) {
        atomic_store(&consumer.stop, true);
        pthread_join(consumer_thread, NULL);
        queue_consumer_close(consumer.queue);
    }
    if (svc.queue)
        queue_producer_close(svc.queue);
    lab_log("stopped");
    return 0;
}
