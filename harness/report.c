/* report.c -- outcomes, the counting rule, the verdict, and the three ways
 * of writing a run down: the human summary, one JSON object, one CSV row. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Outcomes and the counting rule
 * --------------------------------------------------------------------- */

const char *outcome_name(enum outcome o)
{
    switch (o) {
    case OUTCOME_BOOKED: return "booked";
    case OUTCOME_QUEUED: return "queued";
    case OUTCOME_SOLD_OUT: return "sold_out";
    case OUTCOME_OK: return "ok";
    case OUTCOME_ERR_CONNECT: return "connect";
    case OUTCOME_ERR_TIMEOUT: return "timeout";
    case OUTCOME_ERR_4XX: return "http_4xx";
    case OUTCOME_ERR_5XX: return "http_5xx";
    case OUTCOME_ERR_PROTOCOL: return "protocol";
    case OUTCOME_COUNT: break;
    }
    return "unknown";
}

/* report_classify_booking reads a booking's answer. The three answers of
 * the API count only when code and body agree: a 201 whose body says
 * "queued" is a broken service, and is counted as a protocol error rather
 * than believed either way. A 409 is the API's sold-out answer, so it is
 * not a 4xx error; every other 4xx is. */
enum outcome report_classify_booking(int http_status, const char *body_status)
{
    switch (http_status) {
    case 201:
        return strcmp(body_status, "booked") == 0 ? OUTCOME_BOOKED : OUTCOME_ERR_PROTOCOL;
    case 202:
        return strcmp(body_status, "queued") == 0 ? OUTCOME_QUEUED : OUTCOME_ERR_PROTOCOL;
    case 409:
        return strcmp(body_status, "sold_out") == 0 ? OUTCOME_SOLD_OUT : OUTCOME_ERR_PROTOCOL;
    }
    if (http_status >= 400 && http_status <= 499)
        return OUTCOME_ERR_4XX;
    if (http_status >= 500 && http_status <= 599)
        return OUTCOME_ERR_5XX;
    return OUTCOME_ERR_PROTOCOL;
}

/* report_classify_plain reads any other answer by its code alone. */
enum outcome report_classify_plain(int http_status)
{
    if (http_status >= 100 && http_status <= 399)
        return OUTCOME_OK;
    if (http_status >= 400 && http_status <= 499)
        return OUTCOME_ERR_4XX;
    if (http_status >= 500 && http_status <= 599)
        return OUTCOME_ERR_5XX;
    return OUTCOME_ERR_PROTOCOL;
}

void counts_merge(struct counts *into, const struct counts *from)
{
    into->attempted += from->attempted;
    for (int i = 0; i < OUTCOME_COUNT; i++)
        into->n[i] += from->n[i];
}

long long counts_errors(const struct counts *c)
{
    long long sum = 0;

    for (int i = OUTCOME_FIRST_ERROR; i < OUTCOME_COUNT; i++)
        sum += c->n[i];
    return sum;
}

long long counts_ended(const struct counts *c)
{
    long long sum = 0;

    for (int i = 0; i < OUTCOME_COUNT; i++)
        sum += c->n[i];
    return sum;
}

/* counts_balanced checks the counting rule of report.h. For bookings the
 * outcome "ok" does not exist, and for other requests the three booking
 * answers do not: either showing up means a request was misfiled. */
bool counts_balanced(const struct counts *c, bool booking)
{
    if (booking && c->n[OUTCOME_OK] != 0)
        return false;
    if (!booking && (c->n[OUTCOME_BOOKED] || c->n[OUTCOME_QUEUED] || c->n[OUTCOME_SOLD_OUT]))
        return false;
    return c->attempted == counts_ended(c);
}

/* ------------------------------------------------------------------------
 * The verdict
 * --------------------------------------------------------------------- */

/* report_unanswered counts the bookings whose fate the client cannot know:
 * it gave up waiting (timeout) or lost the connection after sending. The
 * service may have booked any of them, so up to that many ticket rows
 * without a "booked" answer are the client's blind spot, not the phase's
 * bug; the error counts already say that something went wrong. */
long long report_unanswered(const struct summary *s)
{
    return s->bookings.n[OUTCOME_ERR_TIMEOUT] + s->bookings.n[OUTCOME_ERR_PROTOCOL];
}

