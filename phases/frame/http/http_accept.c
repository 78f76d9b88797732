/* http_accept.c -- accept, then hand over or refuse at once (see the header). */
#include "http/http_accept.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lab.h"

struct http_acceptor {
    int listen_fd;
    int spare_fd;                 /* /dev/null, given up to accept when out of fds */
    int wake[2];                  /* a pipe: a byte on wake[1] stops the thread */
    unsigned max_conns;
    atomic_uint open_conns;       /* connections libmicrohttpd holds */
    atomic_ulong refused;
    struct MHD_Daemon *daemon;
    pthread_t thread;
    bool started;
};

static const char http_accept_busy[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Connection: close\r\nContent-Length: 84\r\n\r\n"
    "{\"status\":\"error\",\"error\":\"unavailable\",\"reason\":\"too many connections; try later\"}\n";

struct http_acceptor *http_accept_open(const char *host, int port, unsigned max_conns)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    struct http_acceptor *a = calloc(1, sizeof *a);
    int one = 1;

    if (!a)
        return NULL;
    a->listen_fd = a->spare_fd = a->wake[0] = a->wake[1] = -1;
    a->max_conns = max_conns;
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        lab_log("http: '%s' is not an IPv4 address", host);
        goto fail;
    }
    if ((a->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
        setsockopt(a->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(a->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(a->listen_fd, 4096) != 0) {
        lab_log("http: cannot listen on %s:%d: %s", host, port, strerror(errno));
        goto fail;
    }
    if (pipe2(a->wake, O_CLOEXEC) != 0 ||
        (a->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        lab_log("http: %s", strerror(errno));
        goto fail;
    }
    return a;
fail:
    http_accept_free(a);
    return NULL;
}

void http_accept_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct http_acceptor *a = cls;

    (void)conn;
    (void)socket_context;
    /* counted up at the hand-over (libmicrohttpd's STARTED comes later,
     * from the worker thread, and would let a burst through uncounted) */
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        atomic_fetch_sub(&a->open_conns, 1);
}

/* http_accept_refuse answers FD the short 503 (best effort: the socket is
 * fresh, its send buffer empty) and closes it. */
static void http_accept_refuse(struct http_acceptor *a, int fd)
{
    ssize_t ignored = send(fd, http_accept_busy, sizeof http_accept_busy - 1,
                           MSG_NOSIGNAL | MSG_DONTWAIT);

    (void)ignored;
    close(fd);
    atomic_fetch_add(&a->refused, 1);
}

/* http_accept_one takes one waiting connection; false when none is left. */
static bool http_accept_one(struct http_acceptor *a)
{
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int fd = accept4(a->listen_fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);

    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
        /* out of descriptors: the spare one makes room for one refusal */
        close(a->spare_fd);
        fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            http_accept_refuse(a, fd);
        a->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return fd >= 0;
    }
    if (fd < 0)
        return false;
    if (atomic_load(&a->open_conns) >= a->max_conns) {
        http_accept_refuse(a, fd);
        return true;
    }
    /* libmicrohttpd closes the socket itself when it cannot take it */
    atomic_fetch_add(&a->open_conns, 1);
    if (MHD_add_connection(a->daemon, fd, (struct sockaddr *)&peer, len) != MHD_YES)
        atomic_fetch_sub(&a->open_conns, 1);
    return true;
}

static void *http_accept_thread(void *arg)
{
    struct http_acceptor *a = arg;
    struct pollfd p[2] = { { .fd = a->listen_fd, .events = POLLIN },
                           { .fd = a->wake[0], .events = POLLIN } };

    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents)
            while (http_accept_one(a))
                ;
    }
    return NULL;
}

bool http_accept_start(struct http_acceptor *a, struct MHD_Daemon *daemon)
{
    a->daemon = daemon;
    if (pthread_create(&a->thread, NULL, http_accept_thread, a) != 0)
        return false;
    a->started = true;
    return true;
}

void http_accept_close(struct http_acceptor *a)
{
    if (!a)
        return;
    if (a->started) {
        ssize_t ignored = write(a->wake[1], "x", 1);
        (void)ignored;
        pthread_join(a->thread, NULL);
        a->started = false;
    }
    int *fds[] = { &a->listen_fd, &a->spare_fd, &a->wake[0], &a->wake[1] };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

/* http_accept_free releases A once libmicrohttpd, which counts its
 * connections into it until they are all closed, has stopped. */
void http_accept_free(struct http_acceptor *a)
{
    http_accept_close(a);
    free(a);
}

unsigned long http_accept_refused(struct http_acceptor *a)
{
    return a ? atomic_load(&a->refused) : 0;
}
