/* explore_report.c -- what the explorer writes: results/explore/explore.json
 * (one object per strategy, isolation level, sessions and seats) and the
 * Markdown table that docs/replay.md shows. */
#include "explore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* make_parent creates PATH's folder if it is missing (one level: results/
 * is in the repository, results/explore/ may not be yet). */
static void make_parent(const char *path)
{
    char dir[512];
    char *slash;

    snprintf(dir, sizeof dir, "%s", path);
    if ((slash = strrchr(dir, '/')) && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            lab_log("cannot create %s: %s", dir, strerror(errno));
    }
}

/* open_out opens PATH for writing, its folder made first. */
static FILE *open_out(const char *path)
{
    FILE *f;

    make_parent(path);
    if (!(f = fopen(path, "w")))
        lab_log("cannot write %s: %s", path, strerror(errno));
    return f;
}

/* close_out closes F, a failed write included in the answer. */
static enum lab_status close_out(FILE *f, const char *path)
{
    bool bad = ferror(f) != 0;

    if (fclose(f) != 0 || bad) {
        lab_log("cannot write %s", path);
        return LAB_ERR_DB;
    }
    return LAB_OK;
}

/* ------------------------------------------------------------------------
 * JSON
 * --------------------------------------------------------------------- */

/* json_group writes one group's object. The plan and the words are
 * letters, colons, commas and blanks: nothing to escape. */
static void json_group(FILE *f, const struct explore_options *o, const struct explore_group *g)
{
    char id[96];

    fprintf(f, "    {\"strategy\": \"%s\", \"phase\": %d, \"isolation\": \"%s\", "
               "\"sessions\": %d, \"seats\": %lld, \"steps_per_session\": %d,\n",
            g->strategy->name, g->strategy->phase, replay_isolation_name(g->isolation),
            g->sessions, g->seats, g->strategy->n_steps);
    fprintf(f, "     \"interleavings\": %llu, \"explored\": %llu, \"sampled\": %s, ",
            g->interleavings, g->explored, g->sampled ? "true" : "false");
    if (g->sampled)
        fprintf(f, "\"seed\": %llu, ", o->seed);
    fprintf(f, "\"distinct_runs\": %lld,\n", g->distinct);
    fprintf(f, "     \"anomalous\": %lld, \"lost_update\": %lld, \"oversold\": %lld, "
               "\"double_booked\": %lld, \"blocked\": %lld, \"gave_up\": %lld,\n",
            g->anomalous, g->lost_update, g->oversold, g->double_booked, g->blocked,
            g->gave_up);
    fprintf(f, "     \"aborted\": {\"any\": %lld", g->aborted);
    for (int s = 0; s < EXPLORE_STATES; s++)
        if (g->aborted_by[s])
            fprintf(f, ", \"%s\": %lld", explore_states[s], g->aborted_by[s]);
    fprintf(f, "}, \"runs_by_tickets_sold\": {");
    for (int t = 0, first = 1; t <= g->sessions; t++) {
        if (!g->by_tickets[t])
            continue;
        fprintf(f, "%s\"%d\": %lld", first ? "" : ", ", t, g->by_tickets[t]);
        first = 0;
    }
    fprintf(f, "},\n     \"shortest_anomalous\": ");
    if (g->has_shortest) {
        explore_group_id(g, id, sizeof id);
        fprintf(f, "{\"id\": \"%s\", \"switches\": %d, \"anomaly\": \"%s\", \"plan\": \"%s\", "
                   "\"replay\": \"build/replay --explored %s\"}",
                id, g->shortest_switches, g->shortest_what, g->shortest_plan, id);
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ", \"seconds\": %.2f}", g->seconds);
}

/* explore_write_json writes what the run was (seed, sample, event) and
 * one object per group, in the order they ran. */
