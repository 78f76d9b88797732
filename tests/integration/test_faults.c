/* test_faults.c -- the nemesis against real services (docs/faults.md):
 *
 *   - phase 5 split into an API and a worker: the worker is killed with
 *     kill -9 a fifth into the sale and a new one started a second later;
 *     after the drain nothing is oversold, lost or decided twice;
 *   - phase 6: the lab's Redis is stopped and started again mid-sale (it
 *     comes back empty); nothing is oversold, lost or decided twice, the
 *     gate is rebuilt from the database, so no seat is left unsold.
 *
 * The harness runs the faults itself (--fault), through infra/fault.sh,
 * which finds the processes by pid files: the worker's are written here,
 * in a folder of the test's own (LAB_FAULT_DIR). Each test checks that its
 * fault happened: the killed worker's exit by SIGKILL, the refusals while
 * Redis was down (and fault.sh checks Redis's port closed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lab.h"
#include "support.h"

#define FAULT_DIR ".lab/test-fault"
/* about 200 bookings a second, for 5 s: the fault and the recovery fit in */
#define LOAD "--mode sustained --connections 8 --requests 1000 --pace-ms 40 --seats 500 " \
             "--timeout-ms 3000 --drain-timeout-ms 30000 "

/* write_role keeps ROLE's pid and command line where infra/fault.sh looks
 * for them: the command's words each in single quotes (bash reads them
 * back with eval), the log on the second line. */
static void write_role(const char *role, pid_t pid, const char *const *argv, const char *log)
{
    char path[256];
    FILE *f;

    mkdir(".lab", 0755);
    mkdir(FAULT_DIR, 0755);
    snprintf(path, sizeof path, FAULT_DIR "/%s.pid", role);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "%d\n", (int)pid);
    assert_int_equal(fclose(f), 0);
    snprintf(path, sizeof path, FAULT_DIR "/%s.cmd", role);
    assert_non_null(f = fopen(path, "w"));
    for (; *argv; argv++)
        fprintf(f, "'%s' ", *argv);   /* the lab's words hold no quote */
    fprintf(f, "\n%s\n", log);
    assert_int_equal(fclose(f), 0);
}

/* stop_role stops the process of ROLE's pid file (one fault.sh started,
 * not a child of ours) and waits until it is gone: 0, or -1. */
static int stop_role(const char *role)
{
    char path[256];
    FILE *f;
    int pid = 0;

    snprintf(path, sizeof path, FAULT_DIR "/%s.pid", role);
    if (!(f = fopen(path, "r")))
        return -1;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    remove(path);
    if (pid <= 0 || kill(pid, SIGTERM) != 0)
        return -1;
    for (int i = 0; i < 300 && kill(pid, 0) == 0; i++)
        lab_sleep_ms(100);
    return kill(pid, 0) == 0 ? -1 : 0;
}

static void expect_figure(const char *json, const char *key, long long want)
{
    long long v;

    if (!json_ll(json, key, &v))
        fail_msg("no %s in %s", key, json);
    if (v != want)
        fail_msg("%s = %lld, want %lld", key, v, want);
}

static void kill_worker_phase5(void **state)
{
    char json[16384], worker_path[256];
    const char *api_args[] = { "--role", "api", "--think-ms", "1", NULL };
    const char *worker_log = ".lab/log/test-fault-worker.log";
    struct svc api;
    pid_t worker;
    int status, wstatus = 0;

    (void)state;
    setenv("LAB_FAULT_DIR", FAULT_DIR, 1);
    assert_true(svc_start(&api, 5, api_args));
    snprintf(worker_path, sizeof worker_path, "%s/phase5", lab_env("LAB_TEST_BIN_DIR", "build/san"));
    {
        const char *argv[] = { worker_path, "--role", "worker", "--topic", api.topic, "--group",
                               api.topic, "--think-ms", "1", NULL };
        assert_true((worker = proc_spawn(argv, worker_log)) > 0);
        write_role("worker", worker, argv, worker_log);
    }

    status = run_attack(&api, LOAD "--fault kill-worker@accepted=200:1", json, sizeof json);
    print_message("phase 5, kill-worker: %s\n", json);
    /* the fault happened: the first worker died of SIGKILL */
    assert_int_equal(waitpid(worker, &wstatus, 0), worker);
    assert_true(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
    assert_int_equal(svc_stop(&api), 0);
    assert_int_equal(stop_role("worker"), 0);

    assert_int_equal(status, 0);
    expect_figure(json, "check_oversold", 0);
    expect_figure(json, "check_lost", 0);
    expect_figure(json, "check_duplicated", 0);
    expect_figure(json, "check_false_confirmations", 0);
    expect_figure(json, "oversold", 0);
    expect_figure(json, "lost", 0);
}

static void restart_redis_phase6(void **state)
{
    char json[16384];
    const char *args[] = { "--think-ms", "1", NULL };
    struct svc s;
    long long fail = 0;
    int status;

    (void)state;
    assert_true(svc_start(&s, 6, args));
    status = run_attack(&s, LOAD "--fault restart-redis@accepted=200:1", json, sizeof json);
    print_message("phase 6, restart-redis: %s\n", json);
    assert_int_equal(svc_stop(&s), 0);
    assert_int_equal(services_ctl("up", "redis"), 0);   /* whatever happened above */

    assert_int_equal(status, 0);
    /* the fault happened: bookings were refused while Redis was down */
    assert_true(json_ll(json, "check_fail", &fail));
    assert_true(fail > 0);
    expect_figure(json, "check_oversold", 0);
    expect_figure(json, "check_lost", 0);
    expect_figure(json, "check_duplicated", 0);
    expect_figure(json, "check_false_confirmations", 0);
    /* the gate was rebuilt from the database: every seat sold */
    expect_figure(json, "check_undersold", 0);
    expect_figure(json, "available", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_worker_phase5),
        cmocka_unit_test(restart_redis_phase6),
    };
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
