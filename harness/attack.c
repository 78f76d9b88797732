/* attack.c -- the attack: 500 users click Buy on the last 100 seats.
 *
 * main() strings the steps together (run_setup: 1-2, run_attack_step: 3,
 * run_audit_step: 4-5, run_report: 6; run_cleanup on every path):
 *
 *   1. ask /healthz which phase is listening (and whether it is async);
 *   2. reset the event through the service (unless --no-reset);
 *   3. open every connection, then fire all the users at once (burst) or
 *      keep C connections busy for R requests (sustained);
 *   4. for an asynchronous phase, wait until the queue has decided every
 *      request it accepted;
 *   5. audit the database directly: oversold, phantom counter, duplicate
 *      users, and whether the answers agree with the ticket rows;
 *   6. print the verdict and the figures, append a CSV row.
 *
 * With --timeline, steps 3 and 4 also write the run over time (timeline.h).
 *
 * The load itself is client.c; the arithmetic of the counts and the
 * writing of the results is report.c. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "audit.h"
#include "checker.h"
#include "claims.h"
#include "client.h"
#include "db.h"
#include "explain.h"
#include "fleet.h"
#include "wire.h"
#include "lab.h"
#include "history.h"
#include "live.h"
#include "nemesis.h"
#include "report.h"
#include "sentinel.h"
#include "stats.h"
#include "timeline.h"

/* Exit statuses: the usage text and harness/README.md quote them. */
enum {
    EXIT_RAN = 0,          /* the attack ran, whatever the verdict */
    EXIT_EXPECTATION = 1,  /* --expect-clean or --expect-oversell was not met */
    EXIT_USAGE = 2,        /* bad command line */
    EXIT_UNREACHABLE = 3,  /* the service or the database cannot be reached */
    EXIT_INTERNAL = 4,     /* the harness failed itself: miscounted, no threads */
};

#define PROGRESS_EVERY_MS 200
#define FAULT_ERROR_BACKOFF_MS 100     /* a failed booking's pause, with --fault */
#define RECOVERY_WAIT_MS 90000         /* services back after the faults, at most */
#define DRAIN_POLL_MS 100
#define QUIET_WAIT_MS 3000             /* a drift or a claim may settle this long */
#define QUIET_POLL_MS 250
#define BACKLOG_CONNECTIONS 50         /* --backlog's bookings are sent over these */

/* ------------------------------------------------------------------------
 * Around the attack: the service's health, the reset, the run's identity
 * --------------------------------------------------------------------- */

/* What /healthz says about the phase listening. */
struct phase_info {
    int phase;
    char name[32];
    bool async;
    long long think_ms;
    char planted[320];         /* the zoo's planted bug, "" for none */
};

/* ask_health learns which phase is under attack. Only an unreachable
 * service is an error here; the target may be a service the lab did not
 * build (docs/bring-your-own.md) or, for a custom --path, any server, so an
 * answer without the lab's fields just leaves them unknown (phase 0). */
static int ask_health(const struct client_target *target, int timeout_ms, bool strict,
                      struct phase_info *svc)
{
    struct http_response r;
    char err[256];
    const char *body;
    size_t len;
    long long phase = 0;

    memset(svc, 0, sizeof *svc);
    if (client_fetch(target, "GET", "/healthz", timeout_ms, &r, err, sizeof err) != 0) {
        lab_log("the service is not reachable: %s", err);
        return -1;
    }
    body = http_response_body(&r, &len);
    if (r.status != 200 || !json_pick_long(body, len, "phase", &phase)) {
        if (strict) {
            lab_log("GET /healthz answered %d, not a lab service's health: %.*s", r.status,
                    (int)len, body);
            return -1;
        }
        return 0;
    }
    svc->phase = (int)phase;
    json_pick_string(body, len, "name", svc->name, sizeof svc->name);
    json_pick_bool(body, len, "async", &svc->async);
    json_pick_long(body, len, "thinkMs", &svc->think_ms);
    json_pick_string(body, len, "planted", svc->planted, sizeof svc->planted);
    return 0;
}

/* reset_event asks the service to put SEATS seats on sale, with no ticket
 * and no decision left from an earlier run. Through the service rather
 * than SQL: a phase with a cache (Redis) resets its cache too. */
static int reset_event(const struct client_target *target, int timeout_ms, long long event_id,
                       long long seats)
{
    struct http_response r;
    char path[128], err[256], status[32] = "";
    const char *body;
    size_t len;

    snprintf(path, sizeof path, "/api/admin/reset?eventId=%lld&seats=%lld", event_id, seats);
    if (client_fetch(target, "POST", path, timeout_ms, &r, err, sizeof err) != 0) {
        lab_log("reset failed: %s", err);
        return -1;
    }
    body = http_response_body(&r, &len);
    json_pick_string(body, len, "status", status, sizeof status);
    if (r.status != 200 || strcmp(status, "reset") != 0) {
        lab_log("reset failed: %d %.*s", r.status, (int)len, body);
        return -1;
    }
    return 0;
}

/* make_run_id names this run in base 36 from the wall clock in
 * microseconds: short, sortable and different for every run, so that the
 * request ids of two runs never meet in the tickets table. */
static void make_run_id(char *out, size_t out_len)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    struct timespec ts;
    uint64_t v;
    char tmp[16];
    size_t n = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    v = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    do {
        tmp[n++] = digits[v % 36];
        v /= 36;
    } while (v && n < sizeof tmp);
    for (size_t i = 0; i < n && i + 1 < out_len; i++)
        out[i] = tmp[n - 1 - i];
    out[n < out_len ? n : out_len - 1] = '\0';
}

/* git_revision: LAB_GIT_REV when the caller knows it (CI, a tarball),
 * else git's own answer, else "unknown". git's complaints are silenced:
 * outside a work tree it is not an error. */
static void git_revision(char *out, size_t out_len)
{
    const char *env = lab_env("LAB_GIT_REV", NULL);
    FILE *p;

    snprintf(out, out_len, "unknown");
    if (env) {
        snprintf(out, out_len, "%s", env);
        return;
    }
    p = popen("git rev-parse --short HEAD 2>/dev/null", "r");
    if (!p)
        return;
    if (fgets(out, (int)out_len, p))
        out[strcspn(out, "\r\n")] = '\0';
    if (pclose(p) != 0 || out[0] == '\0')
        snprintf(out, out_len, "unknown");
}

static void utc_timestamp(char *out, size_t out_len)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, out_len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------------
 * The attack
 * --------------------------------------------------------------------- */

