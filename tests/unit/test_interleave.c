/* test_interleave.c -- the explorer's enumeration
 * (tools/replay/replay_interleave.c): how many interleavings there are
 * (C(2n, n) for two sessions, the multinomial (3n)!/(n!)^3 for three),
 * that listing them one by one yields exactly that many, each once, each
 * keeping every session's own order, numbered as unranking says; explored
 * ids; the sample's draw; and the explorer's command line
 * (tools/explore/explore_options.c), whose refusals make main exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "explore.h"
#include "replay_interleave.h"

static char err[512];

/* ------------------------------------------------------------------------
 * Counting
 * --------------------------------------------------------------------- */

/* binom computes C(n, k) the slow way, independently of the module. */
static unsigned long long binom(int n, int k)
{
    unsigned long long c = 1;

    for (int i = 0; i < k; i++)
        c = c * (unsigned long long)(n - i) / (unsigned long long)(i + 1);
    return c;
}

/* Two sessions of n steps: C(2n, n); three: (3n)! / (n!)^3, which is
 * C(3n, n) * C(2n, n). The figures the docs quote are checked literally. */
static void test_counts(void **state)
{
    (void)state;
    for (int n = 1; n <= REPLAY_MAX_ACTIONS; n++) {
        assert_int_equal(replay_interleavings(2, n), binom(2 * n, n));
        assert_int_equal(replay_interleavings(3, n), binom(3 * n, n) * binom(2 * n, n));
        assert_int_equal(replay_interleavings(1, n), 1);
    }
    assert_int_equal(replay_interleavings(2, 3), 20);
    assert_int_equal(replay_interleavings(2, 4), 70);
    assert_int_equal(replay_interleavings(2, 5), 252);
    assert_int_equal(replay_interleavings(3, 3), 1680);
    assert_int_equal(replay_interleavings(3, 4), 34650);
    assert_int_equal(replay_interleavings(3, 5), 756756);
    assert_int_equal(replay_interleavings(4, 3), 369600);
    /* out of range */
    assert_int_equal(replay_interleavings(0, 3), 0);
    assert_int_equal(replay_interleavings(REPLAY_MAX_SESSIONS + 1, 3), 0);
    assert_int_equal(replay_interleavings(2, REPLAY_MAX_ACTIONS + 1), 0);
}

/* valid: ORDER (K sessions of N steps) has each session exactly N times. */
static bool valid(const int *order, int k, int n)
{
    int seen[REPLAY_MAX_SESSIONS] = { 0 };

    for (int i = 0; i < k * n; i++) {
        if (order[i] < 0 || order[i] >= k)
            return false;
        seen[order[i]]++;
    }
    for (int s = 0; s < k; s++)
        if (seen[s] != n)
            return false;
    return true;
}

/* less: ORDER A comes before B in lexicographic order. */
static bool less(const int *a, const int *b, int len)
{
    for (int i = 0; i < len; i++)
        if (a[i] != b[i])
            return a[i] < b[i];
    return false;
}

/* walk lists every interleaving of K sessions of N steps with _next from
 * the first, checking that each is valid, strictly after the one before
 * (so none comes twice), and the one unranking gives for its number, whose
 * rank is that number again. Returns how many there were. */
static unsigned long long walk(int k, int n)
{
    int order[REPLAY_MAX_STEPS], prev[REPLAY_MAX_STEPS], other[REPLAY_MAX_STEPS];
    unsigned long long count = 0;

    assert_true(replay_interleaving_unrank(k, n, 0, order));
    for (int i = 0; i < k * n; i++)
        assert_int_equal(order[i], i / n);          /* number 0: serial A...B...C */
    do {
        assert_true(valid(order, k, n));
        if (count > 0)
            assert_true(less(prev, order, k * n));
        assert_true(replay_interleaving_unrank(k, n, count, other));
        assert_memory_equal(other, order, sizeof(int) * (size_t)(k * n));
        assert_int_equal(replay_interleaving_rank(k, n, order), count);
        memcpy(prev, order, sizeof order);
        count++;
    } while (replay_interleaving_next(order, k * n));
    for (int i = 0; i < k * n; i++)
        assert_int_equal(order[i], k - 1 - i / n);  /* the last: serial in reverse */
    return count;
}

