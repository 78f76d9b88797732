/* explain.c -- the collisions behind a BUG verdict, in plain words
 * (explain.h has the what and why). */
#include "explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#define EXPLAIN_SERVERS_MAX 64    /* instances told apart; more share the last slot */

/* explain_merge appends a thread's records to the run's, growing it once. */
int explain_merge(struct explain_log *into, const struct explain_log *from)
{
    into->incomplete |= from->incomplete;
    if (from->len == 0)
        return 0;
    if (into->len + from->len > into->cap) {
        size_t cap = into->len + from->len;
        struct explain_booking *grown = realloc(into->rec, cap * sizeof *grown);
        if (!grown)
            return -1;
        into->rec = grown;
        into->cap = cap;
    }
    memcpy(into->rec + into->len, from->rec, from->len * sizeof *from->rec);
    into->len += from->len;
    return 0;
}

/* explain_free releases a log's records; the log is empty afterwards. */
void explain_free(struct explain_log *log)
{
    free(log->rec);
    log->rec = NULL;
    log->len = log->cap = 0;
}

/* ------------------------------------------------------------------------
 * Order and groups
 * --------------------------------------------------------------------- */

/* by_read orders the records as the groups are read: the counted ones
 * first, by value read from the highest (the start of the sale) down, then
 * by the answer's time and the job: a total order, the same file for the
 * same records. */
static int by_read(const void *a, const void *b)
{
    const struct explain_booking *x = a, *y = b;

    if (x->counted != y->counted)
        return x->counted ? -1 : 1;
    if (x->counted && x->counter_read != y->counter_read)
        return x->counter_read > y->counter_read ? -1 : 1;
    if (x->complete_us != y->complete_us)
        return x->complete_us < y->complete_us ? -1 : 1;
    return x->job < y->job ? -1 : x->job > y->job;
}

/* The instances seen, by their id: an index per record's server. */
struct servers {
    char id[EXPLAIN_SERVERS_MAX][EXPLAIN_SERVER_MAX];
    int n;
};

/* server_index finds or adds ID; "" and the instances past the table's
 * size share slots, so they are never told apart. */
static int server_index(struct servers *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->id[i], id) == 0)
            return i;
    if (s->n == EXPLAIN_SERVERS_MAX)
        return EXPLAIN_SERVERS_MAX - 1;
    snprintf(s->id[s->n], sizeof s->id[0], "%s", id);
    return s->n++;
}

/* group_at reads the group that starts at record I of the sorted LOG (a
 * counted one) into G, with the instances it ran on as bits of *MASK. */
static void group_at(const struct explain_log *log, size_t i, struct servers *srv,
                     struct explain_group *g, uint64_t *mask)
{
    const struct explain_booking *r = &log->rec[i];

    memset(g, 0, sizeof *g);
    g->read = r->counter_read;
    g->first = i;
    g->wrote_min = g->wrote_max = r->counter_wrote;
    *mask = 0;
    for (size_t j = i; j < log->len && log->rec[j].counted &&
                       log->rec[j].counter_read == g->read; j++) {
        const struct explain_booking *m = &log->rec[j];

        g->count++;
        if (m->counter_wrote < g->wrote_min)
            g->wrote_min = m->counter_wrote;
        if (m->counter_wrote > g->wrote_max)
            g->wrote_max = m->counter_wrote;
        *mask |= UINT64_C(1) << server_index(srv, m->server);
    }
    g->servers = __builtin_popcountll(*mask);
}

/* Time in ms since the start line, of a record's answer. */
static long long answered_ms(const struct explain_input *in, const struct explain_booking *r)
{
    return ((long long)r->complete_us - (long long)in->start_us) / 1000;
}

static long long user_of(const struct explain_input *in, long long job)
{
    return in->user_base + 1 + job / (in->clicks > 1 ? in->clicks : 1);
}

/* ------------------------------------------------------------------------
 * The words
 * --------------------------------------------------------------------- */

/* The lines of an explanation before they are chosen: each with its rank,
 * 0 the first to keep. The text holds what fits of them, in the order they
 * were said, the lowest ranks first chosen: the headline and the users with
 * two tickets are kept before the third group's list. */
