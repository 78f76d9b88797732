/* replay.c -- `build/replay`: the booking race, step by step.
 *
 * Reads the command line (replay_options.c), runs the plan (replay_driver.c)
 * and turns the outcome into the exit status: 0 done, 1 a database error or
 * an --expect that was not met, 2 a bad command line. */
#include <stdio.h>

#include "replay_driver.h"
#include "replay_options.h"

/* expectation_met compares the end state with --expect: a lost update is
 * more tickets than the counter went down; clean is neither that nor an
 * oversold seat nor a user over the limit; an anomaly is any of them. */
static int expectation_met(enum replay_expect expect, const struct replay_result *res)
{
    bool clean = res->lost_updates <= 0 && res->oversold == 0 && res->duplicate_users == 0;

    switch (expect) {
    case REPLAY_EXPECT_LOST_UPDATE:
        return res->lost_updates > 0;
    case REPLAY_EXPECT_CLEAN:
        return clean;
    case REPLAY_EXPECT_ANOMALY:
        return !clean;
    case REPLAY_EXPECT_NOTHING:
        break;
    }
    return 1;
}

int main(int argc, char **argv)
{
    struct replay_options o;
    struct replay_config cfg;
    struct replay_result res;
    char err[256];

    lab_set_program("replay");
    if (replay_options_parse(&o, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "replay: %s\n%s(replay --help says more)\n", err, replay_usage);
        return 2;
    }
    if (o.help) {
        printf("%s\n%s", replay_usage, replay_help);
        return 0;
    }
    cfg = (struct replay_config){
        .conninfo = lab_env("LAB_PG", LAB_PG_DEFAULT),
        .phase = o.phase,
        .strategy = o.strategy,
        .isolation = o.isolation,
        .event_id = o.event_id,
        .seats = o.seats,
        .interleaving = o.interleaving,
        .plan = o.plan,
        .out = stdout,
    };
    if (replay_run(&cfg, &res) != LAB_OK) {
        fprintf(stderr, "replay: the run did not complete (see above)\n");
        return 1;
    }
    if (!expectation_met(o.expect, &res)) {
        fprintf(stderr, "replay: expected %s, got %s\n",
                o.expect == REPLAY_EXPECT_CLEAN     ? "a clean end state"
                : o.expect == REPLAY_EXPECT_ANOMALY ? "an anomaly"
                                                    : "a lost update",
                res.lost_updates > 0 ? "a lost update"
                : res.oversold > 0 || res.duplicate_users > 0 ? "no lost update, an anomaly"
                                                               : "no lost update");
        return 1;
    }
    return 0;
}
