/* support.c -- what the integration tests share (see support.h): starting
 * and stopping real services, blocking HTTP, running the real harness. It
 * asserts nothing itself; the tests (test_*.c) do. Every failure here says
 * why on stderr, so that a failed assertion in a test has its cause beside it. */
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lab.h"
#include "parse.h"

static const char *bin_dir(void)
{
    return lab_env("LAB_TEST_BIN_DIR", "build/san");
}

/* ---------------------------------------------------------------------- */
/* HTTP, blocking, one request per connection                               */
/* ---------------------------------------------------------------------- */

/* wait_fd waits for FD to be ready for EVENTS until DEADLINE_US. */
static bool wait_fd(int fd, short events, uint64_t deadline_us)
{
    struct pollfd p = { .fd = fd, .events = events };
    uint64_t now = lab_now_us();

    if (now >= deadline_us)
        return false;
    return poll(&p, 1, (int)((deadline_us - now) / 1000) + 1) == 1;
}

/* http_raw sends the REQ_LEN bytes of REQ as they are, on a connection of its
 * own, and reads the answer until the server closes or the deadline passes:
 * the HTTP status, or -1 (connection closed or refused with no answer, or
 * none within TIMEOUT_MS). The body goes to BODY (size LEN), the whole
 * answer's head (status line and headers) to HEAD (size HEAD_LEN) when set. */
int http_raw(const char *addr, const char *req, size_t req_len, char *head, size_t head_len,
             char *body, size_t len, int timeout_ms)
{
    char host[64], resp[65536];
    int port, fd, status = -1;
    size_t got = 0, sent = 0;
    uint64_t deadline = lab_now_us() + (uint64_t)timeout_ms * 1000;
    struct sockaddr_in sa = { .sin_family = AF_INET };
    char *end;
    /* what a message quotes of the request: its first line, at most 80 bytes */
    int first_line = 0;
    while ((size_t)first_line < req_len && first_line < 80 && req[first_line] != '\r' &&
           req[first_line] != '\n')
        first_line++;

    if (body && len)
        body[0] = '\0';
    if (head && head_len)
        head[0] = '\0';
    if (!parse_host_port(addr, host, sizeof host, &port)) {
        fprintf(stderr, "http_raw: %s is not HOST:PORT\n", addr);
        return -1;
    }
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
        fprintf(stderr, "http_raw: %s\n", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "http_raw: connect to %s: %s\n", addr, strerror(errno));
        goto out;
    }
    while (sent < req_len) {
        ssize_t n;
        if (!wait_fd(fd, POLLOUT, deadline)) {
            fprintf(stderr, "http_raw: %.*s: not sent within %d ms\n", first_line, req,
                    timeout_ms);
            goto out;
        }
        if ((n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL)) <= 0)
            break;              /* the server may answer (413) before reading all */
        sent += (size_t)n;
    }
    while (got < sizeof resp - 1 && wait_fd(fd, POLLIN, deadline)) {
        ssize_t n = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    resp[got] = '\0';
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
        fprintf(stderr, "http_raw: %.*s on %s: no HTTP answer (closed, or %d ms passed; "
                "%zu bytes read)\n", first_line, req, addr, timeout_ms, got);
        status = -1;
    }
    if ((end = strstr(resp, "\r\n\r\n"))) {
        if (body && len)
            snprintf(body, len, "%s", end + 4);
        if (head && head_len)
            snprintf(head, head_len, "%.*s", (int)(end - resp), resp);
    }
out:
    close(fd);
    return status;
}

int http_call(const char *addr, const char *method, const char *target, const char *extra_headers,
              const char *body_out, char *body, size_t len, int timeout_ms)
{
    char *req;
    int status;
    size_t req_len;
    /* sized for the request: a test may send a header of hundreds of KB */
    size_t req_max = strlen(method) + strlen(target) + strlen(addr) + 64 +
                     (extra_headers ? strlen(extra_headers) : 0) + (body_out ? strlen(body_out) : 0);

    if (body && len)
        body[0] = '\0';
    if (!(req = malloc(req_max))) {
        fprintf(stderr, "http_call: out of memory for a %zu-byte request\n", req_max);
        return -1;
    }
    req_len = (size_t)snprintf(req, req_max,
                               "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n%s",
                               method, target, addr, extra_headers ? extra_headers : "",
                               body_out ? body_out : "");
    if (req_len >= req_max) {
        fprintf(stderr, "http_call: request larger than sized\n");
        free(req);
        return -1;
    }
    status = http_raw(addr, req, req_len, NULL, 0, body, len, timeout_ms);
    free(req);
    return status;
}

