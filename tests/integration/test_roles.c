/* test_roles.c -- phase 5 split into processes: one API (--role api) that
 * only queues, and two workers (--role worker) in one consumer group that
 * book. The workers start first, before the API has created the topic, as
 * they would when deployed apart; the burst must still end clean, every
 * accepted request decided by one of them. */
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
#include <sys/wait.h>
#include <unistd.h>
#include "lab.h"
#include "support.h"

#define WORKERS 2

/* start_worker runs phaseN --role worker on TOPIC (also its group), its
 * stderr in .lab/log/test-worker-I.log; returns its pid. */
static pid_t start_worker(const char *topic, int i)
{
    char path[256], log[128];
    pid_t pid;

    snprintf(path, sizeof path, "%s/phase5", lab_env("LAB_TEST_BIN_DIR", "build/san"));
    snprintf(log, sizeof log, ".lab/log/test-worker-%d.log", i);
    fflush(NULL);
    if ((pid = fork()) == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        execl(path, path, "--role", "worker", "--topic", topic, "--group", topic, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    return pid;
}

/* stop_worker sends SIGTERM and returns the exit status (0: clean, no
 * sanitizer report). A worker shuts down within its poll timeout. */
static int stop_worker(pid_t pid)
{
    int status;

    kill(pid, SIGTERM);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void api_and_workers_apart(void **state)
{
    char topic[64], json[8192];
    const char *api_args[] = { "--role", "api", "--topic", topic, "--group", topic, NULL };
    pid_t workers[WORKERS];
    struct svc api;
    long long v;
    int status;

    (void)state;
    snprintf(topic, sizeof topic, "lab-test-roles-%d", (int)getpid());
    for (int i = 0; i < WORKERS; i++)
        assert_true((workers[i] = start_worker(topic, i)) > 0);
    assert_true(svc_start(&api, 5, api_args));

    status = run_attack(&api, "--users 500 --seats 100 --expect-clean", json, sizeof json);
    print_message("api + %d workers: %s\n", WORKERS, json);
    assert_int_equal(svc_stop(&api), 0);
    for (int i = 0; i < WORKERS; i++)
        assert_int_equal(stop_worker(workers[i]), 0);

    assert_int_equal(status, 0);
    assert_true(json_ll(json, "queued", &v));
    assert_int_equal(v, 500);                   /* the API only queued */
    assert_true(json_ll(json, "decided", &v));
    assert_int_equal(v, 500);                   /* the workers decided them all */
    assert_true(json_ll(json, "sold", &v));
    assert_int_equal(v, 100);
    assert_true(json_ll(json, "lost", &v));
    assert_int_equal(v, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_and_workers_apart),
    };
    return cmocka_run_group_tests_name("roles", tests, NULL, NULL);
}
