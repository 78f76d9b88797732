/* test_args.c -- the attack's command line (harness/args.c): defaults,
 * every option in both spellings, and the refusals that make main exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "args.h"

#define DEFAULT_URL "127.0.0.1:18080"

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* The last error, for the assertions on its wording. */
static char err[256];

/* parse runs args_parse on a NULL-terminated list of arguments (argv[0]
 * is supplied), the way main does. */
static int parse_list(struct attack_args *a, const char *first, va_list ap)
{
    char *argv[64];
    int argc = 0;

    argv[argc++] = "attack";
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        assert_true(argc < 63);
        argv[argc++] = (char *)s;
    }
    argv[argc] = NULL;
    return args_parse(a, argc, argv, DEFAULT_URL, err, sizeof err);
}

static int parse(struct attack_args *a, const char *first, ...)
{
    va_list ap;
    int rc;

    va_start(ap, first);
    rc = parse_list(a, first, ap);
    va_end(ap);
    return rc;
}

/* refused: the arguments are an error whose message mentions WORD. */
static void refused(const char *word, const char *first, ...)
{
    struct attack_args a;
    va_list ap;
    int rc;

    va_start(ap, first);
    rc = parse_list(&a, first, ap);
    va_end(ap);
    if (rc != -1)
        fail_msg("accepted, wanted an error about '%s'", word);
    if (!strstr(err, word))
        fail_msg("error '%s' does not mention '%s'", err, word);
}

/* ------------------------------------------------------------------------
 * Defaults and options
 * --------------------------------------------------------------------- */

/* No argument: the lesson's attack, 500 users on 100 seats of event 1. */
static void test_defaults(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, NULL), 0);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 18080);
    assert_int_equal(a.mode, ATTACK_BURST);
    assert_int_equal(a.users, 500);
    assert_int_equal(a.seats, 100);
    assert_int_equal(a.event_id, 1);
    assert_int_equal(a.user_base, 0);
    assert_int_equal(a.threads, 2);
    assert_int_equal(a.reads_per_booking, 0);
    assert_int_equal(a.timeout_ms, 10000);
    assert_int_equal(a.drain_timeout_ms, 60000);
    assert_true(a.reset);
    assert_string_equal(a.csv_path, "results/attacks.csv");
    assert_string_equal(a.timeline_path, "");
    assert_false(a.json);
    assert_false(a.expect_clean);
    assert_false(a.expect_oversell);
    assert_false(a.help);
    assert_false(args_is_custom(&a));
    assert_string_equal(a.run_id, "");
}

/* Every option of the booking workload, as "--opt value". */
static void test_burst_options(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, "--url", "http://10.0.0.5:8080/", "--users", "2000", "--seats",
                           "10", "--event", "7", "--user-base", "1000", "--threads", "4",
                           "--reads-per-booking", "3", "--timeout-ms", "500",
                           "--drain-timeout-ms", "0", "--run-id", "ci_run-1", "--json",
                           "--expect-oversell", "--csv", "/tmp/x.csv", NULL),
                     0);
    assert_string_equal(a.host, "10.0.0.5");
    assert_int_equal(a.port, 8080);
    assert_int_equal(a.users, 2000);
    assert_int_equal(a.seats, 10);
    assert_int_equal(a.event_id, 7);
    assert_int_equal(a.user_base, 1000);
    assert_int_equal(a.threads, 4);
    assert_int_equal(a.reads_per_booking, 3);
    assert_int_equal(a.timeout_ms, 500);
    assert_int_equal(a.drain_timeout_ms, 0);
    assert_string_equal(a.run_id, "ci_run-1");
    assert_true(a.json);
    assert_true(a.expect_oversell);
    assert_string_equal(a.csv_path, "/tmp/x.csv");
}

/* "--opt=value" means the same as "--opt value". */
static void test_equals_form(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, "--mode=sustained", "--connections=64", "--requests=1000",
                           "--url=localhost:9000", NULL),
                     0);
    assert_int_equal(a.mode, ATTACK_SUSTAINED);
    assert_int_equal(a.connections, 64);
    assert_int_equal(a.requests, 1000);
    assert_string_equal(a.host, "localhost");
    assert_int_equal(a.port, 9000);
}

/* A custom path: GET unless told, and no verdict to expect. */
static void test_custom_path(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, "--mode", "sustained", "--path", "/healthz", NULL), 0);
    assert_true(args_is_custom(&a));
    assert_string_equal(a.method, "GET");
    assert_string_equal(a.path, "/healthz");
    assert_int_equal(parse(&a, "--path", "/api/bookings?eventId=1&userId=9", "--method", "POST",
                           NULL),
                     0);
    assert_string_equal(a.method, "POST");
}

/* --no-csv and --csv - both mean no row; --no-reset keeps the event. */
static void test_flags(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, "--no-csv", NULL), 0);
    assert_string_equal(a.csv_path, "");
    assert_int_equal(parse(&a, "--csv", "-", NULL), 0);
    assert_string_equal(a.csv_path, "");
    assert_int_equal(parse(&a, "--no-reset", "--expect-clean", NULL), 0);
    assert_false(a.reset);
    assert_true(a.expect_clean);
}

