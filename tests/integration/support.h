/* support.h -- what the integration tests share: start and stop a phase's
 * real service, talk HTTP to it, run the real harness, read JSON fields. */
#ifndef LAB_TEST_SUPPORT_H
#define LAB_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct svc {
    pid_t pid;
    int phase;
    char addr[64];           /* host:port it listens on */
    char log[256];           /* its stderr */
    char topic[64];          /* phases 5 and 6: its own Kafka topic and group */
};

/* proc_spawn runs ARGV (ARGV[0] a path) with its stderr in the file LOG;
 * the child's pid, or -1 with the reason on stderr. */
pid_t proc_spawn(const char *const *argv, const char *log);

/* proc_stop sends SIGTERM and waits at most 30 s (then SIGKILL); the exit
 * status (0: a clean shutdown with no sanitizer report), or -1. */
int proc_stop(pid_t pid);

/* svc_start runs LAB_TEST_BIN_DIR/phaseN (default build/san) on a test port
 * with the extra flags ARGS (NULL-terminated, may be NULL) and waits, at most
 * 20 s, until GET /healthz answers. false if it never does. */
bool svc_start(struct svc *s, int phase, const char *const *args);

/* svc_launch runs LAB_TEST_BIN_DIR/phaseN as svc_start does, listening on
 * ADDR (NULL: LAB_TEST_HTTP), and returns without waiting: several
 * services can be started at the same moment. false if it could not run. */
bool svc_launch(struct svc *s, int phase, const char *addr, const char *const *args);

/* svc_ready waits, at most 20 s, until a launched service answers GET
 * /healthz; false (the service stopped, its log on stderr) if it never does. */
bool svc_ready(struct svc *s);

/* svc_stop sends SIGTERM, waits, and returns the exit status (0: a clean
 * shutdown with no sanitizer report), or -1 if it had to be killed. */
int svc_stop(struct svc *s);

/* http_call sends one request and returns the HTTP status (-1: no answer
 * within TIMEOUT_MS); the body goes to BODY (size LEN). EXTRA is sent as
 * raw extra bytes after the headers' end, or NULL. */
int http_call(const char *addr, const char *method, const char *target, const char *extra_headers,
              const char *body_out, char *body, size_t len, int timeout_ms);

/* http_raw sends REQ_LEN bytes of REQ exactly as given (a malformed request
 * line, a folded header) and returns the HTTP status of the answer, -1 for
 * none; the answer's body goes to BODY (size LEN), its status line and
 * headers to HEAD (size HEAD_LEN) when HEAD is not NULL. */
int http_raw(const char *addr, const char *req, size_t req_len, char *head, size_t head_len,
             char *body, size_t len, int timeout_ms);

/* run_attack runs the harness against S with ARGS (a string appended to the
 * command line), in --json mode, and puts its JSON in OUT. Returns its exit
 * status. */
int run_attack(const struct svc *s, const char *args, char *out, size_t len);

/* log_tail copies the last lines of LOG (a service's, svc.log) to stderr:
 * what a test prints before it fails on that service's account. */
void log_tail(const char *log);

/* json_ll finds "KEY":<number> in JSON. */
bool json_ll(const char *json, const char *key, long long *out);

/* json_has finds "KEY":"VALUE". */
bool json_has(const char *json, const char *key, const char *value);

/* services_ctl runs `bash infra/services.sh ACTION NAME` (to stop and restart
 * Redis or Kafka in a failure test); returns its exit status. */
int services_ctl(const char *action, const char *name);

/* services_down stops the lab's service NAME (redis, kafka or pg) and checks that
 * its port no longer answers: 0, or -1 saying why (a service of another
 * checkout on the same port would make an outage test prove nothing). */
int services_down(const char *name);

#endif
