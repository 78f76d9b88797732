/* wire.h -- the bytes on the wire: just enough HTTP/1.1 and JSON to read
 * the lab's answers.
 *
 * The response parser is incremental and allocation-free: the connection
 * reads into the space the parser offers, then tells it how many bytes came.
 * It reads the status line, Content-Length and Connection, and keeps the
 * body (its first HTTP_BUF_BYTES minus the headers, which is all of any
 * answer of the lab) so that json_pick can find "status" in it.
 *
 * Not supported, answered HTTP_BAD: chunked bodies, 1xx answers, headers
 * longer than the buffer. A body without Content-Length ends at close. */
#ifndef HARNESS_WIRE_H
#define HARNESS_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_BUF_BYTES 4096
#define HTTP_SPILL_BYTES 1024   /* reused for the tail of an over-long body */

enum http_progress {
    HTTP_MORE,   /* the response is not complete yet */
    HTTP_DONE,   /* one whole response is in */
    HTTP_BAD,    /* not a response we can read: count a protocol error */
};

struct http_response {
    size_t len;               /* bytes held in buf */
    size_t body_off;          /* where the body starts in buf, once headers_done */
    long long content_length; /* -1: the body ends when the server closes */
    long long body_bytes;     /* body bytes received, kept in buf or not */
    int status;               /* the status code, once headers_done */
    bool headers_done;
    bool keep_alive;          /* the server keeps the connection open after this */
    bool truncated;           /* the body was longer than buf: its tail is gone */
    char buf[HTTP_BUF_BYTES];
};

void http_response_reset(struct http_response *r);

/* Where the next read goes and how much fits; NULL when nothing fits. */
char *http_response_space(struct http_response *r, size_t *room);

/* N bytes were read into the space: parse what is new. */
enum http_progress http_response_feed(struct http_response *r, size_t n);

/* The server closed the connection: a body "until close" ends here. */
enum http_progress http_response_eof(struct http_response *r);

/* The body kept in the buffer. */
const char *http_response_body(const struct http_response *r, size_t *len);

/* json_pick_* find KEY in a flat JSON object (the lab's answers) and read
 * its value: a string (no escapes inside), a whole number, a boolean. */
bool json_pick_string(const char *json, size_t len, const char *key, char *out, size_t out_len);
bool json_pick_long(const char *json, size_t len, const char *key, long long *out);
bool json_pick_bool(const char *json, size_t len, const char *key, bool *out);

#endif