#define DRAFT_LINES 16

enum rank {
    RANK_HEADLINE, RANK_HOW, RANK_USERS, RANK_INSTANCES, RANK_FIRST_GROUP, RANK_GROUP, RANK_NOTE,
};

struct draft {
    char line[DRAFT_LINES][EXPLAIN_TEXT_MAX];
    int rank[DRAFT_LINES];
    int n;
};

/* say adds one line of rank RANK to the draft (a line too long for the
 * text, or past DRAFT_LINES, is left out whole: a cut sentence would say
 * something else). */
static void say(struct draft *d, int rank, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct draft *d, int rank, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (d->n == DRAFT_LINES)
        return;
    va_start(ap, fmt);
    n = vsnprintf(d->line[d->n], sizeof d->line[0], fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof d->line[0])
        return;
    d->rank[d->n++] = rank;
}

/* draft_finish writes into E's text the lines that fit, chosen by rank,
 * lowest first (of one rank, the first said), then kept in their order. */
static void draft_finish(const struct draft *d, struct explanation *e)
{
    bool keep[DRAFT_LINES] = { false };
    size_t used = 0;

    for (int rank = RANK_HEADLINE; rank <= RANK_NOTE; rank++)
        for (int i = 0; i < d->n; i++) {
            size_t need = strlen(d->line[i]) + (used ? 1 : 0);
            if (d->rank[i] != rank || used + need >= sizeof e->text)
                continue;
            keep[i] = true;
            used += need;
        }
    used = 0;
    for (int i = 0; i < d->n; i++) {
        size_t len = strlen(d->line[i]);
        if (!keep[i])
            continue;
        if (used)
            e->text[used++] = '\n';
        memcpy(e->text + used, d->line[i], len + 1);
        used += len;
    }
}

/* members writes the first bookings of the group at FIRST (COUNT of them)
 * into OUT: "<id> at 412 ms, <id> at 415 ms and 14 more". */
static void members(char *out, size_t out_len, const struct explain_log *log, size_t first,
                    long long count, const struct explain_input *in)
{
    size_t used = 0;
    long long shown = count < EXPLAIN_MEMBERS_SHOWN ? count : EXPLAIN_MEMBERS_SHOWN;

    out[0] = '\0';
    for (long long k = 0; k < shown && used < out_len; k++) {
        const struct explain_booking *r = &log->rec[first + (size_t)k];
        int n = snprintf(out + used, out_len - used, "%s%s-%lld at %lld ms",
                         k == 0 ? "" : k + 1 == shown && count == shown ? " and " : ", ",
                         in->run_id, in->user_base + 1 + r->job, answered_ms(in, r));
        used += n > 0 ? (size_t)n : 0;
    }
    if (count > shown && used < out_len)
        snprintf(out + used, out_len - used, " and %lld more", count - shown);
}

/* wrote_words: "all wrote 66", or "wrote 65 to 66" when they differed. */
static void wrote_words(char *out, size_t out_len, const struct explain_group *g)
{
    if (g->wrote_min == g->wrote_max)
        snprintf(out, out_len, "all wrote %lld", g->wrote_min);
    else
        snprintf(out, out_len, "wrote %lld to %lld", g->wrote_min, g->wrote_max);
}

