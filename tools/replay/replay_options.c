/* replay_options.c -- parsing the replay's command line.
 *
 * Hand-written like the attack's (harness/args.c): no global state, no
 * message printed behind the caller's back, numbers through parse_long.
 * Options take their value as "--opt value" or "--opt=value". */
#include "replay_options.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "replay_interleave.h"

const char replay_usage[] =
    "usage: replay [--phase 2|3] [--strategy NAME] [--isolation LEVEL]\n"
    "              [--interleaving lost-update|overtake|serial] [--sessions K]\n"
    "              [--steps \"A:read B:read A:write ...\"] [--explored ID]\n"
    "              [--event ID] [--seats N] [--expect lost-update|clean|anomaly]\n";

const char replay_help[] =
    "Replays the booking race step by step, one PostgreSQL connection per session,\n"
    "with the phases' own SQL, and prints a timeline.\n"
    "  --phase 2|3          2: no lock (default); 3: each session in a transaction that\n"
    "                       reads with SELECT ... FOR UPDATE and commits after its insert\n"
    "  --interleaving NAME  lost-update (default): all read, all write, all insert;\n"
    "                       overtake: all read, then the last books first; serial\n"
    "  --sessions K         sessions of a named interleaving, 1 to 8 (default 2)\n"
    "  --strategy NAME      another booking: unsafe, local-mutex (phase 2), for-update,\n"
    "                       atomic, optimistic, serializable, advisory, check-then-insert\n"
    "                       (phase 3); their steps are in docs/replay.md\n"
    "  --isolation LEVEL    every session's transactions, and its statements outside one,\n"
    "                       at read-committed, repeatable-read or serializable (default:\n"
    "                       set nothing, as the phases)\n"
    "  --steps LIST         your own interleaving: SESSION:ACTION steps, ACTION one of the\n"
    "                       strategy's (phase 2 and 3: read, write, insert, commit; a commit\n"
    "                       matters in a transaction only)\n"
    "  --explored ID        an interleaving make explore ran (results/explore/explore.json):\n"
    "                       STRATEGY:ISOLATION:SESSIONS:SEATS:NUMBER, with its strategy,\n"
    "                       isolation and seats\n"
    "  --event ID           the event to reset and book (default 900)\n"
    "  --seats N            its seats after the reset (default 10)\n"
    "  --expect OUTCOME     exit 1 unless the end state is a lost-update, clean, or an\n"
    "                       anomaly (a lost update, an oversold seat or a user over the limit)\n"
    "PostgreSQL: LAB_PG (default from infra/lab.env).\n"
    "Exit status: 0 done, 1 database error or --expect not met, 2 bad command line.\n";

/* The options; every one takes a value. */
static const char *const option_names[] = {
    "phase", "event", "seats", "sessions", "interleaving", "steps", "expect", "strategy",
    "isolation", "explored", NULL,
};

static bool known_option(const char *name)
{
    for (int i = 0; option_names[i]; i++)
        if (strcmp(option_names[i], name) == 0)
            return true;
    return false;
}

/* What was given, for the checks that options fit together. */
struct given {
    const char *interleaving;
    const char *steps;
    const char *explored;
    long long sessions;          /* 0: not given */
    bool phase, strategy, isolation, seats;
};

/* apply_option stores one option's value, or notes it for later when it
 * depends on another (the plan needs both --interleaving and --sessions). */
