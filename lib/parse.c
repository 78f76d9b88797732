/* parse.c -- strict parsing of numbers, ids and addresses. */
#include "parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* parse_long accepts exactly what a person means by a number: optional '-',
 * digits, nothing else. strtoll alone would take " 12", "12abc" and "+12". */
bool parse_long(const char *s, long long min, long long max, long long *out)
{
    const char *p = s;
    char *end;
    long long v;

    if (!s || !*s)
        return false;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool parse_id(const char *s, long long *out)
{
    return parse_long(s, 1, PARSE_ID_MAX, out);
}

/* parse_request_id keeps request ids safe to echo in JSON and in logs. */
bool parse_request_id(const char *s)
{
    size_t n;

    if (!s)
        return false;
    n = strlen(s);
    if (n == 0 || n > PARSE_REQUEST_ID_MAX)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* parse_host_port splits "127.0.0.1:6379" at its last colon. */
bool parse_host_port(const char *s, char *host, int host_len, int *port)
{
    const char *colon;
    long long p;
    size_t n;

    if (!s || !(colon = strrchr(s, ':')))
        return false;
    n = (size_t)(colon - s);
    if (n == 0 || n >= (size_t)host_len || !parse_long(colon + 1, 1, 65535, &p))
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    *port = (int)p;
    return true;
}

int parse_fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

int parse_next_option(int argc, char **argv, int *i, bool (*known)(const char *name),
                      char *name, size_t name_len, const char **value, char *err,
                      size_t err_len)
{
    const char *arg = argv[*i], *eq;
    size_t len;

    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        return 1;
    if (strncmp(arg, "--", 2) != 0)
        return parse_fail(err, err_len, "unexpected argument '%s'", arg);
    arg += 2;
    eq = strchr(arg, '=');
    len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len == 0 || len >= name_len)
        return parse_fail(err, err_len, "unknown option '%s'", argv[*i]);
    memcpy(name, arg, len);
    name[len] = '\0';
    if (!known(name))
        return parse_fail(err, err_len, "unknown option --%s", name);
    if (eq)
        *value = eq + 1;
    else if (*i + 1 < argc)
        *value = argv[++*i];
    else
        return parse_fail(err, err_len, "--%s wants a value", name);
    return 0;
}

int parse_option_long(const char *name, const char *value, long long min, long long max,
                      long long *out, char *err, size_t err_len)
{
    if (!parse_long(value, min, max, out))
        return parse_fail(err, err_len, "--%s wants a whole number from %lld to %lld, not '%s'",
                          name, min, max, value ? value : "");
    return 0;
}
