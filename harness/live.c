/* live.c -- the live page's server, its sampler and its database poller
 * (live.h says who runs what).
 *
 * The server is the harness's own, one poll(2) loop on one thread, rather
 * than libmicrohttpd (which the harness links for nothing else): the page
 * needs to push one event to many long-lived streams every 100 ms, each
 * with a bounded buffer, and drop a client that does not read. With
 * libmicrohttpd that is a content-reader callback per stream, suspended and
 * resumed from the sampler, and buffers shared between its threads and
 * ours; here the thread that makes the event owns every stream's buffer,
 * so nothing is shared but the clients' atomic counters, and a slow client
 * costs one send() that returns EAGAIN. It speaks just enough HTTP/1.1 for
 * a browser and curl: GET (and HEAD), one request per connection. */
#include "live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "lab.h"
#include "live_words.h"
#include "parse.h"

#define LIVE_CONNS_MAX (LIVE_MAX_STREAMS + 64)  /* streams, and requests being read */
#define LIVE_REQUEST_MAX 4096       /* a request's line and headers */
#define LIVE_REQUEST_TIMEOUT_MS 5000
#define LIVE_KEEPALIVE_MS 5000      /* a comment to idle streams: a dead peer shows */
#define LIVE_STREAM_SNDBUF 8192     /* the kernel's share of a stream's buffer */
#define LIVE_EXPLAIN_MAX 4096

/* ------------------------------------------------------------------------
 * Small pure parts: buckets, percentiles, cells, the address
 * --------------------------------------------------------------------- */

/* live_bucket_of: bucket 0 below 64 µs, then four per power of two. */
unsigned live_bucket_of(uint64_t us)
{
    unsigned lg, b;

    if (us < 64)
        return 0;
    lg = 63u - (unsigned)__builtin_clzll(us);
    b = 1 + (lg - 6) * 4 + (unsigned)((us >> (lg - 2)) & 3);
    return b < LIVE_LAT_BUCKETS ? b : LIVE_LAT_BUCKETS - 1;
}

/* live_bucket_high: the first value past bucket B. */
uint64_t live_bucket_high(unsigned b)
{
    unsigned lg, sub;

    if (b == 0)
        return 64;
    lg = 6 + (b - 1) / 4;
    sub = (b - 1) % 4;
    return (uint64_t)(5 + sub) << (lg - 2);
}

/* live_p99_us: the upper edge of the bucket holding the 99th percentile. */
uint64_t live_p99_us(const uint64_t window[LIVE_LAT_BUCKETS])
{
    uint64_t total = 0, seen = 0, target;

    for (unsigned b = 0; b < LIVE_LAT_BUCKETS; b++)
        total += window[b];
    if (total == 0)
        return 0;
    target = (total * 99 + 99) / 100;
    for (unsigned b = 0; b < LIVE_LAT_BUCKETS; b++) {
        seen += window[b];
        if (seen >= target)
            return live_bucket_high(b);
    }
    return live_bucket_high(LIVE_LAT_BUCKETS - 1);
}

/* live_cells: one element per seat up to LIVE_MAX_CELLS, blocks of seats
 * beyond, so that a sale of 100,000 seats still draws in a browser. */
void live_cells(long long seats, long long *cells, long long *per_cell)
{
    long long per;

    if (seats <= 0) {
        *cells = 0;
        *per_cell = 1;
        return;
    }
    per = (seats + LIVE_MAX_CELLS - 1) / LIVE_MAX_CELLS;
    *per_cell = per;
    *cells = (seats + per - 1) / per;
}

/* live_cell_hits: seat s (0-based) is the one a booking takes when it
 * reads the counter at SEATS - s, so the first booking's seat is seat 0. */
void live_cell_hits(const unsigned *seat_hits, size_t len, bool by_counter, long long tickets,
                    long long seats, unsigned *hits, long long cells)
{
    long long per = cells > 0 ? (seats + cells - 1) / cells : 1;

    for (long long c = 0; c < cells; c++) {
        unsigned most = 0;

        for (long long s = c * per; s < (c + 1) * per && s < seats; s++) {
            unsigned v;
            if (by_counter)
                v = (size_t)(seats - s) < len ? seat_hits[seats - s] : 0;
            else
                v = s < tickets ? 1 : 0;
            if (v > most)
                most = v;
        }
        hits[c] = most;
    }
}

/* live_parse_address: "127.0.0.1:18088", "localhost:18088"; any other
 * host is refused, so the page never leaves the machine. */