/* --timeline names the file of the run over time, in both spellings; it
 * needs the booking workload, and a file name. */
static void test_timeline(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, "--timeline", "/tmp/t.csv", NULL), 0);
    assert_string_equal(a.timeline_path, "/tmp/t.csv");
    assert_int_equal(parse(&a, "--mode=sustained", "--timeline=out/t.csv", NULL), 0);
    assert_string_equal(a.timeline_path, "out/t.csv");
    refused("--timeline wants a file name", "--timeline=", NULL);
    refused("--timeline needs a value", "--timeline", NULL);
    refused("which --path skips", "--path", "/healthz", "--timeline", "t.csv", NULL);
}

/* --help wins over anything after it, even a bad argument. */
static void test_help(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, "--help", "--users", "0", NULL), 0);
    assert_true(a.help);
    assert_int_equal(parse(&a, "-h", NULL), 0);
    assert_true(a.help);
}

/* The URL forms people write, and LAB_HTTP's bare host:port. */
static void test_urls(void **state)
{
    char host[64];
    int port = 0;

    (void)state;
    assert_true(args_parse_url("http://127.0.0.1:18080", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 18080);
    assert_true(args_parse_url("127.0.0.1:18081", host, sizeof host, &port));
    assert_int_equal(port, 18081);
    assert_true(args_parse_url("http://example.test", host, sizeof host, &port));
    assert_string_equal(host, "example.test");
    assert_int_equal(port, 80);
    assert_false(args_parse_url("https://127.0.0.1:443", host, sizeof host, &port));
    assert_false(args_parse_url("http://127.0.0.1:18080/api", host, sizeof host, &port));
    assert_false(args_parse_url("http://127.0.0.1:0", host, sizeof host, &port));
    assert_false(args_parse_url("http://127.0.0.1:99999", host, sizeof host, &port));
    assert_false(args_parse_url("http://127.0.0.1:", host, sizeof host, &port));
    assert_false(args_parse_url("http://", host, sizeof host, &port));
    assert_false(args_parse_url("", host, sizeof host, &port));
    assert_false(args_parse_url("http://bad host:80", host, sizeof host, &port));
    assert_false(args_parse_url("http://a\r\nX-Evil: 1:80", host, sizeof host, &port));
}

/* The default URL is only looked at when --url is absent. */
static void test_default_url_used_or_ignored(void **state)
{
    struct attack_args a;
    char *bad_default[] = { "attack", NULL };
    char *explicit_url[] = { "attack", "--url", "http://127.0.0.1:1234", NULL };

    (void)state;
    assert_int_equal(args_parse(&a, 1, bad_default, "not a url/", err, sizeof err), -1);
    assert_non_null(strstr(err, "URL"));
    assert_int_equal(args_parse(&a, 3, explicit_url, "not a url/", err, sizeof err), 0);
    assert_int_equal(a.port, 1234);
}

/* ------------------------------------------------------------------------
 * Refusals: each one is an exit 2 in main
 * --------------------------------------------------------------------- */

static void test_bad_numbers(void **state)
{
    (void)state;
    refused("--users", "--users", "0", NULL);
    refused("--users", "--users", "-5", NULL);
    refused("--users", "--users", "ten", NULL);
    refused("--users", "--users", "10x", NULL);
    refused("--users", "--users", " 10", NULL);
    refused("--users", "--users", "", NULL);
    refused("--users", "--users", "99999999999999999999", NULL);
    refused("--seats", "--seats", "0", NULL);
    refused("--seats", "--seats", "1.5", NULL);
    refused("--threads", "--threads", "0", NULL);
    refused("--threads", "--threads", "1000", NULL);
    refused("--event", "--event", "0", NULL);
    refused("--timeout-ms", "--timeout-ms", "0", NULL);
    refused("--drain-timeout-ms", "--drain-timeout-ms", "-1", NULL);
    refused("--reads-per-booking", "--reads-per-booking", "-1", NULL);
    refused("--user-base", "--user-base", "-1", NULL);
    refused("--connections", "--mode", "sustained", "--connections", "0", NULL);
    refused("--requests", "--mode", "sustained", "--requests", "abc", NULL);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    refused("unknown option --userz", "--userz", "5", NULL);
    refused("unknown option --bogus", "--bogus", NULL);
    refused("unexpected argument 'users'", "users", NULL);
    refused("unexpected argument '-u'", "-u", "5", NULL);
    refused("unexpected argument '--'", "--", NULL);
    refused("--users needs a value", "--users", NULL);
    refused("--json takes no value", "--json=yes", NULL);
    refused("--mode", "--mode", "fast", NULL);
    refused("--method", "--path", "/x", "--method", "DELETE", NULL);
    refused("--path", "--path", "healthz", NULL);
    refused("--path", "--path", "/a b", NULL);
    refused("--run-id", "--run-id", "has space", NULL);
    refused("--run-id", "--run-id", "0123456789012345678901234567890123456789x", NULL);
    refused("--csv", "--csv=", NULL);
    refused("URL", "--url", "ftp://127.0.0.1:21", NULL);
}

/* Options that would be silently ignored are refused instead. */
static void test_bad_combinations(void **state)
{
    (void)state;
    refused("--mode sustained", "--connections", "10", NULL);
    refused("--mode sustained", "--requests", "10", NULL);
    refused("--requests", "--mode", "sustained", "--users", "10", NULL);
    refused("--method goes with --path", "--method", "GET", NULL);
    refused("--reads-per-booking", "--path", "/healthz", "--reads-per-booking", "2", NULL);
    refused("--expect-*", "--path", "/healthz", "--expect-clean", NULL);
    refused("exclude each other", "--expect-clean", "--expect-oversell", NULL);
    refused("--no-reset", "--no-reset", "--seats", "5", NULL);
    refused("id limit", "--user-base", "9007199254740990", "--users", "10", NULL);
}

/* --url a,b,...: every instance of one service, the first also the
 * target of the reset and the health check; a bad or empty item refuses
 * the whole list, and so do more than ARGS_URLS_MAX. */
static void test_url_list(void **state)
{
    struct attack_args a;
    char many[1024] = "";

    (void)state;
    assert_int_equal(parse(&a, "--url", "http://127.0.0.1:9000,127.0.0.1:9001,http://h:80/",
                           NULL), 0);
    assert_int_equal(a.url_count, 3);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 9000);
    assert_string_equal(a.url_hosts[1], "127.0.0.1");
    assert_int_equal(a.url_ports[1], 9001);
    assert_string_equal(a.url_hosts[2], "h");
    assert_int_equal(a.url_ports[2], 80);
    assert_int_equal(parse(&a, NULL), 0);
    assert_int_equal(a.url_count, 1);                   /* the default: one */
    refused("URL", "--url", "http://a:1,", NULL);
    refused("URL", "--url", ",http://a:1", NULL);
    refused("URL", "--url", "http://a:1,,http://b:2", NULL);
    refused("URL", "--url", "http://a:1,http://b:x", NULL);
    for (int i = 0; i <= ARGS_URLS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%shttp://h:%d", i ? "," : "",
                 9000 + i);
    refused("URL", "--url", many, NULL);
}

