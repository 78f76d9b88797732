/* labproxy.c -- the lab's own TCP proxy, for the partition faults.
 *
 *   labproxy --route LISTEN=TARGET [--route ...] --control HOST:PORT
 *
 * LISTEN and the control address are HOST:PORT on loopback (127.x.x.x or
 * localhost): the proxy is never reachable from another machine. TARGET is
 * HOST:PORT of any IPv4 server (a name is resolved at start and at each
 * `route`): a server of the lab, or one of yours (docs/bring-your-own.md).
 * Each route listens on LISTEN and forwards every connection to TARGET,
 * bytes both ways, until either side closes. The control port takes one command
 * a connection, one line, and answers one line:
 *
 *   cut             close every proxied connection, refuse new ones
 *   heal            forward again (ends a cut)
 *   delay MS        hold each chunk MS ms before forwarding it (0: none)
 *   drop PERCENT    close that share of new connections at once (0: none)
 *   route LISTEN TARGET   new connections of route LISTEN go to TARGET
 *   status          one line of JSON: connections open, accepted, refused,
 *                   failed, bytes each way, cut, delay, drop, the routes
 *
 * An answer is "ok ..." or "error: ...". A closed or refused connection is
 * reset (RST), so that its client learns at once, as a client cut off by a
 * firewall that rejects learns it. One thread, one poll loop; SIGTERM or
 * SIGINT ends it cleanly (exit 0). Bad arguments: usage, exit 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 16
#define MAX_CONNS 2048
#define MAX_CONTROL 8
#define CHUNK 16384
#define QUEUE_MAX (256 * 1024) /* bytes held per direction before reading stops */
#define MAX_DELAY_MS 60000

/* A chunk read from one side, waiting until its due time to be written to
 * the other. */
struct chunk {
    struct chunk *next;
    long long due_ms;
    size_t len, off;
    char data[];
};

/* One proxied connection: side 0 is the client, side 1 the target.
 * q[i] holds what side i sent, on its way to side 1-i. */
struct conn {
    int fd[2];
    bool connecting;   /* the target's connect() has not completed */
    bool eof[2];       /* side i closed its sending half */
    bool shut[2];      /* side i's sending half was shut down (its EOF passed on) */
    bool want_out[2];  /* a write to side i would block: poll for POLLOUT */
    struct chunk *head[2], *tail[2];
    size_t queued[2];
};

struct route {
    struct sockaddr_in listen, target;
    int fd;
};

/* A control connection: its command line, read as it comes. */
struct control {
    int fd;
    size_t len;
    char line[256];
};

static struct route routes[MAX_ROUTES];
static int nroutes;
static int control_fd = -1;
static struct conn *conns[MAX_CONNS];
static int nconns;
static struct control controls[MAX_CONTROL];
static bool cut;
static int delay_ms, drop_pct, drop_acc;
static unsigned long long n_accepted, n_refused, n_failed, n_bytes[2];
static volatile sig_atomic_t stopping;

/* now_ms reads the monotonic clock in milliseconds. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* usage prints how to call the program and exits 2 (bad arguments). */
static _Noreturn void usage(const char *why)
{
    if (why)
        fprintf(stderr, "labproxy: %s\n", why);
    fprintf(stderr, "usage: labproxy --route LISTEN=TARGET [--route LISTEN=TARGET ...] --control HOST:PORT\n"
                    "       (LISTEN and the control address on loopback: 127.x.x.x or localhost;\n"
                    "       TARGET any IPv4 HOST:PORT)\n");
    exit(2);
}

/* parse_addr reads HOST:PORT into SA: a loopback address only when
 * LOOPBACK (where the proxy listens), else any IPv4 address or a name
 * resolved to one (a target). */
static bool parse_addr(const char *s, struct sockaddr_in *sa, bool loopback)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char host[256];
    const char *colon = strrchr(s, ':');
    char *end;
    long port;

    if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
        return false;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        if (loopback || getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
            return false;
        sa->sin_addr = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
        freeaddrinfo(res);
    }
    if (loopback && (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
        return false;
    sa->sin_port = htons((unsigned short)port);
    return true;
}

/* addr_str writes SA as HOST:PORT into BUF (at least 32 bytes). */
static const char *addr_str(const struct sockaddr_in *sa, char *buf)
{
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
    snprintf(buf, 32, "%s:%u", host, ntohs(sa->sin_port));
    return buf;
}

/* listen_on opens a non-blocking listening socket on SA, or returns -1. */
static int listen_on(const struct sockaddr_in *sa)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)sa, sizeof *sa) != 0 || listen(fd, 128) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* reset_close closes FD with an RST rather than a FIN (SO_LINGER 0): the
 * peer's next read or write fails at once. */
