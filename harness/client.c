/* client.c -- the client threads: non-blocking sockets, one epoll loop per
 * thread, one small state machine per connection.
 *
 * The life of a connection:
 *
 *   CLOSED --connect--> CONNECTING --> IDLE --write--> SENDING --> RECEIVING
 *                                       ^                              |
 *                                       +---- whole answer, keep-alive +
 *
 * and back to CLOSED on any error, a timeout or "Connection: close"; the
 * next request on it connects again. A request ends in exactly one place,
 * request_end(), which files its outcome (report.h has the counting rule).
 *
 * Cost per request on the hot path: the request is formatted once per
 * thread (status reads, custom requests) or with one snprintf (bookings,
 * whose user id changes), then one send(), one epoll_wait() share and
 * usually one recv(): a level-triggered epoll interest is changed only when
 * a write does not fit in the socket buffer. */
#include "client.h"
#include "rate.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lab.h"

#define SWEEP_EVERY_US 10000   /* how often the timeouts are checked */
#define EVENTS_PER_WAIT 256

enum conn_state {
    CONN_CLOSED,      /* no socket */
    CONN_CONNECTING,  /* a non-blocking connect is under way */
    CONN_IDLE,        /* connected, nothing in flight */
    CONN_SENDING,     /* the request is partly written */
    CONN_RECEIVING,   /* the request is written; the answer is awaited */
};

enum request_kind {
    REQ_READ,         /* GET /api/bookings/status */
    REQ_BOOKING,      /* POST /api/bookings */
    REQ_CUSTOM,       /* --method --path */
};

struct client_conn {
    const struct client_target *target;  /* its instance (--url a,b: in turn) */
    int fd;
    enum conn_state state;
    uint32_t interest;        /* epoll events registered; 0: not registered */
    long long job;            /* the job in progress; -1 when none */
    int reads_left;           /* status reads to make after the one in flight */
    enum request_kind kind;   /* the request in flight (or just ended) */
    bool ended;               /* its request ended: take the next one */
    const char *request;      /* the request's bytes */
    size_t request_len, request_off;
    uint64_t sent_us;         /* when it was first written: latency starts */
    uint64_t invoke_us;       /* when it began, connect included: the history's */
    uint64_t resume_us;       /* pacing or backing off: no new job before this */
    uint64_t due_us;          /* --rate: when its job was due; 0: closed loop */
    uint64_t deadline_us;     /* when it times out; 0: nothing in flight */
    int try_no;               /* the booking's try: 1, then 2.. for its retries */
    bool retry_due;           /* the booking's try failed: send its id again */
    char booking_request[512];
    struct http_response resp;
};

/* ------------------------------------------------------------------------
 * Target and sockets
 * --------------------------------------------------------------------- */

/* client_resolve turns host and port into an address once, so that the
 * attack's connects do not each ask the resolver. */
int client_resolve(const char *host, int port, struct client_target *target, char *err,
                   size_t err_len)
{
    struct addrinfo hints = { 0 }, *res;
    char port_text[16];
    int rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port_text, sizeof port_text, "%d", port);
    rc = getaddrinfo(host, port_text, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    memset(target, 0, sizeof *target);
    memcpy(&target->addr, res->ai_addr, res->ai_addrlen);
    target->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(target->host_header, sizeof target->host_header, "%s:%d", host, port);
    return 0;
}

/* open_socket starts a non-blocking connect. 1: under way, 0: connected
 * already (it happens on loopback), -1: failed, errno says why. Nagle is
 * off: a request is one small write and we want it on the wire now. */