int live_parse_address(const char *text, struct live_options *o, char *err, size_t err_len)
{
    struct in_addr a;

    if (!parse_host_port(text, o->host, (int)sizeof o->host, &o->port) || o->port < 1)
        return parse_fail(err, err_len, "--live wants HOST:PORT on loopback, e.g. "
                          "127.0.0.1:18088, not '%s'", text);
    if (strcmp(o->host, "localhost") == 0)
        snprintf(o->host, sizeof o->host, "127.0.0.1");
    if (inet_pton(AF_INET, o->host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
        return parse_fail(err, err_len, "--live serves the page on loopback only "
                          "(127.0.0.1:PORT): '%s' is not a loopback address", o->host);
    o->on = true;
    return 0;
}

/* ------------------------------------------------------------------------
 * A stream's bounded buffer
 * --------------------------------------------------------------------- */

/* live_stream_flush: non-blocking sends until the socket is full or the
 * buffer empty; what is sent is dropped from the front. */
int live_stream_flush(struct live_stream_buf *b, int fd)
{
    while (b->off < b->len) {
        ssize_t n = send(fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            b->off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return -1;
        }
    }
    if (b->off == b->len)
        b->off = b->len = 0;
    return 0;
}

/* live_stream_push: see live.h. The bound is checked before the append,
 * on what the client has left unread, so a client that reads is never
 * dropped for one large event. */
int live_stream_push(struct live_stream_buf *b, int fd, const char *bytes, size_t n, bool force)
{
    if (!force && b->len - b->off > b->bound)
        return -1;
    if (b->off > 0 && b->off == b->len)
        b->off = b->len = 0;
    if (b->off > 0 && b->off >= b->cap / 2) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *grown;
        while (cap < b->len + n)
            cap *= 2;
        grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    return live_stream_flush(b, fd);
}

/* live_stream_free releases a stream's buffer. */
void live_stream_free(struct live_stream_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------------
 * JSON text
 * --------------------------------------------------------------------- */

/* A growing text buffer; a failed allocation marks it and stops it. */
struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void jb_add(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* jb_add appends printf-style text. */
static void jb_add(struct jbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t cap = b->cap ? b->cap * 2 : 1024;
            char *grown;
            while (cap < b->len + (size_t)n + 1)
                cap *= 2;
            grown = realloc(b->p, cap);
            if (!grown) {
                b->oom = true;
                return;
            }
            b->p = grown;
            b->cap = cap;
        }
    }
}

/* jb_str appends S as a JSON string, quoted and escaped. */
static void jb_str(struct jbuf *b, const char *s)
{
    jb_add(b, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            jb_add(b, "\\%c", c);
        else if (c == '\n')
            jb_add(b, "\\n");
        else if (c < 0x20)
            jb_add(b, "\\u%04x", c);
        else
            jb_add(b, "%c", c);
    }
    jb_add(b, "\"");
}

/* jb_num appends V, or null when it is not known (negative). */
static void jb_num(struct jbuf *b, long long v)
{
    if (v < 0)
        jb_add(b, "null");
    else
        jb_add(b, "%lld", v);
}

/* ------------------------------------------------------------------------
 * The run's state
 * --------------------------------------------------------------------- */

/* One point of the run over time (a tick). */
struct live_point {
    double t, rps, p99_ms;         /* p99_ms < 0: no answer in the tick */
    long long accepted, decided, refused, failed, tickets, counter;
};

/* What live_finish hands the live thread. */
struct live_end {
    char verdict[8];               /* "BUG", "clean", "none" */
    char verdict_line[1024];       /* report_verdict's */
    char verdict_text[LIVE_WORDS_MAX];
    char check_verdict[512];       /* "" without the checker */
    char check_text[LIVE_WORDS_MAX];
    char explain[LIVE_EXPLAIN_MAX];
    long long tickets, counter, decided, seats, oversold, phantom;
    bool known;                    /* the figures above were audited */
};

enum conn_kind { CONN_FREE, CONN_REQUEST, CONN_REPLY, CONN_STREAM };

struct live_conn {
    int fd;
    enum conn_kind kind;
    char req[LIVE_REQUEST_MAX + 1];
    size_t req_len;
    uint64_t opened_us;
    struct live_stream_buf out;
    char client_id[LIVE_CLIENT_ID_MAX + 1];
};

struct live {
    struct live_options opt;
    char url[96];
    /* the plan, copied */
    char run_id[64], phase_name[32], mode[16], planted[320], conninfo[1024];
    int phase, threads;
    bool async;
    long long event_id, seats, users, requests, think_ms, decided_before;
    struct nemesis_plan faults;

    /* written by the client threads */
    struct live_counters *counters;
    _Atomic unsigned *seat_hits;
    size_t seat_hits_len;

    /* written by the database poller */
    _Atomic long long db_available, db_tickets, db_decided;
    _Atomic bool db_known;
    pthread_mutex_t db_mu;
    pthread_cond_t db_cv;
    bool db_stop;
    pthread_t db_tid;
    bool db_running;

    /* the mailbox: main writes, the live thread reads, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started, stop;
    uint64_t start_us;
    const struct nemesis *nem;
    char stage[16];
    struct live_end *end;          /* a finish waiting to be shown */
    bool end_done;
    int wake_rd, wake_wr;
    pthread_t tid;
    bool running;

    /* the live thread's own */
    int listen_fd;
    struct live_conn conns[LIVE_CONNS_MAX];
    struct pollfd fds[LIVE_CONNS_MAX + 2];
    struct live_conn *who[LIVE_CONNS_MAX + 2];
    int streams;
    long long dropped;
    bool ticking;                  /* started and not finished */
    uint64_t t0_us, next_tick_us, last_keepalive_us, prev_us;
    char stage_now[16];
    long long cells, per_cell;
    unsigned *hits_now, *cells_now, *cells_sent;
    bool by_counter;
    uint64_t lat_prev[LIVE_LAT_BUCKETS];
    long long prev_answered;
    struct live_point now_pt;      /* the last tick's figures */
    struct live_point *series;
    size_t series_len;
    unsigned series_stride, series_skip;
    bool have_end;
    struct live_end fin;
};

/* read_db: the poller's last figures; -1 for those not read yet. */
static void read_db(struct live *l, long long *tickets, long long *counter, long long *decided)
{
    if (!atomic_load_explicit(&l->db_known, memory_order_acquire)) {
        *tickets = *counter = *decided = -1;
        return;
    }
    *tickets = atomic_load_explicit(&l->db_tickets, memory_order_relaxed);
    *counter = atomic_load_explicit(&l->db_available, memory_order_relaxed);
    *decided = atomic_load_explicit(&l->db_decided, memory_order_relaxed) - l->decided_before;
    if (*decided < 0)
        *decided = 0;
}

/* now_t: seconds since the users were released. */
static double now_t(const struct live *l, uint64_t now_us)
{
    return l->t0_us && now_us > l->t0_us ? (double)(now_us - l->t0_us) / 1e6 : 0.0;
}

/* wall_us: the wall clock in µs, the time every event carries (sentUs),
 * so that a client on the same machine can tell how late it got it. */
static uint64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* take_cells reads the seat hits (relaxed loads) and the ticket count
 * into the cells the page draws. */
static void take_cells(struct live *l, long long tickets)
{
    bool any = false;

    for (size_t v = 0; v < l->seat_hits_len; v++) {
        l->hits_now[v] = atomic_load_explicit(&l->seat_hits[v], memory_order_relaxed);
        any = any || l->hits_now[v] > 0;
    }
    l->by_counter = l->by_counter || any;
    live_cell_hits(l->hits_now, l->seat_hits_len, l->by_counter, tickets < 0 ? 0 : tickets,
                   l->seats, l->cells_now, l->cells);
}

/* add_fault_windows appends "faultWindows":[[from,to],...] (seconds; to is
 * null while the fault lasts) from the nemesis's published stamps. */
static void add_fault_windows(struct live *l, struct jbuf *b, const struct nemesis *nem)
{
    bool first = true;

    jb_add(b, "\"faultWindows\":[");
    for (int i = 0; nem && i < l->faults.count; i++) {
        uint64_t from = atomic_load_explicit(&nem->window_from_us[i], memory_order_acquire);
        uint64_t to = atomic_load_explicit(&nem->window_to_us[i], memory_order_acquire);

        if (!from)
            continue;
        jb_add(b, "%s[%.3f,", first ? "" : ",", now_t(l, from));
        if (to)
            jb_add(b, "%.3f]", now_t(l, to));
        else
            jb_add(b, "null]");
        first = false;
    }
    jb_add(b, "]");
}

/* add_point appends one point of the series as JSON. */
static void add_point(struct jbuf *b, const struct live_point *p)
{
    jb_add(b, "{\"t\":%.3f,\"accepted\":%lld,\"decided\":", p->t, p->accepted);
    jb_num(b, p->decided);
    jb_add(b, ",\"refused\":%lld,\"failed\":%lld,\"rps\":%.1f,\"p99Ms\":", p->refused,
           p->failed, p->rps);
    if (p->p99_ms < 0)
        jb_add(b, "null");
    else
        jb_add(b, "%.3f", p->p99_ms);
    jb_add(b, ",\"tickets\":");
    jb_num(b, p->tickets);
    jb_add(b, ",\"counter\":");
    jb_num(b, p->counter);
    jb_add(b, "}");
}

/* add_final appends the final figures and words (the "final" event's,
 * and the saved state's). */
static void add_final(struct jbuf *b, const struct live_end *e)
{
    jb_add(b, "\"verdict\":");
    jb_str(b, e->verdict);
    jb_add(b, ",\"verdictLine\":");
    jb_str(b, e->verdict_line);
    jb_add(b, ",\"verdictText\":");
    jb_str(b, e->verdict_text);
    jb_add(b, ",\"checkVerdict\":");
    jb_str(b, e->check_verdict);
    jb_add(b, ",\"checkText\":");
    jb_str(b, e->check_text);
    jb_add(b, ",\"explainText\":");
    jb_str(b, e->explain);
    if (e->known)
        jb_add(b, ",\"oversold\":%lld,\"phantom\":%lld", e->oversold, e->phantom);
}

/* build_state writes the whole state: what a page loaded now needs, and
 * what --live-save keeps (docs/results-format.md). */
static void build_state(struct live *l, struct jbuf *b, const struct nemesis *nem)
{
    static const struct live_end none = { .verdict = "" };
    const struct live_end *e = l->have_end ? &l->fin : &none;

    jb_add(b, "{\"type\":\"state\",\"sentUs\":%" PRIu64 ",\"runId\":", wall_us());
    jb_str(b, l->run_id);
    jb_add(b, ",\"phase\":%d,\"phaseName\":", l->phase);
    jb_str(b, l->phase_name);
    jb_add(b, ",\"async\":%s,\"mode\":", l->async ? "true" : "false");
    jb_str(b, l->mode);
    jb_add(b, ",\"eventId\":%lld,\"seats\":%lld,\"users\":%lld,\"requests\":%lld,"
           "\"thinkMs\":%lld,\"planted\":", l->event_id, l->seats, l->users, l->requests,
           l->think_ms);
    jb_str(b, l->planted);
    jb_add(b, ",\"faults\":[");
    for (int i = 0; i < l->faults.count; i++) {
        const struct fault *f = &l->faults.faults[i];
        jb_add(b, "%s{\"kind\":", i ? "," : "");
        jb_str(b, fault_kind_name(f->kind));
        if (f->at_accepted)
            jb_add(b, ",\"atAccepted\":%lld", f->when);
        else
            jb_add(b, ",\"atS\":%.3f", (double)f->when / 1e3);
        jb_add(b, ",\"durationS\":%.3f}", (double)f->duration_ms / 1e3);
    }
    jb_add(b, "],\"stage\":");
    jb_str(b, l->stage_now);
    jb_add(b, ",\"ended\":%s,\"t\":%.3f,\"cells\":%lld,\"seatsPerCell\":%lld,\"seatSource\":\"%s\","
           "\"seatHits\":[", l->have_end ? "true" : "false", now_t(l, lab_now_us()), l->cells,
           l->per_cell, l->by_counter ? "counter" : "tickets");
    for (long long c = 0; c < l->cells; c++)
        jb_add(b, "%s%u", c ? "," : "", l->cells_now[c]);
    jb_add(b, "],\"tickets\":");
    jb_num(b, l->now_pt.tickets);
    jb_add(b, ",\"counter\":");
    jb_num(b, l->now_pt.counter);
    jb_add(b, ",\"decided\":");
    jb_num(b, l->now_pt.decided);
    jb_add(b, ",\"accepted\":%lld,\"refused\":%lld,\"failed\":%lld,\"streams\":%d,"
           "\"dropped\":%lld,", l->now_pt.accepted, l->now_pt.refused, l->now_pt.failed,
           l->streams, l->dropped);
    add_fault_windows(l, b, nem);
    jb_add(b, ",\"series\":[");
    for (size_t i = 0; i < l->series_len; i++) {
        if (i)
            jb_add(b, ",");
        add_point(b, &l->series[i]);
    }
    jb_add(b, "],");
    add_final(b, e);
    jb_add(b, "}");
}

/* ------------------------------------------------------------------------
 * Streams
 * --------------------------------------------------------------------- */

/* conn_close frees a connection's slot. */
static void conn_close(struct live *l, struct live_conn *c)
{
    if (c->kind == CONN_STREAM)
        l->streams--;
    if (c->fd >= 0)
        close(c->fd);
    live_stream_free(&c->out);
    c->fd = -1;
    c->kind = CONN_FREE;
    c->req_len = 0;
    c->client_id[0] = '\0';
}

/* send_raw hands BYTES to stream C; a stream past its bound is dropped
 * (its client does not read), as is one whose socket failed. */
static void send_raw(struct live *l, struct live_conn *c, const char *bytes, size_t n,
                     bool force)
{
    size_t unread;

    if (live_stream_push(&c->out, c->fd, bytes, n, force) == 0)
        return;
    unread = c->out.len - c->out.off;
    if (unread > c->out.bound) {
        l->dropped++;
        lab_log("live: a client that does not read was dropped (%zu KB unread%s%s)",
                unread / 1024, c->client_id[0] ? ", client " : "", c->client_id);
    }
    conn_close(l, c);
}

/* send_event frames JSON as one Server-Sent Event ("data: ...", a blank
 * line) and hands it to stream C. */
static void send_event(struct live *l, struct live_conn *c, const char *json, size_t n,
                       bool force)
{
    struct jbuf b = { 0 };

    jb_add(&b, "data: %.*s\n\n", (int)n, json);
    if (b.oom)
        conn_close(l, c);
    else
        send_raw(l, c, b.p, b.len, force);
    free(b.p);
}

/* broadcast sends one event to every stream. */
static void broadcast(struct live *l, const struct jbuf *event)
{
    if (event->oom)
        return;
    for (int i = 0; i < LIVE_CONNS_MAX; i++)
        if (l->conns[i].kind == CONN_STREAM)
            send_event(l, &l->conns[i], event->p, event->len, false);
}

/* ------------------------------------------------------------------------
 * The sampler
 * --------------------------------------------------------------------- */

/* keep_point adds P to the series; when full, every other point is
 * dropped and from then on one tick in twice as many is kept. */
static void keep_point(struct live *l, const struct live_point *p)
{
    if (l->series_skip + 1 < l->series_stride) {
        l->series_skip++;
        return;
    }
    l->series_skip = 0;
    if (l->series_len == LIVE_SERIES_MAX) {
        for (size_t i = 0; i < LIVE_SERIES_MAX / 2; i++)
            l->series[i] = l->series[2 * i + 1];
        l->series_len = LIVE_SERIES_MAX / 2;
        l->series_stride *= 2;
    }
    l->series[l->series_len++] = *p;
}

/* tick reads every counter (relaxed loads), makes one point, keeps it in
 * the series and sends it as a "tick" event with the cells that changed. */
static void tick(struct live *l, uint64_t now_us, const struct nemesis *nem)
{
    struct live_point p = { .t = now_t(l, now_us) };
    uint64_t lat[LIVE_LAT_BUCKETS] = { 0 }, window[LIVE_LAT_BUCKETS];
    long long answered;
    double dt = now_us > l->prev_us ? (double)(now_us - l->prev_us) / 1e6 : 0.0;
    struct jbuf b = { 0 };
    bool first_change = true;

    for (int i = 0; i < l->threads; i++) {
        struct live_counters *c = &l->counters[i];
        p.accepted += atomic_load_explicit(&c->accepted, memory_order_relaxed);
        p.refused += atomic_load_explicit(&c->refused, memory_order_relaxed);
        p.failed += atomic_load_explicit(&c->failed, memory_order_relaxed);
        for (unsigned k = 0; k < LIVE_LAT_BUCKETS; k++)
            lat[k] += atomic_load_explicit(&c->latency[k], memory_order_relaxed);
    }
    for (unsigned k = 0; k < LIVE_LAT_BUCKETS; k++) {
        window[k] = lat[k] - l->lat_prev[k];
        l->lat_prev[k] = lat[k];
    }
    answered = p.accepted + p.refused;
    p.rps = dt > 0 ? (double)(answered - l->prev_answered) / dt : 0.0;
    l->prev_answered = answered;
    l->prev_us = now_us;
    {
        uint64_t p99 = live_p99_us(window);
        p.p99_ms = p99 ? (double)p99 / 1e3 : -1.0;
    }
    read_db(l, &p.tickets, &p.counter, &p.decided);
    l->now_pt = p;
    keep_point(l, &p);
    take_cells(l, p.tickets);

    jb_add(&b, "{\"type\":\"tick\",\"sentUs\":%" PRIu64 ",\"stage\":", wall_us());
    jb_str(&b, l->stage_now);
    jb_add(&b, ",");
    add_point(&b, &p);
    if (!b.oom)
        b.len--;   /* the point's closing brace: the tick goes on */
    jb_add(&b, ",\"seatSource\":\"%s\",\"seatChanges\":[", l->by_counter ? "counter" : "tickets");
    for (long long c = 0; c < l->cells; c++) {
        if (l->cells_now[c] == l->cells_sent[c])
            continue;
        jb_add(&b, "%s[%lld,%u]", first_change ? "" : ",", c, l->cells_now[c]);
        l->cells_sent[c] = l->cells_now[c];
        first_change = false;
    }
    jb_add(&b, "],");
    add_fault_windows(l, &b, nem);
    jb_add(&b, "}");
    broadcast(l, &b);
    free(b.p);
}

/* ------------------------------------------------------------------------
 * HTTP
 * --------------------------------------------------------------------- */

/* status_text: the reason phrase of the status codes the page answers. */
static const char *status_text(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

/* reply answers C and closes it once the answer is written. */
static void reply(struct live *l, struct live_conn *c, int code, const char *type,
                  const char *body, size_t len, bool head_only)
{
    struct jbuf b = { 0 };

    jb_add(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
           "Cache-Control: no-store\r\nConnection: close\r\n\r\n", code, status_text(code),
           type, len);
    if (!head_only)
        jb_add(&b, "%.*s", (int)len, body);
    c->kind = CONN_REPLY;
    if (b.oom || live_stream_push(&c->out, c->fd, b.p, b.len, true) != 0 ||
        c->out.len == c->out.off)
        conn_close(l, c);
    free(b.p);
}

/* reply_error answers a JSON error in the services' shape. */
static void reply_error(struct live *l, struct live_conn *c, int code, const char *error,
                        const char *reason, bool head_only)
{
    struct jbuf b = { 0 };

    jb_add(&b, "{\"status\":\"error\",\"error\":");
    jb_str(&b, error);
    jb_add(&b, ",\"reason\":");
    jb_str(&b, reason);
    jb_add(&b, "}\n");
    if (b.oom)
        conn_close(l, c);
    else
        reply(l, c, code, "application/json", b.p, b.len, head_only);
    free(b.p);
}

/* query_client reads the client=ID parameter of QUERY into ID: 1 found,
 * 0 absent, -1 malformed. */
static int query_client(const char *query, char *id, size_t id_len)
{
    const char *p = query;

    while (p && *p) {
        size_t n = strcspn(p, "&");
        if (n > 7 && strncmp(p, "client=", 7) == 0) {
            size_t v = n - 7;
            if (v > LIVE_CLIENT_ID_MAX || v >= id_len)
                return -1;
            for (size_t i = 0; i < v; i++) {
                char ch = p[7 + i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
                    return -1;
            }
            memcpy(id, p + 7, v);
            id[v] = '\0';
            return 1;
        }
        if (n == 7 && strncmp(p, "client=", 7) == 0)
            return -1;
        p += n;
        if (*p == '&')
            p++;
    }
    return 0;
}

/* open_stream makes C an event stream: the headers, then the whole state
 * at once (and the final event when the run is over), so a page loaded
 * late shows everything. */
static void open_stream(struct live *l, struct live_conn *c, const char *query,
                        const struct nemesis *nem)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                               "Cache-Control: no-store\r\nConnection: keep-alive\r\n\r\n"
                               "retry: 2000\n\n";
    char id[LIVE_CLIENT_ID_MAX + 1] = "";
    int sndbuf = LIVE_STREAM_SNDBUF;
    int got = query_client(query, id, sizeof id);
    struct jbuf b = { 0 };

    if (got < 0) {
        reply_error(l, c, 400, "bad_request", "client must be 1 to 40 characters of "
                    "[A-Za-z0-9_-]", false);
        return;
    }
    if (l->streams >= LIVE_MAX_STREAMS) {
        reply_error(l, c, 503, "unavailable", "too many streams open: at most 256", false);
        return;
    }
    for (int i = 0; got > 0 && i < LIVE_CONNS_MAX; i++)
        if (l->conns[i].kind == CONN_STREAM && strcmp(l->conns[i].client_id, id) == 0) {
            reply_error(l, c, 409, "stream_open", "this client has an event stream open "
                        "already: one per client id", false);
            return;
        }
    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    c->kind = CONN_STREAM;
    snprintf(c->client_id, sizeof c->client_id, "%s", id);
    l->streams++;
    if (live_stream_push(&c->out, c->fd, head, sizeof head - 1, true) != 0) {
        conn_close(l, c);
        return;
    }
    build_state(l, &b, nem);
    if (!b.oom)
        send_event(l, c, b.p, b.len, true);
    free(b.p);
}

/* route answers one whole request: the page, the events, the state, or a
 * JSON error. */
static void route(struct live *l, struct live_conn *c, const struct nemesis *nem)
{
    char method[8], target[LIVE_REQUEST_MAX], *query;
    bool head;

    if (sscanf(c->req, "%7s %4095s HTTP/1.", method, target) != 2 ||
        !strstr(c->req, " HTTP/1.")) {
        reply_error(l, c, 400, "bad_request", "not an HTTP/1.x request", false);
        return;
    }
    head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        reply_error(l, c, 405, "method_not_allowed", "the live page answers GET only", false);
        return;
    }
    query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    if (strcmp(target, "/") == 0 || strcmp(target, "/index.html") == 0) {
        reply(l, c, 200, "text/html; charset=utf-8", live_page_html, live_page_html_len, head);
    } else if (strcmp(target, "/events") == 0 && !head) {
        open_stream(l, c, query, nem);
    } else if (strcmp(target, "/state") == 0) {
        struct jbuf b = { 0 };
        build_state(l, &b, nem);
        jb_add(&b, "\n");
        if (b.oom)
            conn_close(l, c);
        else
            reply(l, c, 200, "application/json", b.p, b.len, head);
        free(b.p);
    } else {
        char reason[160];
        snprintf(reason, sizeof reason, "no such page: %.60s (the page is /, its events "
                 "/events, its state /state)", target);
        reply_error(l, c, 404, "not_found", reason, head);
    }
}

/* conn_read reads what C sent; a whole request is routed, a stream's
 * client closing is noticed. */
static void conn_read(struct live *l, struct live_conn *c, const struct nemesis *nem)
{
    char scrap[512];
    ssize_t n;

    if (c->kind != CONN_REQUEST) {
        n = recv(c->fd, scrap, sizeof scrap, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            conn_close(l, c);
        return;
    }
    n = recv(c->fd, c->req + c->req_len, LIVE_REQUEST_MAX - c->req_len, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_close(l, c);
        return;
    }
    if (n < 0)
        return;
    c->req_len += (size_t)n;
    c->req[c->req_len] = '\0';
    if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
        route(l, c, nem);
    else if (c->req_len == LIVE_REQUEST_MAX)
        reply_error(l, c, 431, "headers_too_large", "a request of the live page fits in 4 KB",
                    false);
}

/* accept_all takes every waiting connection; with no slot left it says
 * 503 at once and closes. */
static void accept_all(struct live *l)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
        "application/json\r\nContent-Length: 72\r\nConnection: close\r\n\r\n"
        "{\"status\":\"error\",\"error\":\"unavailable\",\"reason\":\"too many connections\"}";
    for (;;) {
        int fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct live_conn *c = NULL;

        if (fd < 0)
            return;
        for (int i = 0; i < LIVE_CONNS_MAX && !c; i++)
            if (l->conns[i].kind == CONN_FREE)
                c = &l->conns[i];
        if (!c) {
            ssize_t ignored = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)ignored;
            close(fd);
            continue;
        }
        memset(&c->out, 0, sizeof c->out);
        c->out.bound = (size_t)l->opt.buffer_kb * 1024u;
        c->fd = fd;
        c->kind = CONN_REQUEST;
        c->req_len = 0;
        c->opened_us = lab_now_us();
    }
}

/* ------------------------------------------------------------------------
 * The live thread
 * --------------------------------------------------------------------- */

/* save_state writes the state to PATH (through a temporary file, renamed)
 * and the same to latest.json beside it. */
static void save_state(struct live *l, const struct nemesis *nem)
{
    struct jbuf b = { 0 };
    char dir[1024], tmp[1100], latest[1100];
    const char *slash = strrchr(l->opt.save_path, '/');
    const char *targets[2];

    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - l->opt.save_path) : 1,
             slash ? l->opt.save_path : ".");
    if (dir[0])
        mkdir(dir, 0755);
    snprintf(latest, sizeof latest, "%s/latest.json", dir);
    targets[0] = l->opt.save_path;
    targets[1] = latest;
    build_state(l, &b, nem);
    jb_add(&b, "\n");
    for (int i = 0; i < 2 && !b.oom; i++) {
        FILE *f;
        snprintf(tmp, sizeof tmp, "%s.tmp", targets[i]);
        f = fopen(tmp, "w");
        if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0 ||
            rename(tmp, targets[i]) != 0)
            lab_log("live: cannot write %s", targets[i]);
    }
    free(b.p);
    lab_log("live: the last state is in %s (and %s)", l->opt.save_path, latest);
}