static void reset_close(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    if (fd < 0)
        return;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* conn_free closes both sides of conns[I] (reset when RESET) and frees its
 * queues; the last connection takes its slot. */
static void conn_free(int i, bool reset)
{
    struct conn *c = conns[i];

    for (int s = 0; s < 2; s++) {
        if (reset)
            reset_close(c->fd[s]);
        else if (c->fd[s] >= 0)
            close(c->fd[s]);
        while (c->head[s]) {
            struct chunk *k = c->head[s];
            c->head[s] = k->next;
            free(k);
        }
    }
    free(c);
    conns[i] = conns[--nconns];
}

/* accept_all takes every pending connection of route R: refused (reset at
 * once) during a cut or when drop says so, else connected to the route's
 * target without blocking (the connect completes in the poll loop). */
static void accept_all(const struct route *r)
{
    int one = 1;

    for (;;) {
        int cfd = accept4(r->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), tfd;
        struct conn *c;

        if (cfd < 0)
            return;
        n_accepted++;
        drop_acc += drop_pct;
        if (cut || drop_acc >= 100 || nconns == MAX_CONNS) {
            if (drop_acc >= 100)
                drop_acc -= 100;
            n_refused++;
            reset_close(cfd);
            continue;
        }
        tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        c = calloc(1, sizeof *c);
        if (tfd < 0 || !c || (connect(tfd, (const struct sockaddr *)&r->target, sizeof r->target) != 0 &&
                              errno != EINPROGRESS)) {
            n_failed++;
            reset_close(cfd);
            if (tfd >= 0)
                close(tfd);
            free(c);
            continue;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd[0] = cfd;
        c->fd[1] = tfd;
        c->connecting = true;
        conns[nconns++] = c;
    }
}

/* read_side reads what side S of conns[I] sent into a chunk due after the
 * current delay. Returns false when the connection must be dropped. */
static bool read_side(int i, int s, long long now)
{
    struct conn *c = conns[i];
    struct chunk *k = malloc(sizeof *k + CHUNK);
    ssize_t n;

    if (!k)
        return true; /* try again at the next turn */
    n = recv(c->fd[s], k->data, CHUNK, 0);
    if (n <= 0) {
        free(k);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        if (n < 0)
            return false;
        c->eof[s] = true;
        return true;
    }
    k->next = NULL;
    k->len = (size_t)n;
    k->off = 0;
    k->due_ms = now + delay_ms;
    if (c->tail[s])
        c->tail[s]->next = k;
    else
        c->head[s] = k;
    c->tail[s] = k;
    c->queued[s] += (size_t)n;
    return true;
}

/* flush writes the due chunks of conns[I] to their other side, passes an
 * EOF on once its side's queue is empty, and says when the connection is
 * done (both sides closed, nothing left) or broken. Sets *NEXT to the
 * earliest due time still waiting. */
static bool flush(int i, long long now, long long *next)
{
    struct conn *c = conns[i];

    if (c->connecting)
        return true;
    for (int s = 0; s < 2; s++) {
        int to = 1 - s;
        c->want_out[to] = false;
        while (c->head[s] && c->head[s]->due_ms <= now) {
            struct chunk *k = c->head[s];
            ssize_t n = send(c->fd[to], k->data + k->off, k->len - k->off, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    c->want_out[to] = true;
                    break;
                }
                return false;
            }
            k->off += (size_t)n;
            c->queued[s] -= (size_t)n;
            n_bytes[s] += (unsigned long long)n;
            if (k->off < k->len)
                continue;
            c->head[s] = k->next;
            if (!c->head[s])
                c->tail[s] = NULL;
            free(k);
        }
        if (c->head[s] && c->head[s]->due_ms > now && (*next < 0 || c->head[s]->due_ms < *next))
            *next = c->head[s]->due_ms;
        if (c->eof[s] && !c->head[s] && !c->shut[s]) {
            shutdown(c->fd[to], SHUT_WR);
            c->shut[s] = true;
        }
    }
    return !(c->shut[0] && c->shut[1]);
}

/* find_route finds a route by its listening address (HOST:PORT, or the
 * port alone); -1 when none. */
static int find_route(const char *which)
{
    struct sockaddr_in sa;
    char buf[40];

    if (!parse_addr(which, &sa, true)) {
        snprintf(buf, sizeof buf, "127.0.0.1:%.20s", which);
        if (!parse_addr(buf, &sa, true))
            return -1;
    }
    for (int r = 0; r < nroutes; r++)
        if (routes[r].listen.sin_port == sa.sin_port && routes[r].listen.sin_addr.s_addr == sa.sin_addr.s_addr)
            return r;
    return -1;
}

/* parse_int reads a whole decimal number from LO to HI. */
static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* status_json writes the status line into OUT. */
static void status_json(char *out, size_t size)
{
    size_t len;
    char a[32], b[32];

    len = (size_t)snprintf(out, size,
                           "{\"open\":%d,\"accepted\":%llu,\"refused\":%llu,\"failed\":%llu,"
                           "\"bytes_to_target\":%llu,\"bytes_to_client\":%llu,\"cut\":%s,"
                           "\"delay_ms\":%d,\"drop_pct\":%d,\"routes\":[",
                           nconns, n_accepted, n_refused, n_failed, n_bytes[0], n_bytes[1],
                           cut ? "true" : "false", delay_ms, drop_pct);
    for (int r = 0; r < nroutes && len < size; r++)
        len += (size_t)snprintf(out + len, size - len, "%s{\"listen\":\"%s\",\"target\":\"%s\"}",
                                r ? "," : "", addr_str(&routes[r].listen, a), addr_str(&routes[r].target, b));
    if (len < size)
        snprintf(out + len, size - len, "]}");
}

/* command runs one control line and writes its one-line answer into OUT. */
static void command(char *line, char *out, size_t size)
{
    char *words[4] = { 0 }, *save = NULL;
    int n = 0, v, r, closed;
    struct sockaddr_in sa;

    for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save))
        if (n < 4)
            words[n++] = w;
        else
            n++;
    if (n == 1 && strcmp(words[0], "cut") == 0) {
        cut = true;
        closed = nconns;
        while (nconns > 0)
            conn_free(nconns - 1, true);
        snprintf(out, size, "ok cut: %d connections closed, new ones refused\n", closed);
    } else if (n == 1 && strcmp(words[0], "heal") == 0) {
        cut = false;
        snprintf(out, size, "ok healed: forwarding\n");
    } else if (n == 2 && strcmp(words[0], "delay") == 0 && parse_int(words[1], 0, MAX_DELAY_MS, &v)) {
        delay_ms = v;
        snprintf(out, size, "ok delay %d ms\n", v);
    } else if (n == 2 && strcmp(words[0], "drop") == 0 && parse_int(words[1], 0, 100, &v)) {
        drop_pct = v;
        drop_acc = 0;
        snprintf(out, size, "ok drop %d%%\n", v);
    } else if (n == 3 && strcmp(words[0], "route") == 0) {
        if ((r = find_route(words[1])) < 0)
            snprintf(out, size, "error: no route listens on '%.40s'\n", words[1]);
        else if (!parse_addr(words[2], &sa, false))
            snprintf(out, size, "error: target '%.40s' is not HOST:PORT (IPv4)\n", words[2]);
        else {
            routes[r].target = sa;
            snprintf(out, size, "ok route %.40s -> %.40s (new connections)\n", words[1], words[2]);
        }
    } else if (n == 1 && strcmp(words[0], "status") == 0) {
        status_json(out, size - 1);
        strcat(out, "\n");
    } else {
        snprintf(out, size, "error: unknown command '%.40s': cut, heal, delay MS, drop PERCENT, "
                            "route LISTEN TARGET, status\n", n ? words[0] : "");
    }
}