/* report_stuck_claims adds what each store said; a store that could not
 * be read adds nothing, and when neither was read the figure is unknown. */
long long report_stuck_claims(const struct summary *s)
{
    if (!s->claims_db_known && !s->claims_redis_known)
        return -1;
    return (s->claims_db_known ? s->stuck_claims_db : 0) +
           (s->claims_redis_known ? s->stuck_claims_redis : 0);
}

bool report_gate_leak(const struct summary *s)
{
    const struct counts *b = &s->bookings;

    return s->gate_refused_known && s->gate_refused > 0 && !s->faulted &&
           b->n[OUTCOME_ERR_CONNECT] + b->n[OUTCOME_ERR_TIMEOUT] + b->n[OUTCOME_ERR_5XX] == 0;
}

bool report_is_bug(const struct summary *s)
{
    bool mismatch = s->mismatch < 0 || s->mismatch > report_unanswered(s);

    return s->audited && (s->oversold > 0 || s->phantom != 0 || s->duplicates > 0 ||
                          s->other_runs > 0 ||
                          mismatch || s->lost > 0 || s->undersold > 0 ||
                          (s->gate_known && s->cache_drift != 0) ||
                          report_stuck_claims(s) > 0 || s->answers_disagree > 0 ||
                          report_gate_leak(s) || s->backlog_booked > 0);
}

const char *report_verdict_word(const struct summary *s)
{
    if (!s->audited)
        return "none";
    return report_is_bug(s) ? "BUG" : "clean";
}

/* append adds text to the verdict line, "; " between findings. */
static void append(char *out, size_t out_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *out, size_t out_len, const char *fmt, ...)
{
    size_t used = strlen(out);
    va_list ap;

    if (used + 1 >= out_len)
        return;
    va_start(ap, fmt);
    vsnprintf(out + used, out_len - used, fmt, ap);
    va_end(ap);
}

/* report_verdict writes the line the summary starts with: every bug the
 * audit found, the worst first, or "clean". Failed requests are added in
 * brackets: a clean verdict over requests that mostly failed proves little,
 * and the reader should see that before the numbers. */
void report_verdict(const struct summary *s, char *out, size_t out_len)
{
    const char *sep = "";
    long long errors = counts_errors(&s->bookings);

    if (out_len == 0)
        return;
    out[0] = '\0';
    if (!s->audited) {
        append(out, out_len, "done: %lld requests to %s", s->bookings.attempted, s->path);
        if (errors > 0)
            append(out, out_len, " (%lld failed)", errors);
        return;
    }
    if (s->oversold > 0) {
        append(out, out_len, "%sOVERSOLD by %lld seats", sep, s->oversold);
        sep = "; ";
    }
    if (s->phantom != 0) {
        append(out, out_len, "%sPHANTOM: counter is %lld off", sep, s->phantom);
        sep = "; ";
    }
    if (s->duplicates > 0) {
        if (s->per_user_limit > 1)
            append(out, out_len, "%sDUPLICATES: %lld users hold more than %lld tickets", sep,
                   s->duplicates, s->per_user_limit);
        else
            append(out, out_len, "%sDUPLICATES: %lld users hold more than one ticket", sep,
                   s->duplicates);
        sep = "; ";
    }
    if (s->other_runs > 0) {
        append(out, out_len, "%sOTHER RUN: %lld tickets or decisions of another generation "
               "of the sale", sep, s->other_runs);
        sep = "; ";
    }
    if (s->backlog_booked > 0) {
        append(out, out_len, "%sSTALE BOOKED: %lld requests queued before the reset were "
               "booked into the new sale", sep, s->backlog_booked);
        sep = "; ";
    }
    if (s->mismatch != 0) {
        append(out, out_len, "%sMISMATCH: %lld booked answers, %lld ticket rows%s", sep,
               s->booked_decisions, s->booked_decisions + s->mismatch,
               s->mismatch > 0 && s->mismatch <= report_unanswered(s)
                   ? " (no more than the requests left unanswered)" : "");
        sep = "; ";
    }
    if (s->lost > 0) {
        append(out, out_len, "%sLOST: %lld accepted requests never decided", sep, s->lost);
        sep = "; ";
    }
    if (s->undersold > 0) {
        append(out, out_len, "%sUNDERSOLD: %lld seats left unsold while buyers were refused",
               sep, s->undersold);
        sep = "; ";
    }
    if (s->gate_known && s->cache_drift < 0) {
        append(out, out_len, "%sCACHE DRIFT: the Redis gate counts %lld free seats, the "
               "database %lld (cacheDrift %lld): %lld seats the gate will never sell", sep,
               s->available + s->cache_drift, s->available, s->cache_drift, -s->cache_drift);
        sep = "; ";
    } else if (s->gate_known && s->cache_drift > 0) {
        append(out, out_len, "%sCACHE DRIFT: the Redis gate counts %lld free seats, the "
               "database %lld (cacheDrift %lld): %lld buyers the gate admits for seats that "
               "are gone", sep, s->available + s->cache_drift, s->available, s->cache_drift,
               s->cache_drift);
        sep = "; ";
    }
    if (report_gate_leak(s)) {
        append(out, out_len, "%sGATE LEAK: the Redis gate let through %lld requests that the "
               "database refused for want of a seat (more buyers than seats passed it)", sep,
               s->gate_refused);
        sep = "; ";
    }
    if (report_stuck_claims(s) > 0) {
        append(out, out_len, "%sSTUCK CLAIMS: %lld request ids still in_progress after the "
               "sale went quiet: every retry of them is refused for good", sep,
               report_stuck_claims(s));
        sep = "; ";
    }
    if (s->answers_disagree > 0) {
        append(out, out_len, "%sANSWERS DISAGREE: %lld request ids were told different "
               "outcomes on different tries", sep, s->answers_disagree);
        sep = "; ";
    }
    if (!report_is_bug(s))
        append(out, out_len, "clean");
    if (errors > 0)
        append(out, out_len, " (%lld of %lld requests failed)", errors, s->bookings.attempted);
    if (s->planted[0])
        append(out, out_len, " [PLANTED BUG: %s: a zoo run, not a lab result]", s->planted);
}

