/* test_replay_options.c -- the replay's interleavings
 * (tools/replay/replay_plan.c) and command line
 * (tools/replay/replay_options.c): the steps a plan may hold, the presets,
 * the commits phase 3 adds, the other strategies' steps
 * (replay_strategy.c), and the refusals that make main exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "replay_options.h"
#include "replay_plan.h"

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

static char err[256];

/* plan_text formats P, the way the timeline's header shows it. */
static const char *plan_text(const struct replay_plan *p)
{
    static char buf[1024];

    replay_plan_format(p, buf, sizeof buf);
    return buf;
}

/* steps_refused: TEXT is not a plan, and the reason mentions WORD. */
static void steps_refused(const char *text, const char *word)
{
    struct replay_plan p;

    if (replay_plan_parse(&p, text, err, sizeof err))
        fail_msg("'%s' accepted, wanted an error about '%s'", text, word);
    if (!strstr(err, word))
        fail_msg("'%s': error '%s' does not mention '%s'", text, err, word);
}

/* parse runs replay_options_parse on a NULL-terminated argument list. */
static int parse(struct replay_options *o, const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    argv[argc++] = "replay";
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = (char *)s;
    }
    va_end(ap);
    argv[argc] = NULL;
    return replay_options_parse(o, argc, argv, err, sizeof err);
}

/* options_refused: the arguments are refused, the reason mentions WORD. */
#define options_refused(word, ...)                                                   \
    do {                                                                             \
        struct replay_options o_;                                                    \
        if (parse(&o_, __VA_ARGS__, NULL) != -1)                                     \
            fail_msg("accepted, wanted an error about '%s'", word);                  \
        if (!strstr(err, word))                                                      \
            fail_msg("error '%s' does not mention '%s'", err, word);                 \
    } while (0)

/* ------------------------------------------------------------------------
 * Plans
 * --------------------------------------------------------------------- */

/* A plan in the isolation tester's style is read step by step, in order;
 * commas and lower-case session letters are accepted. */
static void test_parse_steps(void **state)
{
    struct replay_plan p;

    (void)state;
    assert_true(replay_plan_parse(&p, "A:read B:read A:write B:write A:insert B:insert", err,
                                  sizeof err));
    assert_int_equal(p.sessions, 2);
    assert_int_equal(p.count, 6);
    assert_int_equal(p.steps[1].session, 1);
    assert_int_equal(p.steps[1].action, REPLAY_READ);
    assert_int_equal(p.steps[4].session, 0);
    assert_int_equal(p.steps[4].action, REPLAY_INSERT);

    assert_true(replay_plan_parse(&p, " a:read,a:write, a:insert ,a:commit ", err, sizeof err));
    assert_int_equal(p.sessions, 1);
    assert_int_equal(p.count, 4);
    assert_int_equal(p.steps[3].action, REPLAY_COMMIT);
}

/* Each refusal names what is wrong with the plan. */
static void test_bad_steps(void **state)
{
    (void)state;
    steps_refused("", "no steps");
    steps_refused("   ", "no steps");
    steps_refused("A:read A:read A:write A:insert", "A:read comes twice");
    steps_refused("A:write A:read A:insert", "A:write before A:read");
    steps_refused("A:read A:write A:commit A:insert", "A:commit before A:insert");
    steps_refused("A:read A:write A:insert A:commit A:commit", "A:commit comes twice");
    steps_refused("A:read A:write", "session A stops before A:insert");
    steps_refused("A:read A:write A:insert C:read C:write C:insert", "session B is missing");
    steps_refused("A:sell", "the action is read, write, insert or commit");
    steps_refused("A:readx", "the action is read, write, insert or commit");
    steps_refused("Aread", "SESSION:ACTION");
    steps_refused("I:read", "SESSION:ACTION");
    steps_refused("1:read", "SESSION:ACTION");
    steps_refused("A:", "SESSION:ACTION");
}

