/* lab.h -- what every part of the lab shares: the status enum, logging,
 * the one fatal-at-startup helper, and the lab's configuration defaults.
 *
 * Rule of the lab: at start-up a missing service is fatal (lab_fatal); during
 * a run an error is counted and answered, never a reason to exit. */
#ifndef LAB_H
#define LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The defaults come from infra/lab.env through the Makefile's -D flags. */
#ifndef LAB_PG_DEFAULT
#define LAB_PG_DEFAULT "postgresql://lab@127.0.0.1:15432/ticketlab"
#endif
#ifndef LAB_REDIS_DEFAULT
#define LAB_REDIS_DEFAULT "127.0.0.1:16379"
#endif
#ifndef LAB_KAFKA_DEFAULT
#define LAB_KAFKA_DEFAULT "127.0.0.1:19092"
#endif
#ifndef LAB_HTTP_DEFAULT
#define LAB_HTTP_DEFAULT "127.0.0.1:18080"
#endif

/* Every booking step returns one of these. LAB_OK is a step that worked;
 * LAB_BOOKED, LAB_SOLD_OUT, LAB_QUEUED, LAB_DUPLICATE, LAB_NOT_FOUND, LAB_LIMIT and
 * LAB_STALE are answers a user can get (201, 409, 202, 409, 404, 409, 409); the LAB_ERR_* are
 * failures of a backing service, counted and answered with 503. Code that
 * tests "st >= LAB_ERR_DB" relies on the failures coming last. */
enum lab_status {
    LAB_OK = 0,        /* a step succeeded */
    LAB_BOOKED,        /* a ticket was written */
    LAB_SOLD_OUT,      /* no seat left: nothing written */
    LAB_QUEUED,        /* accepted by the broker, decided later (phases 5-6) */
    LAB_DUPLICATE,     /* this requestId was booked already */
    LAB_NOT_FOUND,     /* no such event */
    LAB_LIMIT,         /* the user holds events.per_user_limit tickets already */
    LAB_STALE,         /* the request belongs to a sale that was reset since */
    LAB_ERR_DB,        /* PostgreSQL failed or is unreachable */
    LAB_ERR_CACHE,     /* Redis failed or is unreachable */
    LAB_ERR_QUEUE,     /* Kafka failed, is unreachable or did not acknowledge */
    LAB_ERR_CONFLICT,  /* lost every attempt to concurrent bookings (--retries) */
};

const char *lab_status_name(enum lab_status st);

/* lab_env returns the environment variable NAME, or FALLBACK when unset or empty. */
const char *lab_env(const char *name, const char *fallback);

/* Logging to stderr with a timestamp and the program's name. */
void lab_set_program(const char *name);
void lab_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void lab_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sleep for ms milliseconds: the "think time" of a booking. */
void lab_sleep_ms(int ms);

/* Microseconds from a monotonic clock. */
uint64_t lab_now_us(void);

/* Raise the open-file limit to its hard maximum: 500 users are 500 sockets.
 * Returns the limit now in force (0 if it cannot be read). */
long long lab_raise_fd_limit(void);

/* lab_mask_secrets copies IN to OUT (size LEN, always NUL-terminated) with
 * every password replaced by "***", in each form libpq reads one: a URI's
 * user info (scheme://user:PASSWORD@host), a URI's query parameter
 * (?password=...&, the keyword possibly percent-encoded), a key = value
 * pair (blanks around '=', the value 'quoted, with \' escapes' or plain).
 * Every log line goes through it (lib/secrets.c). */
void lab_mask_secrets(const char *in, char *out, size_t len);

#endif