/* ------------------------------------------------------------------------
 * The human summary
 * --------------------------------------------------------------------- */

/* known_or_na prints N, or "n/a" when it was not measured, into BUF. */
static const char *known_or_na(char *buf, size_t len, bool known, long long n)
{
    if (!known)
        return "n/a";
    snprintf(buf, len, "%lld", n);
    return buf;
}

/* write_quiet_human prints the figures read once the sale was quiet: the
 * gate's drift, the stuck claims, the retries and their answers, the
 * backlog's first ticket and its requests booked into the new sale. "n/a":
 * not measured (no gate, a store that could not be read, no backlog). */
static void write_quiet_human(FILE *out, const struct summary *s)
{
    char a[32], b[32], c[32], d[32];
    long long stuck = report_stuck_claims(s);

    fprintf(out, "cache_drift = %s\nstuck_claims = %s\nstuck_claims_db = %s\n"
                 "stuck_claims_redis = %s\n",
            known_or_na(a, sizeof a, s->gate_known, s->cache_drift),
            known_or_na(b, sizeof b, stuck >= 0, stuck),
            known_or_na(c, sizeof c, s->claims_db_known, s->stuck_claims_db),
            known_or_na(d, sizeof d, s->claims_redis_known, s->stuck_claims_redis));
    fprintf(out, "retry_same_id = %d\nsame_id_retries = %lld\nanswers_disagree = %s\n",
            s->retry_same_id, s->same_id_retries,
            known_or_na(a, sizeof a, s->answers_checked, s->answers_disagree));
    if (s->backlog > 0)
        fprintf(out, "backlog = %lld\nbacklog_accepted = %lld\n"
                     "first_ticket_after_reset_ms = %s\nbacklog_booked = %s\n", s->backlog,
                s->backlog_accepted,
                known_or_na(a, sizeof a, s->first_ticket_known, s->first_ticket_after_reset_ms),
                known_or_na(b, sizeof b, s->backlog_booked_known, s->backlog_booked));
}

/* json_known writes ,"KEY":N or ,"KEY":null when N was not measured. */
static void json_known(FILE *out, const char *key, bool known, long long n)
{
    if (known)
        fprintf(out, ",\"%s\":%lld", key, n);
    else
        fprintf(out, ",\"%s\":null", key);
}

/* write_explain_human prints the explanation of a BUG verdict after the
 * figures: "explanation:", then its lines, indented, and where the whole
 * of it went. Nothing for a run that was not explained. */