/* show_end makes the last tick, keeps the verdicts, sends the "final"
 * event and saves the state: what live_finish waits for. */
static void show_end(struct live *l, const struct live_end *e, const struct nemesis *nem)
{
    struct jbuf b = { 0 };

    if (l->ticking)
        tick(l, lab_now_us(), nem);
    else
        take_cells(l, e->known ? e->tickets : 0);
    l->ticking = false;
    l->fin = *e;
    l->have_end = true;
    if (e->known) {
        /* the audit's figures are the last word: the poller's may be 150 ms old */
        l->now_pt.tickets = e->tickets;
        l->now_pt.counter = e->counter;
        l->now_pt.decided = e->decided;
        if (l->series_len > 0)
            l->series[l->series_len - 1] = l->now_pt;
        take_cells(l, e->tickets);
    }
    snprintf(l->stage_now, sizeof l->stage_now, "done");
    jb_add(&b, "{\"type\":\"final\",\"sentUs\":%" PRIu64 ",\"t\":%.3f,\"tickets\":", wall_us(),
           now_t(l, lab_now_us()));
    jb_num(&b, l->now_pt.tickets);
    jb_add(&b, ",\"counter\":");
    jb_num(&b, l->now_pt.counter);
    jb_add(&b, ",\"decided\":");
    jb_num(&b, l->now_pt.decided);
    jb_add(&b, ",\"seats\":%lld,\"seatSource\":\"%s\",\"seatHits\":[", l->seats,
           l->by_counter ? "counter" : "tickets");
    for (long long c = 0; c < l->cells; c++)
        jb_add(&b, "%s%u", c ? "," : "", l->cells_now[c]);
    jb_add(&b, "],");
    add_fault_windows(l, &b, nem);
    jb_add(&b, ",");
    add_final(&b, e);
    jb_add(&b, "}");
    broadcast(l, &b);
    free(b.p);
    if (l->opt.save_path[0])
        save_state(l, nem);
}

