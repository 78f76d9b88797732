/* explore_options.c -- the explorer's command line, hand-written like the
 * replay's (replay_options.c): no global state, no message printed behind
 * the caller's back. Options take their value as "--opt value" or
 * "--opt=value"; a list is comma-separated. */
#include "explore.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

const char explore_usage[] =
    "usage: explore [--strategy LIST] [--isolation LIST] [--sessions LIST] [--seats LIST]\n"
    "               [--exhaustive-max N] [--sample N] [--seed S] [--event ID]\n"
    "               [--json FILE] [--markdown FILE] [--runs FILE]\n";

const char explore_help[] =
    "Runs every interleaving of each strategy's steps on real PostgreSQL sessions (the\n"
    "replay's), at each isolation level, and counts what came of them.\n"
    "  --strategy LIST      unsafe, local-mutex, for-update, atomic, optimistic,\n"
    "                       serializable, advisory, check-then-insert (default: all)\n"
    "  --isolation LIST     read-committed, repeatable-read, serializable (rc, rr, ser;\n"
    "                       default: all three)\n"
    "  --sessions LIST      sessions per interleaving, 1 to 8 (default 2,3)\n"
    "  --seats LIST         seats after each reset (default 1,2)\n"
    "  --exhaustive-max N   run every interleaving of a group that has at most N\n"
    "                       (default 2000)\n"
    "  --sample N           of a bigger group, N drawn at random without repeats\n"
    "                       (default 300)\n"
    "  --seed S             what draws them (default 1)\n"
    "  --event ID           the event reset before each interleaving (default 950)\n"
    "  --json FILE          the results (default results/explore/explore.json; - : none)\n"
    "  --markdown FILE      the table for docs/replay.md (default\n"
    "                       results/explore/explore.md; - : none)\n"
    "  --runs FILE          every run, one line each: its id, the order in which its\n"
    "                       steps ended, each session's outcome, counter and tickets\n"
    "PostgreSQL: LAB_PG (default from infra/lab.env).\n"
    "Exit status: 0 done, 1 database error, 2 bad command line.\n";

static const char *const option_names[] = {
    "strategy", "isolation", "sessions", "seats", "exhaustive-max", "sample", "seed", "event",
    "json", "markdown", "runs", NULL,
};

/* known_option: NAME is one of option_names. */
static bool known_option(const char *name)
{
    for (int i = 0; option_names[i]; i++)
        if (strcmp(option_names[i], name) == 0)
            return true;
    return false;
}

/* next_item copies the next comma-separated item of *LIST into ITEM and
 * moves *LIST past it; false at the end or for an empty item (ITEM ""). */
static bool next_item(const char **list, char *item, size_t len)
{
    size_t n = strcspn(*list, ",");

    if (**list == '\0')
        return false;
    snprintf(item, len, "%.*s", (int)n, *list);
    *list += n + ((*list)[n] == ',');
    return n > 0 && n < len;
}

/* parse_list reads option NAME's comma-separated VALUE with ONE, which
 * stores item I; -1 with the reason for an empty list, an empty item,
 * too many items or one that ONE refuses (not WHAT). */
static int parse_list(const char *name, const char *what, const char *value, int *count,
                      bool (*one)(const char *item, int i, struct explore_options *o),
                      struct explore_options *o, char *err, size_t err_len)
{
    char item[64];
    const char *rest = value;

    *count = 0;
    if (*value && value[strlen(value) - 1] == ',')
        return parse_fail(err, err_len, "--%s: an empty item in '%s'", name, value);
    while (*rest || *count == 0) {
        if (!next_item(&rest, item, sizeof item))
            return parse_fail(err, err_len, "--%s: an empty item in '%s'", name, value);
        if (*count == EXPLORE_MAX_LIST)
            return parse_fail(err, err_len, "--%s: at most %d items", name, EXPLORE_MAX_LIST);
        if (!one(item, *count, o))
            return parse_fail(err, err_len, "--%s: '%s' is not %s", name, item, what);
        (*count)++;
    }
    return 0;
}

/* one_strategy: a strategy of the replay's table, by name. */
static bool one_strategy(const char *item, int i, struct explore_options *o)
{
    return (o->strategies[i] = replay_strategy_find(item)) != NULL;
}

