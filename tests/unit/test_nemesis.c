/* test_nemesis.c -- the --fault parser (harness/nemesis.c) and its place in
 * the attack's command line (harness/args.c): every kind, both forms of
 * WHEN, the default and explicit DURATION, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "args.h"
#include "nemesis.h"

/* Every kind parses, by the name the usage text gives it. */
static void test_kinds(void **state)
{
    struct fault f;
    char text[64], err[256];

    (void)state;
    for (int k = 0; k < FAULT_KIND_COUNT; k++) {
        snprintf(text, sizeof text, "%s@1", fault_kind_name((enum fault_kind)k));
        assert_int_equal(nemesis_parse_fault(text, &f, err, sizeof err), 0);
        assert_int_equal(f.kind, k);
    }
}

/* WHEN in seconds becomes milliseconds; DURATION defaults to 2 s. */
static void test_seconds(void **state)
{
    struct fault f;
    char err[256];

    (void)state;
    assert_int_equal(nemesis_parse_fault("kill-service@5", &f, err, sizeof err), 0);
    assert_false(f.at_accepted);
    assert_int_equal(f.when, 5000);
    assert_int_equal(f.duration_ms, NEMESIS_DEFAULT_DURATION_MS);
    assert_int_equal(nemesis_parse_fault("pause-redis@2.5:0.125", &f, err, sizeof err), 0);
    assert_int_equal(f.when, 2500);
    assert_int_equal(f.duration_ms, 125);
    assert_int_equal(nemesis_parse_fault("restart-kafka@0:10", &f, err, sizeof err), 0);
    assert_int_equal(f.when, 0);
    assert_int_equal(f.duration_ms, 10000);
}

/* WHEN as accepted=K counts bookings, not time. */
static void test_accepted(void **state)
{
    struct fault f;
    char err[256];

    (void)state;
    assert_int_equal(nemesis_parse_fault("kill-worker@accepted=300:3", &f, err, sizeof err), 0);
    assert_true(f.at_accepted);
    assert_int_equal(f.when, 300);
    assert_int_equal(f.duration_ms, 3000);
}

/* Each malformed fault is refused with a reason that names the problem. */
static void test_refusals(void **state)
{
    static const struct { const char *text, *says; } bad[] = {
        { "kill-service", "KIND@WHEN" },
        { "kill-everything@5", "unknown kind" },
        { "kill-service@", "WHEN" },
        { "kill-service@-1", "WHEN" },
        { "kill-service@5s", "WHEN" },
        { "kill-service@1.2345", "WHEN" },
        { "kill-service@accepted=0", "accepted=K" },
        { "kill-service@accepted=x", "accepted=K" },
        { "kill-service@5:", "DURATION" },
        { "kill-service@5:abc", "DURATION" },
        { "kill-service@5:99999", "DURATION" },
        { "@5", "unknown kind" },
    };
    struct fault f;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(nemesis_parse_fault(bad[i].text, &f, err, sizeof err), -1);
        if (!strstr(err, bad[i].says))
            fail_msg("'%s': '%s' does not say '%s'", bad[i].text, err, bad[i].says);
    }
}

/* --fault is repeatable on the attack's command line, up to the limit;
 * a bad one makes args_parse fail (main prints the usage, exits 2). */
static void test_command_line(void **state)
{
    struct attack_args a;
    char err[256];
    char *ok[] = { "attack", "--mode", "sustained", "--fault", "kill-service@1",
                   "--fault=restart-redis@accepted=10:1", "--history", "/tmp/h.jsonl" };
    char *bad[] = { "attack", "--fault", "kill-service@soon" };
    char *custom[] = { "attack", "--path", "/healthz", "--fault", "kill-service@1" };
    char *many[2 + 2 * (NEMESIS_MAX_FAULTS + 1)];

    (void)state;
    assert_int_equal(args_parse(&a, 8, ok, "127.0.0.1:1", err, sizeof err), 0);
    assert_int_equal(a.faults.count, 2);
    assert_int_equal(a.faults.faults[1].kind, FAULT_RESTART_REDIS);
    assert_string_equal(a.history_path, "/tmp/h.jsonl");
    assert_int_equal(args_parse(&a, 3, bad, "127.0.0.1:1", err, sizeof err), -1);
    assert_non_null(strstr(err, "WHEN"));
    assert_int_equal(args_parse(&a, 5, custom, "127.0.0.1:1", err, sizeof err), -1);
    assert_non_null(strstr(err, "--path"));
    many[0] = "attack";
    for (int i = 0; i <= NEMESIS_MAX_FAULTS; i++) {
        many[1 + 2 * i] = "--fault";
        many[2 + 2 * i] = "pause-redis@1";
    }
    assert_int_equal(args_parse(&a, 1 + 2 * (NEMESIS_MAX_FAULTS + 1), many, "127.0.0.1:1", err,
                                sizeof err), -1);
    assert_non_null(strstr(err, "at most"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_command_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
