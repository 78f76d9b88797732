/* explain.h -- wrong tickets explained: which bookings collided, and how.
 *
 * A booking that reads the seat counter says in its 201 what it read and
 * what it wrote back ("counterRead", "counterWrote") and on which instance
 * it ran ("server"). The client threads keep one record per 201 of every
 * booking run (struct explain_booking, each thread its own log, as the
 * history does); after the audit, a run whose verdict is BUG is explained:
 *
 *   lost decrements  the bookings grouped by the value they read: every
 *                    booking of a group wrote the same value back, so only
 *                    one decrement per group counted. "467 decrements
 *                    lost: 500 bookings read only 33 distinct values; 17
 *                    of them read 67 and all wrote 66", then the largest
 *                    groups by request id and the time of their answer;
 *   instances        a group whose bookings ran on two instances (the
 *                    local mutex of each knows only its own threads);
 *   duplicates       a user with more 201s than the per-user limit: their
 *                    bookings, one line.
 *
 * explain_compute is pure (unit-tested): the wording is made here and
 * nowhere else. explain_write_json writes every group and booking to
 * results/<run>-explain.json (docs/results-format.md). */
#ifndef HARNESS_EXPLAIN_H
#define HARNESS_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define EXPLAIN_SERVER_MAX 24     /* "srv-" and 16 hex digits, with room */
#define EXPLAIN_TEXT_MAX 1024
#define EXPLAIN_GROUPS_SHOWN 3    /* groups named in the text */
#define EXPLAIN_MEMBERS_SHOWN 3   /* bookings named per group */

/* What one 201 said: a record per booked answer of a booking run. */
struct explain_booking {
    long long job;            /* the request id is <run>-<user_base + 1 + job> */
    uint64_t invoke_us, complete_us;
    long long ticket_id;      /* 0: the body gave none */
    long long counter_read, counter_wrote;   /* with counted only */
    bool counted;             /* the 201 told the counter it read and wrote */
    char server[EXPLAIN_SERVER_MAX];         /* the instance; "" when untold */
};

struct explain_log {
    struct explain_booking *rec;
    size_t len, cap;
    bool incomplete;          /* out of memory: records were dropped */
};

/* explain_add appends B to a thread's own LOG (no lock); inline, as it runs
 * on the client threads' hot path, once per 201. */
static inline void explain_add(struct explain_log *log, const struct explain_booking *b)
{
    if (log->len == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 256;
        struct explain_booking *grown = realloc(log->rec, cap * sizeof *grown);
        if (!grown) {
            log->incomplete = true;
            return;
        }
        log->rec = grown;
        log->cap = cap;
    }
    log->rec[log->len++] = *b;
}

/* explain_merge appends FROM's records to INTO (main, after the joins);
 * -1 when out of memory. */
int explain_merge(struct explain_log *into, const struct explain_log *from);
void explain_free(struct explain_log *log);

/* What the explainer needs besides the records: the run and its audit. */
struct explain_input {
    const char *run_id;
    long long user_base;
    int clicks;               /* jobs per user (--clicks) */
    uint64_t start_us;        /* the start line: times are ms since it */
    const char *strategy;     /* the service's --strategy, "" when unknown */
    long long total_seats;
    long long counter_before, counter_after;   /* available before and after the run */
    long long tickets;        /* ticket rows the run added */
    long long oversold, duplicates, per_user_limit;
    bool bug;                 /* the verdict is BUG: only then is a run explained */
};

/* One group: the bookings that read one value of the counter. */
struct explain_group {
    long long read, count;
    long long wrote_min, wrote_max;
    int servers;              /* distinct instances among them */
    size_t first;             /* its first record, in the sorted log */
};

/* What the explainer found. Every figure is of the 201s that told their
 * counter ("counted"), except the duplicates, which count every 201. */
struct explanation {
    bool known;               /* a BUG verdict of a booking run: text says why */
    char text[EXPLAIN_TEXT_MAX];   /* plain words, several lines ('\n' between) */
    long long booked;         /* 201 records */
    long long counted;        /* of them telling their counter */
    long long distinct;       /* distinct values they read */
    long long lost;           /* counted - distinct: decrements overwritten */
    long long landed;         /* counter_before - counter_after: what the counter fell by */
    long long collisions;     /* groups of two bookings or more */
    long long largest_read, largest_count;   /* the largest group (largest_count 0: none) */
    long long lowest_wrote;   /* the lowest value written back; -1: none */
    int servers;              /* distinct instances among the counted 201s */
    long long cross_instance; /* collisions whose bookings ran on two instances or more */
    long long same_instance;  /* collisions with two bookings of one instance */
    long long duplicate_users;     /* users with more 201s than the per-user limit */
};

/* explain_compute sorts LOG (by value read, highest first, then by the
 * answer's time) and fills OUT from it and IN. OUT is not known (and its
 * text empty) unless IN says the verdict is BUG. */
void explain_compute(struct explain_log *log, const struct explain_input *in,
                     struct explanation *out);

/* explain_write_json writes the explanation and every group with its
 * bookings, and the duplicate users with theirs, as one JSON object to OUT
 * (LOG sorted by explain_compute). 0, or -1 when the writing failed. */
int explain_write_json(FILE *out, struct explain_log *log, const struct explain_input *in,
                       const struct explanation *e);

/* json_write_string writes S as a JSON string, quotes, backslashes and
 * control characters escaped: the harness's one escaper (the summary, the
 * explanation and the history use it). */
void json_write_string(FILE *out, const char *s);

#endif
