/* http.c -- requests in, JSON out: the libmicrohttpd plumbing.
 *
 * The access handler is called several times per request: first with the
 * headers (we set up per-request state), then once per piece of body (we
 * only count it: no route takes a body), then once with nothing left, when
 * we route. Errors and quick routes are answered there and then. Any other
 * request is suspended and put in the backlog; a booking thread runs its
 * handler into the request's reply and resumes the connection, and libmicrohttpd calls
 * the access handler once more, which sends that reply. Every answer,
 * errors included, is JSON, but for the few that libmicrohttpd gives
 * before the access handler runs (docs/architecture.md lists them). */
#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include "http/http_accept.h"
#include "parse.h"

#define HTTP_POLL_THREADS 2       /* libmicrohttpd's threads: they never block */
#define HTTP_BACKLOG_MAX 4096     /* requests waiting for a booking thread; more get 503 */

struct http_request {
    struct MHD_Connection *conn;
    size_t body_len;              /* bytes of body received (and dropped) */
    const struct http_route *route;   /* what the booking thread runs */
    struct http_reply reply;      /* what the booking thread answered */
    atomic_bool answered;         /* reply is filled in: send it */
    bool headers_seen;            /* the access handler's first call is past */
    int query_refused;            /* http_uri_seen refused the target: 400 (too many
                                     parameters) or 414 (too long) */
    void *job;                    /* the route's state between stages (http_set_job) */
    struct http_server *server;   /* for http_backlog and http_answer from other threads */
    struct http_request *next;    /* in the backlog */
    uint64_t queued_us;           /* when it joined the backlog */
};

struct http_server {
    const struct service *svc;
    const struct http_route *routes;
    struct MHD_Daemon *daemon;
    struct http_acceptor *acceptor;   /* our listening socket (http_accept.h) */
    pthread_mutex_t lock;         /* guards the backlog and closing */
    pthread_cond_t ready;         /* a request joined the backlog, or closing was set */
    void (*thread_start)(const struct service *svc);
    struct http_request *head, *tail;
    size_t waiting;               /* requests in the backlog */
    size_t suspended;             /* requests waiting for an answer from another thread */
    pthread_cond_t drained;       /* closing, and suspended fell to 0 */
    bool closing;                 /* http_stop has begun: take nothing more */
    int threads_started;
    pthread_t threads[];          /* cfg->threads booking threads */
};

/* ---------------------------------------------------------------------- */
/* Building replies                                                         */
/* ---------------------------------------------------------------------- */

/* What http_arg looks for among the query parameters, and what it found. */
struct arg_find {
    const char *name;
    const char *value;
    bool found;
};

/* http_find_arg is the iterator of http_arg: it stops at the parameter whose
 * name is NAME byte for byte. */
static enum MHD_Result http_find_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    struct arg_find *f = cls;

    (void)kind;
    (void)key_size;
    (void)value_size;
    if (strcmp(key, f->name) != 0)
        return MHD_YES;
    f->value = value;
    f->found = true;
    return MHD_NO;
}

/* http_arg returns query parameter NAME, its name compared exactly:
 * libmicrohttpd's own lookup ignores case, and would read "EVENTID=2" as
 * eventId. A name given twice in any case never gets here (http_route
 * answers 400), so the first match is the only one. */
const char *http_arg(struct http_request *req, const char *name)
{
    struct arg_find f = { .name = name };

    MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, http_find_arg, &f);
    return f.found ? f.value : NULL;
}