/* The presets, for two and for three sessions. */
static void test_presets(void **state)
{
    struct replay_plan p;

    (void)state;
    assert_true(replay_plan_preset(&p, "lost-update", 2, err, sizeof err));
    assert_string_equal(plan_text(&p),
                        "1 A:read  2 B:read  3 A:write  4 B:write  5 A:insert  6 B:insert");
    assert_true(replay_plan_preset(&p, "overtake", 2, err, sizeof err));
    assert_string_equal(plan_text(&p),
                        "1 A:read  2 B:read  3 B:write  4 B:insert  5 A:write  6 A:insert");
    assert_true(replay_plan_preset(&p, "serial", 2, err, sizeof err));
    assert_string_equal(plan_text(&p),
                        "1 A:read  2 A:write  3 A:insert  4 B:read  5 B:write  6 B:insert");
    assert_true(replay_plan_preset(&p, "lost-update", 3, err, sizeof err));
    assert_int_equal(p.sessions, 3);
    assert_string_equal(plan_text(&p), "1 A:read  2 B:read  3 C:read  4 A:write  5 B:write  "
                                       "6 C:write  7 A:insert  8 B:insert  9 C:insert");
    assert_string_equal(replay_presets[0], "lost-update");

    assert_false(replay_plan_preset(&p, "lucky", 2, err, sizeof err));
    assert_non_null(strstr(err, "no interleaving called 'lucky'"));
    assert_false(replay_plan_preset(&p, "serial", 0, err, sizeof err));
    assert_false(replay_plan_preset(&p, "serial", REPLAY_MAX_SESSIONS + 1, err, sizeof err));
}

/* Phase 3 commits each session right after its insert, unless the plan
 * says where; phase 2 runs the plan as it is. */
static void test_plan_for_phase(void **state)
{
    struct replay_plan p;

    (void)state;
    assert_true(replay_plan_preset(&p, "lost-update", 2, err, sizeof err));
    replay_plan_for_phase(&p, 2);
    assert_int_equal(p.count, 6);
    replay_plan_for_phase(&p, 3);
    assert_string_equal(plan_text(&p), "1 A:read  2 B:read  3 A:write  4 B:write  5 A:insert  "
                                       "6 A:commit  7 B:insert  8 B:commit");

    assert_true(replay_plan_parse(&p, "A:read A:write A:insert B:read B:write B:insert "
                                      "B:commit A:commit", err, sizeof err));
    replay_plan_for_phase(&p, 3);
    assert_int_equal(p.count, 8);
    assert_int_equal(p.steps[7].session, 0);
    assert_int_equal(p.steps[7].action, REPLAY_COMMIT);
}

/* Another strategy's plan holds its own steps, in its order: atomic takes
 * then inserts, advisory locks first, check-then-insert checks first; a
 * step of another strategy is refused with the strategy's list. */
static void test_strategy_plans(void **state)
{
    const struct replay_strategy *atomic = replay_strategy_find("atomic");
    const struct replay_strategy *advisory = replay_strategy_find("advisory");
    const struct replay_strategy *cti = replay_strategy_find("check-then-insert");
    struct replay_plan p;

    (void)state;
    assert_non_null(atomic);
    assert_null(replay_strategy_find("lucky"));
    assert_int_equal(replay_strategy_of_phase(2)->kind, REPLAY_UNSAFE);
    assert_int_equal(replay_strategy_of_phase(3)->kind, REPLAY_FOR_UPDATE);

    assert_true(replay_plan_parse_for(&p, "A:take B:take A:insert B:insert", atomic, err,
                                      sizeof err));
    replay_plan_for_strategy(&p, atomic);
    assert_string_equal(plan_text(&p), "1 A:take  2 B:take  3 A:insert  4 A:commit  "
                                       "5 B:insert  6 B:commit");
    if (replay_plan_parse_for(&p, "A:read A:insert", atomic, err, sizeof err))
        fail_msg("atomic took a read");
    assert_non_null(strstr(err, "the action is take, insert or commit"));
    if (replay_plan_parse_for(&p, "A:insert A:take", atomic, err, sizeof err))
        fail_msg("atomic inserted before taking");
    assert_non_null(strstr(err, "A:insert before A:take"));
    if (replay_plan_parse_for(&p, "A:lock A:read", advisory, err, sizeof err))
        fail_msg("advisory stopped early");
    assert_non_null(strstr(err, "session A stops before A:write (each session does lock, "
                                "read, write, insert)"));

    assert_true(replay_plan_preset_for(&p, "lost-update", 2, advisory, err, sizeof err));
    assert_string_equal(plan_text(&p), "1 A:lock  2 B:lock  3 A:read  4 B:read  5 A:write  "
                                       "6 B:write  7 A:insert  8 B:insert");
    assert_true(replay_plan_preset_for(&p, "overtake", 2, cti, err, sizeof err));
    assert_string_equal(plan_text(&p), "1 A:check  2 B:check  3 B:read  4 B:write  5 B:insert  "
                                       "6 A:read  7 A:write  8 A:insert");
    assert_true(cti->same_user);
    /* phase 2's strategies take no commit of their own, but accept one */
    assert_true(replay_plan_parse_for(&p, "A:read A:write A:insert A:commit",
                                      replay_strategy_find("local-mutex"), err, sizeof err));
}