static int open_socket(const struct client_target *target, int *fd_out)
{
    int one = 1;
    int fd = socket(target->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fd_out = fd;
    if (connect(fd, (const struct sockaddr *)&target->addr, target->addr_len) == 0)
        return 0;
    if (errno == EINPROGRESS)
        return 1;
    {
        int saved = errno;
        close(fd);
        *fd_out = -1;
        errno = saved;
    }
    return -1;
}

/* connect_error reads the outcome of a non-blocking connect. */
static int connect_error(int fd)
{
    int error = 0;
    socklen_t len = sizeof error;

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        return errno;
    return error;
}

/* format_request writes a request line and the headers every request
 * carries: Host, which HTTP/1.1 requires, and a zero Content-Length on a
 * POST, without which some servers wait for a body. */
static size_t format_request(char *out, size_t out_len, const char *method, const char *target,
                             const char *host_header, bool close_after)
{
    int n = snprintf(out, out_len, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s\r\n", method, target,
                     host_header, strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "",
                     close_after ? "Connection: close\r\n" : "");
    return n < 0 || (size_t)n >= out_len ? 0 : (size_t)n;
}

/* ------------------------------------------------------------------------
 * One blocking request, for /healthz and the reset
 * --------------------------------------------------------------------- */

/* wait_fd waits for EVENTS on FD until DEADLINE_US; false on timeout. */
static bool wait_fd(int fd, short events, uint64_t deadline_us)
{
    for (;;) {
        uint64_t now = lab_now_us();
        struct pollfd p = { .fd = fd, .events = events };
        int rc;

        if (now >= deadline_us)
            return false;
        rc = poll(&p, 1, (int)((deadline_us - now + 999) / 1000));
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return true;   /* let the following call report the error */
    }
}

/* client_fetch is the slow, simple path: one connection per call, which
 * the attack makes twice. The attack itself never goes through here. */
int client_fetch(const struct client_target *target, const char *method, const char *path,
                 int timeout_ms, struct http_response *r, char *err, size_t err_len)
{
    uint64_t deadline_us = lab_now_us() + (uint64_t)timeout_ms * 1000u;
    char request[CLIENT_REQUEST_MAX];
    size_t len = format_request(request, sizeof request, method, path, target->host_header, true);
    size_t off = 0;
    int fd = -1, rc, error;

    const char *token = lab_env("LAB_ADMIN_TOKEN", NULL);

    /* the admin endpoints want the service's token when it has one */
    if (len && token && strncmp(path, "/api/admin/", 11) == 0) {
        int n = snprintf(request + len - 2, sizeof request - (len - 2),
                         "Authorization: Bearer %s\r\n\r\n", token);
        len = n > 0 && (size_t)n < sizeof request - (len - 2) ? len - 2 + (size_t)n : 0;
    }
    if (len == 0) {
        snprintf(err, err_len, "request too long");
        return -1;
    }
    rc = open_socket(target, &fd);
    if (rc < 0) {
        snprintf(err, err_len, "cannot connect to %s: %s", target->host_header, strerror(errno));
        return -1;
    }
    if (rc > 0) {
        if (!wait_fd(fd, POLLOUT, deadline_us)) {
            snprintf(err, err_len, "cannot connect to %s: no answer in %d ms",
                     target->host_header, timeout_ms);
            close(fd);
            return -1;
        }
        if ((error = connect_error(fd)) != 0) {
            snprintf(err, err_len, "cannot connect to %s: %s", target->host_header,
                     strerror(error));
            close(fd);
            return -1;
        }
    }
    while (off < len) {
        ssize_t n = send(fd, request + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, deadline_us))
                break;
        } else {
            break;
        }
    }
    http_response_reset(r);
    while (off == len) {
        size_t room;
        char *space = http_response_space(r, &room);
        enum http_progress p;
        ssize_t n;

        if (!space || !wait_fd(fd, POLLIN, deadline_us))
            break;
        n = recv(fd, space, room, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        p = n > 0 ? http_response_feed(r, (size_t)n) : n == 0 ? http_response_eof(r) : HTTP_BAD;
        if (p == HTTP_DONE) {
            close(fd);
            return 0;
        }
        if (p == HTTP_BAD) {
            snprintf(err, err_len, "%s %s: not an HTTP answer we can read", method, path);
            close(fd);
            return -1;
        }
    }
    snprintf(err, err_len, "%s %s: no whole answer from %s in %d ms", method, path,
             target->host_header, timeout_ms);
    close(fd);
    return -1;
}

/* ------------------------------------------------------------------------
 * Connection plumbing
 * --------------------------------------------------------------------- */

