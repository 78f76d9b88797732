/* http.h -- the HTTP server of every phase, on libmicrohttpd.
 *
 * Two kinds of threads. A few libmicrohttpd polling threads read requests and
 * write answers and never block. Routes that touch PostgreSQL, Redis or Kafka
 * go through one shared backlog to the booking threads, cfg->threads of them,
 * each with its own connections (conns.h): whichever thread is free takes
 * the oldest request, so a burst spreads evenly over the pool. The routes and
 * their handlers live in api.c. */
#ifndef LAB_HTTP_H
#define LAB_HTTP_H

#include <stdarg.h>
#include <stdbool.h>
#include "clients/conns.h"

#define HTTP_BODY_MAX 4096        /* bigger bodies or query strings: 413 */
#define HTTP_PARAMS_MAX 16        /* more query parameters: 400 */
/* libmicrohttpd's memory per connection: the request line, headers and
 * parsed parameters of one request must fit, or libmicrohttpd itself answers
 * (414/431). 24 KB holds our largest legal request (4 KB query string, 16
 * parameters, ordinary headers) with room to spare, and caps a header block
 * near 24 KB; 10,000 idle keep-alive connections cost ~240 MB, not 2.5 GB
 * (docs/architecture.md, "Memory and file descriptors"). */
#define HTTP_CONN_MEMORY (24 * 1024)
#define HTTP_CONN_MAX 20000       /* connections at most, fewer when the fd limit is lower */

struct http_request;              /* opaque: one request being answered */

/* What a handler answers: a status code and a JSON body. */
struct http_reply {
    int code;
    char body[1024];
    char location[160];           /* Location header when not empty (202) */
};

typedef void http_handler(const struct service *svc, struct http_request *req,
                          struct http_reply *reply);

/* http_arg returns query parameter NAME, or NULL. */
const char *http_arg(struct http_request *req, const char *name);

/* http_header returns request header NAME, or NULL. */
const char *http_header(struct http_request *req, const char *name);

/* http_json fills REPLY with CODE and a printf-formatted JSON body. */
void http_json(struct http_reply *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* http_error answers {"status":"error","error":KIND,"reason":...}. */
/* http_nothing_done adds "outcome":"none" to an error reply whose request
 * was not done at all (docs/faults.md). */
void http_nothing_done(struct http_reply *reply);

void http_error(struct http_reply *reply, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A front step runs on the polling thread before a request joins the
 * backlog: true when it answered REPLY itself (the request never waits for a
 * booking thread), false to pass the request on. It may leave a note for the
 * handler (http_note). It must not wait on anything but one short round trip. */
typedef bool http_front(const struct service *svc, struct http_request *req,
                        struct http_reply *reply);

/* http_note is a request's scratch line, empty at first, HTTP_NOTE_MAX bytes:
 * what a front step tells the handler that runs later on a booking thread. */
#define HTTP_NOTE_MAX 96
char *http_note(struct http_request *req);

/* One route: METHOD on PATH goes to HANDLER, on a booking thread unless
 * QUICK: a quick handler needs no PostgreSQL, Redis or Kafka connection and
 * runs on the polling thread. FRONT, when set, runs first on the polling thread.
 * UNDO, when set, runs instead of HANDLER for a request that FRONT passed but
 * that is answered 503 without being run (the backlog full, the service
 * stopping, a wait too long): it gives back what FRONT took. */
struct http_route {
    const char *method;
    const char *path;
    http_handler *handler;
    bool quick;
    http_front *front;
    http_handler *undo;
};

struct http_server;               /* opaque: the daemon, the backlog, the booking threads */

/* http_start starts cfg->threads booking threads and listens on the
 * configured address, serving ROUTES (terminated by a zeroed entry). NULL on
 * failure. */
struct http_server *http_start(const struct service *svc, const struct http_route *routes);

/* http_stop answers the requests still in the backlog with 503, lets the booking threads
 * finish the ones they hold, joins them, and stops the daemon. */
void http_stop(struct http_server *s);

#endif
