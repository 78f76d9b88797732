/* explore_run.c -- running one group's interleavings (explore.h): the
 * replay's sessions are opened once per group and every interleaving is
 * one replay_once, the event reset before it. */
#include "explore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_driver.h"

const char *const explore_states[EXPLORE_STATES] = { "40001", "40P01", "55P03" };

/* ------------------------------------------------------------------------
 * Drawing a sample
 * --------------------------------------------------------------------- */

/* splitmix64: a small generator whose whole state is one number, so that a
 * seed says every draw. */
static unsigned long long splitmix64(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* compare_ull orders the drawn numbers for qsort. */
static int compare_ull(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

    return x < y ? -1 : x > y;
}

/* explore_sample: Floyd's algorithm draws COUNT distinct numbers with
 * COUNT draws, each uniform (the modulo's bias is below TOTAL / 2^64). */
void explore_sample(unsigned long long total, unsigned long long count, unsigned long long seed,
                    unsigned long long *out)
{
    unsigned long long state = seed, n = 0;

    for (unsigned long long j = total - count; j < total; j++) {
        unsigned long long t = splitmix64(&state) % (j + 1);
        bool seen = false;

        for (unsigned long long k = 0; k < n && !seen; k++)
            seen = out[k] == t;
        out[n++] = seen ? j : t;
    }
    qsort(out, n, sizeof *out, compare_ull);
}

/* ------------------------------------------------------------------------
 * Distinct runs: a set of the hashes of the order in which steps ended
 * --------------------------------------------------------------------- */

struct hash_set {
    unsigned long long *slot;   /* 0: empty */
    size_t size;
    long long count;
};

/* run_hash: FNV-1a over the (session, action) of each step in the order the
 * steps ended; never 0. */
static unsigned long long run_hash(const struct replay_plan *p, const struct replay_result *res)
{
    unsigned long long h = 1469598103934665603ULL;

    for (int i = 0; i < res->n_executed; i++) {
        const struct replay_step *s = &p->steps[res->executed[i]];
        h = (h ^ (unsigned long long)(s->session * 16 + (int)s->action + 1)) * 1099511628211ULL;
    }
    return h ? h : 1;
}

/* set_add adds H (open addressing; the set is twice the runs, never full). */
static void set_add(struct hash_set *set, unsigned long long h)
{
    size_t i = (size_t)(h % set->size);

    while (set->slot[i] && set->slot[i] != h)
        i = (i + 1) % set->size;
    if (!set->slot[i]) {
        set->slot[i] = h;
        set->count++;
    }
}

/* ------------------------------------------------------------------------
 * One group
 * --------------------------------------------------------------------- */

/* anomaly_words writes what went wrong in RES ("" for nothing). */
static void anomaly_words(const struct replay_result *res, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s%s", res->lost_updates > 0 ? "lost update" : "",
             res->lost_updates > 0 && res->oversold > 0 ? ", " : "",
             res->oversold > 0 ? "oversold" : "",
             (res->lost_updates > 0 || res->oversold > 0) && res->duplicate_users > 0 ? ", " : "",
             res->duplicate_users > 0 ? "two tickets for one user" : "");
}

/* tally adds one run, of interleaving ORDER (number RANK, plan P), to G. */
static void tally(struct explore_group *g, const int *order, unsigned long long rank,
                  const struct replay_plan *p, const struct replay_result *res)
{
    bool aborted[EXPLORE_STATES] = { false }, any_abort = false, gave_up = false, waited = false;
    int n = p->count, switches = replay_interleaving_switches(order, n);
    char what[64];

    for (int k = 0; k < g->sessions; k++) {
        waited = waited || res->waited[k];
        gave_up = gave_up || res->outcome[k] == REPLAY_GAVE_UP;
        if (res->outcome[k] != REPLAY_ABORTED)
            continue;
        any_abort = true;
        for (int st = 0; st < EXPLORE_STATES; st++)
            aborted[st] = aborted[st] || strcmp(res->sqlstate[k], explore_states[st]) == 0;
    }
    g->blocked += waited;
    g->gave_up += gave_up;
    g->aborted += any_abort;
    for (int st = 0; st < EXPLORE_STATES; st++)
        g->aborted_by[st] += aborted[st];
    if (res->tickets >= 0 && res->tickets <= REPLAY_MAX_SESSIONS)
        g->by_tickets[res->tickets]++;
    g->lost_update += res->lost_updates > 0;
    g->oversold += res->oversold > 0;
    g->double_booked += res->duplicate_users > 0;
    anomaly_words(res, what, sizeof what);
    if (!what[0])
        return;
    g->anomalous++;
    if (!g->has_shortest || switches < g->shortest_switches) {
        g->has_shortest = true;
        g->shortest_switches = switches;
        g->shortest_rank = rank;
        replay_plan_steps(p, g->shortest_plan, sizeof g->shortest_plan);
        snprintf(g->shortest_what, sizeof g->shortest_what, "%s", what);
    }
}

