/* nemesis.h -- the faults an attack injects (--fault KIND@WHEN[:DURATION]).
 *
 * A plan is a list of faults, parsed from the command line before the
 * attack. During the attack one nemesis thread, beside the client threads,
 * waits for each fault's moment (seconds into the run, or a number of
 * bookings accepted), breaks something of the lab, waits DURATION, and
 * heals it. It breaks and heals through infra/fault.sh, which acts only on
 * processes the lab started (their pid files), never on a name.
 *
 * The client threads never wait for the nemesis: it reads their published
 * counters with relaxed loads, as the progress line does. The times it
 * stamps on each fault are read by main only after nemesis_join. */
#ifndef HARNESS_NEMESIS_H
#define HARNESS_NEMESIS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fault_kind {
    FAULT_KILL_SERVICE,      /* kill -9 the phase's process; restart it */
    FAULT_KILL_WORKER,       /* kill -9 the --role worker process; start a new one */
    FAULT_RESTART_REDIS,     /* stop and start the lab's Redis (it comes back empty) */
    FAULT_RESTART_KAFKA,     /* stop and start the lab's Kafka */
    FAULT_RESTART_POSTGRES,  /* stop and start the lab's PostgreSQL */
    FAULT_PAUSE_POSTGRES,    /* SIGSTOP PostgreSQL and its backends; SIGCONT */
    FAULT_PAUSE_REDIS,       /* SIGSTOP Redis; SIGCONT */
    FAULT_PAUSE_SERVICE,     /* SIGSTOP the phase's process; SIGCONT */
    /* the replicated topology's (infra/cluster.sh) */
    FAULT_KILL_BROKER,       /* kill -9 the booking partition's leader; start it */
    FAULT_KILL_CONTROLLER,   /* kill -9 the active Kafka controller; start it */
    FAULT_FAILOVER_POSTGRES, /* kill -9 the primary, promote the standby */
    FAULT_FAILOVER_REDIS,    /* kill -9 the Redis primary, Sentinel promotes */
    /* the service cut off from one server by the lab's proxy; healed */
    FAULT_PARTITION_PG,
    FAULT_PARTITION_REDIS,
    FAULT_PARTITION_KAFKA,
    FAULT_KIND_COUNT
};

#define NEMESIS_MAX_FAULTS 8
#define NEMESIS_DEFAULT_DURATION_MS 2000
#define NEMESIS_MAX_MS (3600LL * 1000)

struct fault {
    /* from the command line */
    enum fault_kind kind;
    bool at_accepted;            /* WHEN is accepted=K, not seconds */
    long long when;              /* ms into the run, or K bookings accepted */
    long long duration_ms;       /* from the break to the start of the heal */

    /* stamped by the nemesis thread (lab_now_us); 0: did not happen */
    uint64_t broken_us;          /* the break began: the fault window's start */
    uint64_t heal_us;            /* the heal began: the fault window's end */
    uint64_t healed_us;          /* the heal's command returned */
    int break_status, heal_status;  /* exit statuses of infra/fault.sh */
};

struct nemesis_plan {
    struct fault faults[NEMESIS_MAX_FAULTS];
    int count;
};

const char *fault_kind_name(enum fault_kind k);

/* nemesis_parse_fault reads "KIND@WHEN[:DURATION]": WHEN is seconds (as
 * "5" or "2.5") or "accepted=K"; DURATION is seconds (default 2). 0, or -1
 * with the reason in ERR. Pure: the unit tests call it. */
int nemesis_parse_fault(const char *text, struct fault *f, char *err, size_t err_len);

/* nemesis_plan_add parses TEXT and appends it to PLAN (at most
 * NEMESIS_MAX_FAULTS). */
int nemesis_plan_add(struct nemesis_plan *plan, const char *text, char *err, size_t err_len);

/* What the thread reads of the attack while it runs. */
struct nemesis_probe {
    long long (*accepted)(void *ctx);   /* bookings accepted so far (relaxed reads) */
    void *ctx;
};

struct nemesis {
    struct nemesis_plan *plan;
    struct nemesis_probe probe;
    const char *script;          /* infra/fault.sh */
    uint64_t start_us;           /* the attack's start line */
    atomic_bool attack_over;     /* set by main: faults not begun are skipped */
    /* each fault's window as it happens, for the live page (live.h), which
       reads them while the attack runs (the plan's stamps are main's only
       after the join): the break's start, the heal's end; 0: not yet */
    _Atomic uint64_t window_from_us[NEMESIS_MAX_FAULTS];
    _Atomic uint64_t window_to_us[NEMESIS_MAX_FAULTS];
    pthread_t tid;
    bool running;
};

/* nemesis_start starts the thread; the clock of WHEN starts at START_US. */
int nemesis_start(struct nemesis *n, struct nemesis_plan *plan, struct nemesis_probe probe,
                  uint64_t start_us);

/* nemesis_join tells the thread the attack is over and waits for it: a
 * fault under way is healed first, a fault not yet begun is skipped. */
void nemesis_join(struct nemesis *n);

#endif
