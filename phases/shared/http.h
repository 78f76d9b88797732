/* http.h -- the HTTP server of every phase, on libmicrohttpd.
 *
 * libmicrohttpd runs a pool of threads, each with its own epoll set of
 * keep-alive connections; a request is handled on the thread that read it,
 * so a handler may block on PostgreSQL (phases 2-4) without stopping the
 * others. The routes and their handlers live in api.c. */
#ifndef LAB_HTTP_H
#define LAB_HTTP_H

#include <stdarg.h>
#include <stdbool.h>
#include "worker.h"

#define HTTP_BODY_MAX 4096        /* bigger bodies or query strings: 413 */

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

/* http_json fills REPLY with CODE and a printf-formatted JSON body. */
void http_json(struct http_reply *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* http_error answers {"status":"error","error":KIND,"reason":...}. */
void http_error(struct http_reply *reply, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One route: METHOD on PATH goes to HANDLER. */
struct http_route {
    const char *method;
    const char *path;
    http_handler *handler;
};

/* http_start listens on the configured address with cfg->threads threads and
 * serves ROUTES (terminated by a zeroed entry). NULL on failure. */
struct MHD_Daemon *http_start(const struct service *svc, const struct http_route *routes);
void http_stop(struct MHD_Daemon *d);

#endif
