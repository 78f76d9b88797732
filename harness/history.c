/* history.c -- the classes of the answers and the history file. */
#include "history.h"

#include <errno.h>
#include <string.h>

/* history_classify follows the definition: ok when the API said
 * what became of the request, fail when the answer guarantees nothing was
 * done (a refused connect never reached the service; a 400 and a 503 with
 * "outcome":"none" are refused before anything is taken), info otherwise:
 * the request may or may not have been done. */
enum history_class history_classify(enum outcome o, int http_status, bool nothing_done)
{
    switch (o) {
    case OUTCOME_BOOKED:
    case OUTCOME_QUEUED:
    case OUTCOME_SOLD_OUT:
        return HISTORY_OK;
    case OUTCOME_ERR_CONNECT:
        return HISTORY_FAIL;
    case OUTCOME_ERR_4XX:
        return http_status == 400 || http_status == 404 ? HISTORY_FAIL : HISTORY_INFO;
    case OUTCOME_ERR_5XX:
        return http_status == 503 && nothing_done ? HISTORY_FAIL : HISTORY_INFO;
    default:
        return HISTORY_INFO;
    }
}

/* history_class_name: the class as the history file spells it. */
const char *history_class_name(enum history_class c)
{
    return c == HISTORY_OK ? "ok" : c == HISTORY_FAIL ? "fail" : "info";
}

/* history_answer_of names what the body said. The API's 409s carry their
 * answer in "status" (sold_out, in_progress, limit, stale), except the
 * duplicate, an error body like the 422 of a reused id: those are read from
 * "error". A body that says none of these is an error answer when there
 * was an answer at all. */
enum history_answer history_answer_of(int http_status, const char *status_word,
                                      const char *error_word)
{
    static const struct { const char *word; enum history_answer answer; } words[] = {
        { "booked", HISTORY_ANSWER_BOOKED },       { "queued", HISTORY_ANSWER_QUEUED },
        { "sold_out", HISTORY_ANSWER_SOLD_OUT },   { "in_progress", HISTORY_ANSWER_IN_PROGRESS },
        { "limit", HISTORY_ANSWER_LIMIT },         { "stale", HISTORY_ANSWER_STALE },
        { "duplicate", HISTORY_ANSWER_DUPLICATE }, { "request_id_reused", HISTORY_ANSWER_REUSED },
    };

    if (http_status == 0)
        return HISTORY_ANSWER_NONE;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(status_word, words[i].word) == 0 ||
            (strcmp(status_word, "error") == 0 && strcmp(error_word, words[i].word) == 0))
            return words[i].answer;
    return HISTORY_ANSWER_ERROR;
}

/* history_answer_name: the answer as the history file spells it. */
const char *history_answer_name(enum history_answer a)
{
    static const char *const names[HISTORY_ANSWER_COUNT] = {
        "none", "booked", "queued", "sold_out", "in_progress", "limit", "duplicate", "stale",
        "request_id_reused", "error",
    };

    return (unsigned)a < HISTORY_ANSWER_COUNT ? names[a] : "none";
}

/* history_merge appends a thread's records to the run's, growing it once;
 * -1 when out of memory (the caller marks the history incomplete). */
int history_merge(struct history_log *into, const struct history_log *from)
{
    if (from->len == 0) {
        into->incomplete |= from->incomplete;
        return 0;
    }
    if (into->len + from->len > into->cap) {
        size_t cap = into->len + from->len;
        struct history_record *grown = realloc(into->rec, cap * sizeof *grown);
        if (!grown)
            return -1;
        into->rec = grown;
        into->cap = cap;
    }
    memcpy(into->rec + into->len, from->rec, from->len * sizeof *from->rec);
    into->len += from->len;
    into->incomplete |= from->incomplete;
    return 0;
}

/* by_invoke orders records by invoke time, then by job: a total order,
 * so the file is the same for the same records. */
static int by_invoke(const void *a, const void *b)
{
    const struct history_record *x = a, *y = b;

    if (x->invoke_us != y->invoke_us)
        return x->invoke_us < y->invoke_us ? -1 : 1;
    return x->job < y->job ? -1 : x->job > y->job;
}

/* history_sort puts the merged records in invoke order, as Jepsen's
 * histories are read. */
void history_sort(struct history_log *log)
{
    if (log->len > 1)
        qsort(log->rec, log->len, sizeof *log->rec, by_invoke);
}

/* history_write writes to PATH.tmp and renames it: a reader never sees
 * half a history. */
int history_write(const char *path, const struct history_log *log, const char *run_id,
                  long long user_base, uint64_t start_us, char *err, size_t err_len)
{
    char tmp[1100];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < log->len; i++) {
        const struct history_record *r = &log->rec[i];
        long long user = user_base + 1 + r->job;

        fprintf(f, "{\"requestId\":\"%s-%lld\",\"userId\":%lld,\"try\":%d,\"invokeUs\":%lld"
                ",\"completeUs\":%lld,\"status\":%d,\"outcome\":\"%s\",\"class\":\"%s\""
                ",\"answer\":\"%s\"",
                run_id, user, user, r->try_no ? r->try_no : 1,
                (long long)r->invoke_us - (long long)start_us,
                (long long)r->complete_us - (long long)start_us,
                r->http_status, outcome_name((enum outcome)r->outcome),
                history_class_name((enum history_class)r->cls),
                history_answer_name((enum history_answer)r->answer));
        if (r->ticket_id > 0)
            fprintf(f, ",\"ticketId\":%lld", r->ticket_id);
        if (r->counted) {
            fprintf(f, ",\"counterRead\":%lld,\"counterWrote\":%lld,\"server\":",
                    r->counter_read, r->counter_wrote);
            json_write_string(f, r->server);
        }
        fputs("}\n", f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* history_free releases a log's records; the log is empty afterwards. */
void history_free(struct history_log *log)
{
    free(log->rec);
    log->rec = NULL;
    log->len = log->cap = 0;
}
