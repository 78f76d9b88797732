/* test_secrets.c -- every way libpq accepts a password is masked in a log
 * line (lab_mask_secrets), the passwords a process was given are redacted
 * wherever they appear (secrets_redact_known), and the lab's own password
 * files are found only when the user said nothing else (secrets_pg_passfile,
 * secrets_redis_auth). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lab.h"
#include "secrets.h"

/* One line with a password, the password as it is written in the line
 * (every fragment of it is checked), and what must survive the masking. */
struct mask_case {
    const char *line;
    const char *secret;
    const char *kept;
};

static const struct mask_case mask_cases[] = {
    /* key = value, plain, with blanks around '=' */
    { "host=db user=lab password=S3cretPW1 dbname=x", "S3cretPW1", "dbname=x" },
    { "host=db password = S3cretPW4 dbname=x", "S3cretPW4", "dbname=x" },
    { "host=db password =S3cretPW5", "S3cretPW5", "host=db" },
    { "host=db password\t=\tS3cretPW6 port=5432", "S3cretPW6", "port=5432" },
    /* quoted, with blanks, with escaped quotes and backslashes */
    { "host=db password='S3cret PW3' dbname=x", "S3cret PW3", "dbname=x" },
    { "host=db password = 'S3c\\'ret PW7' dbname=x", "S3c\\'ret PW7", "dbname=x" },
    { "host=db password='S3c\\\\ret' dbname=x", "S3c\\\\ret", "dbname=x" },
    { "password='unterminated S3cretPW8", "unterminated S3cretPW8", "" },
    /* unquoted with a backslash-escaped blank, and quotes inside */
    { "password=S3c\\ retPW9 dbname=x", "S3c\\ retPW9", "dbname=x" },
    { "password=S3c\"ret'PW10 dbname=x", "S3c\"ret'PW10", "dbname=x" },
    /* URI user info: plain, with '"', percent-encoded, no user, odd characters */
    { "cannot reach PostgreSQL (postgresql://lab:S3cretPW11@db:5432/t): down", "S3cretPW11",
      "@db:5432/t): down" },
    { "postgresql://lab:S3c\"retPW12@db/t", "S3c\"retPW12", "@db/t" },
    { "postgresql://lab:S3c%22ret%20PW13@db/t", "S3c%22ret%20PW13", "@db/t" },
    { "postgres://:S3cretPW14@db/t", "S3cretPW14", "@db/t" },
    { "postgresql://lab:S3c ret?PW15:x@db/t", "S3c ret?PW15:x", "@db/t" },
    { "redis://:S3cretPW16@127.0.0.1:6379", "S3cretPW16", "127.0.0.1:6379" },
    /* URI query: plain, percent-encoded value and keyword, blanks, after '&' */
    { "postgresql://db/t?password=S3cretPW17", "S3cretPW17", "postgresql://db/t?" },
    { "postgresql://db/t?user=lab&password=S3c%27retPW18&sslmode=disable", "S3c%27retPW18",
      "&sslmode=disable" },
    { "postgresql://db/t?pass%77ord=S3cretPW19&port=5", "S3cretPW19", "&port=5" },
    { "postgresql://db/t?%50ASSWORD=S3cretPW20", "S3cretPW20", "postgresql://db/t?" },
    { "postgresql://db/t?password=S3cret PW21&x=1", "S3cret PW21", "&x=1" },
    /* an environment shown in a line */
    { "PGPASSWORD=S3cretPW22 psql", "S3cretPW22", " psql" },
    /* two in one line */
    { "a://u:S3cretPW23@h b=1 password=S3cretPW24 c=2", "S3cretPW23", "c=2" },
};

/* assert_no_fragment fails when any 4 consecutive bytes of SECRET appear in
 * OUT: a secret masked half-way is not masked. */
static void assert_no_fragment(const char *out, const char *secret, const char *line)
{
    size_t n = strlen(secret);

    for (size_t i = 0; i + 4 <= n; i++) {
        if (memmem(out, strlen(out), secret + i, 4))
            fail_msg("'%.4s' of the secret survives in '%s' (from '%s')", secret + i, out, line);
    }
}