/* read_mailbox takes what main posted: the start, a stage, a finish, a
 * stop. Called with l->mu held. */
static void read_mailbox(struct live *l, uint64_t now, const struct nemesis **nem,
                         struct live_end **end)
{
    char drain[64];

    while (read(l->wake_rd, drain, sizeof drain) > 0)
        ;
    *nem = l->nem;
    if (l->started && !l->ticking && !l->have_end && !l->t0_us) {
        l->t0_us = l->start_us;
        l->prev_us = l->start_us;
        l->next_tick_us = now;
        l->ticking = true;
    }
    if (strcmp(l->stage, l->stage_now) != 0 && !l->have_end) {
        struct jbuf b = { 0 };
        snprintf(l->stage_now, sizeof l->stage_now, "%s", l->stage);
        jb_add(&b, "{\"type\":\"stage\",\"sentUs\":%" PRIu64 ",\"t\":%.3f,\"stage\":", wall_us(),
               now_t(l, now));
        jb_str(&b, l->stage_now);
        jb_add(&b, "}");
        broadcast(l, &b);
        free(b.p);
    }
    *end = l->end;
    l->end = NULL;
}

/* poll_set lists the sockets to wait on: the wake-up pipe, the listening
 * socket, every connection (to read, and to write what is pending). */
