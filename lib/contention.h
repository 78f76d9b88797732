/* contention.h -- the conflicts a correct strategy pays with, counted by
 * SQLSTATE class: what the optimistic and SERIALIZABLE bookings retry on,
 * and what the others never see. One set of counters per process, updated
 * with relaxed atomics from every booking thread, read by GET /api/stats. */
#ifndef LAB_CONTENTION_H
#define LAB_CONTENTION_H

#include <stdbool.h>

/* What a failed statement's SQLSTATE says about a conflict. */
enum contention_class {
    CONTENTION_NONE,                /* not a conflict (or no failure) */
    CONTENTION_SERIALIZATION,       /* 40001 serialization_failure */
    CONTENTION_DEADLOCK,            /* 40P01 deadlock_detected */
    CONTENTION_LOCK_NOT_AVAILABLE,  /* 55P03 lock_not_available */
};

/* The counters, as read at one moment. */
struct contention {
    long long serialization;        /* 40001 seen */
    long long deadlock;             /* 40P01 seen */
    long long lock_not_available;   /* 55P03 seen */
    long long retries;              /* attempts made again after a conflict */
    long long gave_up;              /* bookings that ran out of retries */
};

/* contention_classify: the class of SQLSTATE (NULL: CONTENTION_NONE). */
enum contention_class contention_classify(const char *sqlstate);

/* contention_is_retryable: a conflict worth another attempt. */
bool contention_is_retryable(enum contention_class k);

/* Counting, from any thread. */
void contention_note(enum contention_class k);
void contention_note_retry(void);
void contention_note_gave_up(void);

/* contention_read copies the counters into OUT. */
void contention_read(struct contention *out);

/* contention_diff: AFTER - BEFORE, field by field, into OUT. */
void contention_diff(const struct contention *after, const struct contention *before,
                     struct contention *out);

#endif