/* control_read reads from control connection CTL; at the end of its line
 * (or of its input) runs the command, answers and closes it. */
static void control_read(struct control *ctl)
{
    char out[4096];
    char *nl;
    ssize_t n = recv(ctl->fd, ctl->line + ctl->len, sizeof ctl->line - 1 - ctl->len, 0);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        ctl->len += (size_t)n;
    ctl->line[ctl->len] = '\0';
    nl = strchr(ctl->line, '\n');
    if (!nl && n > 0 && ctl->len < sizeof ctl->line - 1)
        return;
    if (nl)
        *nl = '\0';
    if (n < 0 || (!nl && ctl->len == 0))
        out[0] = '\0';
    else if (!nl && ctl->len == sizeof ctl->line - 1)
        snprintf(out, sizeof out, "error: command too long\n");
    else
        command(ctl->line, out, sizeof out);
    if (out[0] && send(ctl->fd, out, strlen(out), MSG_NOSIGNAL) < 0)
        fprintf(stderr, "labproxy: cannot answer on the control port: %s\n", strerror(errno));
    if (out[0] && strncmp(out, "ok", 2) == 0 && strncmp(ctl->line, "status", 6) != 0)
        fprintf(stderr, "labproxy: %s", out);
    close(ctl->fd);
    ctl->fd = -1;
}

