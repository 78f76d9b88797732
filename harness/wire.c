/* wire.c -- reading HTTP/1.1 responses and picking fields out of JSON. */
#include "wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------
 * The header block
 * --------------------------------------------------------------------- */

/* has_token says whether TOKEN appears, in any case, in the LEN bytes at S:
 * "Connection: Keep-Alive, Upgrade" has keep-alive. */
static bool has_token(const char *s, size_t len, const char *token)
{
    size_t n = strlen(token);

    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(s + i, token, n) == 0)
            return true;
    return false;
}

/* header_is compares a header name, case-insensitively, as RFC 9110 says. */
static bool header_is(const char *name, size_t len, const char *wanted)
{
    return strlen(wanted) == len && strncasecmp(name, wanted, len) == 0;
}

/* parse_length reads a Content-Length value: digits only, and few enough of
 * them that no overflow is possible. */
static bool parse_length(const char *s, size_t len, long long *out)
{
    long long v = 0;

    if (len == 0 || len > 15)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* parse_status_line reads "HTTP/1.x NNN reason". HTTP/1.0 closes after
 * each answer unless it says otherwise; HTTP/1.1 keeps the connection. */
static bool parse_status_line(struct http_response *r, const char *line, size_t len)
{
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
        line[8] != ' ')
        return false;
    for (int i = 9; i < 12; i++)
        if (line[i] < '0' || line[i] > '9')
            return false;
    if (len > 12 && line[12] != ' ')
        return false;
    r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    r->keep_alive = line[7] == '1';
    return true;
}

/* parse_head reads the status line and the headers in buf[0 .. head_len),
 * every line ending in CRLF. Only three headers matter here; the others
 * are checked for shape and skipped. */
static bool parse_head(struct http_response *r, size_t head_len)
{
    const char *p = r->buf, *end = r->buf + head_len;
    const char *eol = memmem(p, head_len, "\r\n", 2);
    bool have_length = false;

    if (!eol || !parse_status_line(r, p, (size_t)(eol - p)))
        return false;
    for (p = eol + 2; p < end; p = eol + 2) {
        const char *colon, *value;
        size_t value_len;

        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol || !(colon = memchr(p, ':', (size_t)(eol - p))) || colon == p)
            return false;
        value = colon + 1;
        while (value < eol && (*value == ' ' || *value == '\t'))
            value++;
        value_len = (size_t)(eol - value);
        while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
            value_len--;
        if (header_is(p, (size_t)(colon - p), "content-length")) {
            long long n;
            if (!parse_length(value, value_len, &n) || (have_length && n != r->content_length))
                return false;
            r->content_length = n;
            have_length = true;
        } else if (header_is(p, (size_t)(colon - p), "transfer-encoding")) {
            if (!(value_len == 8 && strncasecmp(value, "identity", 8) == 0))
                return false;   /* chunked: not something the lab's services send */
        } else if (header_is(p, (size_t)(colon - p), "connection")) {
            if (has_token(value, value_len, "close"))
                r->keep_alive = false;
            else if (has_token(value, value_len, "keep-alive"))
                r->keep_alive = true;
        }
    }
    if (r->status < 200)
        return false;   /* we never send Expect: a 1xx is not for us */
    if (r->status == 204 || r->status == 304)
        r->content_length = 0;
    if (r->content_length < 0)
        r->keep_alive = false;   /* the body runs until the server closes */
    return true;
}

/* ------------------------------------------------------------------------
 * The incremental parser
 * --------------------------------------------------------------------- */

/* http_response_reset readies R for the next answer on the connection. The
 * buffer itself is not cleared: only the first len bytes are ever read. */
void http_response_reset(struct http_response *r)
{
    r->len = 0;
    r->body_off = 0;
    r->content_length = -1;
    r->body_bytes = 0;
    r->status = 0;
    r->headers_done = false;
    r->keep_alive = true;
    r->truncated = false;
}

/* kept_end is where the kept body ends once a long body has spilled. */
static size_t kept_end(const struct http_response *r)
{
    size_t end = sizeof r->buf - HTTP_SPILL_BYTES;
    return end < r->body_off ? r->body_off : end;
}

/* http_response_space offers the rest of the buffer. When a body outgrows
 * it, the last HTTP_SPILL_BYTES are given again and again: the body's start
 * (where "status" is) stays, the rest is counted and dropped. */
char *http_response_space(struct http_response *r, size_t *room)
{
    if (r->len == sizeof r->buf && r->headers_done) {
        r->len = kept_end(r);
        r->truncated = true;
    }
    *room = sizeof r->buf - r->len;
    return *room ? r->buf + r->len : NULL;
}