/* run_line writes run RANK of G to RUNS: "unsafe:rc:2:1:9 A:read B:read
 * ... | booked booked | counter 0 tickets 2". */
static void run_line(FILE *runs, const struct explore_group *g, unsigned long long rank,
                     const struct replay_plan *p, const struct replay_result *res)
{
    struct explore_group one = *g;
    char id[96];

    one.shortest_rank = rank;
    explore_group_id(&one, id, sizeof id);
    fprintf(runs, "%s", id);
    for (int i = 0; i < res->n_executed; i++)
        fprintf(runs, " %c:%s", replay_session_name(p->steps[res->executed[i]].session),
                replay_action_name(p->steps[res->executed[i]].action));
    fprintf(runs, " |");
    for (int k = 0; k < g->sessions; k++)
        fprintf(runs, " %s%s%s", replay_outcome_name(res->outcome[k]),
                res->outcome[k] == REPLAY_ABORTED ? " " : "", res->sqlstate[k]);
    fprintf(runs, " | counter %lld tickets %lld%s\n", res->counter, res->tickets,
            res->duplicate_users ? " two-for-one-user" : "");
}

/* run_all runs G's interleavings on R: every one in order, or the sample
 * RANKS (COUNT of them). */
static enum lab_status run_all(struct replay *r, struct explore_group *g,
                               const unsigned long long *ranks, unsigned long long count,
                               struct hash_set *set, FILE *runs)
{
    int order[REPLAY_MAX_STEPS], n = g->sessions * g->strategy->n_steps;
    struct replay_plan plan;
    struct replay_result res;
    enum lab_status st;

    for (unsigned long long i = 0; i < count; i++) {
        unsigned long long rank = ranks ? ranks[i] : i;

        if (ranks || i == 0)
            replay_interleaving_unrank(g->sessions, g->strategy->n_steps, rank, order);
        else
            replay_interleaving_next(order, n);
        replay_interleaving_plan(order, g->sessions, g->strategy, &plan);
        if ((st = replay_once(r, &plan, &res)) != LAB_OK) {
            char steps[256];
            replay_plan_steps(&plan, steps, sizeof steps);
            lab_log("%s at %s: the run of %s did not complete", g->strategy->name,
                    replay_isolation_name(g->isolation), steps);
            return st;
        }
        tally(g, order, rank, &plan, &res);
        if (runs)
            run_line(runs, g, rank, &plan, &res);
        set_add(set, run_hash(&plan, &res));
        g->explored++;
    }
    return LAB_OK;
}

/* explore_group_run opens the sessions once for the group (connecting is
 * most of a run's cost otherwise), draws the sample if the group is too
 * big to run whole, runs, and closes. */
enum lab_status explore_group_run(const char *conninfo, const struct explore_options *o,
                                  struct explore_group *g, FILE *runs)
{
    struct replay_config cfg = {
        .conninfo = conninfo,
        .phase = g->strategy->phase,
        .strategy = g->strategy,
        .isolation = g->isolation,
        .event_id = o->event_id,
        .seats = g->seats,
        .interleaving = "explore",
        .out = NULL,
        .poll_ms = 1,
    };
    unsigned long long count, *ranks = NULL;
    struct hash_set set = { 0 };
    struct replay *r;
    enum lab_status st = LAB_ERR_DB;
    uint64_t start = lab_now_us();

    g->interleavings = replay_interleavings(g->sessions, g->strategy->n_steps);
    if (g->interleavings == 0) {
        lab_log("%d sessions of %s: too many interleavings to number", g->sessions,
                g->strategy->name);
        return LAB_ERR_DB;
    }
    g->sampled = g->interleavings > o->exhaustive_max && g->interleavings > o->sample;
    count = g->sampled ? o->sample : g->interleavings;
    set.size = (size_t)count * 2 + 1;
    if (!(set.slot = calloc(set.size, sizeof *set.slot)) ||
        (g->sampled && !(ranks = calloc((size_t)count, sizeof *ranks))))
        goto out;
    if (g->sampled)
        explore_sample(g->interleavings, count, o->seed, ranks);
    cfg.plan.sessions = g->sessions;
    if (!(r = replay_open(&cfg)))
        goto out;
    st = run_all(r, g, ranks, count, &set, runs);
    replay_close(r);
    g->distinct = set.count;
out:
    g->seconds = (double)(lab_now_us() - start) / 1e6;
    free(set.slot);
    free(ranks);
    return st;
}

/* explore_group_id: the id of G's shortest anomalous interleaving. */
void explore_group_id(const struct explore_group *g, char *buf, size_t len)
{
    struct replay_explored e = {
        .strategy = g->strategy,
        .isolation = g->isolation,
        .sessions = g->sessions,
        .seats = g->seats,
        .rank = g->shortest_rank,
    };

    replay_explored_format(&e, buf, len);
}
