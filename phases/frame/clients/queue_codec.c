/* queue_codec.c -- the message format of the booking topic, pure: no
 * librdkafka here, so that it is unit-tested alone (tests/unit/test_queue_codec.c). */
#include "clients/queue.h"

#include <stdio.h>
#include <string.h>

/*-----------------------------------------------------------------------------
 * Message format
 *
 * One booking is one JSON object with three members, and a fourth, the
 * sale's generation, when the API knew it (every message since reset
 * isolation; a message without it decodes with generation 0):
 *     {"eventId":1,"userId":42,"requestId":"abc","generation":3}
 * The encoder writes it without blanks. The decoder accepts blanks between
 * tokens and the members in any order, but nothing else: no missing, unknown
 * or repeated member, no escapes in strings, no number JSON would not write
 * (leading zeros, signs, fractions), and nothing after the closing brace.
 * The payload handed over by librdkafka is not NUL-terminated, so the decoder
 * works on (buffer, length) through a cursor that never passes its end.
 *----------------------------------------------------------------------------*/

/* queue_encode writes B into BUF (of LEN bytes, NUL-terminated) and returns
 * the length of the JSON text, or -1 when B is not a valid booking (an id out
 * of range, a request id parse_request_id() refuses) or when BUF is too small.
 * Validating here keeps the request id safe to put between quotes unescaped. */
int queue_encode(const struct booking *b, char *buf, size_t len)
{
    int n;

    if (!b || !buf || b->event_id < 1 || b->event_id > PARSE_ID_MAX || b->user_id < 1 ||
        b->user_id > PARSE_ID_MAX || !memchr(b->request_id, '\0', sizeof b->request_id) ||
        !parse_request_id(b->request_id))
        return -1;
    if (b->generation < 0 || b->generation > PARSE_ID_MAX)
        return -1;
    if (b->generation > 0)
        n = snprintf(buf, len, "{\"eventId\":%lld,\"userId\":%lld,\"requestId\":\"%s\","
                     "\"generation\":%lld}", b->event_id, b->user_id, b->request_id,
                     b->generation);
    else
        n = snprintf(buf, len, "{\"eventId\":%lld,\"userId\":%lld,\"requestId\":\"%s\"}",
                     b->event_id, b->user_id, b->request_id);
    if (n < 0 || (size_t)n >= len)
        return -1;
    return n;
}

/* A read position in a payload: P moves towards END and is only ever
 * dereferenced while it is before END. */
struct cursor {
    const char *p;
    const char *end;
};

/* cursor_skip_blanks steps over the blanks JSON allows between tokens. */
static void cursor_skip_blanks(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* cursor_take consumes the character CH (after blanks) if it comes next. */
static bool cursor_take(struct cursor *c, char ch)
{
    cursor_skip_blanks(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* cursor_string reads a JSON string into OUT (size OUT_LEN, NUL-terminated).
 * Nothing this format carries needs an escape, so a backslash is refused,
 * and so is a control character or a string that does not fit. */
static bool cursor_string(struct cursor *c, char *out, size_t out_len)
{
    size_t n = 0;

    if (!cursor_take(c, '"'))
        return false;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '\\' || ch < 0x20 || n + 1 >= out_len)
            return false;
        out[n++] = (char)ch;
        c->p++;
    }
    if (c->p == c->end)
        return false;                  /* truncated inside the string */
    c->p++;                            /* the closing quote */
    out[n] = '\0';
    return true;
}

/* cursor_id reads an id: a run of digits without a leading zero, copied into
 * a small NUL-terminated buffer so that parse_id() (which wants a C string)
 * can judge its range. A run too long for any valid id is refused early. */
static bool cursor_id(struct cursor *c, long long *out)
{
    char digits[24];
    size_t n = 0;

    cursor_skip_blanks(c);
    if (c->p < c->end && *c->p == '0')
        return false;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (n + 1 >= sizeof digits)
            return false;
        digits[n++] = *c->p++;
    }
    digits[n] = '\0';
    return parse_id(digits, out);
}

/* queue_decode is the strict inverse of queue_encode: it fills B only when
 * the LEN bytes at BUF are exactly one well-formed booking. */
bool queue_decode(const char *buf, size_t len, struct booking *b)
{
    enum { HAVE_EVENT = 1, HAVE_USER = 2, HAVE_REQUEST = 4, HAVE_ALL = 7, HAVE_GENERATION = 8 };
    struct cursor c = { buf, buf + len };
    struct booking got;
    char key[16];
    int have = 0;

    if (!buf || !b || !cursor_take(&c, '{'))
        return false;
    memset(&got, 0, sizeof got);
    do {
        if (!cursor_string(&c, key, sizeof key) || !cursor_take(&c, ':'))
            return false;
        if (strcmp(key, "eventId") == 0 && !(have & HAVE_EVENT)) {
            if (!cursor_id(&c, &got.event_id))
                return false;
            have |= HAVE_EVENT;
        } else if (strcmp(key, "userId") == 0 && !(have & HAVE_USER)) {
            if (!cursor_id(&c, &got.user_id))
                return false;
            have |= HAVE_USER;
        } else if (strcmp(key, "requestId") == 0 && !(have & HAVE_REQUEST)) {
            if (!cursor_string(&c, got.request_id, sizeof got.request_id) ||
                !parse_request_id(got.request_id))
                return false;
            have |= HAVE_REQUEST;
        } else if (strcmp(key, "generation") == 0 && !(have & HAVE_GENERATION)) {
            if (!cursor_id(&c, &got.generation))
                return false;
            have |= HAVE_GENERATION;
        } else {
            return false;              /* unknown or repeated member */
        }
    } while (cursor_take(&c, ','));
    if (!cursor_take(&c, '}') || (have & HAVE_ALL) != HAVE_ALL)
        return false;
    cursor_skip_blanks(&c);
    if (c.p != c.end)
        return false;                  /* something after the object */
    *b = got;
    return true;
}
