/* liveprobe.c -- clients of the live page's event stream (harness/live.c),
 * for its costs and its tests: scripts/live-bench.sh, tests/scripts/test_live.sh.
 *
 *   build/liveprobe --addr 127.0.0.1:18088 [--clients N] [--seconds S]
 *                   [--until-final] [--stall] [--rcvbuf BYTES] [--id ID]
 *
 * Opens N streams (/events?client=ID-i, or ID itself with one client) and
 * reads them all with one poll(2) loop. Every event carries the harness's
 * wall clock when it was made ("sentUs"); the probe takes its own wall
 * clock when the event's last byte arrives and keeps the difference, for
 * the "tick" events: how late the page learns what happened. Both clocks
 * are the same machine's CLOCK_REALTIME, so the difference is the delay,
 * not a clock offset. At the end it prints one line of key=value:
 *
 *   streams=60 refused_409=0 refused_503=0 other=0 events=6000 ticks=5940
 *   finals=60 p50_ms=0.4 p99_ms=2.1 max_ms=9.8 closed_by_server=0
 *
 * --stall: never read (a slow client), with a small receive buffer
 * (--rcvbuf, default 2048 bytes), until --seconds pass; then tell whether
 * the server closed the stream meanwhile (closed_by_server=1). Exit 0, or
 * 2 on bad usage, 3 when no stream could be opened at all. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAX 1024
#define PROBE_LINE_MAX (1 << 20)

struct stream {
    int fd;
    int status;                /* the answer's HTTP status; 0 until read */
    bool headers_done, closed, final_seen;
    char *buf;                 /* bytes not yet parsed into events */
    size_t len;
};

struct probe {
    char host[64];
    int port;
    int clients;
    double seconds;
    bool until_final, stall;
    int rcvbuf;
    char id[48];
    struct stream s[PROBE_MAX];
    double *lat_ms;            /* tick delays */
    size_t lat_len, lat_cap;
    long long events, ticks, finals, refused_409, refused_503, other, closed_by_server;
};

/* wall_us: this machine's wall clock, as the harness stamps its events. */
static uint64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* usage prints the options and exits 2. */
static void usage(const char *why)
{
    fprintf(stderr, "liveprobe: %s\nusage: liveprobe --addr HOST:PORT [--clients N] "
            "[--seconds S] [--until-final] [--stall] [--rcvbuf BYTES] [--id ID]\n", why);
    exit(2);
}

/* parse_args reads the command line into P. */
static void parse_args(struct probe *p, int argc, char **argv)
{
    p->clients = 1;
    p->seconds = 10;
    p->rcvbuf = 2048;
    snprintf(p->id, sizeof p->id, "probe%d", (int)getpid());
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--until-final") == 0) {
            p->until_final = true;
            continue;
        }
        if (strcmp(a, "--stall") == 0) {
            p->stall = true;
            continue;
        }
        if (!v)
            usage("an option needs a value");
        i++;
        if (strcmp(a, "--addr") == 0) {
            const char *colon = strrchr(v, ':');
            if (!colon || colon == v || (size_t)(colon - v) >= sizeof p->host)
                usage("--addr wants HOST:PORT");
            snprintf(p->host, sizeof p->host, "%.*s", (int)(colon - v), v);
            p->port = atoi(colon + 1);
        } else if (strcmp(a, "--clients") == 0) {
            p->clients = atoi(v);
        } else if (strcmp(a, "--seconds") == 0) {
            p->seconds = atof(v);
        } else if (strcmp(a, "--rcvbuf") == 0) {
            p->rcvbuf = atoi(v);
        } else if (strcmp(a, "--id") == 0) {
            snprintf(p->id, sizeof p->id, "%s", v);
        } else {
            usage("unknown option");
        }
    }
    if (!p->host[0] || p->port <= 0 || p->port > 65535)
        usage("--addr HOST:PORT is needed");
    if (p->clients < 1 || p->clients > PROBE_MAX)
        usage("--clients is 1 to 1024");
    if (p->seconds <= 0)
        usage("--seconds must be positive");
}

/* open_stream connects stream I and sends its request (blocking connect
 * on loopback, then non-blocking reads). */
static int open_stream(struct probe *p, int i)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p->port) };
    char req[256];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

    if (fd < 0 || inet_pton(AF_INET, p->host, &a.sin_addr) != 1)
        return -1;
    if (p->stall)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &p->rcvbuf, sizeof p->rcvbuf);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    if (p->clients == 1)
        n = snprintf(req, sizeof req, "GET /events?client=%s HTTP/1.1\r\nHost: %s:%d\r\n"
                     "Accept: text/event-stream\r\n\r\n", p->id, p->host, p->port);
    else
        n = snprintf(req, sizeof req, "GET /events?client=%s-%d HTTP/1.1\r\nHost: %s:%d\r\n"
                     "Accept: text/event-stream\r\n\r\n", p->id, i, p->host, p->port);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    p->s[i].fd = fd;
    return 0;
}

/* keep_latency files one tick's delay. */
static void keep_latency(struct probe *p, double ms)
{
    if (p->lat_len == p->lat_cap) {
        size_t cap = p->lat_cap ? p->lat_cap * 2 : 4096;
        double *grown = realloc(p->lat_ms, cap * sizeof *grown);
        if (!grown)
            return;
        p->lat_ms = grown;
        p->lat_cap = cap;
    }
    p->lat_ms[p->lat_len++] = ms;
}