/* watch sets the epoll interest of C's socket, skipping the system call
 * when it is already what is wanted (the usual case). */
static bool watch(struct client_thread *t, struct client_conn *c, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };

    if (c->interest == events)
        return true;
    if (epoll_ctl(t->epoll_fd, c->interest ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0)
        return false;
    c->interest = events;
    return true;
}

/* conn_close drops the socket; closing it also removes it from epoll. */
static void conn_close(struct client_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CONN_CLOSED;
    c->interest = 0;
}

/* remember_queued keeps the jobs answered 202 so that, once the queue is
 * drained, main can ask the database what became of each. */
static void remember_queued(struct client_thread *t, long long job)
{
    if (t->queued_len == t->queued_cap) {
        size_t cap = t->queued_cap ? t->queued_cap * 2 : 256;
        long long *grown = realloc(t->queued_jobs, cap * sizeof *grown);
        if (!grown) {
            t->queued_incomplete = true;
            return;
        }
        t->queued_jobs = grown;
        t->queued_cap = cap;
    }
    t->queued_jobs[t->queued_len++] = job;
}

/* ------------------------------------------------------------------------
 * The life of a request
 * --------------------------------------------------------------------- */

/* client_counter_read: see client.h. */
bool client_counter_read(const char *body, size_t len, long long *v)
{
    return json_pick_long(body, len, "counterRead", v);
}

/* booked_note reads what a 201 said of its booking into B and keeps it for
 * the explainer (explain.h): its ticket, and when the booking read the
 * seat counter, the value it read and wrote and the instance it ran on. */
static void booked_note(struct client_thread *t, struct client_conn *c, uint64_t now,
                        struct explain_booking *b)
{
    size_t len;
    const char *body = http_response_body(&c->resp, &len);

    memset(b, 0, sizeof *b);
    b->job = c->job;
    b->invoke_us = c->invoke_us;
    b->complete_us = now;
    if (!json_pick_long(body, len, "ticketId", &b->ticket_id))
        b->ticket_id = 0;
    b->counted = client_counter_read(body, len, &b->counter_read) &&
                 json_pick_long(body, len, "counterWrote", &b->counter_wrote);
    if (!b->counted)
        b->counter_read = b->counter_wrote = 0;
    /* --live: the seat its counter value names, one relaxed add (live.h) */
    if (b->counted && t->work->seat_hits && b->counter_read > 0 &&
        (size_t)b->counter_read < t->work->seat_hits_len)
        atomic_fetch_add_explicit(&t->work->seat_hits[b->counter_read], 1, memory_order_relaxed);
    if (!json_pick_string(body, len, "server", b->server, sizeof b->server))
        b->server[0] = '\0';
    explain_add(&t->explain, b);
}

/* history_note files the history record of a booking that ended: its
 * class needs the body of a 503, which says "outcome":"none" when the
 * service guarantees that nothing was done. BOOKED is what a 201 said
 * (booked_note), NULL for any other answer. */
static void history_note(struct client_thread *t, struct client_conn *c, enum outcome o,
                         bool answered, uint64_t now, const struct explain_booking *booked)
{
    struct history_record r = {
        .job = c->job,
        .invoke_us = c->invoke_us,
        .complete_us = now ? now : lab_now_us(),
        .http_status = answered ? c->resp.status : 0,
        .outcome = (unsigned char)o,
        .try_no = (unsigned char)(c->try_no > 255 ? 255 : c->try_no),
    };
    bool nothing_done = false;

    if (answered) {
        char said[16] = "", status[32] = "", error[32] = "";
        size_t len;
        const char *body = http_response_body(&c->resp, &len);

        json_pick_string(body, len, "status", status, sizeof status);
        json_pick_string(body, len, "error", error, sizeof error);
        r.answer = (unsigned char)history_answer_of(c->resp.status, status, error);
        if (r.answer == HISTORY_ANSWER_BOOKED && !json_pick_long(body, len, "ticketId",
                                                                 &r.ticket_id))
            r.ticket_id = 0;
        nothing_done = c->resp.status == 503 &&
                       json_pick_string(body, len, "outcome", said, sizeof said) &&
                       strcmp(said, "none") == 0;
    }
    if (booked && booked->counted) {
        r.counted = true;
        r.counter_read = booked->counter_read;
        r.counter_wrote = booked->counter_wrote;
        memcpy(r.server, booked->server, sizeof r.server);
    }
    r.cls = (unsigned char)history_classify(o, r.http_status, nothing_done);
    history_add(&t->history, &r);
}

