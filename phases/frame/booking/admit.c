/* admit.c -- one claim per request id, in PostgreSQL or in Redis.
 *
 * The claim is taken before the booking, so a retry that comes while the
 * first request is being answered finds "in_progress" and takes nothing;
 * the answer is stored after the booking, so a later retry gets it back. A
 * failure of a backing service leaves no claim: the client's retry is a new
 * try. Reset deletes an event's claims with its tickets (db_reset_sale,
 * cache_reset_requests). */
#include "booking/admit.h"

#include <stdio.h>
#include <string.h>
#include "clients/cache.h"
#include "db.h"
#include "service/phase.h"

/* The final answers a claim can store. */
static const enum lab_status admit_answers[] = { LAB_BOOKED, LAB_SOLD_OUT, LAB_QUEUED,
                                                 LAB_DUPLICATE, LAB_LIMIT, LAB_STALE };

bool admit_parse_state(const char *name, enum lab_status *answer)
{
    for (size_t i = 0; name && i < sizeof admit_answers / sizeof admit_answers[0]; i++) {
        if (strcmp(name, lab_status_name(admit_answers[i])) == 0) {
            *answer = admit_answers[i];
            return true;
        }
    }
    return false;
}

bool admit_parse_cache(const char *value, long long *user_id, char *state, size_t state_len,
                       long long *ticket_id)
{
    char user[24], st[24], ticket[24];
    int used = 0;

    if (!value || state_len < sizeof st ||
        sscanf(value, "%23s %23s %23s%n", user, st, ticket, &used) != 3 || value[used] != '\0')
        return false;
    if (!parse_long(user, 1, PARSE_ID_MAX, user_id) || !parse_long(ticket, 0, PARSE_ID_MAX,
                                                                   ticket_id))
        return false;
    snprintf(state, state_len, "%s", st);
    return true;
}

/* admit_judge turns the stored claim of an id into the outcome of a new
 * request with the same id. */
static void admit_judge(const struct booking *b, long long event_id, long long user_id,
                        const char *state, long long ticket_id, enum admit_outcome *outcome,
                        struct admit_prior *prior)
{
    if (event_id != b->event_id || user_id != b->user_id)
        *outcome = ADMIT_REUSED;
    else if (!admit_parse_state(state, &prior->answer))
        *outcome = ADMIT_IN_PROGRESS;
    else {
        *outcome = ADMIT_REPLAY;
        prior->ticket_id = ticket_id;
    }
}

/* admit_in_cache: the gate phases keep their claims beside the gate. */
static bool admit_in_cache(const struct conns *c)
{
    return (c->svc->phase->needs & NEEDS_CACHE) != 0;
}

enum lab_status admit_claim(struct conns *c, struct booking *b, enum lab_status known,
                            enum admit_outcome *outcome, struct admit_prior *prior)
{
    enum lab_status st;
    bool first;

    *outcome = ADMIT_FIRST;
    if (admit_in_cache(c)) {
        char value[128], state[24];
        long long user_id, ticket_id;

        if ((st = conns_cache(c)) != LAB_OK ||
            (st = cache_claim_request(c->cache, b->event_id, b->request_id, b->user_id,
                                      known == LAB_OK ? "in_progress" : lab_status_name(known),
                                      &first, &b->generation, value, sizeof value)) != LAB_OK)
            return st;
        if (first)
            return LAB_OK;
        if (!admit_parse_cache(value, &user_id, state, sizeof state, &ticket_id)) {
            lab_log("admit: unreadable claim of %s: %.64s", b->request_id, value);
            return LAB_ERR_CACHE;
        }
        admit_judge(b, b->event_id, user_id, state, ticket_id, outcome, prior);
        return LAB_OK;
    } else {
        struct db_request stored;

        if ((st = conns_db(c)) != LAB_OK ||
            (st = db_request_claim(c->db, b, &first, &stored)) != LAB_OK)
            return st;
        if (!first)
            admit_judge(b, stored.event_id, stored.user_id, stored.state, stored.ticket_id,
                        outcome, prior);
        else if (known != LAB_OK)
            admit_finish(c, b, known, 0);
        return LAB_OK;
    }
}

void admit_finish(struct conns *c, const struct booking *b, enum lab_status answer,
                  long long ticket_id)
{
    enum lab_status ignored, st;
    bool final = admit_parse_state(lab_status_name(answer), &ignored);

    if (admit_in_cache(c)) {
        char value[96];

        snprintf(value, sizeof value, "%lld %s %lld", b->user_id, lab_status_name(answer),
                 answer == LAB_BOOKED ? ticket_id : 0);
        st = conns_cache(c);
        if (st == LAB_OK)
            st = final ? cache_finish_request(c->cache, b->event_id, b->request_id, value)
                       : cache_release_request(c->cache, b->event_id, b->request_id);
    } else {
        st = conns_db(c);
        if (st == LAB_OK)
            st = final ? db_request_finish(c->db, b->request_id, lab_status_name(answer),
                                           answer == LAB_BOOKED ? ticket_id : 0)
                       : db_request_release(c->db, b->request_id);
    }
    if (st != LAB_OK)
        lab_log("admit: could not store the answer of %s (%s)", b->request_id,
                lab_status_name(st));
}
