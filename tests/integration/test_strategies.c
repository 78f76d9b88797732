/* test_strategies.c -- the other answers to the race, against the real
 * PostgreSQL: each of phase 3's strategies sells no seat twice, on one
 * instance and on two; phase 2's local-mutex is clean on one instance and
 * oversells on two; the strategies that retry count their conflicts.
 *
 * The race is made reliable, not hoped for: the harness opens every
 * connection first and releases them together through a barrier, and the
 * services think 50 ms inside each booking (20 for phase 3), so that the
 * two processes' read-to-write windows overlap on every seat. Each test
 * starts its sanitized services on the test port and the next one, and
 * stops them (a sanitizer report fails the test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "lab.h"
#include "parse.h"
#include "support.h"

#define MAX_INSTANCES 2

/* The instances of one test: pids, addresses, logs. */
struct fleet {
    int n;
    pid_t pid[MAX_INSTANCES];
    char addr[MAX_INSTANCES][64];
    char log[MAX_INSTANCES][128];
    char urls[256];           /* --url a,b for the harness */
};

/* fleet_start runs N processes of PHASE with STRATEGY and THINK_MS, the
 * first on the test port and each next one on the next port, and waits
 * until each answers /healthz. A later instance that cannot bind its port
 * (the test ports are in the ephemeral range: on a busy machine some client
 * connection's end may hold one, in TIME_WAIT for a minute) moves on to the
 * next port, at most 8 times. */
static void fleet_start(struct fleet *f, int n, int phase, const char *strategy,
                        const char *think_ms)
{
    char host[48], path[256];
    int port;

    assert_int_equal(f->n, 0);        /* the previous test's stopped */
    memset(f, 0, sizeof *f);
    assert_true(parse_host_port(lab_env("LAB_TEST_HTTP", "127.0.0.1:18181"), host,
                                (int)sizeof host, &port));
    snprintf(path, sizeof path, "%s/phase%d", lab_env("LAB_TEST_BIN_DIR", "build/san"), phase);
    for (int i = 0, moves = 0; i < n; i++, port++) {
        const char *argv[] = { path, "--listen", f->addr[i], "--strategy", strategy,
                               "--think-ms", think_ms, NULL };
        int tries = 0;

        snprintf(f->addr[i], sizeof f->addr[i], "%s:%d", host, port);
        snprintf(f->log[i], sizeof f->log[i], ".lab/log/test-strategies-%d.log", i + 1);
        if (http_call(f->addr[i], "GET", "/healthz", NULL, NULL, NULL, 0, 500) != -1)
            fail_msg("something already answers on %s", f->addr[i]);
        f->pid[i] = proc_spawn(argv, f->log[i]);
        assert_true(f->pid[i] > 0);
        f->n = i + 1;
        while (http_call(f->addr[i], "GET", "/healthz", NULL, NULL, NULL, 0, 500) != 200) {
            bool exited = waitpid(f->pid[i], NULL, WNOHANG) == f->pid[i];
            if (exited && i > 0 && moves < 8) {
                moves++;
                snprintf(f->addr[i], sizeof f->addr[i], "%s:%d", host, ++port);
                f->pid[i] = proc_spawn(argv, f->log[i]);
                assert_true(f->pid[i] > 0);
                continue;
            }
            if (++tries > 200 || exited) {
                if (exited)
                    f->pid[i] = 0;
                fail_msg("phase %d --strategy %s did not start on %s (see %s)", phase, strategy,
                         f->addr[i], f->log[i]);
            }
            lab_sleep_ms(100);
        }
        snprintf(f->urls + strlen(f->urls), sizeof f->urls - strlen(f->urls), "%shttp://%s",
                 i ? "," : "", f->addr[i]);
    }
}

/* fleet_stop stops every instance; each must exit 0 (no sanitizer report). */
static void fleet_stop(struct fleet *f)
{
    int n = f->n, status[MAX_INSTANCES] = { 0 };

    f->n = 0;
    for (int i = 0; i < n; i++)
        status[i] = f->pid[i] > 0 ? proc_stop(f->pid[i]) : 0;
    for (int i = 0; i < n; i++)
        assert_int_equal(status[i], 0);
}

/* The instances of the running test: a failed assertion jumps out of the
 * test, and the teardown stops what it left running. */
static struct fleet running;

static int stop_leftovers(void **state)
{
    (void)state;
    for (int i = 0; i < running.n; i++)
        if (running.pid[i] > 0)
            proc_stop(running.pid[i]);
    running.n = 0;
    return 0;
}

/* attack_fleet runs the harness over every instance of F: a burst of USERS
 * on SEATS, its JSON in JSON. */