/* What a timeline sample needs besides the threads' counters: the file,
 * and the database for the decided count. */
struct timeline_source {
    struct timeline tl;
    PGconn *db;
    long long event_id;
    long long decided_before;   /* ticket and decision rows before the attack */
};

/* sample_attack writes one timeline row while the users are being
 * answered: the threads' published counters (relaxed loads, no lock on
 * their path) and the decided count from the database. A failed count
 * skips the row: the audit afterwards reports a database that is gone. */
static void sample_attack(struct timeline_source *src, struct client_thread *threads, int n)
{
    long long finished = 0, accepted = 0, decided = 0;

    if (!src->tl.out)
        return;
    for (int i = 0; i < n; i++) {
        finished += atomic_load_explicit(&threads[i].progress_jobs, memory_order_relaxed);
        accepted += atomic_load_explicit(&threads[i].progress_accepted, memory_order_relaxed);
    }
    if (db_count_decided(src->db, src->event_id, &decided) != LAB_OK)
        return;
    timeline_row(&src->tl, lab_now_us(), finished, accepted, decided - src->decided_before);
}

/* What the threads did, merged once they are joined. */
struct outcome_totals {
    struct counts bookings, reads;
    struct histogram latency, read_latency;
    long long connected;
    double wall_s;
    uint64_t start_us;           /* the start line */
    struct history_log history;  /* every thread's records, with --fault or --history */
    struct explain_log explain;  /* every thread's 201s, for the explainer */
    long long same_id_retries;   /* tries that sent a request id again */
};

/* show_progress writes the progress line: jobs done of all, and requests
 * per second since the last line. It reads each thread's two published
 * counters with relaxed loads: a slightly stale figure is fine, a lock on
 * the threads' hot path is not. */
static void show_progress(struct client_thread *threads, int n, long long total_jobs,
                          const char *unit, long long *last_requests, uint64_t *last_us)
{
    long long jobs = 0, requests = 0;
    uint64_t now = lab_now_us();
    double rate;

    for (int i = 0; i < n; i++) {
        jobs += atomic_load_explicit(&threads[i].progress_jobs, memory_order_relaxed);
        requests += atomic_load_explicit(&threads[i].progress_requests, memory_order_relaxed);
    }
    rate = now > *last_us ? (double)(requests - *last_requests) * 1e6 / (double)(now - *last_us)
                          : 0.0;
    fprintf(stderr, "\r\033[Kattack: %lld/%lld %s, %.0f req/s", jobs, total_jobs, unit, rate);
    *last_requests = requests;
    *last_us = now;
}

/* The nemesis's view of the attack: the bookings accepted so far. */
struct accepted_probe {
    struct client_thread *threads;
    int n;
};

/* accepted_so_far sums the threads' published accepted counters (relaxed
 * loads): what the nemesis waits for with accepted=K. */
static long long accepted_so_far(void *ctx)
{
    const struct accepted_probe *p = ctx;
    long long accepted = 0;

    for (int i = 0; i < p->n; i++)
        accepted += atomic_load_explicit(&p->threads[i].progress_accepted, memory_order_relaxed);
    return accepted;
}

static bool all_finished(struct client_thread *threads, int n)
{
    for (int i = 0; i < n; i++)
        if (!atomic_load_explicit(&threads[i].finished, memory_order_acquire))
            return false;
    return true;
}

/* run_attack splits CONNS connections and JOBS jobs over the threads (the
 * jobs in proportion to the connections, so that no thread runs dry while
 * another has a backlog), starts the threads, releases them together once
 * every connection is open, shows the progress, samples the timeline, and
 * merges the results. The clock starts at the release: wall_s is the
 * attack, not the connects. */
static int run_attack(struct attack_args *args, const struct client_work *work,
                      long long conns, long long jobs, struct timeline_source *src,
                      struct nemesis *nem, struct client_thread **threads_out, int *thread_count,
                      struct outcome_totals *out)
{
    struct accepted_probe probe;
    int n = args->threads < conns ? args->threads : (int)conns;
    struct client_thread *threads = calloc((size_t)n, sizeof *threads);
    pthread_barrier_t start_line;
    long long conns_before = 0, last_requests = 0;
    uint64_t start_us, end_us = 0, last_us;
    bool tty = isatty(STDERR_FILENO);

    if (!threads || pthread_barrier_init(&start_line, NULL, (unsigned)n + 1) != 0) {
        lab_log("cannot set up %d threads", n);
        free(threads);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct client_thread *t = &threads[i];
        long long mine = conns / n + (i < conns % n);

        client_thread_init(t);
        t->work = work;
        t->live = work->live ? live_counters_of(work->live, i) : NULL;
        t->start_line = &start_line;
        t->conn_count = (int)mine;
        t->job_first = jobs * conns_before / conns;
        t->conn_first = conns_before;
        conns_before += mine;
        t->job_end = jobs * conns_before / conns;
    }
    for (int started = 0; started < n; started++) {
        int rc = pthread_create(&threads[started].tid, NULL, client_thread_run, &threads[started]);
        if (rc != 0) {
            /* the barrier counts n + 1: the started threads would wait forever */
            lab_log("cannot start thread %d of %d: %s", started + 1, n, strerror(rc));
            exit(EXIT_INTERNAL);
        }
    }
    pthread_barrier_wait(&start_line);
    start_us = lab_now_us();
    last_us = start_us;
    out->start_us = start_us;
    probe = (struct accepted_probe){ threads, n };
    if (nemesis_start(nem, &args->faults, (struct nemesis_probe){ accepted_so_far, &probe },
                      start_us))
        lab_log("cannot start the nemesis: the faults are skipped");
    if (work->live)
        live_attack_started(work->live, start_us, nem);
    timeline_start(&src->tl, start_us);
    sample_attack(src, threads, n);
    while (!all_finished(threads, n)) {
        lab_sleep_ms(TIMELINE_EVERY_MS);
        sample_attack(src, threads, n);
        if (tty && lab_now_us() - last_us >= PROGRESS_EVERY_MS * 1000u)
            show_progress(threads, n, jobs, work->booking ? "users" : "requests",
                          &last_requests, &last_us);
    }
    sample_attack(src, threads, n);
    nemesis_join(nem);   /* a fault under way is healed before anything is judged */
    if (tty)
        fprintf(stderr, "\r\033[K");
    memset(out, 0, sizeof *out);
    out->start_us = start_us;
    stats_init(&out->latency);
    stats_init(&out->read_latency);
    for (int i = 0; i < n; i++) {
        struct client_thread *t = &threads[i];

        pthread_join(t->tid, NULL);
        if (t->error[0])
            lab_log("thread %d: %s", i, t->error);
        counts_merge(&out->bookings, &t->bookings);
        counts_merge(&out->reads, &t->reads);
        stats_merge(&out->latency, &t->latency);
        stats_merge(&out->read_latency, &t->read_latency);
        out->connected += t->connected;
        out->same_id_retries += t->same_id_retries;
        if (history_merge(&out->history, &t->history))
            out->history.incomplete = true;
        if (explain_merge(&out->explain, &t->explain))
            out->explain.incomplete = true;
        if (t->end_us > end_us)
            end_us = t->end_us;
    }
    pthread_barrier_destroy(&start_line);
    out->wall_s = end_us > start_us ? (double)(end_us - start_us) / 1e6 : 0.0;
    *threads_out = threads;
    *thread_count = n;
    return 0;
}