/* one_isolation: a level, by its long or short name. */
static bool one_isolation(const char *item, int i, struct explore_options *o)
{
    return replay_isolation_parse(item, &o->isolations[i]);
}

/* one_sessions: 1 to 8 sessions, as the replay runs. */
static bool one_sessions(const char *item, int i, struct explore_options *o)
{
    long long n;

    if (!parse_long(item, 1, REPLAY_MAX_SESSIONS, &n))
        return false;
    o->sessions[i] = (int)n;
    return true;
}

/* one_seats: the seats after each reset. */
static bool one_seats(const char *item, int i, struct explore_options *o)
{
    return parse_long(item, 0, 1000000, &o->seats[i]);
}

/* apply_option stores one option's value. */
static int apply_option(struct explore_options *o, const char *name, const char *v, char *err,
                        size_t err_len)
{
    long long n;
    char names[160];

    if (strcmp(name, "strategy") == 0) {
        if (parse_list(name, "a strategy", v, &o->n_strategies, one_strategy, o, err,
                       err_len) == 0)
            return 0;
        replay_strategy_names(names, sizeof names);
        snprintf(err + strlen(err), err_len - strlen(err), " (strategies: %s)", names);
        return -1;
    }
    if (strcmp(name, "isolation") == 0) {
        if (parse_list(name, "an isolation level", v, &o->n_isolations, one_isolation, o, err,
                       err_len) == 0)
            return 0;
        snprintf(err + strlen(err), err_len - strlen(err),
                 " (read-committed, repeatable-read, serializable)");
        return -1;
    }
    if (strcmp(name, "sessions") == 0)
        return parse_list(name, "a number of sessions from 1 to 8", v, &o->n_sessions,
                          one_sessions, o, err, err_len);
    if (strcmp(name, "seats") == 0)
        return parse_list(name, "a number of seats from 0 to 1000000", v, &o->n_seats,
                          one_seats, o, err, err_len);
    if (strcmp(name, "json") == 0) {
        o->json_path = strcmp(v, "-") == 0 ? NULL : v;
        return 0;
    }
    if (strcmp(name, "runs") == 0) {
        o->runs_path = v;
        return 0;
    }
    if (strcmp(name, "markdown") == 0) {
        o->markdown_path = strcmp(v, "-") == 0 ? NULL : v;
        return 0;
    }
    if (strcmp(name, "event") == 0)
        return parse_option_long(name, v, 1, PARSE_ID_MAX, &o->event_id, err, err_len);
    if (parse_option_long(name, v, strcmp(name, "seed") == 0 ? 0 : 1, PARSE_ID_MAX, &n, err,
                          err_len))
        return -1;
    if (strcmp(name, "exhaustive-max") == 0)
        o->exhaustive_max = (unsigned long long)n;
    else if (strcmp(name, "sample") == 0)
        o->sample = (unsigned long long)n;
    else
        o->seed = (unsigned long long)n;
    return 0;
}

/* defaults: every strategy, every level, 2 and 3 sessions, 1 and 2 seats. */
static void defaults(struct explore_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; replay_strategies[i].name && i < EXPLORE_MAX_LIST; i++)
        o->strategies[o->n_strategies++] = &replay_strategies[i];
    for (int i = REPLAY_ISOLATION_READ_COMMITTED; i <= REPLAY_ISOLATION_SERIALIZABLE; i++)
        o->isolations[o->n_isolations++] = (enum replay_isolation)i;
    o->sessions[0] = 2;
    o->sessions[1] = 3;
    o->n_sessions = 2;
    o->seats[0] = 1;
    o->seats[1] = 2;
    o->n_seats = 2;
    o->exhaustive_max = 2000;
    o->sample = 300;
    o->seed = 1;
    o->event_id = EXPLORE_DEFAULT_EVENT;
    o->json_path = "results/explore/explore.json";
    o->markdown_path = "results/explore/explore.md";
}

/* explore_options_parse: the defaults, then each option in turn; --help
 * stops the reading, as the replay's does. */
int explore_options_parse(struct explore_options *o, int argc, char **argv, char *err,
                          size_t err_len)
{
    defaults(o);
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
        if (apply_option(o, name, value, err, err_len))
            return -1;
    }
    return 0;
}
