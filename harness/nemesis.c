/* nemesis.c -- parsing the faults and the thread that injects them.
 *
 * The thread runs the faults one after the other, in the order of the
 * command line: wait for the moment, break (infra/fault.sh break KIND),
 * wait DURATION, heal (infra/fault.sh heal KIND). The script's output goes
 * to stderr: stdout is the report's. */
#include "nemesis.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "parse.h"

#define NEMESIS_POLL_MS 10

static const char *const kind_names[FAULT_KIND_COUNT] = {
    [FAULT_KILL_SERVICE] = "kill-service",
    [FAULT_KILL_WORKER] = "kill-worker",
    [FAULT_RESTART_REDIS] = "restart-redis",
    [FAULT_RESTART_KAFKA] = "restart-kafka",
    [FAULT_RESTART_POSTGRES] = "restart-postgres",
    [FAULT_PAUSE_POSTGRES] = "pause-postgres",
    [FAULT_PAUSE_REDIS] = "pause-redis",
    [FAULT_PAUSE_SERVICE] = "pause-service",
    [FAULT_KILL_BROKER] = "kill-broker",
    [FAULT_KILL_CONTROLLER] = "kill-controller",
    [FAULT_FAILOVER_POSTGRES] = "failover-postgres",
    [FAULT_FAILOVER_REDIS] = "failover-redis",
    [FAULT_PARTITION_PG] = "partition-pg",
    [FAULT_PARTITION_REDIS] = "partition-redis",
    [FAULT_PARTITION_KAFKA] = "partition-kafka",
};

/* fault_kind_name: the name --fault and infra/fault.sh use for K. */
const char *fault_kind_name(enum fault_kind k)
{
    return (unsigned)k < FAULT_KIND_COUNT ? kind_names[k] : "?";
}

/* parse_seconds_ms reads seconds with at most three decimals ("5", "2.5",
 * "0.125") into milliseconds, from 0 to NEMESIS_MAX_MS. */
static bool parse_seconds_ms(const char *s, long long *ms)
{
    char whole[16], frac[4] = "000";
    const char *dot = strchr(s, '.');
    size_t wlen = dot ? (size_t)(dot - s) : strlen(s);
    long long w, f;

    if (wlen == 0 || wlen >= sizeof whole)
        return false;
    memcpy(whole, s, wlen);
    whole[wlen] = '\0';
    if (dot) {
        size_t flen = strlen(dot + 1);
        if (flen == 0 || flen > 3 || strspn(dot + 1, "0123456789") != flen)
            return false;
        memcpy(frac, dot + 1, flen);
    }
    if (!parse_long(whole, 0, NEMESIS_MAX_MS / 1000, &w) || !parse_long(frac, 0, 999, &f))
        return false;
    *ms = w * 1000 + f;
    return *ms <= NEMESIS_MAX_MS;
}

/* nemesis_parse_fault splits "KIND@WHEN[:DURATION]" and checks each part;
 * every refusal names what was expected. */
int nemesis_parse_fault(const char *text, struct fault *f, char *err, size_t err_len)
{
    char buf[96], *at, *colon, *when;
    int k;

    memset(f, 0, sizeof *f);
    if (!text || strlen(text) >= sizeof buf)
        return parse_fail(err, err_len, "--fault wants KIND@WHEN[:DURATION]");
    strcpy(buf, text);
    at = strchr(buf, '@');
    if (!at)
        return parse_fail(err, err_len, "--fault '%s': want KIND@WHEN[:DURATION], e.g. "
                          "kill-service@5:2 or restart-redis@accepted=300", text);
    *at = '\0';
    for (k = 0; k < FAULT_KIND_COUNT; k++)
        if (strcmp(buf, kind_names[k]) == 0)
            break;
    if (k == FAULT_KIND_COUNT)
        return parse_fail(err, err_len, "--fault: unknown kind '%s' (kill-service, kill-worker, "
                          "restart-redis, restart-kafka, restart-postgres, pause-postgres, "
                          "pause-redis, pause-service; replicated: kill-broker, "
                          "kill-controller, failover-postgres, failover-redis; "
                          "partition-pg, partition-redis, partition-kafka)", buf);
    f->kind = (enum fault_kind)k;
    when = at + 1;
    colon = strchr(when, ':');
    f->duration_ms = NEMESIS_DEFAULT_DURATION_MS;
    if (colon) {
        *colon = '\0';
        if (!parse_seconds_ms(colon + 1, &f->duration_ms))
            return parse_fail(err, err_len, "--fault '%s': DURATION is seconds, as 2 or 0.5, "
                              "not '%s'", text, colon + 1);
    }
    if (strncmp(when, "accepted=", 9) == 0) {
        f->at_accepted = true;
        if (!parse_long(when + 9, 1, 1000000000, &f->when))
            return parse_fail(err, err_len, "--fault '%s': accepted=K wants K from 1, not '%s'",
                              text, when + 9);
    } else if (!parse_seconds_ms(when, &f->when)) {
        return parse_fail(err, err_len, "--fault '%s': WHEN is seconds into the run (as 5 or "
                          "2.5) or accepted=K, not '%s'", text, when);
    }
    return 0;
}