/* say_lost: the headline and how a group loses its decrements. */
static void say_lost(struct draft *d, const struct explanation *e, const struct explain_input *in,
                     const struct explain_group *largest)
{
    char wrote[64], seats[96] = "", fell[256] = "";

    wrote_words(wrote, sizeof wrote, largest);
    if (e->distinct == 1)
        say(d, RANK_HEADLINE, "%lld decrements lost: all %lld bookings read the same value of "
            "the seat counter, %lld, and %s.", e->lost, e->counted, largest->read, wrote);
    else
        say(d, RANK_HEADLINE, "%lld decrements lost: %lld bookings read only %lld distinct "
            "values of the seat counter; %lld of them read %lld and %s.", e->lost, e->counted,
            e->distinct, largest->count, largest->read, wrote);
    if (in->oversold > 0)
        snprintf(seats, sizeof seats, " for %lld seats (%lld too many)", in->total_seats,
                 in->oversold);
    if (e->landed > e->distinct)
        snprintf(fell, sizeof fell, ": %lld of those decrements are the 201s' (one per value "
                 "read), %lld came from bookings that got no 201 (refused after their write, "
                 "over the user's limit, or never answered)", e->distinct,
                 e->landed - e->distinct);
    else if (e->landed < e->distinct)
        snprintf(fell, sizeof fell, ", though the 201s read %lld distinct values", e->distinct);
    say(d, RANK_HOW, "Each booking read the counter, thought, and wrote back what it read minus "
        "one: the bookings of a group overwrote one another%s. The counter fell by %lld, from "
        "%lld to %lld, while %lld tickets were written%s%s.",
        e->landed == e->distinct ? ", one decrement per value landed" : "", e->landed,
        in->counter_before, in->counter_after, in->tickets, seats, fell);
    if (e->lowest_wrote >= 0 && e->lowest_wrote < in->counter_after)
        say(d, RANK_NOTE, "The lowest value written was %lld, yet the counter says %lld: a "
            "booking that had read an older value wrote last.", e->lowest_wrote,
            in->counter_after);
}

/* say_groups names the largest collisions, up to EXPLAIN_GROUPS_SHOWN:
 * GROUPS holds them, largest first. */
static void say_groups(struct draft *d, const struct explain_log *log,
                       const struct explain_input *in, const struct explain_group *groups,
                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct explain_group *g = &groups[i];
        char list[512], wrote[64], where[48] = "";

        members(list, sizeof list, log, g->first, g->count, in);
        wrote_words(wrote, sizeof wrote, g);
        if (g->servers > 1)
            snprintf(where, sizeof where, ", on %d instances", g->servers);
        say(d, i == 0 ? RANK_FIRST_GROUP : RANK_GROUP, "- read %lld, %s (%lld bookings%s): %s",
            g->read, wrote, g->count, where, list);
    }
}

/* say_instances: a collision across instances, the first (largest) one
 * CROSS, its two first instances named. */
static void say_instances(struct draft *d, const struct explanation *e,
                          const struct explain_log *log, const struct explain_input *in,
                          const struct explain_group *cross)
{
    const char *a = "", *b = "";
    bool local_mutex = in->strategy && strcmp(in->strategy, "local-mutex") == 0;
    char count[32] = "two", more[32] = "";

    for (long long k = 0; k < cross->count; k++) {
        const char *s = log->rec[cross->first + (size_t)k].server;
        if (!a[0])
            a = s;
        else if (strcmp(s, a) != 0) {
            b = s;
            break;
        }
    }
    if (cross->servers > 2) {
        snprintf(count, sizeof count, "%d", cross->servers);
        snprintf(more, sizeof more, " and %d more", cross->servers - 2);
    }
    say(d, RANK_INSTANCES, "The %lld bookings that read %lld ran on %s instances: %s and %s%s; "
        "%s.", cross->count, cross->read, count, a, b, more,
        local_mutex ? "each instance's mutex knows only its own threads"
                    : "each instance sees only the database, not the other's bookings");
    if (e->same_instance == 0)
        say(d, RANK_INSTANCES, "%lld of the %lld collisions span instances; none has two "
            "bookings of one instance%s.", e->cross_instance, e->collisions,
            local_mutex ? ": inside its own process, each mutex held" : "");
    else
        say(d, RANK_INSTANCES, "%lld of the %lld collisions span instances; %lld have two "
            "bookings of one instance.", e->cross_instance, e->collisions, e->same_instance);
}

/* ------------------------------------------------------------------------
 * Duplicates: users with more 201s than the limit
 * --------------------------------------------------------------------- */

/* The records of a sorted LOG ordered by user, then answer time. */
struct by_user_ctx {
    const struct explain_log *log;
    const struct explain_input *in;
};

static struct by_user_ctx by_user_now;   /* qsort has no context argument */