static void write_explain_human(FILE *out, const struct summary *s)
{
    const char *line = s->explain.text;

    if (!s->explain.known)
        return;
    fputs("explanation:\n", out);
    while (*line) {
        size_t n = strcspn(line, "\n");

        fprintf(out, "  %.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
    if (s->explain_path[0])
        fprintf(out, "  (every group: %s)\n", s->explain_path);
}

/* report_write_human prints the verdict, then one "key = value" per line in
 * the manner of pgbench, with the same keys as the JSON object, so that a
 * grep on either finds the same thing. */
void report_write_human(FILE *out, const struct summary *s)
{
    char verdict[512];
    const struct counts *b = &s->bookings;

    report_verdict(s, verdict, sizeof verdict);
    fprintf(out, "%s\n", verdict);
    fprintf(out, "phase = %d (%s)\n", s->phase, s->phase_name[0] ? s->phase_name : "unknown");
    fprintf(out, "mode = %s\n", s->mode);
    if (!s->audited)
        fprintf(out, "path = %s\n", s->path);
    else
        fprintf(out, "event_id = %lld\nseats = %lld\n", s->event_id, s->seats);
    if (s->audited)
        fprintf(out, "users = %lld\nclicks = %d\n", s->users, s->clicks > 0 ? s->clicks : 1);
    fprintf(out, "planted = %s\n", s->planted[0] ? s->planted : "none");
    fprintf(out, "concurrency = %lld\nthreads = %lld\n", s->concurrency, s->threads);
    fprintf(out, "think_ms = %lld\nasync = %s\n", s->think_ms, s->async ? "true" : "false");
    fprintf(out, "attempted = %lld\n", b->attempted);
    if (s->audited) {
        fprintf(out, "booked = %lld\nqueued = %lld\nsold_out = %lld\n", b->n[OUTCOME_BOOKED],
                b->n[OUTCOME_QUEUED], b->n[OUTCOME_SOLD_OUT]);
    } else {
        fprintf(out, "ok = %lld\n", b->n[OUTCOME_OK]);
    }
    fprintf(out, "errors = %lld\n", counts_errors(b));
    for (int i = OUTCOME_FIRST_ERROR; i < OUTCOME_COUNT; i++)
        fprintf(out, "errors_%s = %lld\n", outcome_name((enum outcome)i), b->n[i]);
    if (s->reads_per_booking > 0) {
        fprintf(out, "reads_per_booking = %lld\nreads = %lld\nreads_ok = %lld\nread_errors = %lld\n",
                s->reads_per_booking, s->reads.attempted, s->reads.n[OUTCOME_OK],
                counts_errors(&s->reads));
        fprintf(out, "read_p50_us = %" PRIu64 "\nread_p99_us = %" PRIu64 "\n", s->read_p50_us,
                s->read_p99_us);
    }
    if (s->audited) {
        fprintf(out, "sold = %lld\navailable = %lld\noversold = %lld\nphantom = %lld\n", s->sold,
                s->available, s->oversold, s->phantom);
        fprintf(out, "duplicates = %lld\nbooked_decisions = %lld\nmismatch = %lld\nlost = %lld\n",
                s->duplicates, s->booked_decisions, s->mismatch, s->lost);
        fprintf(out, "undersold = %lld\n", s->undersold);
        write_quiet_human(out, s);
    }
    fprintf(out, "strategy = %s\ninstances = %lld\n", s->strategy[0] ? s->strategy : "unknown",
            s->instances);
    fprintf(out, "retries = %lld\ngave_up = %lld\nconflicts_serialization = %lld\n"
                 "conflicts_deadlock = %lld\nconflicts_lock_not_available = %lld\n",
            s->contention.retries, s->contention.gave_up, s->contention.serialization,
            s->contention.deadlock, s->contention.lock_not_available);
    if (s->audited) {
        char g[32];
        fprintf(out, "gate_refused = %s\n",
                known_or_na(g, sizeof g, s->gate_refused_known, s->gate_refused));
    }
    fprintf(out, "req_per_s = %.1f\n", s->req_per_s);
    if (s->rate > 0)
        fprintf(out, "rate = %lld (open loop: latency from each request's due time)\n", s->rate);
    fprintf(out, "p50_us = %" PRIu64 "\np90_us = %" PRIu64 "\np99_us = %" PRIu64
                 "\np999_us = %" PRIu64 "\np9999_us = %" PRIu64 "\nmax_us = %" PRIu64 "\n",
            s->p50_us, s->p90_us, s->p99_us, s->p999_us, s->p9999_us, s->max_us);
    fprintf(out, "wall_s = %.3f\n", s->wall_s);
    if (s->audited)
        fprintf(out, "drain_s = %.3f\n", s->drain_s);
    if (s->drained)
        fprintf(out, "decided = %lld\ndecided_per_s = %.1f\ndrain_timed_out = %s\n", s->decided,
                s->decided_per_s, s->drain_timed_out ? "true" : "false");
    write_explain_human(out, s);
}

/* ------------------------------------------------------------------------
 * JSON
 * --------------------------------------------------------------------- */


/* write_explain_json writes ,"explain":{...}: the explanation's text and
 * figures (explain.h), last in the object so that none of its keys is found
 * before the summary's own. "known":false and an empty text when the run
 * was not explained (clean, or not a booking run). */
static void write_explain_json(FILE *out, const struct summary *s)
{
    const struct explanation *e = &s->explain;

    fprintf(out, ",\"explain\":{\"known\":%s,\"text\":", e->known ? "true" : "false");
    json_write_string(out, e->text);
    fprintf(out, ",\"bookedAnswers\":%lld,\"counted\":%lld,\"distinctValues\":%lld,"
                 "\"lostDecrements\":%lld,\"landed\":%lld,\"lowestWritten\":%lld,"
                 "\"collisions\":%lld,\"largestRead\":%lld,\"largestCount\":%lld,"
                 "\"instancesSeen\":%d,\"crossInstance\":%lld,\"duplicateUserCount\":%lld,\"file\":",
            e->booked, e->counted, e->distinct, e->lost, e->landed, e->lowest_wrote,
            e->collisions, e->largest_read, e->largest_count, e->servers, e->cross_instance,
            e->duplicate_users);
    json_write_string(out, s->explain_path);
    fputc('}', out);
}

/* report_write_json prints the summary as one JSON object on one line:
 * the same keys as the human summary, plus the verdict word and line. */
void report_write_json(FILE *out, const struct summary *s)
{
    char verdict[512];
    const struct counts *b = &s->bookings;

    report_verdict(s, verdict, sizeof verdict);
    fputs("{\"verdict\":", out);
    json_write_string(out, report_verdict_word(s));
    fputs(",\"verdict_text\":", out);
    json_write_string(out, verdict);
    fprintf(out, ",\"phase\":%d,\"name\":", s->phase);
    json_write_string(out, s->phase_name);
    fputs(",\"mode\":", out);
    json_write_string(out, s->mode);
    if (!s->audited) {
        fputs(",\"path\":", out);
        json_write_string(out, s->path);
    } else {
        fprintf(out, ",\"event_id\":%lld,\"seats\":%lld", s->event_id, s->seats);
    }
    fputs(",\"planted\":", out);
    json_write_string(out, s->planted);
    if (s->audited)
        fprintf(out, ",\"clicks\":%d", s->clicks > 0 ? s->clicks : 1);
    fprintf(out, ",\"users\":%lld,\"concurrency\":%lld,\"threads\":%lld,\"think_ms\":%lld,"
                 "\"async\":%s,\"reads_per_booking\":%lld,\"attempted\":%lld",
            s->users, s->concurrency, s->threads, s->think_ms, s->async ? "true" : "false",
            s->reads_per_booking, b->attempted);
    if (s->audited)
        fprintf(out, ",\"booked\":%lld,\"queued\":%lld,\"sold_out\":%lld", b->n[OUTCOME_BOOKED],
                b->n[OUTCOME_QUEUED], b->n[OUTCOME_SOLD_OUT]);
    else
        fprintf(out, ",\"ok\":%lld", b->n[OUTCOME_OK]);
    fprintf(out, ",\"errors\":%lld", counts_errors(b));
    for (int i = OUTCOME_FIRST_ERROR; i < OUTCOME_COUNT; i++)
        fprintf(out, ",\"errors_%s\":%lld", outcome_name((enum outcome)i), b->n[i]);
    if (s->reads_per_booking > 0)
        fprintf(out, ",\"reads\":%lld,\"reads_ok\":%lld,\"read_errors\":%lld,"
                     "\"read_p50_us\":%" PRIu64 ",\"read_p99_us\":%" PRIu64,
                s->reads.attempted, s->reads.n[OUTCOME_OK], counts_errors(&s->reads),
                s->read_p50_us, s->read_p99_us);
    if (s->audited)
        fprintf(out, ",\"sold\":%lld,\"available\":%lld,\"oversold\":%lld,\"phantom\":%lld,"
                     "\"duplicates\":%lld,\"booked_decisions\":%lld,\"mismatch\":%lld,"
                     "\"lost\":%lld,\"other_runs\":%lld",
                s->sold, s->available, s->oversold, s->phantom, s->duplicates,
                s->booked_decisions, s->mismatch, s->lost, s->other_runs);
    if (s->audited) {
        long long stuck = report_stuck_claims(s);

        fprintf(out, ",\"undersold\":%lld", s->undersold);
        json_known(out, "cache_drift", s->gate_known, s->cache_drift);
        if (s->gate_known)
            fprintf(out, ",\"gate_counter\":%s", s->gate_counter ? "true" : "false");
        json_known(out, "stuck_claims", stuck >= 0, stuck);
        json_known(out, "stuck_claims_db", s->claims_db_known, s->stuck_claims_db);
        json_known(out, "stuck_claims_redis", s->claims_redis_known, s->stuck_claims_redis);
        fprintf(out, ",\"retry_same_id\":%d,\"same_id_retries\":%lld", s->retry_same_id,
                s->same_id_retries);
        json_known(out, "answers_disagree", s->answers_checked, s->answers_disagree);
        if (s->backlog > 0) {
            fprintf(out, ",\"backlog\":%lld,\"backlog_accepted\":%lld", s->backlog,
                    s->backlog_accepted);
            json_known(out, "first_ticket_after_reset_ms", s->first_ticket_known,
                       s->first_ticket_after_reset_ms);
            json_known(out, "backlog_booked", s->backlog_booked_known, s->backlog_booked);
        }
    }
    fputs(",\"strategy\":", out);
    json_write_string(out, s->strategy[0] ? s->strategy : "unknown");
    fprintf(out, ",\"instances\":%lld,\"retries\":%lld,\"gave_up\":%lld,"
                 "\"conflicts_serialization\":%lld,\"conflicts_deadlock\":%lld,"
                 "\"conflicts_lock_not_available\":%lld",
            s->instances, s->contention.retries, s->contention.gave_up,
            s->contention.serialization, s->contention.deadlock,
            s->contention.lock_not_available);
    if (s->audited)
        json_known(out, "gate_refused", s->gate_refused_known, s->gate_refused);
    fprintf(out, ",\"req_per_s\":%.1f,\"p50_us\":%" PRIu64 ",\"p90_us\":%" PRIu64
                 ",\"p99_us\":%" PRIu64 ",\"max_us\":%" PRIu64 ",\"wall_s\":%.3f",
            s->req_per_s, s->p50_us, s->p90_us, s->p99_us, s->max_us, s->wall_s);
    fprintf(out, ",\"p999_us\":%" PRIu64 ",\"p9999_us\":%" PRIu64 ",\"rate\":%lld",
            s->p999_us, s->p9999_us, s->rate);
    if (s->audited)
        fprintf(out, ",\"drain_s\":%.3f", s->drain_s);
    if (s->drained)
        fprintf(out, ",\"decided\":%lld,\"decided_per_s\":%.1f,\"drain_timed_out\":%s",
                s->decided, s->decided_per_s, s->drain_timed_out ? "true" : "false");
    write_explain_json(out, s);
    fputs("}\n", out);
}

/* ------------------------------------------------------------------------
 * CSV
 * --------------------------------------------------------------------- */

/* The columns, documented one by one in docs/results-format.md. */
const char report_csv_header[] =
    "timestamp,git_rev,phase,mode,seats,users,concurrency,think_ms,reads_per_booking,"
    "attempted,booked,queued,sold_out,errors,sold,oversold,phantom,duplicates,lost,"
    "req_per_s,p50_us,p90_us,p99_us,max_us,wall_s,drain_s,verdict,"
    "strategy,instances,undersold,retries,gave_up,conflicts_serialization,"
    "conflicts_deadlock,conflicts_lock_not_available,p999_us,p9999_us,rate";

/* csv_text copies a text field, quoted the RFC 4180 way when it holds a
 * comma, a quote or a line break (a git_rev from the environment might). */
static void csv_text(char *out, size_t out_len, const char *s)
{
    size_t j = 0;

    if (out_len == 0)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        snprintf(out, out_len, "%s", s);
        return;
    }
    if (j + 1 < out_len)
        out[j++] = '"';
    for (; *s && j + 3 < out_len; s++) {
        if (*s == '"')
            out[j++] = '"';
        out[j++] = *s;
    }
    if (j + 1 < out_len)
        out[j++] = '"';
    out[j] = '\0';
}

/* report_csv_row formats one row, newline included; returns its length, or
 * -1 when OUT is too small. */
int report_csv_row(char *out, size_t out_len, const struct summary *s, const char *timestamp,
                   const char *git_rev)
{
    char stamp[80], rev[80], strat[80];
    const struct counts *b = &s->bookings;
    int n;

    csv_text(strat, sizeof strat, s->strategy[0] ? s->strategy : "unknown");
    csv_text(stamp, sizeof stamp, timestamp);
    csv_text(rev, sizeof rev, git_rev);
    n = snprintf(out, out_len,
                 "%s,%s,%d,%s,%lld,%lld,%lld,%lld,%lld,"
                 "%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,"
                 "%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%s,"
                 "%s,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%" PRIu64 ",%" PRIu64 ",%lld\n",
                 stamp, rev, s->phase, s->mode, s->seats, s->users, s->concurrency, s->think_ms,
                 s->reads_per_booking, b->attempted, b->n[OUTCOME_BOOKED], b->n[OUTCOME_QUEUED],
                 b->n[OUTCOME_SOLD_OUT], counts_errors(b), s->sold, s->oversold, s->phantom,
                 s->duplicates, s->lost, s->req_per_s, s->p50_us, s->p90_us, s->p99_us,
                 s->max_us, s->wall_s, s->drain_s, report_verdict_word(s),
                 strat, s->instances, s->undersold, s->contention.retries,
                 s->contention.gave_up, s->contention.serialization, s->contention.deadlock,
                 s->contention.lock_not_available, s->p999_us, s->p9999_us, s->rate);
    if (n < 0 || (size_t)n >= out_len)
        return -1;
    return n;
}

/* open_results opens PATH for appending, making its folder when that is
 * the one thing missing (a fresh clone has results/, but a --csv elsewhere
 * may not). */
static int open_results(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    char dir[1024];
    const char *slash;

    if (fd >= 0 || errno != ENOENT || !(slash = strrchr(path, '/')) || slash == path ||
        (size_t)(slash - path) >= sizeof dir)
        return fd;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    return open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* write_all writes LEN bytes, going on after a short write. */
static bool write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* report_append_csv adds one row to PATH. A new or empty file gets the
 * header first. A file that starts with another header is left alone:
 * appending rows of different columns would corrupt every later plot.
 * The row goes out in one write() on an O_APPEND descriptor, so two attacks
 * finishing together do not interleave their rows. */
int report_append_csv(const char *path, const struct summary *s, const char *timestamp,
                      const char *git_rev, char *err, size_t err_len)
{
    char row[1024];
    struct stat st;
    int fd, len;
    bool ok;

    len = report_csv_row(row, sizeof row, s, timestamp, git_rev);
    if (len < 0) {
        snprintf(err, err_len, "CSV row too long");
        return -1;
    }
    fd = open_results(path);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        ok = write_all(fd, report_csv_header, strlen(report_csv_header)) && write_all(fd, "\n", 1);
    } else {
        /* the header and the character after it, which ends its line */
        size_t header_len = sizeof report_csv_header - 1;
        char first[sizeof report_csv_header];
        ssize_t n = pread(fd, first, sizeof first, 0);
        ok = n == (ssize_t)sizeof first && memcmp(first, report_csv_header, header_len) == 0 &&
             (first[header_len] == '\n' || first[header_len] == '\r');
        if (!ok) {
            snprintf(err, err_len, "%s has other columns than this attack writes; not appended",
                     path);
            close(fd);
            return -1;
        }
    }
    ok = ok && write_all(fd, row, (size_t)len);
    if (!ok)
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
    if (close(fd) != 0 && ok) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        ok = false;
    }
    return ok ? 0 : -1;
}