/* ------------------------------------------------------------------------
 * After the attack: the queue, the audit
 * --------------------------------------------------------------------- */

/* drain_queue waits until the database holds a decision (a ticket row or
 * a decisions row) for every request the service accepted: the 202s, and
 * the 201s, whose ticket rows count as decided too. DECIDED_BEFORE is the
 * count before the attack, so --no-reset works. Bounded by
 * --drain-timeout-ms; the progress goes to stderr, and every poll is a row
 * of the timeline. */
static int drain_queue(PGconn *db, const struct attack_args *args, long long decided_before,
                       long long accepted, struct timeline_source *src, struct summary *s)
{
    long long finished = counts_ended(&s->bookings);
    uint64_t start_us = lab_now_us(), last_log_us = start_us;
    uint64_t limit_us = (uint64_t)args->drain_timeout_ms * 1000u;
    bool tty = isatty(STDERR_FILENO);
    long long decided = 0;

    s->drained = true;
    for (;;) {
        uint64_t now;

        if (db_count_decided(db, args->event_id, &decided) != LAB_OK)
            return -1;
        decided -= decided_before;
        now = lab_now_us();
        timeline_row(&src->tl, now, finished, accepted, decided);
        if (decided >= accepted)
            break;
        if (now - start_us >= limit_us) {
            s->drain_timed_out = true;
            break;
        }
        if (tty) {
            fprintf(stderr, "\r\033[Kattack: draining the queue: %lld/%lld decided, %.1f s",
                    decided, accepted, (double)(now - start_us) / 1e6);
        } else if (now - last_log_us >= 5000000u) {
            lab_log("draining the queue: %lld/%lld decided", decided, accepted);
            last_log_us = now;
        }
        lab_sleep_ms(DRAIN_POLL_MS);
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    s->drain_s = (double)(lab_now_us() - start_us) / 1e6;
    s->decided = decided;
    s->lost = accepted > decided ? accepted - decided : 0;
    s->decided_per_s = s->wall_s + s->drain_s > 0 ? (double)decided / (s->wall_s + s->drain_s)
                                                   : 0.0;
    return 0;
}

/* queued_booked asks the database what became of every request answered
 * 202: the booked ones are the asynchronous phases' "booked answers", to
 * be compared with the ticket rows. */
static int queued_booked(PGconn *db, const struct attack_args *args,
                         const struct client_thread *threads, int n, long long *booked)
{
    *booked = 0;
    for (int i = 0; i < n; i++) {
        const struct client_thread *t = &threads[i];

        if (t->queued_incomplete)
            lab_log("out of memory: some queued requests are not checked");
        for (size_t j = 0; j < t->queued_len; j++) {
            long long user = args->user_base + 1 + t->queued_jobs[j];
            char request_id[PARSE_REQUEST_ID_MAX + 1];
            enum lab_status result;

            snprintf(request_id, sizeof request_id, "%s-%lld", args->run_id, user);
            if (db_result(db, request_id, &result) != LAB_OK)
                return -1;
            *booked += result == LAB_BOOKED;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * main: setup, attack, audit, report, cleanup
 * --------------------------------------------------------------------- */

/* fill_summary copies into S what the threads measured. */
static void fill_summary(struct summary *s, const struct outcome_totals *o)
{
    s->bookings = o->bookings;
    s->reads = o->reads;
    s->p50_us = stats_percentile(&o->latency, 50.0);
    s->p90_us = stats_percentile(&o->latency, 90.0);
    s->p99_us = stats_percentile(&o->latency, 99.0);
    s->p999_us = stats_percentile(&o->latency, 99.9);
    s->p9999_us = stats_percentile(&o->latency, 99.99);
    s->max_us = stats_max(&o->latency);
    s->read_p50_us = stats_percentile(&o->read_latency, 50.0);
    s->read_p99_us = stats_percentile(&o->read_latency, 99.0);
    s->wall_s = o->wall_s;
    s->req_per_s = o->wall_s > 0
        ? (double)(o->bookings.attempted + o->reads.attempted) / o->wall_s : 0.0;
}

/* audit_now reads the event's audit, logging why when it cannot. */
static int audit_now(PGconn *db, long long event_id, struct audit *a)
{
    enum lab_status st = db_audit(db, event_id, a);

    if (st == LAB_NOT_FOUND)
        lab_log("event %lld does not exist (reset it, or pick another --event)", event_id);
    else if (st != LAB_OK)
        lab_log("the audit failed");
    return st == LAB_OK ? 0 : -1;
}

/* One run of the harness, from the command line to the verdict: what the
 * four steps of main() hand each other, and what cleanup() releases. */
struct run {
    struct attack_args args;
    bool booking;                      /* the lab's API (audited), not a custom --path */
    long long conns, jobs;             /* connections opened; users or requests */
    struct client_target target;
    struct client_target targets[ARGS_URLS_MAX];   /* every --url */
    struct fleet_stats stats_before;   /* the instances' counters before */
    struct client_work work;
    struct phase_info svc;             /* what /healthz said */
    PGconn *db;                        /* the audit's connection (booking runs only) */
    struct audit before, after;
    long long decided_before;          /* decisions of the event before the attack */
    struct timeline_source src;
    struct client_thread *threads;
    int thread_count;
    struct outcome_totals totals;
    struct summary s;
    struct nemesis nemesis;            /* --fault: the thread that breaks things */
    bool checked;                      /* the checker ran (a history was kept) */
    struct check_result check;
    long long backlog_accepted;        /* --backlog: bookings answered 201 or 202 */
    struct live *live;                 /* --live: the page (live.h); NULL: none */
    char reset_at[64];                 /* --backlog: the database's clock once the
                                          reset under the backlog had answered */
};

#define RUN_GOING (-1)   /* a step's return: not an exit status, go on */

/* fill_contention reads every instance's counters again and keeps what the
 * attack added: retries and conflicts by SQLSTATE class, the strategy, and
 * the gate's refusals by the database (known when every instance told
 * them, before and after, and they did not go back: a restarted process
 * counts from 0 again). */
static void fill_contention(struct summary *s, const struct run *r)
{
    const struct fleet_stats *before = &r->stats_before;
    struct fleet_stats after;

    fleet_read(r->targets, r->args.url_count, r->args.timeout_ms, &after);
    contention_diff(&after.k, &before->k, &s->contention);
    snprintf(s->strategy, sizeof s->strategy, "%s", after.strategy);
    s->gate_refused_known = after.gate_answered == r->args.url_count &&
                            before->gate_answered == r->args.url_count &&
                            after.gate_refused >= before->gate_refused;
    s->gate_refused = s->gate_refused_known ? after.gate_refused - before->gate_refused : 0;
    s->faulted = r->args.faults.count > 0;
}

/* database_now reads PostgreSQL's clock (clock_timestamp, not the
 * transaction's) as text into OUT: the time the tickets' created_at is
 * compared with. 0, or -1. */
static int database_now(PGconn *db, char *out, size_t out_len)
{
    PGresult *res = PQexec(db, "SELECT clock_timestamp()::text");
    int rc = -1;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        snprintf(out, out_len, "%s", PQgetvalue(res, 0, 0));
        rc = 0;
    } else {
        lab_log("cannot read the database's clock: %s", PQerrorMessage(db));
    }
    PQclear(res);
    return rc;
}

/* first_ticket_after_reset reads how long after RESET_AT (database_now's
 * text) the current sale's first ticket row was written, in ms: 1 with
 * *MS set, 0 when the sale has no ticket, -1 when the query failed. */
static int first_ticket_after_reset(PGconn *db, long long event_id, const char *reset_at,
                                    long long *ms)
{
    char event_text[32];
    const char *params[2] = { event_text, reset_at };
    PGresult *res;
    int rc = -1;

    snprintf(event_text, sizeof event_text, "%lld", event_id);
    res = PQexecParams(db,
                       "SELECT round(extract(epoch FROM (min(t.created_at) - $2::timestamptz)) "
                       "* 1000)::bigint FROM tickets t JOIN events e ON e.id = t.event_id "
                       "WHERE t.event_id = $1::bigint AND t.generation = e.generation",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        rc = PQgetisnull(res, 0, 0) ? 0 : 1;
        if (rc == 1 && !parse_long(PQgetvalue(res, 0, 0), -PARSE_ID_MAX, PARSE_ID_MAX, ms))
            rc = -1;
    } else {
        lab_log("cannot read the first ticket: %s", PQerrorMessage(db));
    }
    PQclear(res);
    return rc;
}

/* backlog_booked counts the tickets of the current sale whose request ids
 * are the backlog's (RUN_ID "q-" USER, queue_backlog's): requests admitted
 * before the reset, which the generation fence keeps out of the new sale.
 * 0 with *N set, or -1 when the query failed. */
static int backlog_booked(PGconn *db, long long event_id, const char *run_id, long long *n)
{
    char event_text[32], prefix[ARGS_RUN_ID_MAX + 4];
    const char *params[2] = { event_text, prefix };
    PGresult *res;
    int rc = -1;

    snprintf(event_text, sizeof event_text, "%lld", event_id);
    snprintf(prefix, sizeof prefix, "%sq-", run_id);
    res = PQexecParams(db,
                       "SELECT count(*) FROM tickets t JOIN events e ON e.id = t.event_id "
                       "WHERE t.event_id = $1::bigint AND t.generation = e.generation "
                       "AND left(t.request_id, length($2)) = $2",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        parse_long(PQgetvalue(res, 0, 0), 0, PARSE_ID_MAX, n))
        rc = 0;
    else
        lab_log("cannot count the backlog's tickets: %s", PQerrorMessage(db));
    PQclear(res);
    return rc;
}

/* queue_backlog runs --backlog: N bookings of other users (ids
 * "<run>q-<user>", users after the attack's) sent over their own
 * connections as fast as the service answers, so that an asynchronous
 * phase's queue holds most of them undecided; then the sale is reset under
 * them, and the database's clock read once the reset has answered. The
 * attack that follows books the new sale behind the stale backlog. */
static int queue_backlog(struct run *r)
{
    struct attack_args quiet = r->args;     /* the same threads, no fault, no rate */
    struct client_work work = { 0 };
    struct timeline_source no_timeline = { 0 };
    struct nemesis no_nemesis = { 0 };
    struct outcome_totals totals = { 0 };
    struct client_thread *threads = NULL;
    char run_id[ARGS_RUN_ID_MAX + 2];
    long long conns = r->args.backlog < BACKLOG_CONNECTIONS ? r->args.backlog
                                                            : BACKLOG_CONNECTIONS;
    int n = 0, rc;

    quiet.faults.count = 0;
    quiet.rate = 0;
    snprintf(run_id, sizeof run_id, "%sq", r->args.run_id);
    work.target = &r->target;
    work.targets = r->targets;
    work.target_count = r->args.url_count;
    work.booking = true;
    work.event_id = r->args.event_id;
    work.user_base = r->args.user_base + r->jobs;
    work.run_id = run_id;
    work.timeout_ms = r->args.timeout_ms;
    if (!r->args.json)
        lab_log("queueing a backlog of %lld bookings, then resetting the sale under it",
                r->args.backlog);
    rc = run_attack(&quiet, &work, conns, r->args.backlog, &no_timeline, &no_nemesis, &threads,
                    &n, &totals);
    nemesis_join(&no_nemesis);
    r->backlog_accepted = totals.bookings.n[OUTCOME_BOOKED] + totals.bookings.n[OUTCOME_QUEUED];
    for (int i = 0; i < n; i++)
        client_thread_free(&threads[i]);
    free(threads);
    history_free(&totals.history);
    explain_free(&totals.explain);
    if (rc)
        return -1;
    if (reset_event(&r->target, r->args.timeout_ms, r->args.event_id, r->args.seats) ||
        database_now(r->db, r->reset_at, sizeof r->reset_at))
        return -1;
    return 0;
}

/* start_live serves the live page (--live) before the attack starts: what
 * the page knows of the run, the counters the threads will count into. */
static int start_live(struct run *r)
{
    const struct attack_args *args = &r->args;
    struct live_plan plan = {
        .run_id = args->run_id,
        .phase = r->svc.phase,
        .phase_name = r->svc.name,
        .async = r->svc.async,
        .mode = args->mode == ATTACK_BURST ? "burst" : "sustained",
        .event_id = args->event_id,
        .seats = r->before.total_seats > 0 ? r->before.total_seats : args->seats,
        .users = r->jobs / args->clicks,
        .requests = r->jobs,
        .think_ms = r->svc.think_ms,
        .threads = args->threads < r->conns ? args->threads : (int)r->conns,
        .planted = r->svc.planted,
        .faults = &args->faults,
        .conninfo = lab_env("LAB_PG", LAB_PG_DEFAULT),
        .decided_before = r->decided_before,
    };
    char err[512];

    r->live = live_start(&args->live, &plan, err, sizeof err);
    if (!r->live) {
        lab_log("%s", err);
        return -1;
    }
    return 0;
}

/* run_setup reads the command line and gets everything ready: the file
 * limit, the service's phase, the database, the reset, the timeline. It
 * returns RUN_GOING, or the exit status to stop with. */
static int run_setup(struct run *r, int argc, char **argv)
{
    struct attack_args *args = &r->args;
    struct rlimit rl;
    char err[512];

    lab_set_program("attack");
    if (args_parse(args, argc, argv, lab_env("LAB_HTTP", LAB_HTTP_DEFAULT), err, sizeof err)) {
        fprintf(stderr, "attack: %s\n\n", err);
        args_usage(stderr, "attack");
        return EXIT_USAGE;
    }
    if (args->help) {
        args_usage(stdout, "attack");
        return EXIT_RAN;
    }
    {   /* LAB_REDIS is read after the sale (claims_stuck_redis): a bad one
         * is refused now, not after a whole attack */
        struct redis_addr addr;

        if (!redis_addr_parse(lab_env("LAB_REDIS", LAB_REDIS_DEFAULT), &addr, err, sizeof err)) {
            fprintf(stderr, "attack: LAB_REDIS: %s\n", err);
            return EXIT_USAGE;
        }
    }
    r->booking = !args_is_custom(args);
    if (args->run_id[0] == '\0')
        make_run_id(args->run_id, sizeof args->run_id);
    r->conns = args->mode == ATTACK_BURST ? args->users * args->clicks : args->connections;
    r->jobs = args->mode == ATTACK_BURST ? args->users * args->clicks : args->requests;
    if (r->conns > r->jobs)
        r->conns = r->jobs;   /* a connection without a job would only sit there */

    lab_raise_fd_limit();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)r->conns + 64 > rl.rlim_cur) {
        fprintf(stderr, "attack: %lld connections need more open files than the limit of %llu\n",
                r->conns, (unsigned long long)rl.rlim_cur);
        return EXIT_USAGE;
    }

    /* the service */
    if (client_resolve(args->host, args->port, &r->target, err, sizeof err)) {
        lab_log("%s", err);
        return EXIT_UNREACHABLE;
    }
    for (int i = 0; i < args->url_count; i++)
        if (client_resolve(args->url_hosts[i], args->url_ports[i], &r->targets[i], err,
                           sizeof err)) {
            lab_log("%s", err);
            return EXIT_UNREACHABLE;
        }
    if (ask_health(&r->target, args->timeout_ms, false, &r->svc))
        return EXIT_UNREACHABLE;
    if (r->booking && r->svc.phase == 0)
        lab_log("no lab /healthz at %s: attacking it as a booking service all the same",
                r->target.host_header);

    /* the database and the reset */
    if (r->booking) {
        r->db = db_connect(lab_env("LAB_PG", LAB_PG_DEFAULT), err, sizeof err);
        if (!r->db) {
            lab_log("the database is not reachable: %s", err);
            return EXIT_UNREACHABLE;
        }
        if ((args->reset && reset_event(&r->target, args->timeout_ms, args->event_id,
                                        args->seats)) ||
            (args->backlog && queue_backlog(r)) ||
            audit_now(r->db, args->event_id, &r->before) ||
            db_count_decided(r->db, args->event_id, &r->decided_before) != LAB_OK)
            return EXIT_UNREACHABLE;
    }
    if (timeline_open(&r->src.tl, args->timeline_path, err, sizeof err)) {
        lab_log("%s", err);
        return EXIT_USAGE;
    }
    fleet_read(r->targets, args->url_count, args->timeout_ms, &r->stats_before);
    if (args->live.on && start_live(r))
        return EXIT_UNREACHABLE;
    r->src.db = r->db;
    r->src.event_id = args->event_id;
    r->src.decided_before = r->decided_before;
    return RUN_GOING;
}

/* run_attack_step fires the load (run_attack) and fills the summary with
 * what the threads measured. */
static int run_attack_step(struct run *r)
{
    struct attack_args *args = &r->args;
    struct client_work *work = &r->work;
    struct summary *s = &r->s;

    work->target = &r->target;
    work->targets = r->targets;
    work->target_count = args->url_count;
    work->booking = r->booking;
    work->method = args->method;
    work->path = args->path;
    work->event_id = args->event_id;
    work->user_base = args->user_base;
    work->clicks = args->clicks;
    work->run_id = args->run_id;
    work->reads_per_booking = args->reads_per_booking;
    work->timeout_ms = args->timeout_ms;
    work->history = args->faults.count > 0 || args->retry_same_id > 0 || args->history_path[0];
    work->pace_ms = args->pace_ms;
    work->error_backoff_ms = args->faults.count > 0 ? FAULT_ERROR_BACKOFF_MS : 0;
    work->retry_same_id = args->retry_same_id;
    work->live = r->live;
    if (r->live)
        work->seat_hits = live_seat_hits(r->live, &work->seat_hits_len);
    if ((args->faults.count > 0 || args->retry_same_id > 0) && !args->history_path[0])
        snprintf(args->history_path, sizeof args->history_path, "results/%s-history.jsonl",
                 args->run_id);
    /* --rate in all, shared evenly by the client threads (run_attack's count) */
    work->rate_per_s = (double)args->rate / (double)(args->threads < r->conns ? args->threads
                                                                                : r->conns);
    s->rate = args->rate;
    if (!args->json)
        lab_log("phase %d (%s): %s, %lld %s over %lld connections, %d threads", r->svc.phase,
                r->svc.name[0] ? r->svc.name : "unknown",
                args->mode == ATTACK_BURST ? "burst" : "sustained", r->jobs,
                r->booking ? "users" : "requests", r->conns,
                args->threads < r->conns ? args->threads : (int)r->conns);
    if (run_attack(args, work, r->conns, r->jobs, &r->src, &r->nemesis, &r->threads,
                   &r->thread_count, &r->totals))
        return EXIT_INTERNAL;
    if (r->totals.connected < r->conns)
        lab_log("%lld of %lld connections could not be opened before the start",
                r->conns - r->totals.connected, r->conns);

    s->phase = r->svc.phase;
    snprintf(s->phase_name, sizeof s->phase_name, "%s", r->svc.name);
    s->async = r->svc.async;
    s->think_ms = r->svc.think_ms;
    snprintf(s->planted, sizeof s->planted, "%s", r->svc.planted);
    if (s->planted[0] && !args->json)
        lab_log("PLANTED BUG in the service: %s (a zoo run, docs/zoo.md)", s->planted);
    s->mode = args->mode == ATTACK_BURST ? "burst" : "sustained";
    s->audited = r->booking;
    if (!r->booking)
        snprintf(s->path, sizeof s->path, "%s %s", args->method, args->path);
    s->event_id = args->event_id;
    s->users = r->jobs / args->clicks;
    s->clicks = args->clicks;
    s->concurrency = r->conns;
    s->threads = r->thread_count;
    s->reads_per_booking = args->reads_per_booking;
    s->instances = args->url_count;
    s->retry_same_id = args->retry_same_id;
    s->same_id_retries = r->totals.same_id_retries;
    s->backlog = args->backlog;
    s->backlog_accepted = r->backlog_accepted;
    fill_summary(s, &r->totals);
    if (r->live)
        live_stage(r->live, r->svc.async || s->bookings.n[OUTCOME_QUEUED] > 0 ? "drain" : "audit");
    return RUN_GOING;
}

/* wait_recovered waits, after faults, until the service answers /healthz
 * and the audit's database connection works again (remade when a restart
 * of PostgreSQL broke it): the checker judges the system recovered, not
 * the outage. False after RECOVERY_WAIT_MS. */
static bool wait_recovered(struct run *r)
{
    uint64_t limit_us = lab_now_us() + (uint64_t)RECOVERY_WAIT_MS * 1000u;
    bool db_ok = false, svc_ok = false;
    long long decided;

    while (lab_now_us() < limit_us) {
        if (!db_ok) {
            if (PQstatus(r->db) != CONNECTION_OK)
                PQreset(r->db);
            db_ok = PQstatus(r->db) == CONNECTION_OK &&
                    db_count_decided(r->db, r->args.event_id, &decided) == LAB_OK;
        }
        if (!svc_ok) {
            struct phase_info info;
            svc_ok = ask_health(&r->target, 2000, true, &info) == 0;
        }
        if (db_ok && svc_ok)
            return true;
        lab_sleep_ms(200);
    }
    lab_log("the lab did not recover within %d s (database %s, service %s)",
            RECOVERY_WAIT_MS / 1000, db_ok ? "up" : "down", svc_ok ? "up" : "down");
    return false;
}

/* What the service's audit says of the Redis gate. */
enum gate_reading {
    GATE_NO_ANSWER = -1,   /* the audit did not answer 200: worth asking again */
    GATE_NONE = 0,         /* no gate (phases 2, 3, 5): no "cacheAvailable" */
    GATE_COUNTED = 1,      /* "cacheDrift": the counter against the database */
    GATE_EMPTY = 2,        /* "cacheAvailable":null: no counter (Redis came back
                              empty); the next booking seeds it from the
                              database, so there is nothing to drift */
};

/* gate_drift_once: one GET of the service's audit, read as above. */
static enum gate_reading gate_drift_once(struct run *r, long long *drift)
{
    struct http_response resp;
    char path[96], err[256];
    const char *body;
    size_t len;
    long long ignored;

    snprintf(path, sizeof path, "/api/bookings/audit?eventId=%lld", r->args.event_id);
    if (client_fetch(&r->target, "GET", path, r->args.timeout_ms, &resp, err, sizeof err) != 0 ||
        resp.status != 200)
        return GATE_NO_ANSWER;
    body = http_response_body(&resp, &len);
    if (json_pick_long(body, len, "cacheDrift", drift))
        return GATE_COUNTED;
    *drift = 0;
    return memmem(body, len, "\"cacheAvailable\":null", 21) && !json_pick_long(body, len,
                  "cacheAvailable", &ignored) ? GATE_EMPTY : GATE_NONE;
}

/* gate_drift asks the service's audit for the Redis gate's counter
 * against the database (phases with a gate say "cacheDrift"), three times
 * at most: the first request after a fault may meet a connection the
 * fault broke. */
static enum gate_reading gate_drift(struct run *r, long long *drift)
{
    enum gate_reading got = GATE_NO_ANSWER;

    for (int attempt = 0; attempt < 3 && got == GATE_NO_ANSWER; attempt++) {
        if (attempt)
            lab_sleep_ms(200);
        got = gate_drift_once(r, drift);
    }
    return got;
}

/* read_quiet reads, once the sale is quiet, the two figures that must then
 * be 0: the gate's drift against the database (phases with a gate) and
 * the claims still in_progress in PostgreSQL and in Redis (claims.h). A
 * booking whose answer was just sent may still be settling its seat or
 * its claim, and the service's audit may not answer yet after a fault, so
 * while a figure is not 0 or not known they are read again, every
 * QUIET_POLL_MS for QUIET_WAIT_MS at most: what is left after that stays. */
static void read_quiet(struct run *r, struct summary *s)
{
    uint64_t limit_us = lab_now_us() + (uint64_t)QUIET_WAIT_MS * 1000u;
    const char *redis = lab_env("LAB_REDIS", LAB_REDIS_DEFAULT);
    enum gate_reading gate;

    for (;;) {
        gate = gate_drift(r, &s->cache_drift);

        s->gate_known = gate == GATE_COUNTED || gate == GATE_EMPTY;
        s->gate_counter = gate == GATE_COUNTED;
        s->claims_db_known = claims_stuck_db(r->db, r->args.event_id, &s->stuck_claims_db) == 0;
        s->claims_redis_known = claims_stuck_redis(redis, r->args.event_id, r->args.run_id,
                                                   2000, &s->stuck_claims_redis) == 0;
        if ((gate != GATE_NO_ANSWER && s->cache_drift == 0 && report_stuck_claims(s) == 0) ||
            lab_now_us() >= limit_us)
            break;
        lab_sleep_ms(QUIET_POLL_MS);
    }
    if (gate == GATE_NO_ANSWER)
        lab_log("the service's audit does not answer: the gate's drift is not known");
}

/* run_checker writes the history, reads what the database holds of each
 * request and judges the run (checker.h); the result goes to
 * <history>-check.json beside the history, for scripts. */
static void run_checker(struct run *r)
{
    struct history_log *h = &r->totals.history;
    struct check_fact *facts = calloc((size_t)r->jobs, sizeof *facts);
    struct check_id *ids = calloc((size_t)r->jobs, sizeof *ids);
    struct check_input in = { 0 };
    long long stuck = report_stuck_claims(&r->s);
    char err[512], check_path[ARGS_PATH_MAX + 16], ids_path[ARGS_PATH_MAX + 16];
    size_t n = strlen(r->args.history_path);
    FILE *f;

    history_sort(h);
    if (h->incomplete)
        lab_log("out of memory: the history is incomplete");
    if (history_write(r->args.history_path, h, r->args.run_id, r->args.user_base,
                      r->totals.start_us, err, sizeof err))
        lab_log("%s", err);
    if (!facts || !ids || checker_load_facts(r->db, r->args.event_id, r->args.run_id,
                                             r->args.user_base, r->jobs, facts)) {
        lab_log("the checker cannot read the database: no verdict");
        free(facts);
        free(ids);
        return;
    }
    in.history = h;
    in.facts = facts;
    in.jobs = r->jobs;
    in.plan = &r->args.faults;
    in.available = r->after.available;
    in.oversold = r->after.oversold;
    in.duplicate_users = r->after.duplicate_users;
    in.phantom = r->after.phantom;
    in.gate_known = r->s.gate_known;     /* read once the sale was quiet (read_quiet) */
    in.drift = r->s.cache_drift;
    in.claims_known = stuck >= 0;
    in.stuck_claims = stuck;
    in.ids = ids;
    checker_compute(&in, &r->check);
    snprintf(r->check.planted, sizeof r->check.planted, "%s", r->svc.planted);
    r->checked = true;
    r->s.answers_checked = true;
    r->s.answers_disagree = r->check.answers_disagree;
    free(facts);

    if (n > 6 && strcmp(r->args.history_path + n - 6, ".jsonl") == 0 &&
        n > 14 && strcmp(r->args.history_path + n - 14, "-history.jsonl") == 0)
        snprintf(check_path, sizeof check_path, "%.*s-check.json", (int)(n - 14),
                 r->args.history_path);
    else
        snprintf(check_path, sizeof check_path, "%s.check.json", r->args.history_path);
    f = fopen(check_path, "w");
    if (!f || (checker_write_json(f, &r->check, r->args.run_id, r->svc.phase, &r->args.faults,
                                   r->totals.start_us),
               fclose(f) != 0))
        lab_log("cannot write %s", check_path);
    /* every request id's tries, beside: <run>-ids.jsonl (or <history>.ids.jsonl) */
    if (n > 14 && strcmp(r->args.history_path + n - 14, "-history.jsonl") == 0)
        snprintf(ids_path, sizeof ids_path, "%.*s-ids.jsonl", (int)(n - 14), r->args.history_path);
    else
        snprintf(ids_path, sizeof ids_path, "%s.ids.jsonl", r->args.history_path);
    f = fopen(ids_path, "w");
    if (!f || (checker_write_ids(f, ids, r->jobs, r->args.run_id, r->args.user_base),
               fclose(f) != 0))
        lab_log("cannot write %s", ids_path);
    free(ids);
}

/* run_explain explains a BUG verdict of the booking run (explain.h): the
 * bookings grouped by the counter value they read, against the audit
 * before and after. The text goes into the summary; the whole of it, every
 * group and booking, to results/<run>-explain.json (written to a .tmp and
 * renamed, so that a reader never sees half of it). */
static void run_explain(struct run *r)
{
    struct summary *s = &r->s;
    struct explain_input in = {
        .run_id = r->args.run_id,
        .user_base = r->args.user_base,
        .clicks = r->args.clicks,
        .start_us = r->totals.start_us,
        .strategy = s->strategy,
        .total_seats = r->after.total_seats,
        .counter_before = r->before.available,
        .counter_after = r->after.available,
        .tickets = r->after.sold - r->before.sold,
        .oversold = s->oversold,
        .duplicates = s->duplicates,
        .per_user_limit = s->per_user_limit,
        .bug = report_is_bug(s),
    };
    char tmp[sizeof s->explain_path + 8];
    FILE *f;

    explain_compute(&r->totals.explain, &in, &s->explain);
    if (!s->explain.known)
        return;
    if (mkdir("results", 0755) != 0 && errno != EEXIST) {
        lab_log("cannot make results/: %s; the explanation is not written", strerror(errno));
        return;
    }
    snprintf(s->explain_path, sizeof s->explain_path, "results/%s-explain.json", r->args.run_id);
    snprintf(tmp, sizeof tmp, "%s.tmp", s->explain_path);
    f = fopen(tmp, "w");
    if (!f || explain_write_json(f, &r->totals.explain, &in, &s->explain) != 0 ||
        fclose(f) != 0 || rename(tmp, s->explain_path) != 0) {
        lab_log("cannot write %s: %s", s->explain_path, strerror(errno));
        remove(tmp);
        s->explain_path[0] = '\0';
    }
}

/* run_audit_step waits for the asynchronous phases' queue to decide what it
 * accepted, then audits the database and compares it with the answers. */
static int run_audit_step(struct run *r)
{
    struct summary *s = &r->s;
    long long booked = r->totals.bookings.n[OUTCOME_BOOKED];
    long long queued = r->totals.bookings.n[OUTCOME_QUEUED];
    long long later_booked = 0;

    if (!r->booking) {
        fill_contention(s, r);
        return RUN_GOING;
    }
    if (r->args.faults.count > 0 && !wait_recovered(r))
        return EXIT_UNREACHABLE;
    if ((r->svc.async || queued > 0) &&
        (drain_queue(r->db, &r->args, r->decided_before, booked + queued, &r->src, s) ||
         queued_booked(r->db, &r->args, r->threads, r->thread_count, &later_booked)))
        return EXIT_UNREACHABLE;
    fill_contention(s, r);   /* after the drain: the queue's workers retry too */
    if (r->live)
        live_stage(r->live, "audit");
    if (audit_now(r->db, r->args.event_id, &r->after))
        return EXIT_UNREACHABLE;
    s->seats = r->after.total_seats;
    s->total_seats = r->after.total_seats;
    s->available = r->after.available;
    s->sold = r->after.sold;
    s->oversold = r->after.oversold;
    s->phantom = r->after.phantom;
    s->duplicates = r->after.duplicate_users;
    s->per_user_limit = r->after.per_user_limit;
    s->other_runs = r->after.other_runs;
    s->booked_decisions = booked + later_booked;
    s->mismatch = (r->after.sold - r->before.sold) - s->booked_decisions;
    /* the demand is the users, whatever tries and clicks each made */
    s->undersold = audit_undersold(r->after.total_seats, r->after.sold,
                                   s->users - (r->after.sold - r->before.sold));
    read_quiet(r, s);
    s->answers_checked = r->args.retry_same_id == 0;   /* one try per id: none to disagree */
    if (r->args.backlog) {
        int got = first_ticket_after_reset(r->db, r->args.event_id, r->reset_at,
                                           &s->first_ticket_after_reset_ms);
        s->first_ticket_known = got == 1;
        s->backlog_booked_known = backlog_booked(r->db, r->args.event_id, r->args.run_id,
                                                 &s->backlog_booked) == 0;
    }
    if (r->args.history_path[0])
        run_checker(r);
    run_explain(r);   /* after the checker: its verdict is part of the run's */
    return RUN_GOING;
}

/* write_json_with_check prints the --json summary with the checker's
 * figures added to the same object (check_*), so that one object still
 * holds the run, as scripts/regress.sh reads it. */
static void write_json_with_check(const struct run *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);

    if (!mem) {
        report_write_json(stdout, &r->s);
        return;
    }
    report_write_json(mem, &r->s);
    fclose(mem);
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '}')
        len--;
    fwrite(buf, 1, len, stdout);
    fputc(',', stdout);
    checker_write_fields(stdout, &r->check);
    fputs("}\n", stdout);
    free(buf);
}