static int by_user(const void *a, const void *b)
{
    const struct explain_booking *x = &by_user_now.log->rec[*(const size_t *)a];
    const struct explain_booking *y = &by_user_now.log->rec[*(const size_t *)b];
    long long ux = user_of(by_user_now.in, x->job), uy = user_of(by_user_now.in, y->job);

    if (ux != uy)
        return ux < uy ? -1 : 1;
    if (x->complete_us != y->complete_us)
        return x->complete_us < y->complete_us ? -1 : 1;
    return x->job < y->job ? -1 : x->job > y->job;
}

/* users_sorted returns the indexes of LOG's records by user (free it), or
 * NULL when out of memory or empty. */
static size_t *users_sorted(const struct explain_log *log, const struct explain_input *in)
{
    size_t *idx = log->len ? malloc(log->len * sizeof *idx) : NULL;

    if (!idx)
        return NULL;
    for (size_t i = 0; i < log->len; i++)
        idx[i] = i;
    by_user_now = (struct by_user_ctx){ log, in };
    qsort(idx, log->len, sizeof *idx, by_user);
    return idx;
}

static long long limit_of(const struct explain_input *in)
{
    return in->per_user_limit > 0 ? in->per_user_limit : 1;
}

/* booking_words: "<id> at 12 ms (read 87)", or without the read. */
static void booking_words(char *out, size_t out_len, const struct explain_input *in,
                          const struct explain_booking *r)
{
    int n = snprintf(out, out_len, "%s-%lld at %lld ms", in->run_id, in->user_base + 1 + r->job,
                     answered_ms(in, r));

    if (r->counted && n > 0 && (size_t)n < out_len)
        snprintf(out + n, out_len - (size_t)n, " (read %lld)", r->counter_read);
}

/* say_duplicates counts the users over the limit and shows the first. */
static void say_duplicates(struct draft *d, struct explanation *e, const struct explain_log *log,
                           const struct explain_input *in)
{
    size_t *idx = users_sorted(log, in);
    long long limit = limit_of(in), shown_user = 0, shown_n = 0;
    size_t shown_at = 0;

    for (size_t i = 0; idx && i < log->len;) {
        long long user = user_of(in, log->rec[idx[i]].job);
        size_t j = i;

        while (j < log->len && user_of(in, log->rec[idx[j]].job) == user)
            j++;
        if ((long long)(j - i) > limit) {
            if (e->duplicate_users++ == 0) {
                shown_user = user;
                shown_n = (long long)(j - i);
                shown_at = i;
            }
        }
        i = j;
    }
    if (e->duplicate_users > 0) {
        char first[160], second[160], audit[64] = "", over[48];

        booking_words(first, sizeof first, in, &log->rec[idx[shown_at]]);
        booking_words(second, sizeof second, in, &log->rec[idx[shown_at + 1]]);
        if (in->duplicates != e->duplicate_users)
            snprintf(audit, sizeof audit, " (the audit counts %lld)", in->duplicates);
        if (limit > 1)
            snprintf(over, sizeof over, "more than %lld tickets", limit);
        else
            snprintf(over, sizeof over, "more than one ticket");
        say(d, RANK_USERS, "%lld %s %s%s: user %lld was booked %lld times, %s and %s%s; "
            "each booking counted the user's tickets before the other's ticket was written.",
            e->duplicate_users, e->duplicate_users == 1 ? "user holds" : "users hold", over,
            audit, shown_user, shown_n, first, second,
            shown_n > 2 ? " and more" : "");
    }
    free(idx);
}

/* ------------------------------------------------------------------------
 * The explanation
 * --------------------------------------------------------------------- */

/* bigger: the order of the groups named in the text, the largest first,
 * and of two as large the later in the sale (the lower value read). */
static bool bigger(const struct explain_group *a, const struct explain_group *b)
{
    return a->count != b->count ? a->count > b->count : a->read < b->read;
}

/* keep_largest inserts G into TOP (N of CAP kept, largest first). */
static void keep_largest(struct explain_group *top, size_t *n, size_t cap,
                         const struct explain_group *g)
{
    size_t at = *n;

    while (at > 0 && bigger(g, &top[at - 1]))
        at--;
    if (at >= cap)
        return;
    if (*n < cap)
        (*n)++;
    memmove(&top[at + 1], &top[at], (*n - 1 - at) * sizeof *top);
    top[at] = *g;
}

