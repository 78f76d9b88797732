/* test_config.c -- who may reset: the admin token is LAB_ADMIN_TOKEN when
 * set, none on loopback, and a random one off loopback; the flags that take
 * a value from a fixed set or range refuse anything else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "service/config.h"

static void parse(struct config *c, const char *listen)
{
    char *argv[] = { "phase", "--listen", (char *)listen, NULL };
    char err[256];

    assert_true(config_parse(c, 3, argv, err, sizeof err));
}

static void test_admin_token(void **state)
{
    struct config c;
    char err[256];
    bool made;

    (void)state;
    unsetenv("LAB_ADMIN_TOKEN");
    parse(&c, "127.0.0.1:18080");
    assert_true(config_loopback(&c));
    assert_true(config_admin_token(&c, &made, err, sizeof err));
    assert_false(made);
    assert_string_equal(c.admin_token, "");

    parse(&c, "0.0.0.0:18080");
    assert_false(config_loopback(&c));
    assert_true(config_admin_token(&c, &made, err, sizeof err));
    assert_true(made);
    assert_int_equal(strlen(c.admin_token), 48);

    setenv("LAB_ADMIN_TOKEN", "token-from-env", 1);
    parse(&c, "127.0.0.1:18080");
    assert_true(config_admin_token(&c, &made, err, sizeof err));
    assert_false(made);
    assert_string_equal(c.admin_token, "token-from-env");

    setenv("LAB_ADMIN_TOKEN", "bad token", 1);
    assert_false(config_admin_token(&c, &made, err, sizeof err));
    setenv("LAB_ADMIN_TOKEN", "short", 1);
    assert_false(config_admin_token(&c, &made, err, sizeof err));
    unsetenv("LAB_ADMIN_TOKEN");
}

/* --commit-interval-ms: 0 (each batch's offsets at once) unless given,
 * 0..60000, anything else refused with the reason. */
static void test_commit_interval(void **state)
{
    struct config c;
    char *ok[] = { "phase", "--commit-interval-ms", "3000", NULL };
    char *big[] = { "phase", "--commit-interval-ms", "60001", NULL };
    char *word[] = { "phase", "--commit-interval-ms", "soon", NULL };
    char err[256];

    (void)state;
    parse(&c, "127.0.0.1:18080");
    assert_int_equal(c.commit_interval_ms, 0);
    assert_true(config_parse(&c, 3, ok, err, sizeof err));
    assert_int_equal(c.commit_interval_ms, 3000);
    assert_false(config_parse(&c, 3, big, err, sizeof err));
    assert_non_null(strstr(err, "--commit-interval-ms needs a whole number from 0 to 60000"));
    assert_false(config_parse(&c, 3, word, err, sizeof err));
}

/* --acks: all (the idempotent producer) unless given; 1 for the leader
 * alone; anything else refused with the reason, which the service answers
 * with its usage and exit status 2. */
static void test_acks(void **state)
{
    struct config c;
    char *one[] = { "phase", "--acks", "1", NULL };
    char *all[] = { "phase", "--acks", "all", NULL };
    char *two[] = { "phase", "--acks", "2", NULL };
    char *none[] = { "phase", "--acks", NULL };
    char err[256];

    (void)state;
    parse(&c, "127.0.0.1:18080");
    assert_int_equal(c.acks, QUEUE_ACKS_ALL);
    assert_string_equal(queue_acks_name(c.acks), "all");
    assert_true(config_parse(&c, 3, one, err, sizeof err));
    assert_int_equal(c.acks, QUEUE_ACKS_LEADER);
    assert_string_equal(queue_acks_name(c.acks), "1");
    assert_true(config_parse(&c, 3, all, err, sizeof err));
    assert_int_equal(c.acks, QUEUE_ACKS_ALL);
    assert_false(config_parse(&c, 3, two, err, sizeof err));
    assert_non_null(strstr(err, "--acks must be all or 1, not '2'"));
    assert_false(config_parse(&c, 2, none, err, sizeof err));
    assert_non_null(strstr(err, "--acks"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_token),
        cmocka_unit_test(test_commit_interval),
        cmocka_unit_test(test_acks),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
