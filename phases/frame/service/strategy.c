/* strategy.c -- --strategy and the retry loop (strategy.h). */
#include "service/strategy.h"

#include <stdio.h>
#include <string.h>
#include "contention.h"
#include "db_batch.h"

/* strategy_choose: the strategies are a list in the phase's descriptor, so
 * that a phase offers only what its folder implements. */
bool strategy_choose(const struct phase *phase, const char **name, struct phase *out, char *err,
                     size_t err_len)
{
    const struct strategy *s = phase->strategies;

    *out = *phase;
    if (!s) {
        if (*name) {
            snprintf(err, err_len, "phase %d has no --strategy to choose", phase->number);
            return false;
        }
        return true;
    }
    if (!*name)
        *name = s->name;
    for (; s->name; s++) {
        if (strcmp(s->name, *name) == 0) {
            out->book = s->book;
            out->safeguards |= s->safeguards;
            out->planted = s->planted ? s->name : NULL;
            if (s->send) {
                out->send = s->send;
                out->decide = s->decide;
                out->decide_batch = s->decide_batch;
                out->unclaimed = s->unclaimed;
            }
            return true;
        }
    }
    snprintf(err, err_len, "--strategy: phase %d has no strategy '%s' (it has:", phase->number,
             *name);
    for (s = phase->strategies; s->name; s++)
        snprintf(err + strlen(err), err_len - strlen(err), " %s", s->name);
    snprintf(err + strlen(err), err_len - strlen(err), ")");
    return false;
}

/* retry_booking: an attempt that lost a conflict did nothing (its
 * transaction rolled back), so running it again is safe. The bound is what
 * keeps a hot row from turning into an endless loop, and what makes an
 * optimistic strategy undersell: a booking that gave up leaves its seat. */
enum lab_status retry_booking(struct conns *c, const struct booking *b,
                              struct booking_reply *reply, attempt_fn *attempt)
{
    int retries = c->svc->cfg->retries;

    for (int i = 0;; i++) {
        bool conflict = false;
        enum lab_status st = attempt(c, b, reply, &conflict);

        if (!conflict)
            return st;
        if (i >= retries) {
            contention_note_gave_up();
            return LAB_ERR_CONFLICT;
        }
        contention_note_retry();
    }
}

/* strategy_check_without: a safeguard the chosen phase does not have cannot
 * be switched off, and saying so beats a zoo run that plants nothing. A
 * safeguard of another of the phase's strategies is named with it
 * ("--without reread" needs --strategy optimistic). */
bool strategy_check_without(const struct phase *chosen, unsigned without, char *err,
                            size_t err_len)
{
    unsigned missing = without & ~chosen->safeguards;
    char names[256], has[256];

    if (!missing)
        return true;
    safeguard_list(missing, names, sizeof names);
    safeguard_list(chosen->safeguards, has, sizeof has);
    snprintf(err, err_len, "--without: phase %d%s%s has no safeguard %s (it has: %s)",
             chosen->number, chosen->planted ? " with --strategy " : "",
             chosen->planted ? chosen->planted : "", names, has[0] ? has : "none");
    for (const struct strategy *s = chosen->strategies; s && s->name; s++)
        if (s->safeguards & missing)
            snprintf(err + strlen(err), err_len - strlen(err), "; --strategy %s has %s",
                     s->name, safeguard_list(s->safeguards & missing, names, sizeof names));
    return false;
}

/* strategy_planted says what a zoo run planted, "" for none:
 * "strategy demo", "without for-update,give-back", or both. */
char *strategy_planted(const struct phase *chosen, unsigned without, char *out, size_t out_len)
{
    char names[256];

    snprintf(out, out_len, "%s%s%s%s%s", chosen->planted ? "strategy " : "",
             chosen->planted ? chosen->planted : "", chosen->planted && without ? ", " : "",
             without ? "without " : "", safeguard_list(without, names, sizeof names));
    return out;
}

/* booking_read_mode: see phase.h. */
enum db_read_mode booking_read_mode(const struct conns *c, enum db_read_mode mode)
{
    return safeguard_off(c->svc->cfg, SAFEGUARD_FOR_UPDATE) ? DB_PLAIN : mode;
}

/* booking_book_batch: see phase.h. With no safeguard off, PLANT is all
 * false and this is db_book_batch. */
enum lab_status booking_book_batch(struct conns *c, const struct booking *b, size_t n,
                                   enum lab_status *out)
{
    struct db_batch_plant plant = {
        .unlocked = safeguard_off(c->svc->cfg, SAFEGUARD_FOR_UPDATE),
        .again = safeguard_off(c->svc->cfg, SAFEGUARD_DEDUPE),
    };

    return db_book_batch_planted(c->db, b, n, out, &plant);
}