/* explain_compute: see explain.h. One pass over the sorted records makes
 * the groups; the text is said in the order a teacher would tell it. */
void explain_compute(struct explain_log *log, const struct explain_input *in,
                     struct explanation *out)
{
    static struct servers srv;   /* the caller's thread only; large */
    static struct draft draft;
    struct explain_group top[EXPLAIN_GROUPS_SHOWN], first_cross = { 0 };
    size_t ntop = 0;
    uint64_t all = 0;

    memset(out, 0, sizeof *out);
    memset(&srv, 0, sizeof srv);
    memset(&draft, 0, sizeof draft);
    out->lowest_wrote = -1;
    out->landed = in->counter_before - in->counter_after;
    if (log->len > 1)
        qsort(log->rec, log->len, sizeof *log->rec, by_read);
    out->booked = (long long)log->len;
    for (size_t i = 0; i < log->len && log->rec[i].counted;) {
        struct explain_group g;
        uint64_t mask;

        group_at(log, i, &srv, &g, &mask);
        all |= mask;
        out->counted += g.count;
        out->distinct++;
        if (out->lowest_wrote < 0 || g.wrote_min < out->lowest_wrote)
            out->lowest_wrote = g.wrote_min;
        if (g.count > 1) {
            out->collisions++;
            out->cross_instance += g.servers > 1;
            out->same_instance += g.count > g.servers;
            if (g.servers > 1 && (first_cross.count == 0 || bigger(&g, &first_cross)))
                first_cross = g;
            keep_largest(top, &ntop, EXPLAIN_GROUPS_SHOWN, &g);
        }
        if (out->largest_count == 0 || bigger(&g, &(struct explain_group){
                                                     .count = out->largest_count,
                                                     .read = out->largest_read })) {
            out->largest_count = g.count;
            out->largest_read = g.read;
        }
        i += (size_t)g.count;
    }
    out->lost = out->counted - out->distinct;
    out->servers = __builtin_popcountll(all);
    if (!in->bug)
        return;

    out->known = true;
    if (out->lost > 0) {
        say_lost(&draft, out, in, &top[0]);
        say_groups(&draft, log, in, top, ntop);
        if (out->cross_instance > 0)
            say_instances(&draft, out, log, in, &first_cross);
    } else if (out->counted > 0) {
        say(&draft, RANK_HEADLINE, "No two bookings read the same value of the seat counter: "
            "all %lld decrements landed.", out->counted);
    } else {
        say(&draft, RANK_HEADLINE, "No 201 told the counter value its booking read (phases 5 "
            "and 6 answer 202 before the booking; phase 3's atomic strategy reads none): the "
            "collisions cannot be named from the answers.");
    }
    say_duplicates(&draft, out, log, in);
    if (out->duplicate_users == 0 && in->duplicates > 0)
        say(&draft, RANK_USERS, "The audit counts %lld users with more tickets than the limit, "
            "yet no user got more 201s than that: the answers of their other bookings were "
            "lost or refused after the ticket was written.", in->duplicates);
    else if (out->lost == 0 && out->duplicate_users == 0)
        say(&draft, RANK_HOW, "The bug is not in the seat counter's collisions nor in two "
            "tickets of one user: the verdict line names it.");
    if (log->incomplete)
        say(&draft, RANK_HOW, "(out of memory: some 201s were not kept, the figures are short)");
    draft_finish(&draft, out);
}

/* ------------------------------------------------------------------------
 * The file
 * --------------------------------------------------------------------- */

void json_write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* write_booking writes one booking as a JSON object. */
static void write_booking(FILE *out, const struct explain_input *in,
                          const struct explain_booking *r)
{
    fprintf(out, "{\"requestId\":\"%s-%lld\",\"userId\":%lld,\"invokeMs\":%.3f,"
                 "\"answeredMs\":%.3f,\"ticketId\":%lld",
            in->run_id, in->user_base + 1 + r->job, user_of(in, r->job),
            (double)((long long)r->invoke_us - (long long)in->start_us) / 1000.0,
            (double)((long long)r->complete_us - (long long)in->start_us) / 1000.0,
            r->ticket_id);
    if (r->counted)
        fprintf(out, ",\"counterRead\":%lld,\"counterWrote\":%lld", r->counter_read,
                r->counter_wrote);
    fputs(",\"server\":", out);
    json_write_string(out, r->server);
    fputc('}', out);
}

