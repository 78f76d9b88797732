/* contention.c -- conflicts counted by SQLSTATE class (contention.h). */
#include "contention.h"

#include <stdatomic.h>
#include <string.h>

static atomic_llong contention_serialization, contention_deadlock, contention_lock_busy,
    contention_retries, contention_gave_up;

/* contention_classify reads the five-character SQLSTATE PostgreSQL attaches
 * to an error. Only the three codes a concurrency strategy provokes count;
 * anything else (a dead connection, a constraint) is not contention. */
enum contention_class contention_classify(const char *sqlstate)
{
    if (!sqlstate)
        return CONTENTION_NONE;
    if (strcmp(sqlstate, "40001") == 0)
        return CONTENTION_SERIALIZATION;
    if (strcmp(sqlstate, "40P01") == 0)
        return CONTENTION_DEADLOCK;
    if (strcmp(sqlstate, "55P03") == 0)
        return CONTENTION_LOCK_NOT_AVAILABLE;
    return CONTENTION_NONE;
}

/* contention_is_retryable: PostgreSQL's own advice is to run a transaction
 * that failed with 40001 or 40P01 again; a lock not available is retried
 * too, since waiting a little is what NOWAIT declined to do. */
bool contention_is_retryable(enum contention_class k)
{
    return k != CONTENTION_NONE;
}

/* contention_note counts one conflict of class K. */
void contention_note(enum contention_class k)
{
    switch (k) {
    case CONTENTION_SERIALIZATION:
        atomic_fetch_add_explicit(&contention_serialization, 1, memory_order_relaxed);
        break;
    case CONTENTION_DEADLOCK:
        atomic_fetch_add_explicit(&contention_deadlock, 1, memory_order_relaxed);
        break;
    case CONTENTION_LOCK_NOT_AVAILABLE:
        atomic_fetch_add_explicit(&contention_lock_busy, 1, memory_order_relaxed);
        break;
    case CONTENTION_NONE:
        break;
    }
}

/* contention_note_retry counts an attempt made again. */
void contention_note_retry(void)
{
    atomic_fetch_add_explicit(&contention_retries, 1, memory_order_relaxed);
}

/* contention_note_gave_up counts a booking whose retries ran out. */
void contention_note_gave_up(void)
{
    atomic_fetch_add_explicit(&contention_gave_up, 1, memory_order_relaxed);
}

/* contention_read: each counter on its own relaxed load; the five figures
 * may come from slightly different moments, which a report can live with. */
void contention_read(struct contention *out)
{
    out->serialization = atomic_load_explicit(&contention_serialization, memory_order_relaxed);
    out->deadlock = atomic_load_explicit(&contention_deadlock, memory_order_relaxed);
    out->lock_not_available = atomic_load_explicit(&contention_lock_busy, memory_order_relaxed);
    out->retries = atomic_load_explicit(&contention_retries, memory_order_relaxed);
    out->gave_up = atomic_load_explicit(&contention_gave_up, memory_order_relaxed);
}

/* contention_diff: what happened between two readings (the harness reads a
 * service's counters before and after an attack). */
void contention_diff(const struct contention *after, const struct contention *before,
                     struct contention *out)
{
    out->serialization = after->serialization - before->serialization;
    out->deadlock = after->deadlock - before->deadlock;
    out->lock_not_available = after->lock_not_available - before->lock_not_available;
    out->retries = after->retries - before->retries;
    out->gave_up = after->gave_up - before->gave_up;
}
