/* explore.h -- `build/explore` (`make explore`): every interleaving of each
 * strategy's steps, run on real PostgreSQL sessions with the replay's
 * machinery (tools/replay: replay_open, replay_once), at each isolation
 * level, and what came of them: lost updates, oversold seats, users with
 * two tickets, waits, aborts by SQLSTATE (docs/replay.md, "Every
 * interleaving").
 *
 * A group is one strategy at one isolation level with K sessions and N
 * seats: its interleavings are all (K*N)!/(N!)^K of them when there are at
 * most --exhaustive-max, otherwise --sample of them drawn at random
 * (without repeats) from --seed. An interleaving is a schedule: two
 * schedules that run the same way because one session waited for the
 * other still count as two ("distinct" counts the runs that differ). */
#ifndef LAB_EXPLORE_H
#define LAB_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "lab.h"
#include "replay_interleave.h"

#define EXPLORE_MAX_LIST 8
#define EXPLORE_DEFAULT_EVENT 950

struct explore_options {
    const struct replay_strategy *strategies[EXPLORE_MAX_LIST];
    int n_strategies;
    enum replay_isolation isolations[EXPLORE_MAX_LIST];
    int n_isolations;
    int sessions[EXPLORE_MAX_LIST];
    int n_sessions;
    long long seats[EXPLORE_MAX_LIST];
    int n_seats;
    unsigned long long exhaustive_max;  /* every interleaving when a group has at most this many */
    unsigned long long sample;          /* otherwise this many, drawn at random */
    unsigned long long seed;
    long long event_id;
    const char *json_path;              /* NULL: not written */
    const char *markdown_path;          /* NULL: not written */
    const char *runs_path;              /* every run, one line each (NULL: none) */
    bool help;
};

/* The SQLSTATEs an aborted session is counted by. */
enum { EXPLORE_40001, EXPLORE_40P01, EXPLORE_55P03, EXPLORE_STATES };
extern const char *const explore_states[EXPLORE_STATES];

/* What one group's interleavings came to. Counts are of interleavings. */
struct explore_group {
    const struct replay_strategy *strategy;
    enum replay_isolation isolation;
    int sessions;
    long long seats;
    unsigned long long interleavings;   /* how many there are */
    unsigned long long explored;        /* how many were run */
    bool sampled;                       /* explored < interleavings, drawn from the seed */
    long long anomalous;                /* any of the three below */
    long long lost_update;              /* more tickets than the counter went down */
    long long oversold;                 /* more tickets than seats */
    long long double_booked;            /* a user holds more tickets than the limit */
    long long blocked;                  /* a step waited for a lock (or the mutex) */
    long long aborted;                  /* a session was aborted (any SQLSTATE) */
    long long aborted_by[EXPLORE_STATES];
    long long gave_up;                  /* optimistic: a compare-and-set lost */
    long long distinct;                 /* runs that differ in the order their steps ended */
    long long by_tickets[REPLAY_MAX_SESSIONS + 1];  /* runs by how many tickets were sold */
    bool has_shortest;                  /* the anomalous one with the fewest switches */
    unsigned long long shortest_rank;
    int shortest_switches;
    char shortest_plan[256];            /* as --steps takes it */
    char shortest_what[64];             /* "lost update, oversold" */
    double seconds;
};

/* explore_options_parse reads ARGV; 0, or -1 with the reason in ERR (the
 * caller prints it with the usage and exits 2). */
int explore_options_parse(struct explore_options *o, int argc, char **argv, char *err,
                          size_t err_len);
extern const char explore_usage[];
extern const char explore_help[];

/* explore_sample draws COUNT distinct numbers below TOTAL from SEED into
 * OUT, in increasing order (COUNT < TOTAL). Pure. */
void explore_sample(unsigned long long total, unsigned long long count, unsigned long long seed,
                    unsigned long long *out);

/* explore_group_run runs G's interleavings (G says strategy, isolation,
 * sessions, seats) on CONNINFO's PostgreSQL and fills in the rest of G;
 * RUNS (may be NULL) gets one line per run: its id, the order in which the
 * steps ended, each session's outcome, the counter and the tickets. */
enum lab_status explore_group_run(const char *conninfo, const struct explore_options *o,
                                  struct explore_group *g, FILE *runs);

/* explore_group_id writes the id of G's shortest anomalous interleaving. */
void explore_group_id(const struct explore_group *g, char *buf, size_t len);

/* The report: results/explore/explore.json and the table of docs/replay.md. */
enum lab_status explore_write_json(const char *path, const struct explore_options *o,
                                   const struct explore_group *groups, int n, double seconds);
enum lab_status explore_write_markdown(const char *path, const struct explore_options *o,
                                       const struct explore_group *groups, int n,
                                       double seconds);

#endif