/* one_event reads an event's JSON (its "data:" line) at receipt time NOW. */
static void one_event(struct probe *p, struct stream *s, const char *json, uint64_t now)
{
    const char *sent = strstr(json, "\"sentUs\":");

    p->events++;
    if (strstr(json, "\"type\":\"final\"") || (strstr(json, "\"type\":\"state\"") &&
                                               strstr(json, "\"ended\":true")))
        s->final_seen = true, p->finals++;
    if (!strstr(json, "\"type\":\"tick\"") || !sent)
        return;
    p->ticks++;
    keep_latency(p, ((double)now - strtod(sent + 9, NULL)) / 1e3);
}

/* parse_stream takes whole lines out of S's buffer: the status line, the
 * headers, then the events ("data: ..." lines). */
static void parse_stream(struct probe *p, struct stream *s, uint64_t now)
{
    char *start = s->buf, *end = s->buf + s->len, *nl;

    while ((nl = memchr(start, '\n', (size_t)(end - start))) != NULL) {
        *nl = '\0';
        if (!s->status) {
            if (sscanf(start, "HTTP/1.%*d %d", &s->status) != 1)
                s->status = -1;
            if (s->status == 409)
                p->refused_409++;
            else if (s->status == 503)
                p->refused_503++;
            else if (s->status != 200)
                p->other++;
        } else if (!s->headers_done) {
            if (start[0] == '\r' || start[0] == '\0')
                s->headers_done = true;
        } else if (strncmp(start, "data: ", 6) == 0) {
            one_event(p, s, start + 6, now);
        }
        start = nl + 1;
    }
    s->len = (size_t)(end - start);
    memmove(s->buf, start, s->len);
}

/* read_stream reads what S has; an end of stream marks it closed. */
static void read_stream(struct probe *p, struct stream *s)
{
    for (;;) {
        ssize_t n;
        if (s->len + 65536 > PROBE_LINE_MAX) {
            s->len = 0;   /* an event this large is not the live page's */
        }
        n = recv(s->fd, s->buf + s->len, 65536, 0);
        if (n > 0) {
            s->len += (size_t)n;
            parse_stream(p, s, wall_us());
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        s->closed = true;
        return;
    }
}

/* cmp_double orders the delays for the percentiles. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* pct: the value at PERCENT of the sorted delays. */
static double pct(const struct probe *p, double percent)
{
    size_t i;

    if (p->lat_len == 0)
        return 0;
    i = (size_t)(percent / 100.0 * (double)(p->lat_len - 1) + 0.5);
    return p->lat_ms[i < p->lat_len ? i : p->lat_len - 1];
}

/* stall_end: after a stall, drain what is buffered; an end of stream or a
 * reset means the server dropped this client. */
static void stall_end(struct probe *p, struct stream *s)
{
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    read_stream(p, s);
    if (s->closed)
        p->closed_by_server++;
}

/* main opens the streams, reads them until --seconds pass (or every one
 * has had its final event), and prints the line of figures. */
int main(int argc, char **argv)
{
    static struct probe p;
    struct pollfd fds[PROBE_MAX];
    uint64_t until;
    int opened = 0;

    parse_args(&p, argc, argv);
    for (int i = 0; i < p.clients; i++) {
        p.s[i].fd = -1;
        p.s[i].buf = malloc(PROBE_LINE_MAX);
        if (p.s[i].buf && open_stream(&p, i) == 0)
            opened++;
    }
    if (opened == 0) {
        fprintf(stderr, "liveprobe: no stream could be opened to %s:%d\n", p.host, p.port);
        return 3;
    }
    until = wall_us() + (uint64_t)(p.seconds * 1e6);
    while (wall_us() < until) {
        int n = 0, live = 0, finals = 0;
        for (int i = 0; i < p.clients; i++) {
            if (p.s[i].fd < 0 || p.s[i].closed)
                continue;
            live++;
            finals += p.s[i].final_seen;
            fds[n++] = (struct pollfd){ .fd = p.s[i].fd, .events = p.stall ? 0 : POLLIN };
        }
        if (live == 0 || (p.until_final && finals == live))
            break;
        if (poll(fds, (nfds_t)n, 100) <= 0 || p.stall)
            continue;
        for (int i = 0, k = 0; i < p.clients; i++) {
            if (p.s[i].fd < 0 || p.s[i].closed)
                continue;
            if (fds[k++].revents)
                read_stream(&p, &p.s[i]);
        }
    }
    for (int i = 0; i < p.clients; i++) {
        if (p.s[i].fd < 0)
            continue;
        if (p.stall)
            stall_end(&p, &p.s[i]);
        else if (p.s[i].closed && !p.s[i].final_seen && p.s[i].status == 200)
            p.closed_by_server++;
        close(p.s[i].fd);
        free(p.s[i].buf);
    }
    qsort(p.lat_ms, p.lat_len, sizeof *p.lat_ms, cmp_double);
    printf("streams=%d refused_409=%lld refused_503=%lld other=%lld events=%lld ticks=%lld "
           "finals=%lld p50_ms=%.2f p99_ms=%.2f max_ms=%.2f closed_by_server=%lld\n", opened,
           p.refused_409, p.refused_503, p.other, p.events, p.ticks, p.finals, pct(&p, 50),
           pct(&p, 99), pct(&p, 100), p.closed_by_server);
    free(p.lat_ms);
    return 0;
}