/* nemesis_plan_add parses one more --fault into PLAN, refusing more than
 * NEMESIS_MAX_FAULTS (the parser of args.c calls it per option). */
int nemesis_plan_add(struct nemesis_plan *plan, const char *text, char *err, size_t err_len)
{
    if (plan->count >= NEMESIS_MAX_FAULTS)
        return parse_fail(err, err_len, "at most %d --fault options", NEMESIS_MAX_FAULTS);
    if (nemesis_parse_fault(text, &plan->faults[plan->count], err, err_len))
        return -1;
    plan->count++;
    return 0;
}

/* ------------------------------------------------------------------------
 * The thread
 * --------------------------------------------------------------------- */

/* run_script runs `bash SCRIPT ACTION KIND` with its stdout on our stderr
 * and waits for it: its exit status, or -1 when it could not run. */
static int run_script(const char *script, const char *action, enum fault_kind kind)
{
    char *argv[] = { "bash", (char *)script, (char *)action, (char *)fault_kind_name(kind), NULL };
    posix_spawn_file_actions_t fa;
    extern char **environ;
    pid_t pid;
    int status, rc;

    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    rc = posix_spawnp(&pid, "bash", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        lab_log("nemesis: cannot run %s: %s", script, strerror(rc));
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* due tells whether F's moment has come. */
static bool due(const struct nemesis *n, const struct fault *f)
{
    if (f->at_accepted)
        return n->probe.accepted(n->probe.ctx) >= f->when;
    return lab_now_us() >= n->start_us + (uint64_t)f->when * 1000u;
}

/* nemesis_run is the thread: each fault in turn, skipped when the attack
 * ended before its moment; one under way is always healed. */
static void *nemesis_run(void *arg)
{
    struct nemesis *n = arg;

    for (int i = 0; i < n->plan->count; i++) {
        struct fault *f = &n->plan->faults[i];
        uint64_t until;

        while (!due(n, f) && !atomic_load_explicit(&n->attack_over, memory_order_relaxed))
            lab_sleep_ms(NEMESIS_POLL_MS);
        if (!due(n, f)) {
            lab_log("nemesis: %s skipped, the attack ended before its moment",
                    fault_kind_name(f->kind));
            continue;
        }
        lab_log("nemesis: %s for %.1f s", fault_kind_name(f->kind), (double)f->duration_ms / 1e3);
        f->broken_us = lab_now_us();
        atomic_store_explicit(&n->window_from_us[i], f->broken_us, memory_order_release);
        f->break_status = run_script(n->script, "break", f->kind);
        until = lab_now_us() + (uint64_t)f->duration_ms * 1000u;   /* from the break done */
        while (lab_now_us() < until)
            lab_sleep_ms(NEMESIS_POLL_MS);
        f->heal_us = lab_now_us();
        f->heal_status = run_script(n->script, "heal", f->kind);
        f->healed_us = lab_now_us();
        atomic_store_explicit(&n->window_to_us[i], f->healed_us, memory_order_release);
        lab_log("nemesis: %s healed in %.1f s%s", fault_kind_name(f->kind),
                (double)(f->healed_us - f->heal_us) / 1e6,
                f->break_status || f->heal_status ? " (infra/fault.sh failed: see above)" : "");
    }
    return NULL;
}

/* nemesis_start finds infra/fault.sh under LAB_ROOT (exported by the
 * infra scripts; the current folder otherwise) and starts the thread when
 * there is a fault to run. */
int nemesis_start(struct nemesis *n, struct nemesis_plan *plan, struct nemesis_probe probe,
                  uint64_t start_us)
{
    static char script[1024];
    const char *root = lab_env("LAB_ROOT", ".");

    snprintf(script, sizeof script, "%s/infra/fault.sh", root);
    n->plan = plan;
    n->probe = probe;
    n->script = script;
    n->start_us = start_us;
    atomic_store(&n->attack_over, false);
    for (int i = 0; i < NEMESIS_MAX_FAULTS; i++) {
        atomic_store(&n->window_from_us[i], 0);
        atomic_store(&n->window_to_us[i], 0);
    }
    if (plan->count == 0)
        return 0;
    if (pthread_create(&n->tid, NULL, nemesis_run, n) != 0)
        return -1;
    n->running = true;
    return 0;
}

/* nemesis_join ends the nemesis: faults not begun are skipped, one under
 * way is healed before the thread returns. Safe to call twice. */
void nemesis_join(struct nemesis *n)
{
    atomic_store(&n->attack_over, true);
    if (n->running)
        pthread_join(n->tid, NULL);
    n->running = false;
}
