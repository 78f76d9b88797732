/* test_sentinel.c -- the two forms of LAB_REDIS (lib/sentinel.c): one
 * server, host:port, as before; the Sentinels of a primary,
 * sentinel://host:port,.../NAME; and everything mistyped, refused with a
 * reason that shows both forms. No server is needed: redis_open is tried
 * only with addresses it must refuse before connecting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "sentinel.h"

/* One server: the host and the port, no Sentinels. */
static void one_server(void **state)
{
    struct redis_addr a;
    char err[256] = "";

    (void)state;
    assert_true(redis_addr_parse("127.0.0.1:16379", &a, err, sizeof err));
    assert_int_equal(a.sentinels, 0);
    assert_string_equal(a.host[0], "127.0.0.1");
    assert_int_equal(a.port[0], 16379);
    assert_string_equal(a.name, "");
    assert_true(redis_addr_parse("redis.example:6379", &a, err, sizeof err));
    assert_string_equal(a.host[0], "redis.example");
    assert_int_equal(a.port[0], 6379);
}

/* The Sentinels, in their order, and the primary's name. */
static void sentinels(void **state)
{
    struct redis_addr a;
    char err[256] = "";

    (void)state;
    assert_true(redis_addr_parse("sentinel://127.0.0.1:16381,127.0.0.1:16382,localhost:16383/ticketlab",
                                 &a, err, sizeof err));
    assert_int_equal(a.sentinels, 3);
    assert_string_equal(a.host[0], "127.0.0.1");
    assert_int_equal(a.port[0], 16381);
    assert_int_equal(a.port[1], 16382);
    assert_string_equal(a.host[2], "localhost");
    assert_int_equal(a.port[2], 16383);
    assert_string_equal(a.name, "ticketlab");
    assert_true(redis_addr_parse("sentinel://10.0.0.1:26379/my-primary_1.a", &a, err, sizeof err));
    assert_int_equal(a.sentinels, 1);
    assert_string_equal(a.name, "my-primary_1.a");
}

/* Everything else is refused, with a reason that names both forms. */
static void refused(void **state)
{
    static const char *const bad[] = {
        NULL, "", "127.0.0.1", "127.0.0.1:", ":6379", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:6379x", "127.0.0.1:6379/ticketlab", "127.0.0.1:6379,127.0.0.1:6380",
        "sentinel://", "sentinel:///ticketlab", "sentinel://127.0.0.1:26379",
        "sentinel://127.0.0.1:26379/", "sentinel://127.0.0.1:26379/tick et",
        "sentinel://127.0.0.1:26379/a/b", "sentinel://127.0.0.1/ticketlab",
        "sentinel://127.0.0.1:26379,/ticketlab", "sentinel://,127.0.0.1:26379/ticketlab",
        "sentinel://127.0.0.1:26379,,127.0.0.1:26380/ticketlab",
        "sentinel://1:1,1:2,1:3,1:4,1:5,1:6,1:7,1:8,1:9/ticketlab",
        "sentinel://127.0.0.1:26379/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "redis://127.0.0.1:6379",
    };
    struct redis_addr a;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (redis_addr_parse(bad[i], &a, err, sizeof err))
            fail_msg("redis_addr_parse took '%s'", bad[i] ? bad[i] : "(null)");
        if (!strstr(err, "bad Redis address") || !strstr(err, "sentinel://HOST:PORT"))
            fail_msg("no clear reason for '%s': '%s'", bad[i] ? bad[i] : "(null)", err);
    }
}

/* redis_open refuses a bad address before any connection, with the
 * parser's reason, and leaves RUN_ID empty. */
static void open_refuses_bad_address(void **state)
{
    char err[256] = "", run_id[REDIS_RUN_ID] = "x";

    (void)state;
    assert_null(redis_open("sentinel://127.0.0.1:1", 100, run_id, err, sizeof err));
    assert_non_null(strstr(err, "no /NAME"));
    assert_string_equal(run_id, "");
    assert_int_equal(redis_not_primary_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_server),
        cmocka_unit_test(sentinels),
        cmocka_unit_test(refused),
        cmocka_unit_test(open_refuses_bad_address),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