/* --retry-same-id N: 0 to 100, a whole number; not with --path. */
static void test_retry_same_id(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, NULL), 0);
    assert_int_equal(a.retry_same_id, 0);
    assert_int_equal(parse(&a, "--retry-same-id", "3", NULL), 0);
    assert_int_equal(a.retry_same_id, 3);
    assert_int_equal(parse(&a, "--retry-same-id=0", "--mode", "sustained", NULL), 0);
    assert_int_equal(a.retry_same_id, 0);
    refused("--retry-same-id", "--retry-same-id", "-1", NULL);
    refused("--retry-same-id", "--retry-same-id", "101", NULL);
    refused("--retry-same-id", "--retry-same-id", "3x", NULL);
    refused("--retry-same-id", "--retry-same-id", "", NULL);
    refused("--retry-same-id needs a value", "--retry-same-id", NULL);
    refused("which --path skips", "--path", "/healthz", "--retry-same-id", "2", NULL);
}

/* --backlog N: 1 to a million bookings before a reset; it resets, so not
 * with --no-reset, and books, so not with --path. */
static void test_backlog(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, "--backlog", "10000", NULL), 0);
    assert_int_equal(a.backlog, 10000);
    refused("--backlog", "--backlog", "0", NULL);
    refused("--backlog", "--backlog", "1000001", NULL);
    refused("--no-reset", "--backlog", "10", "--no-reset", NULL);
    refused("which --path skips", "--path", "/healthz", "--backlog", "10", NULL);
}

/* --clicks: K bookings per user in the burst, each its own connection;
 * refused where a record per user is kept (faults, history, retries). */
static void test_clicks(void **state)
{
    struct attack_args a;

    (void)state;
    assert_int_equal(parse(&a, NULL), 0);
    assert_int_equal(a.clicks, 1);
    assert_int_equal(parse(&a, "--users", "200", "--clicks", "2", NULL), 0);
    assert_int_equal(a.clicks, 2);
    assert_int_equal(a.users, 200);
    refused("--clicks", "--clicks", "0", NULL);
    refused("--clicks", "--clicks", "11", NULL);
    refused("burst", "--mode", "sustained", "--clicks", "2", NULL);
    refused("--fault", "--clicks", "2", "--fault", "kill-service@1", NULL);
    refused("--retry-same-id", "--clicks", "2", "--retry-same-id", "2", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_url_list),
        cmocka_unit_test(test_burst_options),
        cmocka_unit_test(test_equals_form),
        cmocka_unit_test(test_custom_path),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_default_url_used_or_ignored),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_bad_combinations),
        cmocka_unit_test(test_retry_same_id),
        cmocka_unit_test(test_backlog),
        cmocka_unit_test(test_clicks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
