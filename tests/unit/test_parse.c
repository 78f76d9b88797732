/* test_parse.c -- the strict parsers behind every id in a query string and
 * every number on a command line (lib/parse.c): what they take,
 * and everything a user could mistype that they must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "parse.h"

/* Ids: positive, decimal, nothing else, at most 2^53. */
static void ids(void **state)
{
    static const char *const refused[] = {
        NULL, "", "0", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0", "1e3", "abc",
        "9007199254740993", "99999999999999999999", "-9223372036854775809",
    };
    long long v = 0;

    (void)state;
    assert_true(parse_id("1", &v));
    assert_int_equal(v, 1);
    assert_true(parse_id("42", &v));
    assert_int_equal(v, 42);
    assert_true(parse_id("007", &v));
    assert_int_equal(v, 7);
    assert_true(parse_id("9007199254740992", &v));
    assert_int_equal(v, PARSE_ID_MAX);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        v = -12345;
        if (parse_id(refused[i], &v))
            fail_msg("parse_id took '%s'", refused[i] ? refused[i] : "(null)");
        assert_int_equal(v, -12345);                    /* untouched on refusal */
    }
}

/* Numbers in a range, such as --think-ms or seats. */
static void ranges(void **state)
{
    long long v;

    (void)state;
    assert_true(parse_long("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(parse_long("-5", -10, 10, &v));
    assert_int_equal(v, -5);
    assert_true(parse_long("10", 0, 10, &v));
    assert_false(parse_long("11", 0, 10, &v));
    assert_false(parse_long("-1", 0, 10, &v));
    assert_false(parse_long("--1", -10, 10, &v));
    assert_false(parse_long("-", -10, 10, &v));
    assert_false(parse_long("9223372036854775808", 0, INT64_MAX, &v));
}

/* Request ids: 1 to 64 characters of A-Z a-z 0-9 _ -. */
static void request_ids(void **state)
{
    char longest[PARSE_REQUEST_ID_MAX + 2];

    (void)state;
    assert_true(parse_request_id("req-1"));
    assert_true(parse_request_id("A_b-9"));
    memset(longest, 'a', sizeof longest);
    longest[PARSE_REQUEST_ID_MAX] = '\0';
    assert_true(parse_request_id(longest));
    longest[PARSE_REQUEST_ID_MAX] = 'a';
    longest[PARSE_REQUEST_ID_MAX + 1] = '\0';
    assert_false(parse_request_id(longest));             /* 65 characters */
    assert_false(parse_request_id(NULL));
    assert_false(parse_request_id(""));
    assert_false(parse_request_id("a b"));
    assert_false(parse_request_id("a\"b"));              /* would break the JSON reply */
    assert_false(parse_request_id("a/b"));
    assert_false(parse_request_id("é"));
}

/* host:port, as in LAB_HTTP and --listen. */
static void host_ports(void **state)
{
    char host[64];
    int port = 0;

    (void)state;
    assert_true(parse_host_port("127.0.0.1:18080", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 18080);
    assert_true(parse_host_port("localhost:1", host, sizeof host, &port));
    assert_int_equal(port, 1);
    assert_false(parse_host_port("127.0.0.1", host, sizeof host, &port));
    assert_false(parse_host_port("127.0.0.1:", host, sizeof host, &port));
    assert_false(parse_host_port(":80", host, sizeof host, &port));
    assert_false(parse_host_port("h:0", host, sizeof host, &port));
    assert_false(parse_host_port("h:65536", host, sizeof host, &port));
    assert_false(parse_host_port("h:80x", host, sizeof host, &port));
    assert_false(parse_host_port("a-very-long-host-name-that-cannot-fit:80", host, 8, &port));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids),
        cmocka_unit_test(ranges),
        cmocka_unit_test(request_ids),
        cmocka_unit_test(host_ports),
    };
    return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
