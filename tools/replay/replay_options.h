/* replay_options.h -- the replay's command line. Pure: the unit tests
 * call it. */
#ifndef LAB_REPLAY_OPTIONS_H
#define LAB_REPLAY_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include "replay_plan.h"

#define REPLAY_DEFAULT_EVENT 900
#define REPLAY_DEFAULT_SEATS 10
#define REPLAY_DEFAULT_SESSIONS 2

/* What --expect checks at the end (exit 1 when the outcome differs):
 * anomaly is a lost update, an oversold seat or a user over the limit. */
enum replay_expect {
    REPLAY_EXPECT_NOTHING, REPLAY_EXPECT_LOST_UPDATE, REPLAY_EXPECT_CLEAN, REPLAY_EXPECT_ANOMALY,
};

struct replay_options {
    int phase;                   /* 2 (no lock) or 3 (FOR UPDATE): the strategy's */
    const struct replay_strategy *strategy;   /* the phase's own unless --strategy */
    enum replay_isolation isolation;          /* DEFAULT unless --isolation */
    long long event_id;          /* the event reset and booked */
    long long seats;             /* its seats after the reset */
    char interleaving[64];       /* a preset's name, "custom" for --steps, the --explored id */
    struct replay_plan plan;     /* as given: replay_plan_for_strategy not applied */
    enum replay_expect expect;
    bool help;                   /* --help: print the usage, run nothing */
};

/* replay_options_parse reads ARGV into O. 0, or -1 with the reason in ERR
 * (the caller prints it with the usage and exits 2). */
int replay_options_parse(struct replay_options *o, int argc, char **argv, char *err,
                         size_t err_len);

/* replay_usage is the synopsis printed with a refusal; --help prints it
 * followed by replay_help, what each option does. */
extern const char replay_usage[];
extern const char replay_help[];

#endif
