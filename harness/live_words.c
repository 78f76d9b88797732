/* live_words.c -- the audit's and the checker's verdicts as sentences for
 * a class (live_words.h). Every figure named here is one the summary or
 * the checker's table also prints, so that a teacher can point at both. */
#include "live_words.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* say appends one sentence to OUT, a space before it when OUT holds one
 * already; a sentence that does not fit is cut, never overflows. */
static void say(char *out, size_t out_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t out_len, const char *fmt, ...)
{
    size_t used = strlen(out);
    va_list ap;

    if (used + 2 >= out_len)
        return;
    if (used > 0)
        out[used++] = ' ', out[used] = '\0';
    va_start(ap, fmt);
    vsnprintf(out + used, out_len - used, fmt, ap);
    va_end(ap);
}

/* plural: "" for one, "s" otherwise. */
static const char *plural(long long n)
{
    return n == 1 || n == -1 ? "" : "s";
}

/* say_counter tells what the counter believes against the tickets that
 * exist: the phantom, in words. */
static void say_counter(const struct summary *s, char *out, size_t out_len)
{
    long long truly_left = s->total_seats - s->sold;

    if (s->phantom > 0)
        say(out, out_len, "The seat counter still says %lld seat%s free, yet %lld ticket%s "
            "exist: %lld of the \"one less\" writes were lost, each overwritten by a booking "
            "that had read the same number.", s->available, plural(s->available), s->sold,
            plural(s->sold), s->phantom);
    else if (s->phantom < 0)
        say(out, out_len, "The seat counter says %lld seat%s free, %lld fewer than the %lld "
            "that truly are: seats were taken from the counter and never sold.", s->available,
            plural(s->available), -s->phantom, truly_left < 0 ? 0 : truly_left);
}

/* live_words_audit: see live_words.h. */
void live_words_audit(const struct summary *s, char *out, size_t out_len)
{
    if (out_len == 0)
        return;
    out[0] = '\0';
    if (!s->audited) {
        say(out, out_len, "The run is over: %lld requests were sent; no sale was audited.",
            s->bookings.attempted);
        return;
    }
    if (!report_is_bug(s)) {
        say(out, out_len, "Clean: %lld ticket%s for %lld seat%s, and the counter agrees "
            "(%lld left).", s->sold, plural(s->sold), s->total_seats, plural(s->total_seats),
            s->available);
        say(out, out_len, "Nobody holds a seat that does not exist%s.",
            s->lost == 0 && s->drained ? ", and every accepted booking was decided" : "");
        if (s->sold < s->total_seats && s->bookings.n[OUTCOME_SOLD_OUT] == 0)
            say(out, out_len, "%lld seat%s were not asked for.", s->total_seats - s->sold,
                plural(s->total_seats - s->sold));
        return;
    }
    say(out, out_len, "Wrong tickets!");
    if (s->oversold > 0)
        say(out, out_len, "%lld tickets were sold for %lld seats: %lld %s a ticket for a seat "
            "that does not exist.", s->sold, s->total_seats, s->oversold,
            s->oversold == 1 ? "person holds" : "people hold");
    say_counter(s, out, out_len);
    if (s->duplicates > 0)
        say(out, out_len, "%lld user%s hold more tickets than the %lld each may have.",
            s->duplicates, plural(s->duplicates), s->per_user_limit > 0 ? s->per_user_limit : 1);
    if (s->lost > 0)
        say(out, out_len, "%lld booking%s answered \"accepted\" %s never decided.", s->lost,
            plural(s->lost), s->lost == 1 ? "was" : "were");
    if (s->mismatch != 0)
        say(out, out_len, "%lld user%s told \"booked\", but the database holds %lld ticket%s "
            "of this run.", s->booked_decisions, s->booked_decisions == 1 ? " was" : "s were",
            s->booked_decisions + s->mismatch, plural(s->booked_decisions + s->mismatch));
    if (s->undersold > 0)
        say(out, out_len, "%lld seat%s left unsold while buyers were turned away.",
            s->undersold, s->undersold == 1 ? " was" : "s were");
    if (s->gate_known && s->cache_drift != 0)
        say(out, out_len, "The Redis gate counts %lld seat%s %s than the database.",
            s->cache_drift > 0 ? s->cache_drift : -s->cache_drift, plural(s->cache_drift),
            s->cache_drift > 0 ? "more" : "fewer");
    if (report_gate_leak(s))
        say(out, out_len, "The Redis gate let %lld request%s through that the database then "
            "refused for want of a seat: the gate and the database disagree.", s->gate_refused,
            plural(s->gate_refused));
    if (report_stuck_claims(s) > 0)
        say(out, out_len, "%lld request%s stuck \"in progress\" for good.",
            report_stuck_claims(s), report_stuck_claims(s) == 1 ? " is" : "s are");
    if (s->other_runs > 0)
        say(out, out_len, "%lld ticket%s or decision%s belong to another sale.", s->other_runs,
            plural(s->other_runs), plural(s->other_runs));
    if (s->answers_disagree > 0)
        say(out, out_len, "%lld user%s told different things when they asked again.",
            s->answers_disagree, s->answers_disagree == 1 ? " was" : "s were");
}

