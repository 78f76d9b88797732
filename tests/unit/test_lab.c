/* test_lab.c -- lab_mask_secrets, which every log line goes through: a
 * password never reaches a log, everything else does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "lab.h"

static void expect_masked(const char *in, const char *want)
{
    char out[256];

    lab_mask_secrets(in, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_mask_secrets(void **state)
{
    (void)state;
    expect_masked("cannot reach PostgreSQL (postgresql://lab:s3cret@db:5432/ticketlab): down",
                  "cannot reach PostgreSQL (postgresql://lab:***@db:5432/ticketlab): down");
    expect_masked("host=db user=lab password=s3cret dbname=x", "host=db user=lab password=*** dbname=x");
    expect_masked("postgresql://lab@127.0.0.1:15432/ticketlab", "postgresql://lab@127.0.0.1:15432/ticketlab");
    expect_masked("redis://127.0.0.1:6379 and postgresql://u:p@h/d",
                  "redis://127.0.0.1:6379 and postgresql://u:***@h/d");
    expect_masked("a://u:p1@h b://v:p2@h", "a://u:***@h b://v:***@h");
    expect_masked("no secret here", "no secret here");
    expect_masked("", "");
}

/* A small buffer is filled and terminated, never overrun. */
static void test_mask_secrets_truncates(void **state)
{
    char out[8];

    (void)state;
    lab_mask_secrets("postgresql://lab:secret@h", out, sizeof out);
    assert_int_equal(strlen(out), 7);
    lab_mask_secrets("password=abcdef", out, sizeof out);
    assert_int_equal(strlen(out), 7);
    assert_null(strstr(out, "abc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_secrets),
        cmocka_unit_test(test_mask_secrets_truncates),
    };
    return cmocka_run_group_tests_name("lab", tests, NULL, NULL);
}