/* control_accept takes a new control connection into a free slot (at most
 * MAX_CONTROL at once: another is closed). */
static void control_accept(void)
{
    int fd;

    while ((fd = accept4(control_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        int k = 0;
        while (k < MAX_CONTROL && controls[k].fd >= 0)
            k++;
        if (k == MAX_CONTROL) {
            close(fd);
            continue;
        }
        controls[k].fd = fd;
        controls[k].len = 0;
    }
}

/* on_signal asks the loop to stop (SIGTERM, SIGINT). */
static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* parse_args reads the routes and the control address, opening their
 * listening sockets; a bad argument is a usage error (exit 2), a port that
 * cannot be bound a start-up failure (exit 1). */
static void parse_args(int argc, char **argv)
{
    struct sockaddr_in ctl;
    char a[32];
    bool have_ctl = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fprintf(stdout, "usage: labproxy --route LISTEN=TARGET [--route ...] --control HOST:PORT\n");
            exit(0);
        }
        if (i + 1 >= argc)
            usage("a flag without its value");
        if (strcmp(argv[i], "--route") == 0) {
            char spec[128], *eq;
            if (nroutes == MAX_ROUTES)
                usage("too many routes (16 at most)");
            snprintf(spec, sizeof spec, "%s", argv[++i]);
            eq = strchr(spec, '=');
            if (!eq)
                usage("--route is LISTEN=TARGET");
            *eq = '\0';
            if (!parse_addr(spec, &routes[nroutes].listen, true))
                usage("--route: LISTEN is HOST:PORT on loopback");
            if (!parse_addr(eq + 1, &routes[nroutes].target, false))
                usage("--route: TARGET is HOST:PORT (IPv4, or a name that resolves to one)");
            nroutes++;
        } else if (strcmp(argv[i], "--control") == 0) {
            if (!parse_addr(argv[++i], &ctl, true))
                usage("--control is HOST:PORT on loopback");
            have_ctl = true;
        } else {
            usage("unknown flag");
        }
    }
    if (nroutes == 0 || !have_ctl)
        usage("at least one --route and the --control address are needed");
    for (int r = 0; r < nroutes; r++)
        if ((routes[r].fd = listen_on(&routes[r].listen)) < 0) {
            fprintf(stderr, "labproxy: cannot listen on %s: %s\n", addr_str(&routes[r].listen, a), strerror(errno));
            exit(1);
        }
    if ((control_fd = listen_on(&ctl)) < 0) {
        fprintf(stderr, "labproxy: cannot listen on %s (control): %s\n", addr_str(&ctl, a), strerror(errno));
        exit(1);
    }
}

/* Poll entries: what each stands for. */
enum slot_kind { SLOT_ROUTE, SLOT_CONTROL_LISTEN, SLOT_CONTROL, SLOT_SIDE };
struct slot {
    enum slot_kind kind;
    int index, side;
};

/* The loop: flush what is due, poll every socket (until the next due chunk
 * at the latest), act on what poll reports; SIGTERM is let in only while
 * polling (ppoll's mask), so that it is never missed. */