/* write_groups writes every group of the sorted LOG, highest value read
 * first, each with its bookings in the order of their answers. */
static void write_groups(FILE *out, const struct explain_log *log, const struct explain_input *in)
{
    static struct servers srv;
    bool first_group = true;

    memset(&srv, 0, sizeof srv);
    fputs(",\"groups\":[", out);
    for (size_t i = 0; i < log->len && log->rec[i].counted;) {
        struct explain_group g;
        uint64_t mask;

        group_at(log, i, &srv, &g, &mask);
        fprintf(out, "%s{\"read\":%lld,\"count\":%lld,\"wroteMin\":%lld,\"wroteMax\":%lld,"
                     "\"instances\":%d,\"bookings\":[",
                first_group ? "" : ",", g.read, g.count, g.wrote_min, g.wrote_max, g.servers);
        for (long long k = 0; k < g.count; k++) {
            if (k)
                fputc(',', out);
            write_booking(out, in, &log->rec[i + (size_t)k]);
        }
        fputs("]}", out);
        first_group = false;
        i += (size_t)g.count;
    }
    fputs("]", out);
}

/* write_users writes the users over the limit, each with its bookings. */
static void write_users(FILE *out, const struct explain_log *log, const struct explain_input *in)
{
    size_t *idx = users_sorted(log, in);
    bool first_user = true;

    fputs(",\"duplicateUsers\":[", out);
    for (size_t i = 0; idx && i < log->len;) {
        long long user = user_of(in, log->rec[idx[i]].job);
        size_t j = i;

        while (j < log->len && user_of(in, log->rec[idx[j]].job) == user)
            j++;
        if ((long long)(j - i) > limit_of(in)) {
            fprintf(out, "%s{\"userId\":%lld,\"tickets\":%zu,\"bookings\":[",
                    first_user ? "" : ",", user, j - i);
            for (size_t k = i; k < j; k++) {
                if (k > i)
                    fputc(',', out);
                write_booking(out, in, &log->rec[idx[k]]);
            }
            fputs("]}", out);
            first_user = false;
        }
        i = j;
    }
    fputs("]", out);
    free(idx);
}

/* explain_write_json: see explain.h. The figures first, then the groups
 * and the users; one object, on lines of their own only between parts. */
int explain_write_json(FILE *out, struct explain_log *log, const struct explain_input *in,
                       const struct explanation *e)
{
    fputs("{\"runId\":", out);
    json_write_string(out, in->run_id);
    fputs(",\"strategy\":", out);
    json_write_string(out, in->strategy ? in->strategy : "");
    fputs(",\"text\":", out);
    json_write_string(out, e->text);
    fprintf(out, ",\"totalSeats\":%lld,\"counterBefore\":%lld,\"counterAfter\":%lld,"
                 "\"tickets\":%lld,\"bookedAnswers\":%lld,\"counted\":%lld,\"distinctValues\":%lld,"
                 "\"lostDecrements\":%lld,\"landed\":%lld,\"lowestWritten\":%lld,"
                 "\"collisions\":%lld,\"largestRead\":%lld,\"largestCount\":%lld,"
                 "\"instancesSeen\":%d,\"crossInstance\":%lld,\"sameInstance\":%lld,"
                 "\"duplicateUserCount\":%lld,\"incomplete\":%s",
            in->total_seats, in->counter_before, in->counter_after, in->tickets, e->booked,
            e->counted, e->distinct, e->lost, e->landed, e->lowest_wrote, e->collisions,
            e->largest_read, e->largest_count, e->servers, e->cross_instance, e->same_instance,
            e->duplicate_users, log->incomplete ? "true" : "false");
    fputs("\n", out);
    write_groups(out, log, in);
    fputs("\n", out);
    write_users(out, log, in);
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