const char *http_header(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void *http_job(struct http_request *req)
{
    return req->job;
}

void http_set_job(struct http_request *req, void *job)
{
    req->job = job;
}

/* Set by http_keep on the booking thread whose handler handed its request
 * on. A flag of the thread, not of the request: once handed on, the
 * request may be answered and freed before the handler returns. */
static _Thread_local bool http_kept;

void http_keep(struct http_request *req)
{
    (void)req;
    http_kept = true;
}

void http_json(struct http_reply *reply, int code, const char *fmt, ...)
{
    va_list ap;

    reply->code = code;
    va_start(ap, fmt);
    vsnprintf(reply->body, sizeof reply->body, fmt, ap);
    va_end(ap);
}

/* http_error answers {"status":"error","error":KIND,"reason":...}. A reason
 * may quote what the client sent, so every character that would break the
 * JSON string (quote, backslash, control character) is replaced by '?'. */
void http_error(struct http_reply *reply, int code, const char *kind, const char *fmt, ...)
{
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    for (char *c = reason; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '?';
    http_json(reply, code, "{\"status\":\"error\",\"error\":\"%s\",\"reason\":\"%s\"}", kind,
              reason);
}

/* http_nothing_done adds "outcome":"none" to an error reply: the service
 * guarantees that nothing of the request was done, so a client (and the
 * checker, docs/faults.md) may count it as failed rather than unknown. */
void http_nothing_done(struct http_reply *reply)
{
    size_t n = strlen(reply->body);
    static const char field[] = ",\"outcome\":\"none\"}";

    if (n > 0 && reply->body[n - 1] == '}' && n - 1 + sizeof field <= sizeof reply->body)
        memcpy(reply->body + n - 1, field, sizeof field);
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

/* What http_scan_arg learns of the query string: its size, to refuse a huge
 * one with 414, and whether a parameter comes twice (which value would be
 * meant?), there are too many, or one holds a control character (%00 would
 * cut a value short: "zz%00cd" read as "zz"), to refuse them with 400. */
struct query_scan {
    size_t bytes;
    int count;
    const char *keys[HTTP_PARAMS_MAX];
    const char *twice;            /* the first key seen twice, or NULL */
    bool control;                 /* a key or value holds a byte below 0x20 or 0x7f */
};

/* http_has_control: any control byte in the N bytes at S (NUL included). */
static bool http_has_control(const char *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

static enum MHD_Result http_scan_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    struct query_scan *q = cls;

    (void)kind;
    q->bytes += key_size + value_size + 2;
    if (http_has_control(key, key_size) || http_has_control(value, value_size))
        q->control = true;
    /* a name given twice in any case ("EVENTID=2&eventId=1") is refused:
     * http_arg reads names exactly, but a proxy or a client library that
     * ignores case would read the other value */
    for (int i = 0; i < q->count && i < HTTP_PARAMS_MAX && !q->twice; i++)
        if (strcasecmp(q->keys[i], key) == 0)
            q->twice = q->keys[i];
    if (q->count < HTTP_PARAMS_MAX)
        q->keys[q->count] = key;
    q->count++;
    return MHD_YES;
}

/* http_route finds the route of METHOD PATH. A quick route is answered at
 * once and any other is returned, for a booking thread, unless its front step
 * answered it. A known path with another
 * method gives 405 and the method it takes in ALLOW; no path gives 404. */
static const struct http_route *http_route(struct http_server *s, struct http_request *req,
                                           const char *method, const char *url,
                                           struct http_reply *reply, const char **allow,
                                           bool *kept)
{
    const struct http_route *r;
    struct query_scan q = { 0 };

    *allow = NULL;
    *kept = false;
    if (req->query_refused == 414) {
        http_error(reply, 414, "uri_too_long", "request target longer than %d bytes",
                   HTTP_URI_MAX);
        return NULL;
    }
    if (req->query_refused) {
        http_error(reply, 400, "bad_request", "more than %d query parameters", HTTP_PARAMS_MAX);
        return NULL;
    }
    if (req->body_len > HTTP_BODY_MAX) {          /* a chunked body: no length said first */
        http_error(reply, 413, "too_large", "body larger than %d bytes", HTTP_BODY_MAX);
        return NULL;
    }
    MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, http_scan_arg, &q);
    if (strlen(url) + q.bytes > HTTP_URI_MAX) {
        http_error(reply, 414, "uri_too_long", "request target longer than %d bytes",
                   HTTP_URI_MAX);
        return NULL;
    }
    if (q.count > HTTP_PARAMS_MAX) {
        http_error(reply, 400, "bad_request", "more than %d query parameters", HTTP_PARAMS_MAX);
        return NULL;
    }
    if (q.twice) {
        http_error(reply, 400, "bad_request", "parameter %.64s given more than once", q.twice);
        return NULL;
    }
    if (q.control) {
        http_error(reply, 400, "bad_request", "a parameter holds a control character");
        return NULL;
    }
    for (r = s->routes; r->path; r++) {
        if (strcmp(r->path, url) != 0)
            continue;
        /* HEAD is GET without the body (libmicrohttpd leaves the body out) */
        if (strcmp(r->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            if (!r->quick) {
                req->route = r;           /* for a later http_backlog */
                switch (r->front ? r->front(s->svc, req, reply) : HTTP_TO_BACKLOG) {
                case HTTP_TO_BACKLOG:
                    return r;
                case HTTP_KEPT:
                    *kept = true;
                    return NULL;
                default:
                    return NULL;
                }
            }
            r->handler(s->svc, req, reply);
            return NULL;
        }
        *allow = strcmp(r->method, "GET") == 0 ? "GET, HEAD" : r->method;
    }
    if (*allow)
        http_error(reply, 405, "method_not_allowed", "use %s on this path", *allow);
    else
        http_error(reply, 404, "not_found", "no such path; see GET /healthz and docs/");
    return NULL;
}

/* What http_scan_header learns of the header block: the framing headers,
 * its size, and whether libmicrohttpd read a line that a proxy in front
 * might read otherwise. */
struct framing_scan {
    int content_lengths;          /* Content-Length headers */
    const char *first_length;     /* the first one's value */
    bool lengths_differ;          /* two of them disagree */
    bool transfer_encoding;       /* a Transfer-Encoding header */
    const char *coding;           /* its value when it is not "chunked" */
    const char *bad_name;         /* a header name that is no token, or NULL */
    bool folded;                  /* a header continued on the next line (obs-fold) */
    size_t bytes;                 /* names and values, with ": " and CRLF each */
};

/* http_token_char: C may appear in a header name (RFC 9110 5.6.2's tchar). */
static bool http_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* http_header_folded tells whether libmicrohttpd 0.9.75 joined a header line
 * with the line after it (obs-fold: a line starting with a space or a tab,
 * RFC 9112 5.2). It reads a header in place, in the line it received: the
 * name, the NUL that replaced the colon, blanks, the value. For a folded
 * line it copies the name elsewhere and appends the next line to it
 * ("Transfer-Encoding:\r\n chunked" becomes a header named
 * "Transfer-Encodingchunked"), so the value no longer follows the name.
 * Only the bytes between the two are read, once they are known to lie in
 * order within the connection's memory, and only up to the first one that
 * is not blank. Every test request would fail at once if a later libmicrohttpd
 * copied headers, so this can not go wrong silently. */
static bool http_header_folded(const char *key, size_t key_size, const char *value)
{
    uintptr_t from = (uintptr_t)key + key_size + 1, to = (uintptr_t)value;

    if (!value || to < from || to - from > HTTP_CONN_MEMORY)
        return true;
    for (const char *p = key + key_size + 1; p < value; p++)
        if (*p != ' ' && *p != '\t')
            return true;
    return false;
}

static enum MHD_Result http_scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        size_t key_size, const char *value, size_t value_size)
{
    struct framing_scan *f = cls;

    (void)kind;
    f->bytes += key_size + value_size + 4;
    /* "Transfer-Encoding : chunked" or a vertical tab in a name is no
     * header we know, but a proxy might trim it to one */
    for (size_t i = 0; i < key_size && !f->bad_name; i++)
        if (!http_token_char((unsigned char)key[i]))
            f->bad_name = key;
    if (key_size == 0 && !f->bad_name)
        f->bad_name = key;
    if (http_header_folded(key, key_size, value))
        f->folded = true;
    if (strcasecmp(key, "Content-Length") == 0) {
        if (f->content_lengths++ == 0)
            f->first_length = value;
        else if (strcmp(f->first_length, value ? value : "") != 0)
            f->lengths_differ = true;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding = true;
        if (!value || strcasecmp(value, "chunked") != 0)
            f->coding = value ? value : "";
    }
    return MHD_YES;
}

/* http_framing refuses a request whose body length could be read two ways
 * (RFC 9112 6.3): Content-Length with Transfer-Encoding, or two different
 * Content-Lengths. A proxy in front might read one, we the other: request
 * smuggling. A body too large for any route is 413. False with REPLY
 * filled when the request is refused. */
static bool http_framing(struct MHD_Connection *conn, struct http_reply *reply)
{
    struct framing_scan f = { 0 };
    long long length;

    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, http_scan_header, &f);
    if (f.bytes > HTTP_HEADERS_MAX) {
        http_error(reply, 431, "headers_too_large", "headers larger than %d bytes",
                   HTTP_HEADERS_MAX);
        return false;
    }
    if (f.bad_name) {
        http_error(reply, 400, "bad_request", "header name '%.40s' holds whitespace or another "
                   "character no name may hold (RFC 9112 5.1, RFC 9110 5.6.2)", f.bad_name);
        return false;
    }
    if (f.folded) {
        http_error(reply, 400, "bad_request", "a header continues on the next line (obs-fold, "
                   "RFC 9112 5.2): send each header on one line");
        return false;
    }
    if (f.coding) {
        http_error(reply, 501, "not_implemented", "Transfer-Encoding %.64s is not supported: "
                   "send the body with Content-Length, or chunked", f.coding);
        return false;
    }
    if (f.content_lengths && f.transfer_encoding) {
        http_error(reply, 400, "bad_request", "Content-Length and Transfer-Encoding together");
        return false;
    }
    if (f.lengths_differ) {
        http_error(reply, 400, "bad_request", "two different Content-Length headers");
        return false;
    }
    if (f.first_length && !parse_long(f.first_length, 0, PARSE_ID_MAX, &length)) {
        http_error(reply, 400, "bad_request", "Content-Length is not a whole number");
        return false;
    }
    if (f.first_length && length > HTTP_BODY_MAX) {
        http_error(reply, 413, "too_large", "body larger than %d bytes", HTTP_BODY_MAX);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------- */
/* The backlog between the polling threads and the booking threads            */
/* ---------------------------------------------------------------------- */

/* http_not_run completes the 503 in REPLY of a request that is answered
 * without its handler running: the answer says that nothing was done, and
 * what the route's front step took for it goes back (ROUTE's undo). */
static void http_not_run(struct http_server *s, struct http_request *req,
                         const struct http_route *route, struct http_reply *reply)
{
    http_nothing_done(reply);
    if (req->job && route->undo)
        route->undo(s->svc, req, reply);
}

/* http_enqueue_locked adds a suspended REQ at the back of the backlog and
 * wakes a booking thread; the caller holds the lock. */
static void http_enqueue_locked(struct http_server *s, struct http_request *req)
{
    req->next = NULL;
    if (s->tail)
        s->tail->next = req;
    else
        s->head = req;
    s->tail = req;
    s->waiting++;
    pthread_cond_signal(&s->ready);
}

static void http_resume(struct http_request *req);

/* http_push suspends REQ's connection and adds REQ to the backlog for ROUTE's handler.
 * The suspension comes first, under the lock, so that no booking thread can resume
 * a connection before it is suspended. When the server is closing or the
 * backlog is full it fills REPLY with a 503 instead and returns false. */
static bool http_push(struct http_server *s, struct http_request *req,
                      const struct http_route *route, struct http_reply *reply)
{
    bool added = false;

    pthread_mutex_lock(&s->lock);
    if (s->closing) {
        http_error(reply, 503, "unavailable", "the service is shutting down");
    } else if (s->waiting >= HTTP_BACKLOG_MAX) {
        http_error(reply, 503, "unavailable", "more than %d requests waiting", HTTP_BACKLOG_MAX);
    } else {
        req->route = route;
        req->queued_us = lab_now_us();
        MHD_suspend_connection(req->conn);
        s->suspended++;
        http_enqueue_locked(s, req);
        added = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (!added)
        http_not_run(s, req, route, reply);   /* outside the lock: undo may call Redis */
    return added;
}

bool http_suspend(struct http_request *req, struct http_reply *reply)
{
    struct http_server *s = req->server;
    bool ok = false;

    pthread_mutex_lock(&s->lock);
    if (s->closing) {
        http_error(reply, 503, "unavailable", "the service is shutting down");
        http_nothing_done(reply);
    } else {
        MHD_suspend_connection(req->conn);
        s->suspended++;
        ok = true;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void http_backlog(struct http_request *req)
{
    struct http_server *s = req->server;
    const struct http_route *route = req->route;
    bool added = false;

    pthread_mutex_lock(&s->lock);
    if (s->closing) {
        http_error(&req->reply, 503, "unavailable", "the service is shutting down");
    } else if (s->waiting >= HTTP_BACKLOG_MAX) {
        http_error(&req->reply, 503, "unavailable", "more than %d requests waiting",
                   HTTP_BACKLOG_MAX);
    } else {
        req->queued_us = lab_now_us();
        http_enqueue_locked(s, req);
        added = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (!added) {
        http_not_run(s, req, route, &req->reply);
        http_resume(req);
    }
}

/* http_pop waits for the oldest request of the backlog; NULL once closing. */
static struct http_request *http_pop(struct http_server *s)
{
    struct http_request *req;

    pthread_mutex_lock(&s->lock);
    while (!s->head && !s->closing)
        pthread_cond_wait(&s->ready, &s->lock);
    req = s->closing ? NULL : s->head;
    if (req) {
        s->head = req->next;
        if (!s->head)
            s->tail = NULL;
        s->waiting--;
    }
    pthread_mutex_unlock(&s->lock);
    return req;
}

/* http_resume hands REQ back to its polling thread, which sends the reply.
 * REQ may be freed as soon as this returns: the caller must let go of it. */
static void http_resume(struct http_request *req)
{
    struct http_server *s = req->server;

    atomic_store_explicit(&req->answered, true, memory_order_release);
    MHD_resume_connection(req->conn);
    pthread_mutex_lock(&s->lock);
    if (--s->suspended == 0 && s->closing)
        pthread_cond_broadcast(&s->drained);
    pthread_mutex_unlock(&s->lock);
}

void http_answer(struct http_request *req, const struct http_reply *reply)
{
    req->reply = *reply;
    http_resume(req);
}

/* A booking thread runs the backlog's requests until the server closes. Its
 * connections (conns_self) are made on first use and closed when the
 * thread returns. The handler reads the query string while the connection
 * is suspended, when libmicrohttpd leaves it alone. */
static void *http_booking_thread(void *arg)
{
    struct http_server *s = arg;
    struct http_request *req;

    /* An asynchronous phase promises an answer within --queue-timeout-ms
     * (docs/faults.md): a request that already waited that long for a
     * booking thread (Kafka down, every thread waiting for an ack) is
     * answered without being run. The synchronous phases queue on the row
     * lock by design, and keep every request. */
    uint64_t limit_us = s->svc->queue ? (uint64_t)s->svc->cfg->queue_timeout_ms * 1000u : 0;

    if (s->thread_start)
        s->thread_start(s->svc);

    while ((req = http_pop(s))) {
        if (limit_us && lab_now_us() - req->queued_us > limit_us) {
            http_error(&req->reply, 503, "unavailable", "waited more than %d ms for a booking "
                       "thread", s->svc->cfg->queue_timeout_ms);
            http_not_run(s, req, req->route, &req->reply);
        } else {
            http_kept = false;
            req->route->handler(s->svc, req, &req->reply);
            if (http_kept)
                continue;              /* another stage answers it; REQ may be gone */
        }
        http_resume(req);
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Answering a request                                                      */
/* ---------------------------------------------------------------------- */

/* http_uri_seen is libmicrohttpd's URI callback: it runs once per request,
 * on the raw request target, before libmicrohttpd parses the query string
 * into the connection's memory pool. Each parameter costs that pool about
 * 56 bytes, so 1000 short parameters would not fit in HTTP_CONN_MEMORY and
 * libmicrohttpd would drop the connection unanswered. A query string with
 * more parameters than any route takes, or a target longer than
 * HTTP_URI_MAX, is noted and made one parameter here, so that it costs one
 * record and the access handler answers 400 or 414. The request's state
 * starts here too. */
static void *http_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_request *req = calloc(1, sizeof *req);
    char *query = strchr(uri, '?');
    int params = 1;

    if (!req)
        return NULL;
    req->conn = conn;
    req->server = cls;
    for (const char *p = query; p && *p; p++)
        params += *p == '&';
    if (strlen(uri) > HTTP_URI_MAX)
        req->query_refused = 414;
    else if (params > HTTP_PARAMS_MAX)
        req->query_refused = 400;
    /* libmicrohttpd has found the '?' already; what it has not done is
     * split the rest at each '&'. With the '&'s gone it parses one
     * parameter. The buffer is the connection's own and writable. */
    if (query && req->query_refused)
        for (char *p = query; *p; p++)
            if (*p == '&')
                *p = '_';
    return req;
}

/* The access handler: see the comment at the top of the file. */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    struct http_reply reply;
    const struct http_route *route;
    const char *allow;
    bool kept;

    (void)version;
    (void)upload_data;
    http_reply_empty(&reply);
    if (!req || !req->headers_seen) {
        if (!http_framing(conn, &reply))
            return http_send(conn, &reply, NULL);
        if (!req && !(req = calloc(1, sizeof *req)))
            return MHD_NO;
        req->conn = conn;
        req->server = s;
        req->headers_seen = true;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        req->body_len += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (atomic_load_explicit(&req->answered, memory_order_acquire))
        return http_send(conn, &req->reply, NULL);      /* back from a booking thread */
    route = http_route(s, req, method, url, &reply, &allow, &kept);
    if (kept || (route && http_push(s, req, route, &reply)))
        return MHD_YES;
    return http_send(conn, &reply, allow);
}

/* Frees the per-request state when MHD is done with a request. */
static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    if (*con_cls)
        free(((struct http_request *)*con_cls)->job);
    free(*con_cls);
    *con_cls = NULL;
}

/* ---------------------------------------------------------------------- */
/* Start and stop                                                           */
/* ---------------------------------------------------------------------- */

/* http_start starts the booking threads before the daemon, so that nothing is
 * waiting with nobody to take it. */
struct http_server *http_start(const struct service *svc, const struct http_route *routes,
                               void (*thread_start)(const struct service *svc))
{
    const struct config *cfg = svc->cfg;
    struct http_server *s;

    if (!(s = calloc(1, sizeof *s + (size_t)cfg->threads * sizeof s->threads[0])))
        return NULL;
    s->svc = svc;
    s->routes = routes;
    s->thread_start = thread_start;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->ready, NULL);
    pthread_cond_init(&s->drained, NULL);
    for (; s->threads_started < cfg->threads; s->threads_started++) {
        if (pthread_create(&s->threads[s->threads_started], NULL, http_booking_thread, s) != 0) {
            lab_log("http: cannot start booking thread %d", s->threads_started + 1);
            http_stop(s);
            return NULL;
        }
    }
    /* Leave file descriptors for the booking threads' connections, Kafka
     * and logs; past the cap the acceptor refuses a client at once. */
    struct rlimit rl;
    long long fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long long)rl.rlim_cur : 1024;
    long long reserve = 64 + 4LL * cfg->threads;
    unsigned conn_max = fds - reserve > HTTP_CONN_MAX ? HTTP_CONN_MAX
                        : fds - reserve > 16 ? (unsigned)(fds - reserve) : 16;
    if (!(s->acceptor = http_accept_open(cfg->http_host, cfg->http_port, conn_max))) {
        http_stop(s);
        return NULL;
    }
    /* poll, not epoll: with libmicrohttpd 0.9.75's epoll mode a
     * freshly started service sometimes never served one polling thread's
     * share of a burst (docs/architecture.md has the figures). The
     * listening socket is ours (http_accept.c), libmicrohttpd gets the
     * accepted connections. */
    s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                                 MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
                                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                                 0, NULL, NULL, http_access, s,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_POLL_THREADS,
                                 /* per polling thread: the acceptor keeps the total */
                                 MHD_OPTION_CONNECTION_LIMIT, 2 * conn_max,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
                                 MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
                                 MHD_OPTION_NOTIFY_CONNECTION, http_accept_notify, s->acceptor,
                                 MHD_OPTION_URI_LOG_CALLBACK, http_uri_seen, s,
                                 MHD_OPTION_END);
    if (!s->daemon || !http_accept_start(s->acceptor, s->daemon)) {
        http_stop(s);
        return NULL;
    }
    return s;
}

/* http_drain waits until no request waits for another stage (the Redis
 * pipe, a Kafka acknowledgement): each is answered within the queue's
 * timeout, so the wait is bounded by it, and by a few seconds more. */
static void http_drain(struct http_server *s)
{
    struct timespec until;
    int limit_ms = s->svc->cfg->queue_timeout_ms + 5000;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += limit_ms / 1000;
    pthread_mutex_lock(&s->lock);
    while (s->suspended > 0 &&
           pthread_cond_timedwait(&s->drained, &s->lock, &until) == 0)
        ;
    if (s->suspended > 0)
        lab_log("http: %zu requests still unanswered at shutdown", s->suspended);
    pthread_mutex_unlock(&s->lock);
}

/* libmicrohttpd must not be stopped with a connection still suspended, so
 * every request of the backlog is answered and resumed first, and the booking threads
 * finish the ones they hold; from then on the access handler answers 503
 * instead of waiting. */
void http_stop(struct http_server *s)
{
    struct http_request *left, *next;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    left = s->head;
    s->head = s->tail = NULL;
    s->waiting = 0;
    pthread_cond_broadcast(&s->ready);
    pthread_mutex_unlock(&s->lock);
    for (; left; left = next) {
        next = left->next;
        http_error(&left->reply, 503, "unavailable", "the service is shutting down");
        http_nothing_done(&left->reply);
        http_resume(left);
    }
    http_accept_close(s->acceptor);     /* no new connection from here on */
    for (int i = 0; i < s->threads_started; i++)
        pthread_join(s->threads[i], NULL);
    http_drain(s);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    http_accept_free(s->acceptor);
    pthread_cond_destroy(&s->drained);
    pthread_cond_destroy(&s->ready);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