/* The isolation levels by their long and short names. */
static void test_isolation_names(void **state)
{
    enum replay_isolation iso;

    (void)state;
    assert_true(replay_isolation_parse("repeatable-read", &iso));
    assert_int_equal(iso, REPLAY_ISOLATION_REPEATABLE_READ);
    assert_true(replay_isolation_parse("ser", &iso));
    assert_int_equal(iso, REPLAY_ISOLATION_SERIALIZABLE);
    assert_string_equal(replay_isolation_short(REPLAY_ISOLATION_READ_COMMITTED), "rc");
    assert_string_equal(replay_isolation_sql(REPLAY_ISOLATION_SERIALIZABLE), "SERIALIZABLE");
    assert_false(replay_isolation_parse("default", &iso));
    assert_false(replay_isolation_parse("snapshot", &iso));
}

/* A plan longer than the buffer is cut, never overflows it. */
static void test_format_is_bounded(void **state)
{
    struct replay_plan p;
    char small[12];

    (void)state;
    assert_true(replay_plan_preset(&p, "serial", REPLAY_MAX_SESSIONS, err, sizeof err));
    replay_plan_format(&p, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_string_equal(small, "1 A:read  2");
}

/* ------------------------------------------------------------------------
 * The command line
 * --------------------------------------------------------------------- */

/* No argument: the lost update on phase 2, event 900, 10 seats, A and B. */
static void test_defaults(void **state)
{
    struct replay_options o;

    (void)state;
    assert_int_equal(parse(&o, NULL), 0);
    assert_int_equal(o.phase, 2);
    assert_int_equal(o.event_id, 900);
    assert_int_equal(o.seats, 10);
    assert_string_equal(o.interleaving, "lost-update");
    assert_int_equal(o.plan.sessions, 2);
    assert_int_equal(o.plan.count, 6);
    assert_int_equal(o.expect, REPLAY_EXPECT_NOTHING);
    assert_false(o.help);
}

/* Every option, in both spellings. */
static void test_options(void **state)
{
    struct replay_options o;

    (void)state;
    assert_int_equal(parse(&o, "--phase", "3", "--event=901", "--seats", "1", "--sessions=3",
                           "--interleaving", "overtake", "--expect", "clean", NULL), 0);
    assert_int_equal(o.phase, 3);
    assert_int_equal(o.event_id, 901);
    assert_int_equal(o.seats, 1);
    assert_string_equal(o.interleaving, "overtake");
    assert_int_equal(o.plan.sessions, 3);
    assert_int_equal(o.expect, REPLAY_EXPECT_CLEAN);

    assert_int_equal(parse(&o, "--steps", "A:read A:write A:insert", "--expect=lost-update",
                           NULL), 0);
    assert_string_equal(o.interleaving, "custom");
    assert_int_equal(o.plan.sessions, 1);
    assert_int_equal(o.expect, REPLAY_EXPECT_LOST_UPDATE);

    assert_int_equal(parse(&o, "--strategy", "atomic", "--isolation", "rr", "--seats", "2",
                           "--expect", "anomaly", NULL), 0);
    assert_int_equal(o.phase, 3);
    assert_string_equal(o.strategy->name, "atomic");
    assert_int_equal(o.isolation, REPLAY_ISOLATION_REPEATABLE_READ);
    assert_string_equal(plan_text(&o.plan), "1 A:take  2 B:take  3 A:insert  4 B:insert");
    assert_int_equal(o.expect, REPLAY_EXPECT_ANOMALY);

    assert_int_equal(parse(&o, "--strategy", "local-mutex", "--phase", "2", "--steps",
                           "A:read B:read A:write B:write A:insert B:insert", NULL), 0);
    assert_int_equal(o.strategy->kind, REPLAY_LOCAL_MUTEX);

    assert_int_equal(parse(&o, "--explored", "check-then-insert:ser:2:2:5", "--event", "905",
                           NULL), 0);
    assert_string_equal(o.strategy->name, "check-then-insert");
    assert_int_equal(o.isolation, REPLAY_ISOLATION_SERIALIZABLE);
    assert_int_equal(o.seats, 2);
    assert_int_equal(o.event_id, 905);
    assert_int_equal(o.plan.count, 10);
    assert_string_equal(o.interleaving, "check-then-insert:ser:2:2:5");

    assert_int_equal(parse(&o, "--phase", "3", NULL), 0);
    assert_int_equal(o.strategy->kind, REPLAY_FOR_UPDATE);
    assert_int_equal(o.isolation, REPLAY_ISOLATION_DEFAULT);

    assert_int_equal(parse(&o, "--phase", "9", "--help", NULL), -1);
    assert_int_equal(parse(&o, "--help", NULL), 0);
    assert_true(o.help);
}

/* What main refuses with its usage and exit code 2. */
static void test_bad_options(void **state)
{
    (void)state;
    options_refused("--phase is 2 or 3", "--phase", "4");
    options_refused("--phase is 2 or 3", "--phase", "");
    options_refused("--event wants a whole number", "--event", "0");
    options_refused("--event wants a whole number", "--event", "9x");
    options_refused("--seats wants a whole number", "--seats", "-1");
    options_refused("--sessions wants a whole number from 1 to 8", "--sessions", "9");
    options_refused("--interleaving: no interleaving called 'x'", "--interleaving", "x");
    options_refused("--steps: A:write before A:read", "--steps", "A:write");
    options_refused("not with --interleaving", "--steps", "A:read A:write A:insert",
                    "--interleaving", "serial");
    options_refused("not with --interleaving or --sessions", "--sessions", "2", "--steps",
                    "A:read A:write A:insert");
    options_refused("--expect is lost-update or clean", "--expect", "oversold");
    options_refused("unknown option --fast", "--fast");
    options_refused("unknown option --fast", "--fast", "1");
    options_refused("--phase wants a value", "--phase");
    options_refused("unexpected argument 'phase'", "phase", "2");
    options_refused("--strategy is one of unsafe, local-mutex", "--strategy", "lucky");
    options_refused("--strategy atomic is phase 3's, not --phase 2's", "--strategy", "atomic",
                    "--phase", "2");
    options_refused("--isolation is read-committed, repeatable-read or serializable",
                    "--isolation", "snapshot");
    options_refused("--steps: 'A:read': the action is take, insert or commit", "--strategy",
                    "atomic", "--steps", "A:read");
    options_refused("--explored: 'unsafe:rc:2:1:20'", "--explored", "unsafe:rc:2:1:20");
    options_refused("--explored says the strategy", "--explored", "unsafe:rc:2:1:9", "--seats",
                    "3");
    options_refused("--explored says the strategy", "--strategy", "unsafe", "--explored",
                    "unsafe:rc:2:1:9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_steps),
        cmocka_unit_test(test_bad_steps),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_plan_for_phase),
        cmocka_unit_test(test_strategy_plans),
        cmocka_unit_test(test_isolation_names),
        cmocka_unit_test(test_format_is_bounded),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests_name("replay_options", tests, NULL, NULL);
}