/* Each form: the secret is gone, the rest of the line is kept, *** shows where. */
static void test_mask_every_form(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof mask_cases / sizeof mask_cases[0]; i++) {
        const struct mask_case *c = &mask_cases[i];
        char out[512];

        lab_mask_secrets(c->line, out, sizeof out);
        assert_no_fragment(out, c->secret, c->line);
        assert_non_null(strstr(out, "***"));
        if (!strstr(out, c->kept))
            fail_msg("'%s' lost '%s': '%s'", c->line, c->kept, out);
    }
    /* the second secret of a line is masked as well */
    {
        char out[256];
        lab_mask_secrets(mask_cases[sizeof mask_cases / sizeof mask_cases[0] - 1].line, out,
                         sizeof out);
        assert_null(strstr(out, "S3cretPW24"));
    }
}

/* What is no password stays as it is, word for word. */
static void test_mask_leaves_the_rest(void **state)
{
    const char *lines[] = {
        "postgresql://lab@127.0.0.1:15432/ticketlab",
        "redis://127.0.0.1:6379 and http://x/y",
        "fe_sendauth: no password supplied",
        "password authentication failed for user \"lab\"",
        "passfile=/x/.lab/pgpass host=db",
        "no secret here",
        "",
    };
    char out[256];

    (void)state;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        lab_mask_secrets(lines[i], out, sizeof out);
        assert_string_equal(out, lines[i]);
    }
}

/* A conninfo masked on its own, then put in a line that is masked again,
 * keeps what follows it: the reason of the error. */
static void test_mask_twice_keeps_the_reason(void **state)
{
    char conn[128], line[256], out[256];

    (void)state;
    lab_mask_secrets("postgresql://db/t?password=S3cret PW25", conn, sizeof conn);
    snprintf(line, sizeof line, "cannot reach PostgreSQL (%s): connection refused", conn);
    lab_mask_secrets(line, out, sizeof out);
    assert_string_equal(out, "cannot reach PostgreSQL (postgresql://db/t?password=***): "
                             "connection refused");
    lab_mask_secrets("host=db password='S3c ret'", conn, sizeof conn);
    snprintf(line, sizeof line, "cannot reach PostgreSQL (%s): connection refused", conn);
    lab_mask_secrets(line, out, sizeof out);
    assert_string_equal(out, "cannot reach PostgreSQL (host=db password=***): connection refused");
}

/* A small buffer is filled and terminated, never overrun, and never shows
 * the start of a secret. */
static void test_mask_truncates(void **state)
{
    char out[14];

    (void)state;
    lab_mask_secrets("password='S3cret PW26'", out, sizeof out);
    assert_true(strlen(out) < sizeof out);
    assert_null(strstr(out, "S3c"));
    lab_mask_secrets("postgresql://lab:S3cretPW27@h", out, sizeof out);
    assert_null(strstr(out, "S3c"));
}

/* The passwords given through the environment are redacted anywhere in a
 * line, even where no keyword announces them (libpq's "invalid
 * percent-encoded token" error quotes the raw token). */
static void test_redact_known(void **state)
{
    char line[256];

    (void)state;
    setenv("PGPASSWORD", "S3cretEnvPW", 1);
    setenv("LAB_REDIS_PASSWORD", "RedisS3cret", 1);
    setenv("LAB_PG", "postgresql://lab:S3c%zzret@db/t", 1);
    snprintf(line, sizeof line, "a S3cretEnvPW b RedisS3cret c \"S3c%%zzret\" d");
    secrets_redact_known(line);
    assert_string_equal(line, "a *** b *** c \"***\" d");
    setenv("LAB_PG", "host=db password='S3c ret%41X'", 1);
    snprintf(line, sizeof line, "x S3c ret%%41X y S3c retAX z");
    secrets_redact_known(line);
    assert_string_equal(line, "x *** y *** z");
    /* too short to redact without destroying the line */
    setenv("PGPASSWORD", "abc", 1);
    snprintf(line, sizeof line, "abc");
    secrets_redact_known(line);
    assert_string_equal(line, "abc");
    unsetenv("PGPASSWORD");
    unsetenv("LAB_REDIS_PASSWORD");
    unsetenv("LAB_PG");
}

