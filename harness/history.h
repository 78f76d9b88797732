/* history.h -- one record per booking request, as Jepsen keeps a history:
 * who asked, when the request was invoked and when it completed (µs of
 * lab_now_us), the HTTP status, and what the answer guarantees:
 *
 *   ok    201 booked, 202 queued, 409 sold_out: the lab's answers;
 *   fail  an answer that guarantees nothing was done: 400, a 503 whose
 *         body says "outcome":"none", a connection refused;
 *   info  the outcome is unknown: a timeout, a connection reset, any
 *         other 5xx or answer.
 *
 * Each client thread appends to its own log (history_add, no lock); main
 * merges and writes them after the threads are joined. */
#ifndef HARNESS_HISTORY_H
#define HARNESS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"

enum history_class { HISTORY_OK, HISTORY_FAIL, HISTORY_INFO };

struct history_record {
    long long job;            /* the user is user_base + 1 + job */
    uint64_t invoke_us, complete_us;
    int http_status;          /* 0: no answer */
    unsigned char outcome;    /* enum outcome */
    unsigned char cls;        /* enum history_class */
};

struct history_log {
    struct history_record *rec;
    size_t len, cap;
    bool incomplete;          /* out of memory: records were dropped */
};

/* history_classify: the class of an answer. NOTHING_DONE is true when a
 * 503's body said "outcome":"none". */
enum history_class history_classify(enum outcome o, int http_status, bool nothing_done);

const char *history_class_name(enum history_class c);

/* history_add appends R to the thread's own LOG; inline, as it runs on the
 * client threads' hot path (one amortised realloc). */
static inline void history_add(struct history_log *log, const struct history_record *r)
{
    if (log->len == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 1024;
        struct history_record *grown = realloc(log->rec, cap * sizeof *grown);
        if (!grown) {
            log->incomplete = true;
            return;
        }
        log->rec = grown;
        log->cap = cap;
    }
    log->rec[log->len++] = *r;
}

/* history_merge appends FROM's records to INTO (main, after the joins). */
int history_merge(struct history_log *into, const struct history_log *from);

/* history_sort orders the records by invoke time. */
void history_sort(struct history_log *log);

/* history_write writes one JSON line per record to PATH:
 * {"requestId":"<run>-<user>","userId":U,"invokeUs":T,"completeUs":T,
 *  "status":S,"outcome":"booked","class":"ok"}; times are µs since
 * START_US. */
int history_write(const char *path, const struct history_log *log, const char *run_id,
                  long long user_base, uint64_t start_us, char *err, size_t err_len);

void history_free(struct history_log *log);

#endif