/* ---------------------------------------------------------------------- */
/* Services                                                                 */
/* ---------------------------------------------------------------------- */

/* log_tail copies the last lines of a service's log to stderr. */
void log_tail(const char *log)
{
    char cmd[320];

    fflush(NULL);
    snprintf(cmd, sizeof cmd, "tail -n 15 '%s' >&2", log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log at %s)\n", log);
}

pid_t proc_spawn(const char *const *argv, const char *log)
{
    pid_t pid;

    fflush(NULL);
    if ((pid = fork()) < 0) {
        fprintf(stderr, "proc_spawn: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        fflush(stderr);         /* _exit() does not flush, and the file is buffered */
        _exit(127);
    }
    return pid;
}

int proc_stop(pid_t pid)
{
    int status;

    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {        /* 30 s for a clean shutdown */
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        lab_sleep_ms(100);
    }
    fprintf(stderr, "proc_stop: pid %d ignored SIGTERM for 30 s: killed\n", (int)pid);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

bool svc_launch(struct svc *s, int phase, const char *addr, const char *const *args)
{
    char path[256];
    const char *argv[32];
    int n = 0, port;
    char host[64];

    memset(s, 0, sizeof *s);
    s->phase = phase;
    snprintf(s->addr, sizeof s->addr, "%s",
             addr ? addr : lab_env("LAB_TEST_HTTP", "127.0.0.1:18181"));
    snprintf(path, sizeof path, "%s/phase%d", bin_dir(), phase);
    /* a second instance on its own port writes a log of its own */
    if (addr && parse_host_port(addr, host, sizeof host, &port))
        snprintf(s->log, sizeof s->log, ".lab/log/test-phase%d-%d.log", phase, port);
    else
        snprintf(s->log, sizeof s->log, ".lab/log/test-phase%d.log", phase);
    argv[n++] = path;
    argv[n++] = "--listen";
    argv[n++] = s->addr;
    /* An asynchronous phase gets a Kafka topic and group of its own: a
     * message that an earlier service left unconsumed (one it accepted just
     * before it was stopped) must not be booked into this test's event. */
    if (phase == 5 || phase == 6) {
        static int started;
        snprintf(s->topic, sizeof s->topic, "lab-test-%d-%d", (int)getpid(), ++started);
        argv[n++] = "--topic";
        argv[n++] = s->topic;
        argv[n++] = "--group";
        argv[n++] = s->topic;
    }
    for (; args && *args && n < 30; args++)
        argv[n++] = *args;
    argv[n] = NULL;

    /* a service left over from an earlier test would answer for this one */
    if (http_call(s->addr, "GET", "/healthz", NULL, NULL, NULL, 0, 500) != -1) {
        fprintf(stderr, "svc_launch: something already answers on %s\n", s->addr);
        return false;
    }
    return (s->pid = proc_spawn(argv, s->log)) > 0;
}

bool svc_ready(struct svc *s)
{
    /* Readiness: poll /healthz until it answers or the process died. */
    for (int i = 0; i < 200; i++) {
        if (http_call(s->addr, "GET", "/healthz", NULL, NULL, NULL, 0, 500) == 200)
            return true;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            fprintf(stderr, "svc_ready: phase %d exited before answering; %s says:\n", s->phase,
                    s->log);
            log_tail(s->log);
            s->pid = 0;
            return false;
        }
        lab_sleep_ms(100);
    }
    fprintf(stderr, "svc_ready: phase %d did not answer on %s within 20 s; %s says:\n", s->phase,
            s->addr, s->log);
    log_tail(s->log);
    svc_stop(s);
    return false;
}

bool svc_start(struct svc *s, int phase, const char *const *args)
{
    return svc_launch(s, phase, NULL, args) && svc_ready(s);
}

int svc_stop(struct svc *s)
{
    int status = proc_stop(s->pid);

    if (status != 0 && s->pid > 0) {
        fprintf(stderr, "svc_stop: phase %d exited with %d; %s says:\n", s->phase, status,
                s->log);
        log_tail(s->log);
    }
    s->pid = 0;
    return status;
}

int services_ctl(const char *action, const char *name)
{
    char cmd[256];
    int st;

    /* stdout (progress) is dropped, stderr (the reason of a failure) is kept */
    snprintf(cmd, sizeof cmd, "bash infra/services.sh %s %s >/dev/null", action, name);
    fflush(NULL);
    st = system(cmd);
    st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (st != 0)
        fprintf(stderr, "services_ctl: '%s' failed with %d\n", cmd, st);
    return st;
}

/* service_address gives the host:port of the lab's service NAME (redis,
 * kafka or pg) as this checkout's LAB_* variables say: the first host of
 * a multi-host LAB_PG (the replicated topology's primary and standby). */
static const char *service_address(const char *name)
{
    static char first[256];

    if (strcmp(name, "redis") == 0)
        return lab_env("LAB_REDIS", LAB_REDIS_DEFAULT);
    if (strcmp(name, "pg") == 0) {         /* postgresql://USER@HOST:PORT/DB */
        const char *pg = lab_env("LAB_PG", LAB_PG_DEFAULT), *at = strchr(pg, '@');

        snprintf(first, sizeof first, "%s", at ? at + 1 : pg);
        first[strcspn(first, ",/?")] = '\0';
        return first;
    }
    /* LAB_KAFKA may list several brokers: the first is the lab's own */
    snprintf(first, sizeof first, "%s", lab_env("LAB_KAFKA", LAB_KAFKA_DEFAULT));
    first[strcspn(first, ",")] = '\0';
    return first;
}

/* port_answers tries one TCP connection to HOST_PORT. */
static bool port_answers(const char *host_port)
{
    char host[128], port[16];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    int port_number, fd;
    bool ok = false;

    if (!parse_host_port(host_port, host, sizeof host, &port_number))
        return false;
    snprintf(port, sizeof port, "%d", port_number);
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return false;
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0) {
        ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        close(fd);
    }
    freeaddrinfo(ai);
    return ok;
}