/* live_words_check: see live_words.h. */
void live_words_check(const struct check_result *c, char *out, size_t out_len)
{
    if (out_len == 0)
        return;
    out[0] = '\0';
    if (!checker_is_bug(c)) {
        say(out, out_len, "The checker compared all %lld answers with the database: every "
            "answer told the truth.", c->requests);
    } else {
        say(out, out_len, "The checker compared all %lld answers with the database, and some "
            "lied:", c->requests);
        if (c->false_confirmations > 0)
            say(out, out_len, "%lld user%s told \"booked\" and %s no ticket.",
                c->false_confirmations, c->false_confirmations == 1 ? " was" : "s were",
                c->false_confirmations == 1 ? "has" : "have");
        if (c->false_refusals > 0)
            say(out, out_len, "%lld user%s told \"sold out\" and yet %s a ticket.",
                c->false_refusals, c->false_refusals == 1 ? " was" : "s were",
                c->false_refusals == 1 ? "holds" : "hold");
        if (c->lost > 0)
            say(out, out_len, "%lld accepted booking%s never decided.", c->lost,
                c->lost == 1 ? " was" : "s were");
        if (c->duplicated > 0)
            say(out, out_len, "%lld request%s decided twice.", c->duplicated,
                c->duplicated == 1 ? " was" : "s were");
        if (c->oversold > 0)
            say(out, out_len, "%lld ticket%s too many.", c->oversold, plural(c->oversold));
        if (c->answers_disagree > 0)
            say(out, out_len, "%lld user%s told different things on a retry.",
                c->answers_disagree, c->answers_disagree == 1 ? " was" : "s were");
        if (c->drift_known && c->drift != 0)
            say(out, out_len, "The Redis gate is %lld seat%s off.",
                c->drift > 0 ? c->drift : -c->drift, plural(c->drift));
        if (c->claims_known && c->stuck_claims > 0)
            say(out, out_len, "%lld request%s stuck \"in progress\".", c->stuck_claims,
                c->stuck_claims == 1 ? " is" : "s are");
    }
    if (c->undersold > 0)
        say(out, out_len, "%lld seat%s left unsold while buyers were turned away: a cost "
            "of the fault, not a lie.", c->undersold, c->undersold == 1 ? " was" : "s were");
    if (c->availability >= 0)
        say(out, out_len, "During the fault, %.0f %% of the %lld requests got an answer.",
            100.0 * c->availability, c->window_requests);
    if (c->recover_s >= 0)
        say(out, out_len, "The first good answer came %.1f s after the repair began.",
            c->recover_s);
}
