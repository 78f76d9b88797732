/* explore.c -- `build/explore` (`make explore`): every interleaving of each
 * strategy, at each isolation level (explore.h).
 *
 * Reads the command line (explore_options.c), runs the groups one after the
 * other (explore_run.c), prints a line per group and writes the report
 * (explore_report.c). Exit status: 0 done, 1 a database error, 2 a bad
 * command line. */
#include <stdio.h>
#include <stdlib.h>

#include "explore.h"

/* print_group is the line a group leaves on the terminal. */
static void print_group(const struct explore_group *g)
{
    char id[96];

    printf("%-17s %-15s %d sessions %lld seat%s: %6llu of %6llu interleavings%s, %5lld "
           "anomalous, %5lld blocked, %5lld aborted, %4lld gave up, %5lld distinct runs "
           "(%.1f s)\n",
           g->strategy->name, replay_isolation_name(g->isolation), g->sessions, g->seats,
           g->seats == 1 ? " " : "s", g->explored, g->interleavings,
           g->sampled ? " (sample)" : "", g->anomalous, g->blocked, g->aborted, g->gave_up,
           g->distinct, g->seconds);
    if (g->has_shortest) {
        explore_group_id(g, id, sizeof id);
        printf("    shortest anomalous (%s): %s   build/replay --explored %s\n",
               g->shortest_what, g->shortest_plan, id);
    }
    fflush(stdout);
}

/* main runs every group of the command line, strategy by strategy, and
 * stops at the first run that does not complete (a database error): a
 * partial report would count what was not run. */
int main(int argc, char **argv)
{
    struct explore_options o;
    struct explore_group *groups;
    const char *conninfo = lab_env("LAB_PG", LAB_PG_DEFAULT);
    char err[512];
    int n = 0, status = 0;
    FILE *runs = NULL;
    uint64_t start = lab_now_us();
    double seconds;

    lab_set_program("explore");
    if (explore_options_parse(&o, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "explore: %s\n%s(explore --help says more)\n", err, explore_usage);
        return 2;
    }
    if (o.help) {
        printf("%s\n%s", explore_usage, explore_help);
        return 0;
    }
    if (o.runs_path && !(runs = fopen(o.runs_path, "w"))) {
        fprintf(stderr, "explore: cannot write %s\n", o.runs_path);
        return 1;
    }
    groups = calloc((size_t)(o.n_strategies * o.n_isolations * o.n_sessions * o.n_seats),
                    sizeof *groups);
    if (!groups)
        return 1;
    for (int si = 0; si < o.n_strategies && !status; si++)
        for (int k = 0; k < o.n_sessions && !status; k++)
            for (int ii = 0; ii < o.n_isolations && !status; ii++)
                for (int se = 0; se < o.n_seats && !status; se++) {
                    struct explore_group *g = &groups[n];
                    g->strategy = o.strategies[si];
                    g->isolation = o.isolations[ii];
                    g->sessions = o.sessions[k];
                    g->seats = o.seats[se];
                    if (explore_group_run(conninfo, &o, g, runs) != LAB_OK) {
                        status = 1;
                        break;
                    }
                    print_group(g);
                    n++;
                }
    seconds = (double)(lab_now_us() - start) / 1e6;
    if (status == 0 && o.json_path && explore_write_json(o.json_path, &o, groups, n, seconds))
        status = 1;
    if (status == 0 && o.markdown_path &&
        explore_write_markdown(o.markdown_path, &o, groups, n, seconds))
        status = 1;
    if (status == 0)
        printf("explore: %d groups in %.0f s%s%s%s%s\n", n, seconds,
               o.json_path ? ", " : "", o.json_path ? o.json_path : "",
               o.markdown_path ? ", " : "", o.markdown_path ? o.markdown_path : "");
    else
        fprintf(stderr, "explore: stopped, a run did not complete (see above)\n");
    if (runs && fclose(runs) != 0)
        status = 1;
    free(groups);
    return status;
}
