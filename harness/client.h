/* client.h -- the load: client threads, each an epoll loop over its own
 * keep-alive HTTP/1.1 connections, in the manner of wrk.
 *
 * A "job" is one user: K status reads (--reads-per-booking) and then its
 * booking, all on the same connection; or, with --path, one request. The
 * caller gives each thread a number of connections and a range of jobs. A
 * thread opens all its connections, waits at the start line (a barrier
 * shared with the other threads and main), then every connection takes a
 * job, and takes the next one from the thread's range when it is done:
 * a closed loop. Burst mode is the case of as many connections as jobs.
 *
 * Nothing is shared while the attack runs: each thread counts into its own
 * struct counts and histograms, read by main only after pthread_join. The
 * progress line and the timeline read three counters per thread, published
 * with relaxed atomic stores. */
#ifndef HARNESS_CLIENT_H
#define HARNESS_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "explain.h"
#include "history.h"
#include "live.h"
#include "wire.h"
#include "report.h"
#include "stats.h"

#define CLIENT_HOST_MAX 280     /* "host:port", for the Host header */
#define CLIENT_REQUEST_MAX 1536 /* the longest request we format */

/* Where the service is: resolved once, before the threads start. */
struct client_target {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host_header[CLIENT_HOST_MAX];
};

int client_resolve(const char *host, int port, struct client_target *target, char *err,
                   size_t err_len);

/* client_fetch makes one blocking request (the /healthz and reset calls
 * around the attack) on a connection of its own, closed afterwards. 0 with
 * the answer in R, or -1 with the reason in ERR. */
int client_fetch(const struct client_target *target, const char *method, const char *path,
                 int timeout_ms, struct http_response *r, char *err, size_t err_len);

/* What every thread sends: read-only while the threads run. */
struct client_work {
    const struct client_target *target;
    const struct client_target *targets; /* every instance, when more than one */
    int target_count;           /* connection i goes to targets[i % count] */
    bool booking;               /* the booking workload; false: a custom path */
    const char *method, *path;  /* the custom request */
    long long event_id;         /* the bookings' event */
    long long user_base;        /* job j is user user_base + 1 + j / clicks */
    int clicks;                 /* --clicks: jobs per user (1: one booking each) */
    const char *run_id;         /* request ids are <run_id>-<user_base + 1 + job>:
                                   <run_id>-<userId> with one click per user */
    int reads_per_booking;
    int timeout_ms;
    bool history;               /* keep a history record per booking (history.h) */
    int pace_ms;                /* --pace-ms: a connection waits this long after
                                   each booking before its next job (closed loop) */
    int error_backoff_ms;       /* after a failed booking (refused, 5xx, timeout)
                                   the connection waits this long (0: not at all),
                                   so that an outage does not burn the requests */
    double rate_per_s;          /* --rate, this thread's share; 0: closed loop (rate.h) */
    int retry_same_id;          /* --retry-same-id: a booking whose try failed
                                   (client_should_retry) is sent again with the
                                   same request id, up to this many more times */
    struct live *live;          /* --live: the page the threads count for (live.h);
                                   NULL without one */
    _Atomic unsigned *seat_hits; /* --live: index v counts the 201s that read the
                                   counter at v (their "counterRead"); NULL: none */
    size_t seat_hits_len;
};

/* The wait before a booking's first retry; each further retry waits twice
 * as long as the one before (250, 500, 1000 ms: 1.75 s for three), long
 * enough that the retries of an id outlast a short outage. */
#define CLIENT_RETRY_BACKOFF_MS 250

/* client_should_retry: a try whose outcome O (ANSWERED: a whole answer came)
 * leaves the request's fate unknown or undone for a reason that may pass:
 * a timeout, a refused connection, a connection reset before the answer
 * was whole, or a 5xx. Any other answer is the API's word and is not sent
 * again. */
bool client_should_retry(enum outcome o, bool answered);

/* client_counter_read reads the "counterRead" of a 201's BODY (LEN bytes):
 * true with *V when the booking told the seat counter it read. */
bool client_counter_read(const char *body, size_t len, long long *v);

struct client_conn;   /* one connection's state machine: client.c */

struct client_thread {
    /* set by the caller before the thread starts */
    const struct client_work *work;
    pthread_barrier_t *start_line;
    int conn_count;
    long long job_first, job_end;      /* the jobs [job_first, job_end) */
    long long conn_first;              /* its first connection's number, of all */
    pthread_t tid;                     /* set by pthread_create */
    struct live_counters *live;        /* --live: this thread's counters; NULL: none */

    /* published while running, read without locks by the progress line */
    _Atomic long long progress_jobs;      /* jobs (users) finished */
    _Atomic long long progress_requests;  /* HTTP requests finished */
    _Atomic long long progress_accepted;  /* bookings answered booked or queued */
    _Atomic bool finished;

    /* results: the thread's own until it is joined */
    struct counts bookings;            /* the bookings, or the custom requests */
    struct counts reads;               /* the status reads */
    struct histogram latency;          /* of the bookings / custom requests */
    struct histogram read_latency;     /* of the status reads */
    long long connected;               /* connections up at the start line */
    long long same_id_retries;         /* tries that sent a request id again */
    uint64_t end_us;                   /* when its last job ended */
    long long *queued_jobs;            /* jobs answered 202, for the drain's check */
    size_t queued_len, queued_cap;
    bool queued_incomplete;            /* out of memory: the list is partial */
    struct history_log history;        /* with work->history: one record per booking */
    struct explain_log explain;        /* booking runs: one record per 201 (explain.h) */
    char error[160];                   /* why the thread could not start */

    /* private to the thread */
    int epoll_fd;
    struct client_conn *conns;
    long long job_next, jobs_done, requests_done;
    uint64_t start_us;                 /* the open loop's time zero (rate.h) */
    uint64_t timeout_us;
    size_t read_request_len, custom_request_len;
    char read_request[CLIENT_REQUEST_MAX];
    char custom_request[CLIENT_REQUEST_MAX];
};

/* client_thread_init readies T (its histograms, its counters); the caller
 * then sets the fields of "set by the caller" and starts the thread. */
void client_thread_init(struct client_thread *t);
void *client_thread_run(void *arg);
void client_thread_free(struct client_thread *t);

#endif