int services_down(const char *name)
{
    const char *addr = service_address(name);

    if (services_ctl("down", name) != 0)
        return -1;
    if (port_answers(addr)) {
        fprintf(stderr, "services_down: %s was stopped, but something still answers on %s: "
                "a %s of another checkout or of the machine? Stop it, or give this checkout "
                "other LAB_* ports (infra/lab.env)\n", name, addr, name);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* The harness and its JSON                                                 */
/* ---------------------------------------------------------------------- */

int run_attack(const struct svc *s, const char *args, char *out, size_t len)
{
    char cmd[1024];
    size_t got = 0;
    FILE *p;
    int st;

    snprintf(cmd, sizeof cmd, "%s/attack --url http://%s --json --no-csv %s", bin_dir(), s->addr,
             args ? args : "");
    fflush(NULL);
    if (!(p = popen(cmd, "r"))) {
        fprintf(stderr, "run_attack: cannot run %s: %s\n", cmd, strerror(errno));
        return -1;
    }
    while (got < len - 1) {
        size_t n = fread(out + got, 1, len - 1 - got, p);
        if (n == 0)
            break;
        got += n;
    }
    out[got] = '\0';
    if (got == len - 1) {       /* read the rest, or the harness blocks on a full pipe */
        char scrap[4096];
        size_t more = 0, n;
        while ((n = fread(scrap, 1, sizeof scrap, p)) > 0)
            more += n;
        if (more)
            fprintf(stderr, "run_attack: %zu bytes of output beyond %zu were dropped\n", more,
                    len - 1);
    }
    st = pclose(p);
    st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (st != 0)
        fprintf(stderr, "run_attack: '%s' exited with %d\n", cmd, st);
    return st;
}

bool json_ll(const char *json, const char *key, long long *out)
{
    char pat[128];
    const char *p;
    char *end;

    snprintf(pat, sizeof pat, "\"%s\":", key);
    if (!json || !(p = strstr(json, pat)))
        return false;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    *out = strtoll(p, &end, 10);
    return end != p;
}

bool json_has(const char *json, const char *key, const char *value)
{
    char pat[256];

    snprintf(pat, sizeof pat, "\"%s\":\"%s\"", key, value);
    return json && strstr(json, pat) != NULL;
}
