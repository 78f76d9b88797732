/* test_timeline.c -- the run over time (harness/timeline.c): the header,
 * the rows' seconds and counts as written, and a closed timeline that
 * ignores every call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "timeline.h"

/* read_all returns the whole file at PATH, NUL-terminated, or fails the
 * test; the caller frees it. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 4096);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* make_path names a fresh file in the temporary folder. */
static void make_path(char *out, size_t out_len)
{
    const char *dir = getenv("TMPDIR");

    snprintf(out, out_len, "%s/test_timeline.%ld.csv", dir && dir[0] ? dir : "/tmp",
             (long)getpid());
}

/* Rows are seconds since the start, with millisecond precision, and the
 * three counts as given, after the header. */
static void test_rows(void **state)
{
    struct timeline tl;
    char path[256], err[256];
    char *text;

    (void)state;
    make_path(path, sizeof path);
    assert_int_equal(timeline_open(&tl, path, err, sizeof err), 0);
    timeline_start(&tl, 5000000);
    timeline_row(&tl, 5000000, 0, 0, 0);
    timeline_row(&tl, 5250000, 224, 200, 3);
    timeline_row(&tl, 7734000, 500, 500, 500);
    assert_int_equal(timeline_close(&tl, err, sizeof err), 0);
    text = read_all(path);
    assert_string_equal(text, "t_s,finished,accepted,decided\n"
                              "0.000,0,0,0\n"
                              "0.250,224,200,3\n"
                              "2.734,500,500,500\n");
    free(text);
    unlink(path);
}

/* A clock reading before the start is written as 0 s, not as a huge
 * number from unsigned arithmetic. */
static void test_clock_before_start(void **state)
{
    struct timeline tl;
    char path[256], err[256];
    char *text;

    (void)state;
    make_path(path, sizeof path);
    assert_int_equal(timeline_open(&tl, path, err, sizeof err), 0);
    timeline_start(&tl, 9000000);
    timeline_row(&tl, 8000000, 1, 1, 1);
    assert_int_equal(timeline_close(&tl, err, sizeof err), 0);
    text = read_all(path);
    assert_string_equal(text, "t_s,finished,accepted,decided\n0.000,1,1,1\n");
    free(text);
    unlink(path);
}

/* Without a path the timeline stays closed: rows and close do nothing. */
static void test_no_path(void **state)
{
    struct timeline tl;
    char err[256];

    (void)state;
    assert_int_equal(timeline_open(&tl, "", err, sizeof err), 0);
    assert_null(tl.out);
    timeline_start(&tl, 1);
    timeline_row(&tl, 2, 1, 1, 1);
    assert_int_equal(timeline_close(&tl, err, sizeof err), 0);
}

/* A file that cannot be created is an error that names it. */
static void test_unwritable(void **state)
{
    struct timeline tl;
    char err[256] = "";

    (void)state;
    assert_int_equal(timeline_open(&tl, "/nonexistent-dir/t.csv", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/t.csv"));
    assert_null(tl.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_clock_before_start),
        cmocka_unit_test(test_no_path),
        cmocka_unit_test(test_unwritable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
