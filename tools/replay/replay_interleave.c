/* replay_interleave.c -- counting, numbering and listing interleavings,
 * and explored ids (see replay_interleave.h). */
#include "replay_interleave.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* binomial: C(N, K), or 0 when it overflows 64 bits. Each partial product
 * C(N-K+i, i) is a whole number, so the division is exact. */
static unsigned long long binomial(int n, int k)
{
    unsigned long long c = 1;

    if (k < 0 || k > n)
        return 0;
    for (int i = 1; i <= k; i++) {
        unsigned long long m;
        if (__builtin_mul_overflow(c, (unsigned long long)(n - k + i), &m))
            return 0;
        c = m / (unsigned long long)i;
    }
    return c;
}

/* multinomial: the ways to interleave sessions with REM[i] steps left each,
 * a product of binomials; 0 on overflow. */
static unsigned long long multinomial(const int *rem, int sessions)
{
    unsigned long long total = 1;
    int placed = 0;

    for (int i = 0; i < sessions; i++) {
        unsigned long long c, m;
        placed += rem[i];
        c = binomial(placed, rem[i]);
        if (c == 0 || __builtin_mul_overflow(total, c, &m))
            return 0;
        total = m;
    }
    return total;
}

/* replay_interleavings: the multinomial of K equal parts of N steps. */
unsigned long long replay_interleavings(int sessions, int steps)
{
    int rem[REPLAY_MAX_SESSIONS];

    if (sessions < 1 || sessions > REPLAY_MAX_SESSIONS || steps < 1 ||
        steps > REPLAY_MAX_ACTIONS)
        return 0;
    for (int i = 0; i < sessions; i++)
        rem[i] = steps;
    return multinomial(rem, sessions);
}

/* Unranking walks the sequence left to right: at each place the sessions
 * that still have steps are tried in order, each covering as many numbers
 * as the interleavings of what is left once it is placed there. */
bool replay_interleaving_unrank(int sessions, int steps, unsigned long long rank, int *order)
{
    int rem[REPLAY_MAX_SESSIONS];
    unsigned long long total = replay_interleavings(sessions, steps);

    if (total == 0 || rank >= total)
        return false;
    for (int i = 0; i < sessions; i++)
        rem[i] = steps;
    for (int pos = 0; pos < sessions * steps; pos++) {
        for (int c = 0; c < sessions; c++) {
            unsigned long long below;
            if (rem[c] == 0)
                continue;
            rem[c]--;
            below = multinomial(rem, sessions);
            if (rank < below) {
                order[pos] = c;
                break;
            }
            rank -= below;
            rem[c]++;
        }
    }
    return true;
}

/* Ranking is unranking backwards: at each place, the numbers covered by
 * the sessions that could have come there before ORDER's are added up. */
unsigned long long replay_interleaving_rank(int sessions, int steps, const int *order)
{
    int rem[REPLAY_MAX_SESSIONS];
    unsigned long long rank = 0;

    for (int i = 0; i < sessions; i++)
        rem[i] = steps;
    for (int pos = 0; pos < sessions * steps; pos++) {
        for (int c = 0; c < order[pos]; c++) {
            if (rem[c] == 0)
                continue;
            rem[c]--;
            rank += multinomial(rem, sessions);
            rem[c]++;
        }
        rem[order[pos]]--;
    }
    return rank;
}

/* The next permutation of a multiset: the rightmost place whose number can
 * grow takes the next larger number to its right, and what follows it is
 * put back in increasing order. */
bool replay_interleaving_next(int *order, int n)
{
    int i = n - 2, j = n - 1;

    while (i >= 0 && order[i] >= order[i + 1])
        i--;
    if (i < 0)
        return false;
    while (order[j] <= order[i])
        j--;
    int t = order[i];
    order[i] = order[j];
    order[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = order[a];
        order[a] = order[b];
        order[b] = t;
    }
    return true;
}

/* replay_interleaving_switches counts the places where the session changes. */
int replay_interleaving_switches(const int *order, int n)
{
    int switches = 0;

    for (int i = 1; i < n; i++)
        switches += order[i] != order[i - 1];
    return switches;
}

/* replay_interleaving_plan gives each session's I-th place its I-th step. */
void replay_interleaving_plan(const int *order, int sessions, const struct replay_strategy *st,
                              struct replay_plan *p)
{
    int next[REPLAY_MAX_SESSIONS] = { 0 };

    memset(p, 0, sizeof *p);
    p->sessions = sessions;
    for (int i = 0; i < sessions * st->n_steps; i++) {
        p->steps[i].session = order[i];
        p->steps[i].action = st->steps[next[order[i]]++];
    }
    p->count = sessions * st->n_steps;
}

/* replay_explored_format: the id make explore prints and --explored reads. */
void replay_explored_format(const struct replay_explored *e, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%s:%d:%lld:%llu", e->strategy->name,
             replay_isolation_short(e->isolation), e->sessions, e->seats, e->rank);
}

/* replay_explored_parse checks each of the five fields, so that a mistyped
 * id is refused with its reason rather than replaying something else. */
bool replay_explored_parse(const char *id, struct replay_explored *e, struct replay_plan *p,
                           char *err, size_t err_len)
{
    char copy[128], *field[5], *save = NULL;
    int n = 0;
    long long sessions, seats, rank;
    int order[REPLAY_MAX_STEPS];

    if (strlen(id) >= sizeof copy) {
        snprintf(err, err_len, "'%.40s...' is too long for an id", id);
        return false;
    }
    snprintf(copy, sizeof copy, "%s", id);
    for (char *f = strtok_r(copy, ":", &save); f && n < 5; f = strtok_r(NULL, ":", &save))
        field[n++] = f;
    if (n != 5 || strtok_r(NULL, ":", &save) || id[strlen(id) - 1] == ':') {
        snprintf(err, err_len, "'%s' is not STRATEGY:ISOLATION:SESSIONS:SEATS:NUMBER", id);
        return false;
    }
    if (!(e->strategy = replay_strategy_find(field[0]))) {
        snprintf(err, err_len, "'%s': no strategy called '%s'", id, field[0]);
        return false;
    }
    if (!replay_isolation_parse(field[1], &e->isolation)) {
        snprintf(err, err_len, "'%s': the isolation is rc, rr or ser, not '%s'", id, field[1]);
        return false;
    }
    if (!parse_long(field[2], 1, REPLAY_MAX_SESSIONS, &sessions) ||
        !parse_long(field[3], 0, 1000000000, &seats) ||
        !parse_long(field[4], 0, PARSE_ID_MAX, &rank)) {
        snprintf(err, err_len, "'%s': sessions (1 to %d), seats and number are whole numbers",
                 id, REPLAY_MAX_SESSIONS);
        return false;
    }
    e->sessions = (int)sessions;
    e->seats = seats;
    e->rank = (unsigned long long)rank;
    if (!replay_interleaving_unrank(e->sessions, e->strategy->n_steps, e->rank, order)) {
        snprintf(err, err_len, "'%s': %d sessions of %s have %llu interleavings, numbered from 0",
                 id, e->sessions, e->strategy->name,
                 replay_interleavings(e->sessions, e->strategy->n_steps));
        return false;
    }
    replay_interleaving_plan(order, e->sessions, e->strategy, p);
    return true;
}