/* run_report prints the figures (text or JSON), appends the CSV row, checks
 * the harness's own counting rule and the --expect-* flags: the exit status. */
static int run_report(struct run *r)
{
    const struct attack_args *args = &r->args;
    const struct summary *s = &r->s;
    char err[512];

    if (args->json && r->checked)
        write_json_with_check(r);
    else if (args->json)
        report_write_json(stdout, s);
    else
        report_write_human(stdout, s);
    if (r->checked)
        checker_write_human(args->json ? stderr : stdout, &r->check);
    fflush(stdout);
    if (args->csv_path[0]) {
        char stamp[32], rev[64];

        utc_timestamp(stamp, sizeof stamp);
        git_revision(rev, sizeof rev);
        if (report_append_csv(args->csv_path, s, stamp, rev, err, sizeof err))
            lab_log("%s", err);
    }

    if (!counts_balanced(&s->bookings, r->booking) || !counts_balanced(&s->reads, false)) {
        lab_log("harness bug: attempted %lld but %lld outcomes (reads: %lld, %lld)",
                s->bookings.attempted, counts_ended(&s->bookings), s->reads.attempted,
                counts_ended(&s->reads));
        return EXIT_INTERNAL;
    }
    if ((args->expect_clean || args->expect_oversell) &&
        s->bookings.n[OUTCOME_BOOKED] + s->bookings.n[OUTCOME_QUEUED] +
                s->bookings.n[OUTCOME_SOLD_OUT] == 0) {
        /* every booking failed: the audit of an untouched event proves
         * nothing, and CI must not read that as "clean" */
        lab_log("no booking got an answer of the API: the expectation cannot be met");
        return EXIT_EXPECTATION;
    }
    if (args->expect_clean && r->checked && checker_is_bug(&r->check))
        return EXIT_EXPECTATION;
    if (args->expect_clean && report_is_bug(s))
        return EXIT_EXPECTATION;
    if (args->expect_oversell && !report_is_bug(s))
        return EXIT_EXPECTATION;
    return EXIT_RAN;
}

