/* replay_options.c -- parsing the replay's command line.
 *
 * Hand-written like the attack's (harness/args.c): no global state, no
 * message printed behind the caller's back, numbers through parse_long.
 * Options take their value as "--opt value" or "--opt=value". */
#include "replay_options.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

const char replay_usage[] =
    "usage: replay [--phase 2|3] [--interleaving lost-update|overtake|serial] [--sessions K]\n"
    "              [--steps \"A:read B:read A:write ...\"] [--event ID] [--seats N]\n"
    "              [--expect lost-update|clean]\n";

const char replay_help[] =
    "Replays the booking race step by step, one PostgreSQL connection per session,\n"
    "with the phases' own SQL, and prints a timeline.\n"
    "  --phase 2|3          2: no lock (default); 3: each session in a transaction that\n"
    "                       reads with SELECT ... FOR UPDATE and commits after its insert\n"
    "  --interleaving NAME  lost-update (default): all read, all write, all insert;\n"
    "                       overtake: all read, then the last books first; serial\n"
    "  --sessions K         sessions of a named interleaving, 1 to 8 (default 2)\n"
    "  --steps LIST         your own interleaving: SESSION:ACTION steps, ACTION one of\n"
    "                       read, write, insert, commit (a commit matters in phase 3 only)\n"
    "  --event ID           the event to reset and book (default 900)\n"
    "  --seats N            its seats after the reset (default 10)\n"
    "  --expect OUTCOME     exit 1 unless the end state is a lost-update or clean\n"
    "PostgreSQL: LAB_PG (default from infra/lab.env).\n"
    "Exit status: 0 done, 1 database error or --expect not met, 2 bad command line.\n";

/* The options; every one takes a value. */
static const char *const option_names[] = {
    "phase", "event", "seats", "sessions", "interleaving", "steps", "expect", NULL,
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
    long long sessions;          /* 0: not given */
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
    } else if (strcmp(name, "event") == 0) {
        return parse_option_long(name, v, 1, PARSE_ID_MAX, &o->event_id, err, err_len);
    } else if (strcmp(name, "seats") == 0) {
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
        else
            return parse_fail(err, err_len, "--expect is lost-update or clean, not '%s'", v);
    }
    return 0;
}

/* make_plan turns --steps, or --interleaving and --sessions, into the plan. */
static int make_plan(struct replay_options *o, const struct given *g, char *err,
                     size_t err_len)
{
    char why[200];

    if (g->steps && (g->interleaving || g->sessions))
        return parse_fail(err, err_len, "--steps is an interleaving of its own: not with "
                    "--interleaving or --sessions");
    if (g->steps) {
        snprintf(o->interleaving, sizeof o->interleaving, "custom");
        if (!replay_plan_parse(&o->plan, g->steps, why, sizeof why))
            return parse_fail(err, err_len, "--steps: %s", why);
        return 0;
    }
    snprintf(o->interleaving, sizeof o->interleaving, "%s",
             g->interleaving ? g->interleaving : replay_presets[0]);
    if (!replay_plan_preset(&o->plan, o->interleaving,
                            g->sessions ? (int)g->sessions : REPLAY_DEFAULT_SESSIONS, why,
                            sizeof why))
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
        const char *arg = argv[i], *value, *eq;
        char name[32];
        size_t len;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            o->help = true;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0)
            return parse_fail(err, err_len, "unexpected argument '%s'", arg);
        arg += 2;
        eq = strchr(arg, '=');
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len == 0 || len >= sizeof name)
            return parse_fail(err, err_len, "unknown option '%s'", argv[i]);
        memcpy(name, arg, len);
        name[len] = '\0';
        if (!known_option(name))
            return parse_fail(err, err_len, "unknown option --%s", name);
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return parse_fail(err, err_len, "--%s wants a value", name);
        }
        if (apply_option(o, &g, name, value, err, err_len))
            return -1;
    }
    return make_plan(o, &g, err, err_len);
}
