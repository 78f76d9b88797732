/* lab.c -- logging, the fatal-at-startup helper, clocks and small system
 * chores shared by the services, the harness and the tests. */
#include "lab.h"
#include "secrets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *lab_program = "lab";

/* lab_status_name gives the short name used in logs and JSON. */
const char *lab_status_name(enum lab_status st)
{
    switch (st) {
    case LAB_OK: return "ok";
    case LAB_BOOKED: return "booked";
    case LAB_SOLD_OUT: return "sold_out";
    case LAB_QUEUED: return "queued";
    case LAB_DUPLICATE: return "duplicate";
    case LAB_NOT_FOUND: return "not_found";
    case LAB_LIMIT: return "limit";
    case LAB_STALE: return "stale";
    case LAB_ERR_DB: return "db_error";
    case LAB_ERR_CACHE: return "cache_error";
    case LAB_ERR_QUEUE: return "queue_error";
    case LAB_ERR_CONFLICT: return "conflict";
    }
    return "unknown";
}

/* lab_env reads one setting: an empty variable counts as unset, so that
 * `LAB_PG= make ...` falls back to the default rather than to nothing. */
const char *lab_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

void lab_set_program(const char *name)
{
    lab_program = name;
}

/* lab_vlog writes one line to stderr in a single fprintf call, so that lines
 * of different threads do not interleave (stdio locks the stream). Every
 * line is masked first: any password libpq would read in it, and the
 * values of the passwords this process was given (secrets.h). */
static void lab_vlog(const char *fmt, va_list ap)
{
    char raw[1024], msg[1024];
    char stamp[32];
    struct timespec ts;
    struct tm tm;

    vsnprintf(raw, sizeof raw, fmt, ap);
    lab_mask_secrets(raw, msg, sizeof msg);
    secrets_redact_known(msg);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ld %s: %s\n", stamp, ts.tv_nsec / 1000000, lab_program, msg);
}

void lab_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lab_vlog(fmt, ap);
    va_end(ap);
}

/* lab_fatal is for start-up only: a service that cannot reach PostgreSQL
 * when it starts says so and exits 1. Once running, nothing calls it. */
void lab_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lab_vlog(fmt, ap);
    va_end(ap);
    exit(1);
}

/* lab_sleep_ms sleeps the whole time even when a signal interrupts it. */
void lab_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

uint64_t lab_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

long long lab_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long long)rl.rlim_cur;
}
