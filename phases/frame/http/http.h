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

#define HTTP_BODY_MAX 4096        /* bigger bodies: 413 */
#define HTTP_URI_MAX 4096         /* longer request targets (path and query): 414 */
#define HTTP_HEADERS_MAX 8192     /* bigger header blocks: 431 */
#define HTTP_PARAMS_MAX 16        /* more query parameters: 400 */
/* libmicrohttpd's memory per connection: the request line, headers and
 * parsed parameters of one request must fit, or libmicrohttpd itself answers
 * 414 or 431 with its own HTML page. 24 KB holds our largest legal request
 * (4 KB target, 16 parameters, 8 KB of headers) with room to spare, so that
 * our own limits above answer JSON first, and caps a header block near
 * 24 KB; 10,000 idle keep-alive connections cost ~240 MB, not 2.5 GB
 * (docs/architecture.md, "Memory and file descriptors"). */
#define HTTP_CONN_MEMORY (24 * 1024)
#define HTTP_CONN_MAX 20000       /* connections at most, fewer when the fd limit is lower */

struct http_request;              /* opaque: one request being answered */

/* What a handler answers: a status code and a JSON body. http_reply_empty
 * starts one without clearing its buffers (one is made on every request). */
struct http_reply {
    int code;
    char body[1024];
    char location[160];           /* Location header when not empty (202) */
};
static inline void http_reply_empty(struct http_reply *reply)
{
    reply->code = 0;
    reply->body[0] = reply->location[0] = '\0';
}

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

/* A front step runs on the polling thread before anything else of a
 * route (booking/pipeline.c is the one there is). It answers in REPLY
 * (HTTP_ANSWERED), passes the request on to the route's handler on a
 * booking thread (HTTP_TO_BACKLOG), or keeps it (HTTP_KEPT): it called
 * http_suspend() and handed the request to another stage, which answers it
 * later with http_answer() or passes it on with http_backlog(). A front
 * step never waits for a backing service. */
enum http_front_result { HTTP_ANSWERED, HTTP_TO_BACKLOG, HTTP_KEPT };
typedef enum http_front_result http_front(const struct service *svc, struct http_request *req,
                                          struct http_reply *reply);

/* http_job / http_set_job: a request's state between its stages (a struct
 * booking_job of booking/pipeline.c). It belongs to the request from then
 * on, and is freed with free() when libmicrohttpd is done with it. */
void *http_job(struct http_request *req);
void http_set_job(struct http_request *req, void *job);

/* http_suspend keeps REQ's connection waiting for an answer from another
 * thread: false (with a 503 in REPLY) when the server is closing. */
bool http_suspend(struct http_request *req, struct http_reply *reply);

/* http_answer sends REPLY for a suspended request, from any thread. REQ
 * and its job may be freed as soon as it returns. */
void http_answer(struct http_request *req, const struct http_reply *reply);

/* http_backlog hands a suspended request to the booking threads, for its
 * route's handler. When the backlog is full or the server closing, the
 * request is answered 503 at once, its route's undo run. */
void http_backlog(struct http_request *req);

/* http_keep, called by a handler on a booking thread before it hands the
 * request on to another stage, which answers it: the booking thread sends
 * nothing, and touches the request no more. */
void http_keep(struct http_request *req);

/* One route: METHOD on PATH goes to HANDLER, on a booking thread unless
 * QUICK: a quick handler needs no PostgreSQL, Redis or Kafka connection and
 * runs on the polling thread. FRONT, when set, runs first on the polling thread.
 * UNDO, when set, runs instead of HANDLER for a request that FRONT passed
 * with a job but that is answered 503 without being run (the backlog full,
 * the service stopping, a wait too long): it gives back what FRONT took. */
struct http_route {
    const char *method;
    const char *path;
    http_handler *handler;
    bool quick;
    http_front *front;
    http_handler *undo;
};

struct http_server;               /* opaque: the daemon, the backlog, the booking threads */

/* http_start starts cfg->threads booking threads, each of which first runs
 * THREAD_START (when set: it opens the thread's connections, so that the
 * first burst does not wait for them), and listens on the configured
 * address, serving ROUTES (terminated by a zeroed entry). NULL on failure. */
struct http_server *http_start(const struct service *svc, const struct http_route *routes,
                               void (*thread_start)(const struct service *svc));

/* http_stop answers the requests still in the backlog with 503, lets the booking threads
 * finish the ones they hold, joins them, and stops the daemon. */
void http_stop(struct http_server *s);

#endif
