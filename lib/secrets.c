/* secrets.c -- passwords: masking them in log lines, finding the lab's own.
 *
 * The masking follows libpq's grammar, so that whatever libpq would read as
 * a password is what gets replaced: a URI's user info (scheme://user:PASS@),
 * a "password" keyword of a URI's query (?password=PASS&..., the keyword
 * itself possibly percent-encoded), and a key = value pair (blanks allowed
 * around '=', the value either 'single quoted, \' escaped' or running to
 * the next blank, a backslash escaping the next character). */
#include "secrets.h"
#include "lab.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The replacement of every secret. */
#define MASK "***"

/* mask_hex gives the value of hexadecimal digit C, -1 when C is none. */
static int mask_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* mask_keyword returns where the value starts when P starts the keyword
 * "password" (any case, each letter possibly percent-encoded as libpq
 * decodes a URI's query keywords), followed by optional blanks, '=' and
 * optional blanks; NULL otherwise. Any prefix counts (PGPASSWORD=, a
 * db_password=): masking too much is harmless, too little is not. */
static const char *mask_keyword(const char *p)
{
    for (const char *w = "password"; *w; w++) {
        int c;

        if (p[0] == '%' && mask_hex(p[1]) >= 0 && mask_hex(p[2]) >= 0) {
            c = mask_hex(p[1]) * 16 + mask_hex(p[2]);
            p += 3;
        } else {
            c = (unsigned char)*p++;
        }
        if (tolower(c) != *w)
            return NULL;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return NULL;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* mask_value_end returns the end of the value starting at V, read as libpq
 * reads it: a URI query's value (IN_QUERY) runs to the next '&' or '#'; a
 * quoted value to its closing quote, a backslash escaping the next
 * character; any other to the next blank, a backslash escaping the next
 * character. A line's end (newline) ends every value. */
static const char *mask_value_end(const char *v, bool in_query)
{
    const char *q = v;
    char after = v[strlen(MASK) > strlen(v) ? 0 : strlen(MASK)];

    /* already masked (a conninfo masked on its own, then put in a line):
     * keep what follows it, the reason of an error */
    if (strncmp(v, MASK, strlen(MASK)) == 0 &&
        (after == '\0' || after == ')' || after == '&' || isspace((unsigned char)after)))
        return v + strlen(MASK);
    if (in_query)
        return q + strcspn(q, "&#\n");
    if (*q == '\'') {
        for (q++; *q && *q != '\n'; q++) {
            if (*q == '\\' && q[1] && q[1] != '\n')
                q++;
            else if (*q == '\'')
                return q + 1;
        }
        return q; /* unterminated: the rest of the line */
    }
    while (*q && !isspace((unsigned char)*q)) {
        if (*q == '\\' && q[1] && q[1] != '\n')
            q++;
        q++;
    }
    return q;
}

/* mask_uri_password: when P is the "://" of a URI with a password, sets
 * FROM and TO around it and succeeds. As in libpq, the user info ends at
 * the first '@' before any '/', and the password follows its first ':'. */
static bool mask_uri_password(const char *p, const char **from, const char **to)
{
    const char *s = p + 3, *end = s + strcspn(s, "@/\n"), *colon;

    if (*end != '@')
        return false;
    colon = memchr(s, ':', (size_t)(end - s));
    if (!colon)
        return false;
    *from = colon + 1;
    *to = end;
    return true;
}

/* mask_next finds the first password in TEXT at or after P: it sets FROM
 * and TO around its value and succeeds, or fails when there is none. */
static bool mask_next(const char *text, const char *p, const char **from, const char **to)
{
    for (; *p; p++) {
        const char *v;

        if (p[0] == ':' && p[1] == '/' && p[2] == '/' && mask_uri_password(p, from, to))
            return true;
        if ((v = mask_keyword(p))) {
            bool in_query = p > text && (p[-1] == '?' || p[-1] == '&');
            *from = v;
            *to = mask_value_end(v, in_query);
            return true;
        }
    }
    return false;
}

/* lab_mask_secrets copies IN to OUT with each password found by mask_next
 * replaced by MASK; OUT is always terminated, and a value is either masked
 * whole or not copied at all when OUT is full. */
void lab_mask_secrets(const char *in, char *out, size_t len)
{
    size_t o = 0;
    const char *p = in, *from, *to;

    if (!len)
        return;
    while (*p && o + 1 < len) {
        bool found = mask_next(in, p, &from, &to);

        if (!found)
            from = to = p + strlen(p);
        while (p < from && o + 1 < len)
            out[o++] = *p++;
        if (!found || p < from)
            break;
        for (const char *m = MASK; *m && o + 1 < len; m++)
            out[o++] = *m;
        p = to;
    }
    out[o] = '\0';
}

/* redact_one replaces each occurrence of SECRET (N bytes, at least 4) in
 * LINE by MASK, in place: the line only gets shorter. */
static void redact_one(char *line, const char *secret, size_t n)
{
    char *hit;

    if (n < 4)
        return;
    while ((hit = memmem(line, strlen(line), secret, n))) {
        memcpy(hit, MASK, strlen(MASK));
        memmove(hit + strlen(MASK), hit + n, strlen(hit + n) + 1);
        line = hit + strlen(MASK);
    }
}

/* redact_span redacts the value FROM..TO as written (without the quotes of
 * a quoted value) and percent-decoded: libpq quotes the raw token in some
 * of its errors ("invalid percent-encoded token"). */
static void redact_span(char *line, const char *from, const char *to)
{
    char decoded[256];
    size_t n = 0;

    if (to - from >= 2 && *from == '\'' && to[-1] == '\'') {
        from++;
        to--;
    }
    redact_one(line, from, (size_t)(to - from));
    for (const char *c = from; c < to && n + 1 < sizeof decoded; c++) {
        if (*c == '%' && c + 2 < to && mask_hex(c[1]) >= 0 && mask_hex(c[2]) >= 0) {
            decoded[n++] = (char)(mask_hex(c[1]) * 16 + mask_hex(c[2]));
            c += 2;
        } else {
            decoded[n++] = *c;
        }
    }
    redact_one(line, decoded, n);
}

void secrets_redact_known(char *line)
{
    const char *pg = getenv("LAB_PG"), *from, *to;
    const char *env[] = { "PGPASSWORD", "LAB_REDIS_PASSWORD" };

    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        const char *v = getenv(env[i]);
        if (v)
            redact_one(line, v, strlen(v));
    }
    for (const char *p = pg ? pg : ""; *p && mask_next(pg, p, &from, &to); p = to) {
        redact_span(line, from, to);
        if (to == from)
            break;
    }
}

const char *secrets_pg_passfile(const char *conninfo)
{
    if (lab_env("PGPASSFILE", NULL) || !conninfo || strcmp(conninfo, LAB_PG_DEFAULT) != 0)
        return NULL;
    return LAB_PGPASSFILE_DEFAULT;
}

/* secrets_read_line reads the first line of PATH into OUT: 1 when it holds
 * a password, 0 when the file is missing or empty, -1 on an error. */
static int secrets_read_line(const char *path, char *out, size_t len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_len, "cannot read the Redis password file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    if (!fgets(out, (int)len, f)) {
        int failed = ferror(f) ? errno : 0;

        fclose(f);
        out[0] = '\0';
        if (failed) {
            snprintf(err, err_len, "cannot read the Redis password file %s: %s", path,
                     strerror(failed));
            return -1;
        }
        return 0;
    }
    fclose(f);
    n = strcspn(out, "\r\n");
    if (out[n] == '\0' && strlen(out) + 1 == len) {
        snprintf(err, err_len, "the Redis password in %s is too long (at most %zu bytes)", path,
                 len - 2);
        return -1;
    }
    out[n] = '\0';
    return out[0] ? 1 : 0;
}

int secrets_redis_auth(const char *host_port, char *user, size_t user_len, char *pass,
                       size_t pass_len, char *err, size_t err_len)
{
    const char *pw = lab_env("LAB_REDIS_PASSWORD", NULL);
    const char *file = lab_env("LAB_REDIS_PASSFILE", NULL);

    snprintf(user, user_len, "%s", lab_env("LAB_REDIS_USER", ""));
    pass[0] = '\0';
    if (pw) {
        if (strlen(pw) >= pass_len) {
            snprintf(err, err_len, "LAB_REDIS_PASSWORD is too long (at most %zu bytes)",
                     pass_len - 1);
            return -1;
        }
        memcpy(pass, pw, strlen(pw) + 1);
        return 1;
    }
    if (!file && host_port && strcmp(host_port, LAB_REDIS_DEFAULT) == 0)
        file = LAB_REDIS_PASSFILE_DEFAULT;
    return file ? secrets_read_line(file, pass, pass_len, err, err_len) : 0;
}
