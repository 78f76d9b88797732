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
 * With --retry-same-id a request id may be sent more than once: each send
 * is a try, and each try is a record of its own, numbered from 1 (try_no).
 * A record also keeps what the answer's body said (enum history_answer) and,
 * for a booking, its ticket id, so that the checker can tell whether the
 * tries of one id were told the same thing.
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

#include "explain.h"
#include "report.h"

enum history_class { HISTORY_OK, HISTORY_FAIL, HISTORY_INFO };

/* What the body of an answer said: its "status" word, or for an error body
 * its "error" kind where the API names a stored answer (duplicate, a reused
 * request id). HISTORY_ANSWER_NONE: no answer, or one the API does not give. */
enum history_answer {
    HISTORY_ANSWER_NONE,
    HISTORY_ANSWER_BOOKED,        /* 201 "booked" */
    HISTORY_ANSWER_QUEUED,        /* 202 "queued" */
    HISTORY_ANSWER_SOLD_OUT,      /* 409 "sold_out" */
    HISTORY_ANSWER_IN_PROGRESS,   /* 409 "in_progress": the id's first try is unanswered */
    HISTORY_ANSWER_LIMIT,         /* 409 "limit": the user holds their tickets already */
    HISTORY_ANSWER_DUPLICATE,     /* 409 error "duplicate" */
    HISTORY_ANSWER_STALE,         /* 409 "stale": admitted in an earlier sale */
    HISTORY_ANSWER_REUSED,        /* 422 error "request_id_reused" */
    HISTORY_ANSWER_ERROR,         /* any other answer with a body: 4xx, 5xx */
    HISTORY_ANSWER_COUNT
};

struct history_record {
    long long job;            /* the user is user_base + 1 + job */
    uint64_t invoke_us, complete_us;
    long long ticket_id;      /* a 201's "ticketId"; 0: none */
    int http_status;          /* 0: no answer */
    unsigned char outcome;    /* enum outcome */
    unsigned char cls;        /* enum history_class */
    unsigned char answer;     /* enum history_answer */
    unsigned char try_no;     /* 1 for the first send of the id, 2 for its first retry... */
    bool counted;             /* a 201 that told the seat counter its booking read: */
    long long counter_read, counter_wrote;   /* "counterRead", "counterWrote" */
    char server[EXPLAIN_SERVER_MAX];         /* "server": the instance that booked it */
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

/* history_answer_of reads an answer's body words: STATUS_WORD is its
 * "status" ("" when none), ERROR_WORD its "error" ("" when none); HTTP_STATUS
 * 0 when there was no answer. */
enum history_answer history_answer_of(int http_status, const char *status_word,
                                      const char *error_word);

const char *history_answer_name(enum history_answer a);

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
 * {"requestId":"<run>-<user>","userId":U,"try":1,"invokeUs":T,"completeUs":T,
 *  "status":S,"outcome":"booked","class":"ok","answer":"booked","ticketId":7,
 *  "counterRead":67,"counterWrote":66,"server":"srv-..."};
 * times are µs since START_US; "ticketId" only when the answer gave one, the
 * counter and the server only when a 201 told them. */
int history_write(const char *path, const struct history_log *log, const char *run_id,
                  long long user_base, uint64_t start_us, char *err, size_t err_len);

void history_free(struct history_log *log);

#endif