/* run_cleanup is the one way out: it closes the timeline (a failed write is
 * an error of the run) and the database, and frees the threads, whatever
 * step stopped. */
static void run_cleanup(struct run *r)
{
    char err[512];

    if (timeline_close(&r->src.tl, err, sizeof err))
        lab_log("%s", err);
    nemesis_join(&r->nemesis);
    if (r->db)
        PQfinish(r->db);
    history_free(&r->totals.history);
    explain_free(&r->totals.explain);
    for (int i = 0; i < r->thread_count; i++)
        client_thread_free(&r->threads[i]);
    free(r->threads);
}

/* live_explanation: the explanation of the wrong tickets (explain.h) that
 * the live page shows under the verdict, or NULL when there is none. */
static const char *live_explanation(const struct summary *s)
{
    return s->explain.known && s->explain.text[0] ? s->explain.text : NULL;
}

/* end_live shows the end of the run on the live page (the verdicts, or why
 * the run stopped), keeps the page up for --live-linger, and stops it. */
static void end_live(struct run *r, int status, bool reported)
{
    if (!r->live)
        return;
    if (reported)
        live_finish(r->live, &r->s, r->checked ? &r->check : NULL, live_explanation(&r->s),
                    NULL);
    else
        live_finish(r->live, &r->s, NULL, NULL,
                    status == EXIT_UNREACHABLE ? "the service or the database could not be "
                                                 "reached"
                                               : "the harness failed (see its log)");
    live_linger(r->live, r->args.live.linger_s);
    live_stop(r->live);
    r->live = NULL;
}

/* main: setup, attack, audit, report; cleanup on every path; the live
 * page's end after the report, so the terminal has the verdict first. */
int main(int argc, char **argv)
{
    static struct run r;    /* zeroed; large (the summary, the totals) */
    int status = run_setup(&r, argc, argv);
    bool reported = false;

    if (status == RUN_GOING)
        status = run_attack_step(&r);
    if (status == RUN_GOING)
        status = run_audit_step(&r);
    run_cleanup(&r);
    if (status == RUN_GOING) {
        status = run_report(&r);
        reported = true;
    }
    end_live(&r, status, reported);
    return status;
}