/* http_response_feed parses the N bytes just read. The header block is
 * searched for its blank line from where the last search stopped (minus 3
 * bytes, for a CRLFCRLF cut across two reads), so a response that arrives
 * a byte at a time still costs linear work. More bytes than the announced
 * body is an error: the attack never pipelines, so nobody sends them. */
enum http_progress http_response_feed(struct http_response *r, size_t n)
{
    size_t old = r->len;

    r->len += n;
    if (!r->headers_done) {
        size_t from = old >= 3 ? old - 3 : 0;
        const char *blank = memmem(r->buf + from, r->len - from, "\r\n\r\n", 4);

        if (!blank)
            return r->len == sizeof r->buf ? HTTP_BAD : HTTP_MORE;
        r->body_off = (size_t)(blank - r->buf) + 4;
        if (!parse_head(r, r->body_off - 2))
            return HTTP_BAD;
        r->headers_done = true;
        r->body_bytes = (long long)(r->len - r->body_off);
    } else {
        r->body_bytes += (long long)n;
    }
    if (r->content_length < 0)
        return HTTP_MORE;
    if (r->body_bytes == r->content_length)
        return HTTP_DONE;
    return r->body_bytes > r->content_length ? HTTP_BAD : HTTP_MORE;
}

/* http_response_eof: a close ends a body that had no length, and breaks
 * any other response. */
enum http_progress http_response_eof(struct http_response *r)
{
    r->keep_alive = false;
    return r->headers_done && r->content_length < 0 ? HTTP_DONE : HTTP_BAD;
}

const char *http_response_body(const struct http_response *r, size_t *len)
{
    size_t end = r->truncated ? kept_end(r) : r->len;

    if (!r->headers_done) {
        *len = 0;
        return r->buf;
    }
    *len = end - r->body_off;
    return r->buf + r->body_off;
}

/* ------------------------------------------------------------------------
 * JSON fields
 * --------------------------------------------------------------------- */

static bool json_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* json_value finds "KEY" followed by a colon and returns where its value
 * starts, or NULL. A match that is not followed by a colon (the key's name
 * used as a string value) is skipped. Good for the lab's flat objects, not
 * a JSON parser. */
static const char *json_value(const char *json, size_t len, const char *key)
{
    const char *p = json, *end = json + len;
    size_t key_len = strlen(key);

    while (p < end) {
        const char *q = memmem(p, (size_t)(end - p), key, key_len);
        const char *v;

        if (!q)
            return NULL;
        v = q + key_len;
        if (q > json && q[-1] == '"' && v < end && *v == '"') {
            for (v++; v < end && json_blank(*v); v++)
                ;
            if (v < end && *v == ':') {
                for (v++; v < end && json_blank(*v); v++)
                    ;
                if (v < end)
                    return v;
            }
        }
        p = q + 1;
    }
    return NULL;
}

/* json_pick_string copies a string value (without its quotes) into OUT;
 * false when the key is missing, the value is not a string or does not fit. */
bool json_pick_string(const char *json, size_t len, const char *key, char *out, size_t out_len)
{
    const char *end = json + len;
    const char *v = json_value(json, len, key);
    const char *close;
    size_t n;

    if (!v || *v != '"')
        return false;
    v++;
    close = memchr(v, '"', (size_t)(end - v));
    if (!close)
        return false;
    n = (size_t)(close - v);
    if (n >= out_len)
        return false;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

/* json_pick_long reads a whole number value (a JSON number with a fraction
 * or an exponent is refused rather than cut). */
bool json_pick_long(const char *json, size_t len, const char *key, long long *out)
{
    const char *end = json + len;
    const char *v = json_value(json, len, key);
    char digits[24];
    size_t n = 0;

    if (!v)
        return false;
    if (*v == '-')
        digits[n++] = *v++;
    while (v < end && *v >= '0' && *v <= '9' && n < sizeof digits - 1)
        digits[n++] = *v++;
    if (n == 0 || digits[n - 1] == '-' || (v < end && !json_blank(*v) && *v != ',' && *v != '}'))
        return false;
    digits[n] = '\0';
    errno = 0;
    *out = strtoll(digits, NULL, 10);
    return errno == 0;
}

bool json_pick_bool(const char *json, size_t len, const char *key, bool *out)
{
    const char *end = json + len;
    const char *v = json_value(json, len, key);

    if (!v)
        return false;
    if (end - v >= 4 && memcmp(v, "true", 4) == 0) {
        *out = true;
        return true;
    }
    if (end - v >= 5 && memcmp(v, "false", 5) == 0) {
        *out = false;
        return true;
    }
    return false;
}
