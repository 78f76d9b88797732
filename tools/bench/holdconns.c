/* holdconns.c -- opens N TCP connections to HOST:PORT and holds them open,
 * so that make bench can read the service's resident memory with that many
 * idle clients. Each connection sends one GET /healthz with keep-alive and
 * reads its answer, so the server has really set it up; then nothing more.
 * Prints "held N" on stdout once all are open and waits for stdin to close.
 *
 *   holdconns HOST PORT N */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* raise_fd_limit lifts the soft limit on open files to the hard limit:
 * 10,000 sockets do not fit in the usual 1024. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* open_one connects to ADDR, sends one keep-alive request and reads the
 * answer's first bytes; returns the socket, or -1. */
static int open_one(const struct sockaddr_in *addr, const char *host)
{
    char req[256], buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int len;

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
        close(fd);
        return -1;
    }
    len = snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", host);
    if (write(fd, req, (size_t)len) != len || read(fd, buf, sizeof buf) <= 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    long n, held = 0;
    char c;
    int *fds;

    if (argc != 4 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 ||
        (n = strtol(argv[3], NULL, 10)) < 1 || n > 100000) {
        fprintf(stderr, "usage: holdconns HOST PORT N (N from 1 to 100000)\n");
        return 2;
    }
    addr.sin_port = htons((unsigned short)strtol(argv[2], NULL, 10));
    raise_fd_limit();
    if (!(fds = calloc((size_t)n, sizeof *fds)))
        return 1;
    for (long i = 0; i < n; i++) {
        if ((fds[i] = open_one(&addr, argv[1])) < 0) {
            fprintf(stderr, "holdconns: connection %ld: %s\n", i + 1, strerror(errno));
            break;
        }
        held++;
    }
    printf("held %ld\n", held);
    fflush(stdout);
    while (read(STDIN_FILENO, &c, 1) > 0)
        ;
    for (long i = 0; i < held; i++)
        close(fds[i]);
    free(fds);
    return held == n ? 0 : 1;
}