static int apply_option(struct replay_options *o, struct given *g, const char *name,
                        const char *v, char *err, size_t err_len)
{
    long long n;

    if (strcmp(name, "phase") == 0) {
        if (strcmp(v, "2") != 0 && strcmp(v, "3") != 0)
            return parse_fail(err, err_len, "--phase is 2 or 3, not '%s'", v);
        o->phase = v[0] - '0';
        g->phase = true;
    } else if (strcmp(name, "strategy") == 0) {
        char names[160];
        if (!(o->strategy = replay_strategy_find(v))) {
            replay_strategy_names(names, sizeof names);
            return parse_fail(err, err_len, "--strategy is one of %s, not '%s'", names, v);
        }
        g->strategy = true;
    } else if (strcmp(name, "isolation") == 0) {
        if (!replay_isolation_parse(v, &o->isolation))
            return parse_fail(err, err_len, "--isolation is read-committed, repeatable-read "
                              "or serializable, not '%s'", v);
        g->isolation = true;
    } else if (strcmp(name, "explored") == 0) {
        g->explored = v;
    } else if (strcmp(name, "event") == 0) {
        return parse_option_long(name, v, 1, PARSE_ID_MAX, &o->event_id, err, err_len);
    } else if (strcmp(name, "seats") == 0) {
        g->seats = true;
        return parse_option_long(name, v, 0, 1000000000, &o->seats, err, err_len);
    } else if (strcmp(name, "sessions") == 0) {
        if (parse_option_long(name, v, 1, REPLAY_MAX_SESSIONS, &n, err, err_len))
            return -1;
        g->sessions = n;
    } else if (strcmp(name, "interleaving") == 0) {
        g->interleaving = v;
    } else if (strcmp(name, "steps") == 0) {
        g->steps = v;
    } else if (strcmp(name, "expect") == 0) {
        if (strcmp(v, "lost-update") == 0)
            o->expect = REPLAY_EXPECT_LOST_UPDATE;
        else if (strcmp(v, "clean") == 0)
            o->expect = REPLAY_EXPECT_CLEAN;
        else if (strcmp(v, "anomaly") == 0)
            o->expect = REPLAY_EXPECT_ANOMALY;
        else
            return parse_fail(err, err_len, "--expect is lost-update or clean, or anomaly, "
                              "not '%s'", v);
    }
    return 0;
}

/* use_explored takes the strategy, isolation, seats and plan from an
 * explored interleaving's id: nothing else may say them. */
static int use_explored(struct replay_options *o, const struct given *g, char *err,
                        size_t err_len)
{
    struct replay_explored e;
    char why[200];

    if (g->steps || g->interleaving || g->sessions || g->phase || g->strategy ||
        g->isolation || g->seats)
        return parse_fail(err, err_len, "--explored says the strategy, isolation, seats and "
                          "steps: not with --steps, --interleaving, --sessions, --phase, "
                          "--strategy, --isolation or --seats");
    if (!replay_explored_parse(g->explored, &e, &o->plan, why, sizeof why))
        return parse_fail(err, err_len, "--explored: %s", why);
    o->strategy = e.strategy;
    o->phase = e.strategy->phase;
    o->isolation = e.isolation;
    o->seats = e.seats;
    snprintf(o->interleaving, sizeof o->interleaving, "%s", g->explored);
    return 0;
}

/* make_plan turns --steps, or --interleaving and --sessions, into the plan
 * of the strategy (--strategy, or --phase's own). */
static int make_plan(struct replay_options *o, const struct given *g, char *err,
                     size_t err_len)
{
    char why[200];

    if (g->explored)
        return use_explored(o, g, err, err_len);
    if (g->strategy && g->phase && o->strategy->phase != o->phase)
        return parse_fail(err, err_len, "--strategy %s is phase %d's, not --phase %d's",
                          o->strategy->name, o->strategy->phase, o->phase);
    if (!o->strategy)
        o->strategy = replay_strategy_of_phase(o->phase);
    o->phase = o->strategy->phase;
    if (g->steps && (g->interleaving || g->sessions))
        return parse_fail(err, err_len, "--steps is an interleaving of its own: not with "
                    "--interleaving or --sessions");
    if (g->steps) {
        snprintf(o->interleaving, sizeof o->interleaving, "custom");
        if (!replay_plan_parse_for(&o->plan, g->steps, o->strategy, why, sizeof why))
            return parse_fail(err, err_len, "--steps: %s", why);
        return 0;
    }
    snprintf(o->interleaving, sizeof o->interleaving, "%s",
             g->interleaving ? g->interleaving : replay_presets[0]);
    if (!replay_plan_preset_for(&o->plan, o->interleaving,
                                g->sessions ? (int)g->sessions : REPLAY_DEFAULT_SESSIONS,
                                o->strategy, why, sizeof why))
        return parse_fail(err, err_len, "--interleaving: %s", why);
    return 0;
}

int replay_options_parse(struct replay_options *o, int argc, char **argv, char *err,
                         size_t err_len)
{
    struct given g = { 0 };

    memset(o, 0, sizeof *o);
    o->phase = 2;
    o->event_id = REPLAY_DEFAULT_EVENT;
    o->seats = REPLAY_DEFAULT_SEATS;
    for (int i = 1; i < argc; i++) {
        const char *value;
        char name[32];
        int rc = parse_next_option(argc, argv, &i, known_option, name, sizeof name, &value,
                                   err, err_len);

        if (rc < 0)
            return -1;
        if (rc > 0) {
            o->help = true;
            return 0;
        }
        if (apply_option(o, &g, name, value, err, err_len))
            return -1;
    }
    return make_plan(o, &g, err, err_len);
}