enum lab_status explore_write_json(const char *path, const struct explore_options *o,
                                   const struct explore_group *groups, int n, double seconds)
{
    FILE *f = open_out(path);
    char when[32];
    time_t now = time(NULL);

    if (!f)
        return LAB_ERR_DB;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(f, "{\n  \"generated\": \"%s\", \"seconds\": %.1f, \"event\": %lld,\n", when,
            seconds, o->event_id);
    fprintf(f, "  \"exhaustive_max\": %llu, \"sample\": %llu, \"seed\": %llu,\n",
            o->exhaustive_max, o->sample, o->seed);
    fprintf(f, "  \"counts\": \"interleavings: schedules, each session's own order kept, "
               "distinct even when a wait makes two run alike (distinct_runs: those that ran "
               "differently); anomalous, lost_update, oversold, double_booked, blocked, "
               "gave_up, aborted: interleavings with that outcome\",\n");
    fprintf(f, "  \"groups\": [\n");
    for (int i = 0; i < n; i++) {
        json_group(f, o, &groups[i]);
        fprintf(f, "%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    return close_out(f, path);
}

/* ------------------------------------------------------------------------
 * The Markdown table
 * --------------------------------------------------------------------- */

/* find returns the group of strategy ST, level ISO, K sessions, SEATS
 * seats, or NULL. */
static const struct explore_group *find(const struct explore_group *groups, int n,
                                        const struct replay_strategy *st,
                                        enum replay_isolation iso, int k, long long seats)
{
    for (int i = 0; i < n; i++)
        if (groups[i].strategy == st && groups[i].isolation == iso &&
            groups[i].sessions == k && groups[i].seats == seats)
            return &groups[i];
    return NULL;
}

/* anomalies writes one group's anomalies: "12 (lost 12, oversold 12)", "0",
 * or "-" for a group not run. */
static void anomalies(FILE *f, const struct explore_group *g)
{
    if (!g) {
        fprintf(f, " | -");
        return;
    }
    fprintf(f, " | %lld", g->anomalous);
    if (!g->anomalous)
        return;
    fprintf(f, " (");
    if (g->lost_update)
        fprintf(f, "lost %lld", g->lost_update);
    if (g->oversold)
        fprintf(f, "%soversold %lld", g->lost_update ? ", " : "", g->oversold);
    if (g->double_booked)
        fprintf(f, "%stwo tickets %lld", g->lost_update || g->oversold ? ", " : "",
                g->double_booked);
    fprintf(f, ")");
}

/* ends writes how one group's bookings were cut short: "68 × 40001", "8
 * gave up", "0"; "-" for a group not run. */
static void ends(FILE *f, const struct explore_group *g)
{
    bool first = true;

    if (!g) {
        fprintf(f, "-");
        return;
    }
    for (int s = 0; s < EXPLORE_STATES; s++) {
        if (!g->aborted_by[s])
            continue;
        fprintf(f, "%s%lld × %s", first ? "" : ", ", g->aborted_by[s], explore_states[s]);
        first = false;
    }
    if (g->gave_up)
        fprintf(f, "%s%lld gave up", first ? "" : ", ", g->gave_up);
    else if (first)
        fprintf(f, "0");
}

/* table writes the table of K sessions: one row per strategy and level,
 * the 1-seat and 2-seat groups side by side. */
static void table(FILE *f, const struct explore_options *o, const struct explore_group *groups,
                  int n, int k)
{
    fprintf(f, "| strategy | isolation | interleavings | anomalous, 1 seat | anomalous, 2 "
               "seats | blocked, 1 / 2 seats | aborted or gave up, 1 / 2 seats | "
               "shortest anomalous | replay it |\n");
    fprintf(f, "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |\n");
    for (int si = 0; si < o->n_strategies; si++) {
        for (int ii = 0; ii < o->n_isolations; ii++) {
            const struct replay_strategy *st = o->strategies[si];
            const struct explore_group *g1 = find(groups, n, st, o->isolations[ii], k, 1);
            const struct explore_group *g2 = find(groups, n, st, o->isolations[ii], k, 2);
            const struct explore_group *gs[2] = { g1, g2 }, *best = NULL;
            char id[96];

            if (!g1 && !g2)
                continue;
            for (int i = 0; i < 2; i++)
                if (gs[i] && gs[i]->has_shortest &&
                    (!best || gs[i]->shortest_switches < best->shortest_switches))
                    best = gs[i];
            fprintf(f, "| %s | %s | %llu%s", st->name, replay_isolation_name(o->isolations[ii]),
                    (g1 ? g1 : g2)->interleavings,
                    (g1 ? g1 : g2)->sampled ? " (sample)" : "");
            anomalies(f, g1);
            anomalies(f, g2);
            fprintf(f, " | ");
            if (g1)
                fprintf(f, "%lld", g1->blocked);
            else
                fprintf(f, "-");
            fprintf(f, " / ");
            if (g2)
                fprintf(f, "%lld", g2->blocked);
            else
                fprintf(f, "-");
            fprintf(f, " | ");
            ends(f, g1);
            fprintf(f, " / ");
            ends(f, g2);
            if (best) {
                explore_group_id(best, id, sizeof id);
                fprintf(f, " | `%s` | `build/replay --explored %s` |\n", best->shortest_plan, id);
            } else {
                fprintf(f, " | none | |\n");
            }
        }
    }
}

/* explore_write_markdown writes one table per number of sessions, the
 * way docs/replay.md shows it. */
enum lab_status explore_write_markdown(const char *path, const struct explore_options *o,
                                       const struct explore_group *groups, int n,
                                       double seconds)
{
    FILE *f = open_out(path);

    if (!f)
        return LAB_ERR_DB;
    fprintf(f, "<!-- written by build/explore (make explore) in %.0f s -->\n", seconds);
    for (int i = 0; i < o->n_sessions; i++) {
        bool any = false, sampled = false;
        for (int j = 0; j < n; j++) {
            if (groups[j].sessions != o->sessions[i])
                continue;
            any = true;
            sampled = sampled || groups[j].sampled;
        }
        if (!any)
            continue;
        if (sampled)
            fprintf(f, "\n%d sessions: every interleaving of a strategy that has at most %llu, "
                       "otherwise %llu of them drawn at random with seed %llu (\"sample\"):\n\n",
                    o->sessions[i], o->exhaustive_max, o->sample, o->seed);
        else
            fprintf(f, "\n%d sessions, every interleaving:\n\n", o->sessions[i]);
        table(f, o, groups, n, o->sessions[i]);
    }
    return close_out(f, path);
}