/* The lab's passfile is used for the lab's default LAB_PG, only when the
 * user set no PGPASSFILE. */
static void test_pg_passfile(void **state)
{
    (void)state;
    unsetenv("PGPASSFILE");
    assert_string_equal(secrets_pg_passfile(LAB_PG_DEFAULT), LAB_PGPASSFILE_DEFAULT);
    assert_null(secrets_pg_passfile("postgresql://someone@elsewhere/db"));
    assert_null(secrets_pg_passfile(NULL));
    setenv("PGPASSFILE", "/tmp/mine", 1);
    assert_null(secrets_pg_passfile(LAB_PG_DEFAULT));
    setenv("PGPASSFILE", "", 1); /* empty counts as unset */
    assert_string_equal(secrets_pg_passfile(LAB_PG_DEFAULT), LAB_PGPASSFILE_DEFAULT);
    unsetenv("PGPASSFILE");
}

/* write_file puts TEXT into a new file under /tmp; its path goes in PATH. */
static void write_file(char *path, size_t len, const char *text)
{
    int fd;

    snprintf(path, len, "/tmp/test_secrets.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Redis: LAB_REDIS_PASSWORD first, then LAB_REDIS_PASSFILE, then the lab's
 * file for the lab's default address only; a file that cannot be read is
 * an error, a missing one means no password. */
static void test_redis_auth(void **state)
{
    char user[32], pass[32], err[256], path[64];

    (void)state;
    unsetenv("LAB_REDIS_PASSWORD");
    unsetenv("LAB_REDIS_USER");
    unsetenv("LAB_REDIS_PASSFILE");
    assert_int_equal(secrets_redis_auth("elsewhere:1", user, sizeof user, pass, sizeof pass, err,
                                        sizeof err), 0);

    write_file(path, sizeof path, "fromfile\nsecond line\n");
    setenv("LAB_REDIS_PASSFILE", path, 1);
    assert_int_equal(secrets_redis_auth("elsewhere:1", user, sizeof user, pass, sizeof pass, err,
                                        sizeof err), 1);
    assert_string_equal(pass, "fromfile");
    assert_string_equal(user, "");

    setenv("LAB_REDIS_PASSWORD", "fromenv", 1);
    setenv("LAB_REDIS_USER", "student1", 1);
    assert_int_equal(secrets_redis_auth("elsewhere:1", user, sizeof user, pass, sizeof pass, err,
                                        sizeof err), 1);
    assert_string_equal(pass, "fromenv");
    assert_string_equal(user, "student1");

    setenv("LAB_REDIS_PASSWORD", "far too long for a buffer of thirty-two bytes", 1);
    assert_int_equal(secrets_redis_auth("elsewhere:1", user, sizeof user, pass, sizeof pass, err,
                                        sizeof err), -1);
    assert_non_null(strstr(err, "too long"));
    unsetenv("LAB_REDIS_PASSWORD");
    unsetenv("LAB_REDIS_USER");

    /* unreadable: a folder stands for it (root reads any file) */
    setenv("LAB_REDIS_PASSFILE", "/", 1);
    assert_int_equal(secrets_redis_auth("elsewhere:1", user, sizeof user, pass, sizeof pass, err,
                                        sizeof err), -1);
    assert_non_null(strstr(err, "/"));

    setenv("LAB_REDIS_PASSFILE", "/nonexistent/redis.pass", 1);
    assert_int_equal(secrets_redis_auth(LAB_REDIS_DEFAULT, user, sizeof user, pass, sizeof pass,
                                        err, sizeof err), 0);
    unsetenv("LAB_REDIS_PASSFILE");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_every_form),
        cmocka_unit_test(test_mask_leaves_the_rest),
        cmocka_unit_test(test_mask_twice_keeps_the_reason),
        cmocka_unit_test(test_mask_truncates),
        cmocka_unit_test(test_redact_known),
        cmocka_unit_test(test_pg_passfile),
        cmocka_unit_test(test_redis_auth),
    };
    return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