/* client_should_retry: see client.h. A protocol error with a whole answer
 * is an answer the API does not give (a 409 in_progress is one today):
 * the service spoke, so the try is not sent again; without a whole answer
 * the connection was reset or closed under the request. */
bool client_should_retry(enum outcome o, bool answered)
{
    switch (o) {
    case OUTCOME_ERR_CONNECT:
    case OUTCOME_ERR_TIMEOUT:
    case OUTCOME_ERR_5XX:
        return true;
    case OUTCOME_ERR_PROTOCOL:
        return !answered;
    default:
        return false;
    }
}

/* request_end is where every request ends, whatever happened: its outcome
 * is counted once, its latency recorded when an answer came (an error has
 * no meaningful latency: a timeout would only report the timeout), and the
 * connection is kept only when the answer was whole and keep-alive. The
 * next request is started by the caller (see conn_advance), never from
 * here, so that a run of immediate failures cannot recurse. */
static void request_end(struct client_thread *t, struct client_conn *c, enum outcome o,
                        bool answered, uint64_t now)
{
    bool read = c->kind == REQ_READ, booked = c->kind == REQ_BOOKING && o == OUTCOME_BOOKED;
    uint64_t latency_us = answered ? rate_latency_us(c->due_us, c->sent_us, now) : 0;
    struct explain_booking said;

    (read ? &t->reads : &t->bookings)->n[o]++;
    if (booked)
        booked_note(t, c, now, &said);
    if (c->kind == REQ_BOOKING && t->work->history)
        history_note(t, c, o, answered, now, booked ? &said : NULL);
    c->retry_due = c->kind == REQ_BOOKING && c->try_no <= t->work->retry_same_id &&
                   client_should_retry(o, answered);
    if (!read) {
        int pause_ms = o >= OUTCOME_FIRST_ERROR && t->work->error_backoff_ms > t->work->pace_ms
                           ? t->work->error_backoff_ms : t->work->pace_ms;
        if (c->retry_due) {
            int backoff_ms = CLIENT_RETRY_BACKOFF_MS << (c->try_no - 1 < 6 ? c->try_no - 1 : 6);
            pause_ms = backoff_ms > pause_ms ? backoff_ms : pause_ms;
        }
        if (pause_ms > 0)
            c->resume_us = lab_now_us() + (uint64_t)pause_ms * 1000u;
    }
    if (answered)
        stats_record(read ? &t->read_latency : &t->latency, latency_us);
    if (t->live && c->kind == REQ_BOOKING)   /* --live: this thread's own counters */
        live_count(t->live, o, answered, latency_us);
    if (o == OUTCOME_QUEUED)
        remember_queued(t, c->job);
    if (o == OUTCOME_BOOKED || o == OUTCOME_QUEUED)
        atomic_store_explicit(&t->progress_accepted,
                              t->bookings.n[OUTCOME_BOOKED] + t->bookings.n[OUTCOME_QUEUED],
                              memory_order_relaxed);
    if (!answered || !c->resp.keep_alive || c->state != CONN_RECEIVING)
        conn_close(c);
    else
        c->state = CONN_IDLE;
    c->deadline_us = 0;
    c->ended = true;
    t->requests_done++;
    atomic_store_explicit(&t->progress_requests, t->requests_done, memory_order_relaxed);
}

/* conn_write writes what is left of the request. When the socket buffer
 * is full it waits for EPOLLOUT; once all is written, only EPOLLIN. */
