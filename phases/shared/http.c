/* http.c -- requests in, JSON out: the libmicrohttpd plumbing.
 *
 * The access handler is called several times per request: first with the
 * headers (we set up per-request state), then once per piece of body (we
 * only count it: no route takes a body), then once with nothing left, when
 * we route and answer. Every answer, errors included, is JSON. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_request {
    struct MHD_Connection *conn;
    size_t body_len;              /* bytes of body received (and dropped) */
};

struct http_server {
    const struct service *svc;
    const struct http_route *routes;
};

/* MHD keeps a pointer to this for the daemon's life. */
static struct http_server http_server;

/* ---------------------------------------------------------------------- */
/* Building replies                                                         */
/* ---------------------------------------------------------------------- */

const char *http_arg(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void http_json(struct http_reply *reply, int code, const char *fmt, ...)
{
    va_list ap;

    reply->code = code;
    va_start(ap, fmt);
    vsnprintf(reply->body, sizeof reply->body, fmt, ap);
    va_end(ap);
}

/* http_error's reason is made by our own code from checked values, so it
 * needs no JSON escaping; it must never echo raw user input. */
void http_error(struct http_reply *reply, int code, const char *kind, const char *fmt, ...)
{
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    http_json(reply, code, "{\"status\":\"error\",\"error\":\"%s\",\"reason\":\"%s\"}", kind,
              reason);
}

/* http_send queues REPLY on the connection. */
static enum MHD_Result http_send(struct MHD_Connection *conn, const struct http_reply *reply,
                                 const char *allow)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    size_t len = strlen(reply->body);
    char *body = malloc(len + 1);

    if (!body)
        return MHD_NO;
    memcpy(body, reply->body, len);
    body[len] = '\n';
    resp = MHD_create_response_from_buffer(len + 1, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (reply->location[0])
        MHD_add_response_header(resp, "Location", reply->location);
    if (allow)
        MHD_add_response_header(resp, "Allow", allow);
    ret = MHD_queue_response(conn, (unsigned)reply->code, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---------------------------------------------------------------------- */
/* Routing                                                                  */
/* ---------------------------------------------------------------------- */

/* Adds up the size of the query string as parsed, to refuse huge ones. */
static enum MHD_Result http_count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    size_t *total = cls;

    (void)kind;
    *total += strlen(key) + (value ? strlen(value) : 0) + 2;
    return MHD_YES;
}

/* http_route finds the handler of METHOD PATH. A known path with another
 * method gives 405 and the method it takes in ALLOW; no path gives 404. */
static void http_route(struct http_request *req, const char *method, const char *url,
                       struct http_reply *reply, const char **allow)
{
    const struct http_route *r;
    size_t query_len = 0;

    *allow = NULL;
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, http_count_arg, &query_len);
    if (strlen(url) + query_len > HTTP_BODY_MAX || req->body_len > HTTP_BODY_MAX) {
        http_error(reply, 413, "too_large", "request larger than %d bytes", HTTP_BODY_MAX);
        return;
    }
    for (r = http_server.routes; r->path; r++) {
        if (strcmp(r->path, url) != 0)
            continue;
        if (strcmp(r->method, method) == 0) {
            r->handler(http_server.svc, req, reply);
            return;
        }
        *allow = r->method;
    }
    if (*allow)
        http_error(reply, 405, "method_not_allowed", "use %s on this path", *allow);
    else
        http_error(reply, 404, "not_found", "no such path; see GET /healthz and docs/");
}

/* The access handler: see the comment at the top of the file. */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    struct http_request *req = *con_cls;
    struct http_reply reply = { 0 };
    const char *allow;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (!req) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX) {
            http_error(&reply, 413, "too_large", "body larger than %d bytes", HTTP_BODY_MAX);
            return http_send(conn, &reply, NULL);
        }
        if (!(req = calloc(1, sizeof *req)))
            return MHD_NO;
        req->conn = conn;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        req->body_len += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    http_route(req, method, url, &reply, &allow);
    return http_send(conn, &reply, allow);
}

/* Frees the per-request state when MHD is done with a request. */
static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* ---------------------------------------------------------------------- */
/* Start and stop                                                           */
/* ---------------------------------------------------------------------- */

struct MHD_Daemon *http_start(const struct service *svc, const struct http_route *routes)
{
    const struct config *cfg = svc->cfg;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(cfg->http_port) };

    if (inet_pton(AF_INET, cfg->http_host, &addr.sin_addr) != 1) {
        lab_log("http: '%s' is not an IPv4 address", cfg->http_host);
        return NULL;
    }
    http_server.svc = svc;
    http_server.routes = routes;
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
                            (uint16_t)cfg->http_port, NULL, NULL, http_access, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
                            MHD_OPTION_END);
}

void http_stop(struct MHD_Daemon *d)
{
    if (d)
        MHD_stop_daemon(d);
}