static int poll_set(struct live *l, struct pollfd *fds, struct live_conn **who)
{
    int n = 0;

    fds[n] = (struct pollfd){ .fd = l->wake_rd, .events = POLLIN };
    who[n++] = NULL;
    fds[n] = (struct pollfd){ .fd = l->listen_fd, .events = POLLIN };
    who[n++] = NULL;
    for (int i = 0; i < LIVE_CONNS_MAX; i++) {
        struct live_conn *c = &l->conns[i];
        if (c->kind == CONN_FREE)
            continue;
        fds[n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
        if (c->out.len > c->out.off)
            fds[n].events |= POLLOUT;
        who[n++] = c;
    }
    return n;
}

/* housekeeping closes requests that never came whole, and sends a
 * comment to idle streams every LIVE_KEEPALIVE_MS once the ticks stop. */
static void housekeeping(struct live *l, uint64_t now)
{
    bool keepalive = !l->ticking && now - l->last_keepalive_us >= LIVE_KEEPALIVE_MS * 1000u;

    for (int i = 0; i < LIVE_CONNS_MAX; i++) {
        struct live_conn *c = &l->conns[i];
        if (c->kind == CONN_REQUEST &&
            now - c->opened_us > (uint64_t)LIVE_REQUEST_TIMEOUT_MS * 1000u)
            conn_close(l, c);
        else if (c->kind == CONN_STREAM && keepalive)
            send_raw(l, c, ": keep\n\n", 8, false);
    }
    if (keepalive)
        l->last_keepalive_us = now;
}

/* live_run is the live thread: poll, serve, tick, until told to stop. */
static void *live_run(void *arg)
{
    struct live *l = arg;
    struct pollfd *fds = l->fds;
    struct live_conn **who = l->who;
    const struct nemesis *nem = NULL;

    for (;;) {
        uint64_t now = lab_now_us();
        struct live_end *end = NULL;
        int n, timeout_ms = 1000;
        bool stop;

        pthread_mutex_lock(&l->mu);
        read_mailbox(l, now, &nem, &end);
        stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (end) {
            show_end(l, end, nem);
            pthread_mutex_lock(&l->mu);
            l->end_done = true;
            pthread_cond_broadcast(&l->cv);
            pthread_mutex_unlock(&l->mu);
        }
        if (stop)
            break;
        if (l->ticking && now >= l->next_tick_us) {
            tick(l, now, nem);
            l->next_tick_us += LIVE_TICK_MS * 1000u;
            if (l->next_tick_us <= now)   /* late (a busy machine): no catching up */
                l->next_tick_us = now + LIVE_TICK_MS * 1000u;
        }
        housekeeping(l, now);
        if (l->ticking)
            timeout_ms = (int)((l->next_tick_us > now ? l->next_tick_us - now : 0) / 1000u) + 1;
        n = poll_set(l, fds, who);
        if (poll(fds, (nfds_t)n, timeout_ms) <= 0)
            continue;
        if (fds[1].revents & POLLIN)
            accept_all(l);
        for (int i = 2; i < n; i++) {
            struct live_conn *c = who[i];
            if (c->kind == CONN_FREE || c->fd != fds[i].fd)
                continue;
            if (fds[i].revents & POLLOUT) {
                if (live_stream_flush(&c->out, c->fd) != 0 ||
                    (c->kind == CONN_REPLY && c->out.len == c->out.off)) {
                    conn_close(l, c);
                    continue;
                }
            }
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
                conn_read(l, c, nem);
        }
    }
    for (int i = 0; i < LIVE_CONNS_MAX; i++)
        if (l->conns[i].kind != CONN_FREE)
            conn_close(l, &l->conns[i]);
    return NULL;
}

/* ------------------------------------------------------------------------
 * The database poller
 * --------------------------------------------------------------------- */

/* db_run polls the counter and the tickets every LIVE_DB_POLL_MS on its
 * own connection, made again (at most once a second) when a fault broke
 * it; a statement stuck on a paused PostgreSQL holds only this thread. */
static void *db_run(void *arg)
{
    struct live *l = arg;
    PGconn *db = NULL;
    uint64_t next_connect_us = 0;

    pthread_mutex_lock(&l->db_mu);
    while (!l->db_stop) {
        uint64_t now = lab_now_us();
        struct timespec until;
        struct db_live v;
        char err[256];

        pthread_mutex_unlock(&l->db_mu);
        if (db && PQstatus(db) != CONNECTION_OK) {
            PQfinish(db);
            db = NULL;
        }
        if (!db && now >= next_connect_us) {
            db = db_connect(l->conninfo, err, sizeof err);
            next_connect_us = now + 1000000u;
        }
        if (db && db_live_counts(db, l->event_id, &v) == LAB_OK) {
            atomic_store_explicit(&l->db_available, v.available, memory_order_relaxed);
            atomic_store_explicit(&l->db_tickets, v.tickets, memory_order_relaxed);
            atomic_store_explicit(&l->db_decided, v.decided, memory_order_relaxed);
            atomic_store_explicit(&l->db_known, true, memory_order_release);
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += LIVE_DB_POLL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&l->db_mu);
        if (!l->db_stop)
            pthread_cond_timedwait(&l->db_cv, &l->db_mu, &until);
    }
    pthread_mutex_unlock(&l->db_mu);
    if (db)
        PQfinish(db);
    return NULL;
}

/* ------------------------------------------------------------------------
 * Main's side
 * --------------------------------------------------------------------- */

/* wake tells the live thread to read its mailbox. */
static void wake(struct live *l)
{
    ssize_t ignored = write(l->wake_wr, "x", 1);
    (void)ignored;
}

/* listen_on binds the page's socket, so that a port in use fails the run
 * before the attack rather than after. */
static int listen_on(const struct live_options *o, char *err, size_t err_len)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 || inet_pton(AF_INET, o->host, &a.sin_addr) != 1) {
        snprintf(err, err_len, "live: cannot make a socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) {
        snprintf(err, err_len, "live: cannot listen on %s:%d: %s", o->host, o->port,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* copy_plan keeps what the page shows of the run. */
static void copy_plan(struct live *l, const struct live_plan *p)
{
    snprintf(l->run_id, sizeof l->run_id, "%s", p->run_id ? p->run_id : "");
    snprintf(l->phase_name, sizeof l->phase_name, "%s", p->phase_name ? p->phase_name : "");
    snprintf(l->mode, sizeof l->mode, "%s", p->mode ? p->mode : "");
    snprintf(l->planted, sizeof l->planted, "%s", p->planted ? p->planted : "");
    snprintf(l->conninfo, sizeof l->conninfo, "%s", p->conninfo ? p->conninfo : "");
    l->phase = p->phase;
    l->async = p->async;
    l->event_id = p->event_id;
    l->seats = p->seats;
    l->users = p->users;
    l->requests = p->requests;
    l->think_ms = p->think_ms;
    l->threads = p->threads > 0 ? p->threads : 1;
    l->decided_before = p->decided_before;
    if (p->faults)
        l->faults = *p->faults;
    snprintf(l->stage, sizeof l->stage, "ready");
    snprintf(l->stage_now, sizeof l->stage_now, "ready");
}

/* alloc_parts allocates the counters, the seat hits and the cells. */
static int alloc_parts(struct live *l)
{
    size_t counters = (size_t)l->threads * sizeof *l->counters;

    live_cells(l->seats, &l->cells, &l->per_cell);
    l->seat_hits_len = (size_t)(l->seats > 0 ? l->seats : 0) + 1;
    l->counters = aligned_alloc(64, (counters + 63) / 64 * 64);
    l->seat_hits = calloc(l->seat_hits_len, sizeof *l->seat_hits);
    l->hits_now = calloc(l->seat_hits_len, sizeof *l->hits_now);
    l->cells_now = calloc((size_t)l->cells + 1, sizeof *l->cells_now);
    l->cells_sent = calloc((size_t)l->cells + 1, sizeof *l->cells_sent);
    l->series = calloc(LIVE_SERIES_MAX, sizeof *l->series);
    if (!l->counters || !l->seat_hits || !l->hits_now || !l->cells_now || !l->cells_sent ||
        !l->series)
        return -1;
    memset(l->counters, 0, counters);
    for (int i = 0; i < l->threads; i++) {
        atomic_init(&l->counters[i].accepted, 0);
        atomic_init(&l->counters[i].refused, 0);
        atomic_init(&l->counters[i].failed, 0);
        for (unsigned k = 0; k < LIVE_LAT_BUCKETS; k++)
            atomic_init(&l->counters[i].latency[k], 0);
    }
    for (size_t v = 0; v < l->seat_hits_len; v++)
        atomic_init(&l->seat_hits[v], 0);
    l->series_stride = 1;
    l->now_pt.tickets = l->now_pt.counter = l->now_pt.decided = -1;
    return 0;
}

/* free_parts releases what alloc_parts allocated. */
static void free_parts(struct live *l)
{
    free(l->counters);
    free(l->seat_hits);
    free(l->hits_now);
    free(l->cells_now);
    free(l->cells_sent);
    free(l->series);
}

/* start_threads starts the live thread and the poller with SIGINT and
 * SIGTERM blocked, so that those signals reach main (live_linger waits for
 * them there) and never one of these threads. */
static int start_threads(struct live *l)
{
    sigset_t block, old;
    int rc;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = pthread_create(&l->tid, NULL, live_run, l);
    l->running = rc == 0;
    if (rc == 0 && l->conninfo[0]) {
        rc = pthread_create(&l->db_tid, NULL, db_run, l);
        l->db_running = rc == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

/* live_start: see live.h. */
struct live *live_start(const struct live_options *o, const struct live_plan *plan, char *err,
                        size_t err_len)
{
    struct live *l = calloc(1, sizeof *l);
    int pipe_fds[2];

    if (!l) {
        snprintf(err, err_len, "live: out of memory");
        return NULL;
    }
    l->opt = *o;
    if (l->opt.buffer_kb <= 0)
        l->opt.buffer_kb = LIVE_DEFAULT_BUFFER_KB;
    copy_plan(l, plan);
    for (int i = 0; i < LIVE_CONNS_MAX; i++)
        l->conns[i].fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_mutex_init(&l->db_mu, NULL);
    pthread_cond_init(&l->db_cv, NULL);
    l->wake_rd = l->wake_wr = -1;
    l->listen_fd = listen_on(o, err, err_len);
    if (l->listen_fd < 0 || alloc_parts(l) != 0 || pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        if (l->listen_fd >= 0)
            snprintf(err, err_len, "live: out of memory or pipes");
        live_stop(l);
        return NULL;
    }
    l->wake_rd = pipe_fds[0];
    l->wake_wr = pipe_fds[1];
    if (start_threads(l) != 0) {
        snprintf(err, err_len, "live: cannot start its threads");
        live_stop(l);
        return NULL;
    }
    snprintf(l->url, sizeof l->url, "http://%s:%d/", o->host, o->port);
    lab_log("live: the race is shown at %s (open it in a browser)", l->url);
    return l;
}

/* live_counters_of: thread I's own counters, NULL past the plan's threads. */
struct live_counters *live_counters_of(struct live *l, int i)
{
    return i >= 0 && i < l->threads ? &l->counters[i] : NULL;
}

/* live_seat_hits: the shared array of counter values read, and its length. */
_Atomic unsigned *live_seat_hits(struct live *l, size_t *len)
{
    *len = l->seat_hits_len;
    return l->seat_hits;
}

/* live_attack_started: the mailbox's start. */
void live_attack_started(struct live *l, uint64_t start_us, const struct nemesis *nem)
{
    pthread_mutex_lock(&l->mu);
    l->started = true;
    l->start_us = start_us;
    l->nem = nem;
    snprintf(l->stage, sizeof l->stage, "attack");
    pthread_mutex_unlock(&l->mu);
    wake(l);
}

/* live_stage: the mailbox's stage. */
void live_stage(struct live *l, const char *stage)
{
    pthread_mutex_lock(&l->mu);
    snprintf(l->stage, sizeof l->stage, "%s", stage);
    pthread_mutex_unlock(&l->mu);
    wake(l);
}

/* make_end fills E from the summary, the checker and the explanation, in
 * the words of live_words.c. */
static void make_end(struct live_end *e, const struct summary *s, const struct check_result *check,
                     const char *explain, const char *stopped)
{
    memset(e, 0, sizeof *e);
    snprintf(e->explain, sizeof e->explain, "%s", explain ? explain : "");
    if (stopped) {
        snprintf(e->verdict, sizeof e->verdict, "none");
        snprintf(e->verdict_line, sizeof e->verdict_line, "stopped: %s", stopped);
        snprintf(e->verdict_text, sizeof e->verdict_text, "The run stopped before its audit: "
                 "%s.", stopped);
        return;
    }
    snprintf(e->verdict, sizeof e->verdict, "%s", report_verdict_word(s));
    report_verdict(s, e->verdict_line, sizeof e->verdict_line);
    live_words_audit(s, e->verdict_text, sizeof e->verdict_text);
    if (check) {
        checker_verdict(check, e->check_verdict, sizeof e->check_verdict);
        live_words_check(check, e->check_text, sizeof e->check_text);
    }
    e->known = s->audited;
    e->tickets = s->sold;
    e->counter = s->available;
    e->decided = s->drained ? s->decided : s->booked_decisions;
    e->seats = s->total_seats;
    e->oversold = s->oversold;
    e->phantom = s->phantom;
}

/* live_finish: posts the end and waits until the live thread showed it. */
void live_finish(struct live *l, const struct summary *s, const struct check_result *check,
                 const char *explain, const char *stopped)
{
    struct live_end *e = malloc(sizeof *e);

    if (!e || !l->running) {
        free(e);
        return;
    }
    make_end(e, s, check, explain, stopped);
    pthread_mutex_lock(&l->mu);
    l->end = e;
    l->end_done = false;
    pthread_mutex_unlock(&l->mu);
    wake(l);
    pthread_mutex_lock(&l->mu);
    while (!l->end_done)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    free(e);
}

/* live_linger: SIGINT and SIGTERM are blocked in main while it waits for
 * them (the live threads block them for good), so neither kills the run
 * before its exit status. */
void live_linger(struct live *l, int linger_s)
{
    sigset_t set, old;
    int sig;

    if (linger_s == 0)
        return;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    if (linger_s < 0) {
        lab_log("live: the page stays at %s until Ctrl-C", l->url);
        while (sigwait(&set, &sig) != 0)
            ;
    } else {
        struct timespec ts = { .tv_sec = linger_s };
        lab_log("live: the page stays at %s for %d s (Ctrl-C ends it sooner)", l->url, linger_s);
        while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* live_stop: see live.h. Safe on a half-started L. */
void live_stop(struct live *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->db_mu);
    l->db_stop = true;
    pthread_cond_broadcast(&l->db_cv);
    pthread_mutex_unlock(&l->db_mu);
    if (l->db_running)
        pthread_join(l->db_tid, NULL);
    if (l->running) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_mutex_unlock(&l->mu);
        wake(l);
        pthread_join(l->tid, NULL);
    }
    if (l->listen_fd >= 0)
        close(l->listen_fd);
    if (l->wake_rd >= 0)
        close(l->wake_rd);
    if (l->wake_wr >= 0)
        close(l->wake_wr);
    if (l->dropped)
        lab_log("live: %lld client(s) that did not read were dropped", l->dropped);
    free_parts(l);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->db_mu);
    pthread_cond_destroy(&l->db_cv);
    free(l);
}
