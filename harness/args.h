/* args.h -- the attack's command line, parsed into one struct.
 *
 * Pure: args_parse reads only ARGV and the default URL it is given (main
 * passes LAB_HTTP), prints nothing and never exits; on a bad argument it
 * returns -1 with one line of explanation, and main prints the usage and
 * exits 2. */
#ifndef HARNESS_ARGS_H
#define HARNESS_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "live.h"
#include "nemesis.h"

enum attack_mode {
    ATTACK_BURST,      /* one request per user, all fired together */
    ATTACK_SUSTAINED,  /* a closed loop over keep-alive connections */
};

#define ARGS_HOST_MAX 256
#define ARGS_PATH_MAX 1024
#define ARGS_RUN_ID_MAX 40
#define ARGS_URLS_MAX 16      /* --url a,b,...: instances of one service */    /* leaves room for "-<userId>" in a 64-char requestId */

struct attack_args {
    /* the target: --url http://host:port */
    char host[ARGS_HOST_MAX];
    int port;
    /* --url a,b,c: every instance (the first is host:port above); the
       connections go to them in turn */
    int url_count;
    char url_hosts[ARGS_URLS_MAX][ARGS_HOST_MAX];
    int url_ports[ARGS_URLS_MAX];

    /* the workload */
    enum attack_mode mode;        /* --mode burst|sustained */
    long long event_id;           /* --event */
    long long seats;              /* --seats: the reset's seat count */
    long long users;              /* --users: burst only */
    int clicks;                   /* --clicks: burst, bookings per user, each with its
                                     own request id, all fired at once (default 1) */
    long long user_base;          /* --user-base: user ids are base+1 .. base+N */
    long long connections;        /* --connections: sustained only */
    long long requests;           /* --requests: sustained only */
    long long rate;               /* --rate: requests/s, open loop; 0: closed loop */
    int threads;                  /* --threads */
    int reads_per_booking;        /* --reads-per-booking */
    int pace_ms;                  /* --pace-ms: sustained, a connection's pause after each booking */
    char method[8];               /* --method, with --path */
    char path[ARGS_PATH_MAX];     /* --path; empty: the booking workload */
    char run_id[ARGS_RUN_ID_MAX + 1]; /* --run-id; empty: main makes one */

    /* limits */
    int timeout_ms;               /* --timeout-ms: one request, connect included */
    int drain_timeout_ms;         /* --drain-timeout-ms: waiting for the queue */

    /* what to do around the attack and with its result */
    bool reset;                   /* false with --no-reset */
    char csv_path[ARGS_PATH_MAX]; /* --csv; empty with --no-csv or --csv - */
    char timeline_path[ARGS_PATH_MAX]; /* --timeline; empty: none */
    bool json;                    /* --json */
    bool expect_clean;            /* --expect-clean */
    bool expect_oversell;         /* --expect-oversell */
    bool help;                    /* --help: print the usage, exit 0 */

    /* faults (nemesis.h) and the history they are judged from (history.h) */
    struct nemesis_plan faults;   /* --fault KIND@WHEN[:DURATION], repeatable */
    char history_path[ARGS_PATH_MAX]; /* --history; with --fault or
                                         --retry-same-id, default
                                         results/<run>-history.jsonl */
    int retry_same_id;            /* --retry-same-id N: a failed try of a booking
                                     is sent again with the same request id, up
                                     to N times (client.h); 0: never */

    /* --backlog N: before the attack, N bookings of other users are queued
       on the event, the sale is reset under them, and the attack books the
       new sale: how long its first ticket waits behind the stale backlog */
    long long backlog;

    /* --live HOST:PORT, --live-linger S, --live-save FILE, --live-buffer-kb N:
       the live page (live.h), served on loopback while the attack runs */
    struct live_options live;
};

/* Defaults, also quoted by the usage text. */
#define ARGS_DEFAULT_USERS 500
#define ARGS_DEFAULT_SEATS 100
#define ARGS_DEFAULT_EVENT 1
#define ARGS_DEFAULT_THREADS 2
#define ARGS_DEFAULT_CONNECTIONS 50
#define ARGS_DEFAULT_REQUESTS 10000
#define ARGS_DEFAULT_TIMEOUT_MS 10000
#define ARGS_DEFAULT_DRAIN_TIMEOUT_MS 60000
#define ARGS_RETRY_SAME_ID_MAX 100
#define ARGS_BACKLOG_MAX 1000000
#define ARGS_CLICKS_MAX 10
#define ARGS_DEFAULT_CSV "results/attacks.csv"

int args_parse(struct attack_args *a, int argc, char *const argv[], const char *default_url,
               char *err, size_t err_len);

/* args_parse_url: "http://host:port", "http://host" (port 80) or "host:port". */
bool args_parse_url(const char *url, char *host, size_t host_len, int *port);

/* args_is_custom: --path was given: count answers, no reset, no audit. */
bool args_is_custom(const struct attack_args *a);

void args_usage(FILE *out, const char *program);

#endif