static void conn_write(struct client_thread *t, struct client_conn *c)
{
    while (c->request_off < c->request_len) {
        ssize_t n = send(c->fd, c->request + c->request_off, c->request_len - c->request_off,
                         MSG_NOSIGNAL);
        if (n > 0) {
            c->request_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!watch(t, c, EPOLLIN | EPOLLOUT))
                request_end(t, c, OUTCOME_ERR_PROTOCOL, false, 0);
            return;
        } else {
            /* the server closed the connection (EPIPE, ECONNRESET) */
            request_end(t, c, OUTCOME_ERR_PROTOCOL, false, 0);
            return;
        }
    }
    c->state = CONN_RECEIVING;
    if (!watch(t, c, EPOLLIN))
        request_end(t, c, OUTCOME_ERR_PROTOCOL, false, 0);
}

/* conn_send puts the prepared request on a connected socket. */
static void conn_send(struct client_thread *t, struct client_conn *c, uint64_t now)
{
    c->sent_us = now;
    c->request_off = 0;
    c->state = CONN_SENDING;
    conn_write(t, c);
}

/* prepare_request points C at the bytes of its next request: the thread's
 * pre-formatted status read or custom request, or a booking formatted for
 * this user. */
static bool prepare_request(struct client_thread *t, struct client_conn *c)
{
    const struct client_work *w = t->work;

    if (c->kind == REQ_READ) {
        c->request = t->read_request;
        c->request_len = t->read_request_len;
    } else if (c->kind == REQ_CUSTOM) {
        c->request = t->custom_request;
        c->request_len = t->custom_request_len;
    } else {
        /* a user's clicks are consecutive jobs, each with its own request id */
        long long user = w->user_base + 1 + c->job / (w->clicks > 1 ? w->clicks : 1);
        int n = snprintf(c->booking_request, sizeof c->booking_request,
                         "POST /api/bookings?eventId=%lld&userId=%lld&requestId=%s-%lld "
                         "HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n",
                         w->event_id, user, w->run_id, w->user_base + 1 + c->job,
                         c->target->host_header);
        if (n < 0 || (size_t)n >= sizeof c->booking_request)
            return false;
        c->request = c->booking_request;
        c->request_len = (size_t)n;
    }
    return true;
}

/* request_begin starts the request C is due to make: counts it as
 * attempted (the one place that does), then writes it, connecting first
 * when the connection is closed. Its deadline covers the connect too. */
static void request_begin(struct client_thread *t, struct client_conn *c, uint64_t now)
{
    (c->kind == REQ_READ ? &t->reads : &t->bookings)->attempted++;
    c->invoke_us = now;
    http_response_reset(&c->resp);
    c->deadline_us = now + t->timeout_us;
    if (!prepare_request(t, c)) {
        request_end(t, c, OUTCOME_ERR_PROTOCOL, false, now);
        return;
    }
    if (c->state == CONN_CLOSED) {
        int rc = open_socket(c->target, &c->fd);
        if (rc < 0) {
            request_end(t, c, OUTCOME_ERR_CONNECT, false, now);
            return;
        }
        if (rc > 0) {
            c->state = CONN_CONNECTING;
            if (!watch(t, c, EPOLLOUT))
                request_end(t, c, OUTCOME_ERR_CONNECT, false, now);
            return;
        }
    }
    conn_send(t, c, now);
}

/* next_request decides what C does after its request ended: the next
 * status read, the booking after the reads, or a new job from the thread's
 * range. False when the range is used up. */
static bool next_request(struct client_thread *t, struct client_conn *c)
{
    const struct client_work *w = t->work;

    if (c->job >= 0 && c->kind == REQ_BOOKING && c->retry_due) {
        /* the same job, so the same user, event and request id */
        c->retry_due = false;
        c->try_no++;
        c->due_us = 0;
        t->same_id_retries++;
        return true;
    }
    if (c->job >= 0 && c->kind == REQ_READ) {
        /* a failed read does not stop the user: the booking still goes */
        c->due_us = 0;          /* --rate schedules jobs; a job's later requests
                                   count from their send */
        if (c->reads_left > 0) {
            c->reads_left--;
        } else {
            c->kind = REQ_BOOKING;
        }
        return true;
    }
    if (c->job >= 0) {
        c->job = -1;
        t->jobs_done++;
        atomic_store_explicit(&t->progress_jobs, t->jobs_done, memory_order_relaxed);
    }
    if (t->job_next >= t->job_end)
        return false;
    c->job = t->job_next++;
    c->try_no = 1;
    c->retry_due = false;
    c->due_us = w->rate_per_s > 0 ? rate_due_us(t->start_us, c->job - t->job_first, w->rate_per_s)
                                  : 0;
    if (!w->booking) {
        c->kind = REQ_CUSTOM;
    } else if (w->reads_per_booking > 0) {
        c->kind = REQ_READ;
        c->reads_left = w->reads_per_booking - 1;
    } else {
        c->kind = REQ_BOOKING;
    }
    return true;
}

