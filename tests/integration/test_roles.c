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

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lab.h"
#include "support.h"

#define WORKERS 2

/* start_worker runs phase 5 as a worker only, on TOPIC (also its group),
 * its stderr in .lab/log/test-worker-I.log; returns its pid. */
static pid_t start_worker(const char *topic, int i)
{
    char path[256], log[128];
    const char *argv[] = { path, "--role", "worker", "--topic", topic, "--group", topic, NULL };

    snprintf(path, sizeof path, "%s/phase5", lab_env("LAB_TEST_BIN_DIR", "build/san"));
    snprintf(log, sizeof log, ".lab/log/test-worker-%d.log", i);
    return proc_spawn(argv, log);
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
        assert_int_equal(proc_stop(workers[i]), 0);

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