/* Listing yields exactly the count: C(2n, n) for two sessions, the
 * multinomial for three, for the strategies' step counts 3, 4 and 5. */
static void test_listing_matches_the_count(void **state)
{
    (void)state;
    for (int n = 1; n <= 5; n++)
        assert_int_equal(walk(2, n), binom(2 * n, n));
    assert_int_equal(walk(3, 3), 1680);
    assert_int_equal(walk(3, 4), 34650);
    assert_int_equal(walk(4, 2), 2520);
    assert_false(replay_interleaving_unrank(2, 3, 20, (int[6]){ 0 }));
}

/* A plan keeps each session's own steps in the strategy's order, commit
 * included; switches count the changes of session. */
static void test_plan_and_switches(void **state)
{
    const struct replay_strategy *st = replay_strategy_find("for-update");
    int order[8] = { 0, 1, 1, 0, 0, 1, 1, 0 };
    struct replay_plan p;
    char text[256];

    (void)state;
    replay_interleaving_plan(order, 2, st, &p);
    replay_plan_steps(&p, text, sizeof text);
    assert_string_equal(text, "A:read B:read B:write A:write A:insert B:insert B:commit A:commit");
    assert_int_equal(p.sessions, 2);
    assert_int_equal(replay_interleaving_switches(order, 8), 4);
    assert_int_equal(replay_interleaving_switches((int[]){ 0, 0, 0, 1, 1, 1 }, 6), 1);
    /* the plan is one the replay's own parser accepts */
    assert_true(replay_plan_parse_for(&p, text, st, err, sizeof err));
}

/* ------------------------------------------------------------------------
 * Explored ids
 * --------------------------------------------------------------------- */

static void test_explored_ids(void **state)
{
    struct replay_explored e;
    struct replay_plan p;
    char id[96], text[256];

    (void)state;
    assert_true(replay_explored_parse("unsafe:rc:2:1:4", &e, &p, err, sizeof err));
    assert_string_equal(e.strategy->name, "unsafe");
    assert_int_equal(e.isolation, REPLAY_ISOLATION_READ_COMMITTED);
    assert_int_equal(e.sessions, 2);
    assert_int_equal(e.seats, 1);
    replay_plan_steps(&p, text, sizeof text);
    assert_string_equal(text, "A:read B:read A:write A:insert B:write B:insert");
    replay_explored_format(&e, id, sizeof id);
    assert_string_equal(id, "unsafe:rc:2:1:4");

    assert_true(replay_explored_parse("check-then-insert:ser:3:2:756755", &e, &p, err,
                                      sizeof err));
    assert_int_equal(p.count, 15);
    assert_int_equal(p.steps[0].session, 2);        /* the last: C first */
    assert_int_equal(p.steps[0].action, REPLAY_CHECK);
    assert_int_equal(p.steps[14].session, 0);
    assert_int_equal(p.steps[14].action, REPLAY_COMMIT);
    assert_false(replay_explored_parse("check-then-insert:ser:3:2:756756", &e, &p, err,
                                       sizeof err));

    assert_false(replay_explored_parse("unsafe:rc:2:1:20", &e, &p, err, sizeof err));
    assert_non_null(strstr(err, "20 interleavings"));
    assert_false(replay_explored_parse("unsafe:rc:2:1", &e, &p, err, sizeof err));
    assert_non_null(strstr(err, "STRATEGY:ISOLATION:SESSIONS:SEATS:NUMBER"));
    assert_false(replay_explored_parse("unsafe:rc:2:1:4:", &e, &p, err, sizeof err));
    assert_false(replay_explored_parse("lucky:rc:2:1:4", &e, &p, err, sizeof err));
    assert_non_null(strstr(err, "no strategy called 'lucky'"));
    assert_false(replay_explored_parse("unsafe:snapshot:2:1:4", &e, &p, err, sizeof err));
    assert_non_null(strstr(err, "rc, rr or ser"));
    assert_false(replay_explored_parse("unsafe:rc:9:1:4", &e, &p, err, sizeof err));
    assert_false(replay_explored_parse("unsafe:rc:2:x:4", &e, &p, err, sizeof err));
}

/* ------------------------------------------------------------------------
 * The sample
 * --------------------------------------------------------------------- */

/* The draw is distinct, increasing, in range, the same for the same seed
 * and not for another. */