int main(int argc, char **argv)
{
    static struct pollfd pfd[MAX_ROUTES + 1 + MAX_CONTROL + 2 * MAX_CONNS];
    static struct slot slots[MAX_ROUTES + 1 + MAX_CONTROL + 2 * MAX_CONNS];
    struct sigaction sa = { .sa_handler = on_signal };
    struct rlimit rl;
    sigset_t block, empty;
    char a[32], b[32];

    parse_args(argc, argv);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* two sockets a connection */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int k = 0; k < MAX_CONTROL; k++)
        controls[k].fd = -1;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &empty);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (int r = 0; r < nroutes; r++)
        fprintf(stderr, "labproxy: %s -> %s\n", addr_str(&routes[r].listen, a), addr_str(&routes[r].target, b));
    fprintf(stderr, "labproxy: ready (pid %d)\n", (int)getpid());

    while (!stopping) {
        long long now = now_ms(), next = -1;
        struct timespec ts, *tsp = NULL;
        int n = 0;

        for (int i = 0; i < nconns; i++)
            if (!flush(i, now, &next))
                conn_free(i--, true);
        for (int r = 0; r < nroutes; r++) {
            pfd[n] = (struct pollfd){ .fd = routes[r].fd, .events = POLLIN };
            slots[n++] = (struct slot){ SLOT_ROUTE, r, 0 };
        }
        pfd[n] = (struct pollfd){ .fd = control_fd, .events = POLLIN };
        slots[n++] = (struct slot){ SLOT_CONTROL_LISTEN, 0, 0 };
        for (int k = 0; k < MAX_CONTROL; k++)
            if (controls[k].fd >= 0) {
                pfd[n] = (struct pollfd){ .fd = controls[k].fd, .events = POLLIN };
                slots[n++] = (struct slot){ SLOT_CONTROL, k, 0 };
            }
        for (int i = 0; i < nconns; i++)
            for (int s = 0; s < 2; s++) {
                struct conn *c = conns[i];
                short ev = 0;
                if (!c->eof[s] && c->queued[s] < QUEUE_MAX && !(s == 1 && c->connecting))
                    ev |= POLLIN;
                if (c->want_out[s] || (s == 1 && c->connecting))
                    ev |= POLLOUT;
                pfd[n] = (struct pollfd){ .fd = c->fd[s], .events = ev };
                slots[n++] = (struct slot){ SLOT_SIDE, i, s };
            }
        if (next >= 0) {
            long long wait = next - now;
            ts.tv_sec = wait / 1000;
            ts.tv_nsec = (wait % 1000) * 1000000;
            tsp = &ts;
        }
        if (ppoll(pfd, (nfds_t)n, tsp, &empty) < 0) {
            if (errno != EINTR)
                fprintf(stderr, "labproxy: poll: %s\n", strerror(errno));
            continue;
        }
        now = now_ms();
        /* connections are handled before the accepts and commands, whose
         * changes to conns[] would shift the slots' indices */
        for (int p = n - 1; p >= 0; p--) {
            int i = slots[p].index, s = slots[p].side, err = 0;
            short rev = pfd[p].revents;
            socklen_t len = sizeof err;
            struct conn *c;
            bool broken;
            if (slots[p].kind != SLOT_SIDE || !rev)
                continue;
            c = conns[i];
            if (s == 1 && c->connecting) {
                getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
                if (err)
                    n_failed++;
                c->connecting = err != 0;
            }
            /* a failed connect, an error, or a side that hangs up after its
             * EOF (it would be reported at every turn) ends the connection */
            broken = (s == 1 && c->connecting) || (rev & POLLERR) || ((rev & POLLHUP) && c->eof[s]) ||
                     ((rev & (POLLIN | POLLHUP)) && !c->eof[s] && !read_side(i, s, now));
            if (broken) {
                conn_free(i, true);
                p -= s; /* skip the other side's slot (just before): gone too */
            }
        }
        for (int p = 0; p < n; p++) {
            if (!pfd[p].revents)
                continue;
            if (slots[p].kind == SLOT_ROUTE)
                accept_all(&routes[slots[p].index]);
            else if (slots[p].kind == SLOT_CONTROL_LISTEN)
                control_accept();
            else if (slots[p].kind == SLOT_CONTROL && controls[slots[p].index].fd >= 0)
                control_read(&controls[slots[p].index]);
        }
    }
    while (nconns > 0)
        conn_free(nconns - 1, false);
    for (int k = 0; k < MAX_CONTROL; k++)
        if (controls[k].fd >= 0)
            close(controls[k].fd);
    for (int r = 0; r < nroutes; r++)
        close(routes[r].fd);
    close(control_fd);
    fprintf(stderr, "labproxy: stopped\n");
    return 0;
}