/* rate_parked: with --rate, C is about to take a new job that is not due
 * yet: it waits (stays ended), and thread_attack starts it when it is due. */
static bool rate_parked(const struct client_thread *t, const struct client_conn *c)
{
    double rate = t->work->rate_per_s;

    if (rate <= 0 || (c->job >= 0 && (c->kind == REQ_READ || c->retry_due)) ||
        t->job_next >= t->job_end)
        return false;
    return rate_due_us(t->start_us, t->job_next - t->job_first, rate) > lab_now_us();
}

/* conn_advance starts requests on C for as long as they end at once (a
 * refused connect ends a request immediately): a loop, not recursion. */
static void conn_advance(struct client_thread *t, struct client_conn *c)
{
    while (c->ended) {
        if (c->resume_us && lab_now_us() < c->resume_us)
            return;   /* pacing or backing off: sweep resumes it */
        c->resume_us = 0;
        if (rate_parked(t, c))
            return;
        c->ended = false;
        if (!next_request(t, c))
            return;
        request_begin(t, c, lab_now_us());
    }
}

/* answer_outcome reads a whole answer. Only a booking's body is looked
 * at, for its "status"; other answers go by their code. */
static enum outcome answer_outcome(const struct client_conn *c)
{
    char status[32] = "";
    const char *body;
    size_t len;

    if (c->kind != REQ_BOOKING)
        return report_classify_plain(c->resp.status);
    body = http_response_body(&c->resp, &len);
    if (!json_pick_string(body, len, "status", status, sizeof status))
        status[0] = '\0';
    return report_classify_booking(c->resp.status, status);
}

/* conn_read reads once: level-triggered epoll calls again if more is
 * waiting, and an answer of the lab fits in one read. */