static void test_sample(void **state)
{
    unsigned long long a[300], b[300];
    bool differ = false;

    (void)state;
    explore_sample(34650, 300, 1, a);
    explore_sample(34650, 300, 1, b);
    assert_memory_equal(a, b, sizeof a);
    for (int i = 0; i < 300; i++) {
        assert_true(a[i] < 34650);
        if (i > 0)
            assert_true(a[i - 1] < a[i]);
    }
    explore_sample(34650, 300, 2, b);
    for (int i = 0; i < 300; i++)
        differ = differ || a[i] != b[i];
    assert_true(differ);
    /* all but one of 10: still distinct */
    explore_sample(10, 9, 7, a);
    for (int i = 1; i < 9; i++)
        assert_true(a[i - 1] < a[i] && a[i] < 10);
}

/* ------------------------------------------------------------------------
 * The command line
 * --------------------------------------------------------------------- */

/* parse runs explore_options_parse on a NULL-terminated argument list. */
static int parse(struct explore_options *o, const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    argv[argc++] = "explore";
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = (char *)s;
    }
    va_end(ap);
    argv[argc] = NULL;
    return explore_options_parse(o, argc, argv, err, sizeof err);
}

#define options_refused(word, ...)                                                   \
    do {                                                                             \
        struct explore_options o_;                                                   \
        if (parse(&o_, __VA_ARGS__, NULL) != -1)                                     \
            fail_msg("accepted, wanted an error about '%s'", word);                  \
        if (!strstr(err, word))                                                      \
            fail_msg("error '%s' does not mention '%s'", err, word);                 \
    } while (0)

static void test_options(void **state)
{
    struct explore_options o;

    (void)state;
    assert_int_equal(parse(&o, NULL), 0);
    assert_int_equal(o.n_strategies, 8);
    assert_int_equal(o.n_isolations, 3);
    assert_int_equal(o.n_sessions, 2);
    assert_int_equal(o.n_seats, 2);
    assert_int_equal(o.event_id, EXPLORE_DEFAULT_EVENT);
    assert_string_equal(o.json_path, "results/explore/explore.json");

    assert_int_equal(parse(&o, "--strategy", "unsafe,for-update", "--isolation=rc,serializable",
                           "--sessions", "2", "--seats", "1", "--sample", "50", "--seed", "0",
                           "--json", "-", "--exhaustive-max=10", NULL), 0);
    assert_int_equal(o.n_strategies, 2);
    assert_string_equal(o.strategies[1]->name, "for-update");
    assert_int_equal(o.isolations[1], REPLAY_ISOLATION_SERIALIZABLE);
    assert_int_equal(o.sessions[0], 2);
    assert_int_equal(o.n_sessions, 1);
    assert_int_equal(o.sample, 50);
    assert_int_equal(o.exhaustive_max, 10);
    assert_null(o.json_path);

    assert_int_equal(parse(&o, "--help", NULL), 0);
    assert_true(o.help);
}

static void test_bad_options(void **state)
{
    (void)state;
    options_refused("--strategy: 'lucky' is not a strategy", "--strategy", "lucky");
    options_refused("strategies: unsafe, local-mutex", "--strategy", "lucky");
    options_refused("an empty item", "--strategy", "unsafe,");
    options_refused("an empty item", "--strategy", "");
    options_refused("an empty item", "--isolation", "rc,,rr");
    options_refused("--isolation: 'snapshot' is not an isolation level", "--isolation", "snapshot");
    options_refused("--sessions: '9' is not a number of sessions from 1 to 8", "--sessions",
                    "9");
    options_refused("--sessions: '0' is not a number", "--sessions", "0");
    options_refused("--seats: '-1' is not a number of seats", "--seats", "-1");
    options_refused("at most 8 items", "--seats", "1,2,3,4,5,6,7,8,9");
    options_refused("--sample wants a whole number", "--sample", "0");
    options_refused("--event wants a whole number", "--event", "x");
    options_refused("unknown option --fast", "--fast");
    options_refused("--seed wants a value", "--seed");
    options_refused("unexpected argument 'all'", "all");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_listing_matches_the_count),
        cmocka_unit_test(test_plan_and_switches),
        cmocka_unit_test(test_explored_ids),
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests_name("interleave", tests, NULL, NULL);
}