static void attack_fleet(const struct fleet *f, int users, int seats, char *json, size_t len)
{
    struct svc first = { .phase = 0 };
    char args[512];

    snprintf(first.addr, sizeof first.addr, "%s", f->addr[0]);
    snprintf(args, sizeof args, "--url %s --users %d --seats %d", f->urls, users, seats);
    assert_int_equal(run_attack(&first, args, json, len), 0);
}

/* figure reads KEY from a summary, failing the test when it is missing. */
static long long figure(const char *json, const char *key)
{
    long long v = 0;

    if (!json_ll(json, key, &v))
        fail_msg("no %s in %s", key, json);
    return v;
}

/* Every phase 3 strategy, on 1 and on 2 instances: nothing oversold, the
 * counter in step with the tickets, every booked answer a ticket row. The
 * strategies that wait (for-update, atomic, advisory) sell every seat; the
 * ones that retry sell what their bounded retries allowed, and count them. */
static void phase3_strategies_never_oversell(void **state)
{
    static const char *const strategies[] = { "for-update", "atomic", "optimistic",
                                              "serializable", "advisory" };
    char json[8192];

    (void)state;
    for (size_t i = 0; i < sizeof strategies / sizeof strategies[0]; i++) {
        for (int n = 1; n <= MAX_INSTANCES; n++) {
            const char *s = strategies[i];
            bool retries = strcmp(s, "optimistic") == 0 || strcmp(s, "serializable") == 0;
            fleet_start(&running, n, 3, s, "20");
            attack_fleet(&running, 200, 50, json, sizeof json);
            fleet_stop(&running);
            print_message("%s x%d: %s\n", s, n, json);
            assert_true(json_has(json, "strategy", s));
            assert_int_equal(figure(json, "instances"), n);
            assert_int_equal(figure(json, "oversold"), 0);
            assert_int_equal(figure(json, "phantom"), 0);
            assert_int_equal(figure(json, "duplicates"), 0);
            assert_int_equal(figure(json, "mismatch"), 0);
            if (!retries) {
                assert_int_equal(figure(json, "sold"), 50);
                assert_int_equal(figure(json, "errors"), 0);
                assert_int_equal(figure(json, "retries"), 0);
            } else {
                /* 16 threads per instance read the same seat count within a
                 * 20 ms think: conflicts are certain, and counted */
                assert_true(figure(json, "retries") > 0);
                /* every failed request is one that gave up; with 200 buyers
                 * for 50 seats, every seat left unsold is undersold */
                assert_int_equal(figure(json, "errors"), figure(json, "gave_up"));
                assert_int_equal(figure(json, "undersold"), 50 - figure(json, "sold"));
            }
            if (strcmp(s, "serializable") == 0)
                assert_true(figure(json, "conflicts_serialization") > 0);
        }
    }
}

/* A mutex in the process: one instance is clean, two oversell, because each
 * process's mutex lets one of its own threads in, and the two threads race
 * on the same row. */
static void local_mutex_needs_one_process(void **state)
{
    char json[8192];

    (void)state;
    fleet_start(&running, 1, 2, "local-mutex", "50");
    attack_fleet(&running, 200, 50, json, sizeof json);
    fleet_stop(&running);
    print_message("local-mutex x1: %s\n", json);
    assert_int_equal(figure(json, "oversold"), 0);
    assert_int_equal(figure(json, "phantom"), 0);
    assert_int_equal(figure(json, "sold"), 50);

    fleet_start(&running, 2, 2, "local-mutex", "50");
    attack_fleet(&running, 200, 50, json, sizeof json);
    fleet_stop(&running);
    print_message("local-mutex x2: %s\n", json);
    assert_true(figure(json, "oversold") > 0);
    assert_true(json_has(json, "verdict", "BUG"));
}

/* A strategy the phase does not have is a usage error (exit 2), not a
 * service that silently runs its default. */
static void unknown_strategy_is_refused(void **state)
{
    char path[256];
    pid_t pid;
    int status;

    (void)state;
    snprintf(path, sizeof path, "%s/phase3", lab_env("LAB_TEST_BIN_DIR", "build/san"));
    const char *argv[] = { path, "--strategy", "mutex", NULL };
    pid = proc_spawn(argv, ".lab/log/test-strategies-bad.log");
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    snprintf(path, sizeof path, "%s/phase4", lab_env("LAB_TEST_BIN_DIR", "build/san"));
    const char *argv4[] = { path, "--strategy", "atomic", NULL };
    pid = proc_spawn(argv4, ".lab/log/test-strategies-bad.log");
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_strategy_is_refused),
        cmocka_unit_test_teardown(local_mutex_needs_one_process, stop_leftovers),
        cmocka_unit_test_teardown(phase3_strategies_never_oversell, stop_leftovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