static void conn_read(struct client_thread *t, struct client_conn *c)
{
    size_t room;
    char *space = http_response_space(&c->resp, &room);
    enum http_progress p;
    ssize_t n;

    if (!space) {
        request_end(t, c, OUTCOME_ERR_PROTOCOL, false, 0);
        return;
    }
    n = recv(c->fd, space, room, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    p = n > 0 ? http_response_feed(&c->resp, (size_t)n) : n == 0 ? http_response_eof(&c->resp)
                                                                  : HTTP_BAD;
    if (p == HTTP_MORE)
        return;
    if (p == HTTP_BAD) {
        request_end(t, c, OUTCOME_ERR_PROTOCOL, false, 0);
        return;
    }
    request_end(t, c, answer_outcome(c), true, lab_now_us());
}

/* conn_connected handles the end of a non-blocking connect: a request may
 * be waiting for it (a reconnect) or not (the opening of the attack). */
static void conn_connected(struct client_thread *t, struct client_conn *c)
{
    bool ok = connect_error(c->fd) == 0 && watch(t, c, EPOLLIN);

    if (c->job < 0) {
        if (ok)
            c->state = CONN_IDLE;
        else
            conn_close(c);
        return;
    }
    if (!ok) {
        request_end(t, c, OUTCOME_ERR_CONNECT, false, 0);
        return;
    }
    c->state = CONN_IDLE;
    conn_send(t, c, lab_now_us());
}

/* conn_event dispatches one epoll event on its connection's state. An
 * event on an idle connection means the server closed it (or wrote what
 * nobody asked for): it is closed quietly, the next request reconnects. */
static void conn_event(struct client_thread *t, struct client_conn *c, uint32_t events)
{
    char scrap[64];

    switch (c->state) {
    case CONN_CONNECTING:
        conn_connected(t, c);
        break;
    case CONN_SENDING:
        if (events & (EPOLLOUT | EPOLLERR))
            conn_write(t, c);
        if ((c->state == CONN_SENDING || c->state == CONN_RECEIVING) &&
            (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            conn_read(t, c);
        break;
    case CONN_RECEIVING:
        conn_read(t, c);
        break;
    case CONN_IDLE:
        if (recv(c->fd, scrap, sizeof scrap, 0) < 0 && errno == EAGAIN)
            break;
        conn_close(c);
        break;
    case CONN_CLOSED:
        break;
    }
    conn_advance(t, c);
}

/* sweep ends the requests past their deadline. A connection that timed out
 * is closed: an answer arriving later would be read as the next one's. */
static void sweep(struct client_thread *t, uint64_t now)
{
    for (int i = 0; i < t->conn_count; i++) {
        struct client_conn *c = &t->conns[i];

        if (c->ended && c->resume_us && now >= c->resume_us) {
            conn_advance(t, c);
            continue;
        }
        if (c->deadline_us == 0 || now < c->deadline_us)
            continue;
        request_end(t, c, c->state == CONN_CONNECTING ? OUTCOME_ERR_CONNECT : OUTCOME_ERR_TIMEOUT,
                    false, now);
        conn_advance(t, c);
    }
}

/* ------------------------------------------------------------------------
 * The thread
 * --------------------------------------------------------------------- */

void client_thread_init(struct client_thread *t)
{
    memset(t, 0, sizeof *t);
    stats_init(&t->latency);
    stats_init(&t->read_latency);
    t->epoll_fd = -1;
}

/* dispatch waits once for events and handles them. */
static void dispatch(struct client_thread *t, int wait_ms)
{
    struct epoll_event events[EVENTS_PER_WAIT];
    int n = epoll_wait(t->epoll_fd, events, EVENTS_PER_WAIT, wait_ms);

    for (int i = 0; i < n; i++)
        conn_event(t, events[i].data.ptr, events[i].events);
}

/* thread_setup allocates the connections, formats the fixed requests and
 * opens every connection, waiting until each is up or has failed (or the
 * timeout has passed): in burst mode the users must all be at the door
 * before anyone goes in. A connection that failed here is retried when its
 * first request starts. */
static bool thread_setup(struct client_thread *t)
{
    const struct client_work *w = t->work;
    char status_path[64];
    uint64_t deadline_us;
    int connecting = 0;

    t->timeout_us = (uint64_t)w->timeout_ms * 1000u;
    t->job_next = t->job_first;
    snprintf(status_path, sizeof status_path, "/api/bookings/status?eventId=%lld", w->event_id);
    t->read_request_len = format_request(t->read_request, sizeof t->read_request, "GET",
                                         status_path, w->target->host_header, false);
    if (!w->booking)
        t->custom_request_len = format_request(t->custom_request, sizeof t->custom_request,
                                               w->method, w->path, w->target->host_header, false);
    if (t->read_request_len == 0 || (!w->booking && t->custom_request_len == 0)) {
        snprintf(t->error, sizeof t->error, "request too long");
        return false;
    }
    t->conns = calloc((size_t)t->conn_count, sizeof *t->conns);
    if (!t->conns) {
        snprintf(t->error, sizeof t->error, "out of memory for %d connections", t->conn_count);
        return false;
    }
    for (int i = 0; i < t->conn_count; i++) {
        t->conns[i].fd = -1;
        t->conns[i].job = -1;
        t->conns[i].target = w->target_count > 1
            ? &w->targets[(t->conn_first + i) % w->target_count] : w->target;
    }
    t->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (t->epoll_fd < 0) {
        snprintf(t->error, sizeof t->error, "epoll_create1: %s", strerror(errno));
        return false;
    }
    for (int i = 0; i < t->conn_count; i++) {
        struct client_conn *c = &t->conns[i];
        int rc = open_socket(c->target, &c->fd);

        if (rc == 0 && watch(t, c, EPOLLIN)) {
            c->state = CONN_IDLE;
        } else if (rc > 0 && watch(t, c, EPOLLOUT)) {
            c->state = CONN_CONNECTING;
            connecting++;
        } else {
            conn_close(c);
        }
    }
    deadline_us = lab_now_us() + t->timeout_us;
    while (connecting > 0 && lab_now_us() < deadline_us) {
        dispatch(t, 10);
        connecting = 0;
        for (int i = 0; i < t->conn_count; i++)
            connecting += t->conns[i].state == CONN_CONNECTING;
    }
    for (int i = 0; i < t->conn_count; i++) {
        if (t->conns[i].state == CONN_CONNECTING)
            conn_close(&t->conns[i]);
        t->connected += t->conns[i].state == CONN_IDLE;
    }
    return true;
}

/* thread_attack runs the jobs: every connection takes one at once, then
 * the loop runs until the thread's range is done. */
static void thread_attack(struct client_thread *t)
{
    long long jobs = t->job_end - t->job_first;
    uint64_t next_sweep_us = lab_now_us() + SWEEP_EVERY_US;
    double rate = t->work->rate_per_s;

    t->start_us = lab_now_us();
    for (int i = 0; i < t->conn_count; i++) {
        t->conns[i].ended = true;
        conn_advance(t, &t->conns[i]);
    }
    while (t->jobs_done < jobs) {
        uint64_t now;
        int wait_ms = SWEEP_EVERY_US / 1000;

        /* --rate: the jobs that are due go to free connections (those
         * whose request ended); with one left free, sleep until the next
         * job is due, else until an answer frees one */
        if (rate > 0) {
            bool free_conn = false;
            for (int i = 0; i < t->conn_count; i++) {
                if (t->conns[i].ended)
                    conn_advance(t, &t->conns[i]);
                free_conn = free_conn || t->conns[i].ended;
            }
            if (free_conn)
                wait_ms = rate_wait_ms(lab_now_us(), t->start_us, t->job_next - t->job_first,
                                       rate, wait_ms);
        }
        dispatch(t, wait_ms);
        now = lab_now_us();
        if (now >= next_sweep_us) {
            sweep(t, now);
            next_sweep_us = now + SWEEP_EVERY_US;
        }
    }
}

/* give_up files every job of a thread that could not start as a connect
 * error, so that the counting rule holds even then. */
static void give_up(struct client_thread *t)
{
    long long jobs = t->job_end - t->job_first;
    long long reads = t->work->booking ? jobs * t->work->reads_per_booking : 0;

    t->bookings.attempted += jobs;
    t->bookings.n[OUTCOME_ERR_CONNECT] += jobs;
    t->reads.attempted += reads;
    t->reads.n[OUTCOME_ERR_CONNECT] += reads;
    t->jobs_done = jobs;
    t->requests_done = jobs + reads;
    atomic_store_explicit(&t->progress_jobs, t->jobs_done, memory_order_relaxed);
    atomic_store_explicit(&t->progress_requests, t->requests_done, memory_order_relaxed);
}

/* client_thread_run is the thread's body: set up, wait at the start line
 * with the others, attack, say it is finished. It always reaches the
 * barrier, even when its setup failed, or the others would wait forever. */
void *client_thread_run(void *arg)
{
    struct client_thread *t = arg;
    bool ready = thread_setup(t);

    pthread_barrier_wait(t->start_line);
    if (ready)
        thread_attack(t);
    else
        give_up(t);
    t->end_us = lab_now_us();
    atomic_store_explicit(&t->finished, true, memory_order_release);
    return NULL;
}

void client_thread_free(struct client_thread *t)
{
    if (t->conns)
        for (int i = 0; i < t->conn_count; i++)
            conn_close(&t->conns[i]);
    if (t->epoll_fd >= 0)
        close(t->epoll_fd);
    free(t->conns);
    free(t->queued_jobs);
    history_free(&t->history);
    explain_free(&t->explain);
    t->conns = NULL;
    t->queued_jobs = NULL;
    t->epoll_fd = -1;
}
