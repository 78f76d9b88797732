/* args.c -- parsing the attack's command line.
 *
 * Hand-written rather than getopt_long: no global state (the unit tests call
 * it many times), no messages printed behind our back, and every number goes
 * through parse_long so that "10x", " 10" and "" are refused, not read as 10
 * or 0. Options take their value as "--opt value" or "--opt=value". */
#include "args.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "parse.h"
#include "timeline.h"

/* ------------------------------------------------------------------------
 * Small helpers
 * --------------------------------------------------------------------- */

/* copy_string stores VALUE into a fixed buffer, refusing what does not fit
 * rather than cutting it silently. */
static int copy_string(const char *name, const char *value, char *dst, size_t dst_len,
                       char *err, size_t err_len)
{
    size_t n = strlen(value);

    if (n >= dst_len)
        return parse_fail(err, err_len, "--%s is too long (at most %zu characters)", name,
                          dst_len - 1);
    memcpy(dst, value, n + 1);
    return 0;
}

/* valid_path accepts what can go on a request line as it is: a '/' and
 * then visible ASCII, no blanks (they would end the request target). */
static bool valid_path(const char *p)
{
    if (p[0] != '/')
        return false;
    for (; *p; p++)
        if (*p <= ' ' || *p > '~')
            return false;
    return true;
}

/* ------------------------------------------------------------------------
 * The URL
 * --------------------------------------------------------------------- */

/* args_parse_url takes the forms people write: "http://127.0.0.1:18080",
 * with or without a trailing '/', "http://localhost" (port 80), or the
 * bare "127.0.0.1:18080" that infra/lab.env keeps in LAB_HTTP. https and
 * paths are refused: the attack talks plain HTTP/1.1 to the lab's service. */
bool args_parse_url(const char *url, char *host, size_t host_len, int *port)
{
    char hostport[ARGS_HOST_MAX + 8];
    const char *rest = url;
    size_t n;

    if (!url)
        return false;
    if (strncmp(rest, "http://", 7) == 0)
        rest += 7;
    else if (strstr(rest, "://"))
        return false;
    n = strlen(rest);
    if (n > 0 && rest[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof hostport || memchr(rest, '/', n))
        return false;
    memcpy(hostport, rest, n);
    hostport[n] = '\0';
    if (strchr(hostport, ':')) {
        if (!parse_host_port(hostport, host, (int)host_len, port))
            return false;
    } else {
        if (n >= host_len)
            return false;
        memcpy(host, hostport, n + 1);
        *port = 80;
    }
    /* a host name or an IPv4 address: nothing else goes into the Host header */
    return strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
           strlen(host);
}

bool args_is_custom(const struct attack_args *a)
{
    return a->path[0] != '\0';
}

/* ------------------------------------------------------------------------
 * The parser
 * --------------------------------------------------------------------- */

/* Options that take a value; all others are flags. */
static const char *const valued_options[] = {
    "url", "mode", "event", "seats", "users", "user-base", "connections", "requests",
    "threads", "reads-per-booking", "method", "path", "run-id", "timeout-ms",
    "drain-timeout-ms", "csv", "timeline", "fault", "history", "pace-ms", "rate",
    "retry-same-id", "backlog", "clicks", "live", "live-linger", "live-save",
    "live-buffer-kb", NULL,
};

static bool takes_value(const char *name)
{
    for (int i = 0; valued_options[i]; i++)
        if (strcmp(valued_options[i], name) == 0)
            return true;
    return false;
}

static void set_defaults(struct attack_args *a)
{
    memset(a, 0, sizeof *a);
    a->mode = ATTACK_BURST;
    a->event_id = ARGS_DEFAULT_EVENT;
    a->seats = ARGS_DEFAULT_SEATS;
    a->users = ARGS_DEFAULT_USERS;
    a->clicks = 1;
    a->connections = ARGS_DEFAULT_CONNECTIONS;
    a->requests = ARGS_DEFAULT_REQUESTS;
    a->threads = ARGS_DEFAULT_THREADS;
    a->timeout_ms = ARGS_DEFAULT_TIMEOUT_MS;
    a->drain_timeout_ms = ARGS_DEFAULT_DRAIN_TIMEOUT_MS;
    a->reset = true;
    strcpy(a->csv_path, ARGS_DEFAULT_CSV);
    a->live.linger_s = -1;
    a->live.buffer_kb = LIVE_DEFAULT_BUFFER_KB;
}

/* What was given explicitly, for the checks that options fit together. */
struct given {
    bool users, connections, requests, seats, method, pace, rate, clicks;
    bool live_extra;             /* --live-linger, --live-save or --live-buffer-kb */
};

/* apply_option stores one option's value. It knows each option's range;
 * how options combine is checked afterwards, in check_combination. */
static int apply_option(struct attack_args *a, struct given *g, const char **url,
                        const char *name, const char *v, char *err, size_t err_len)
{
    long long n;

    if (strcmp(name, "url") == 0) {
        *url = v;
    } else if (strcmp(name, "mode") == 0) {
        if (strcmp(v, "burst") == 0)
            a->mode = ATTACK_BURST;
        else if (strcmp(v, "sustained") == 0)
            a->mode = ATTACK_SUSTAINED;
        else
            return parse_fail(err, err_len, "--mode is burst or sustained, not '%s'", v);
    } else if (strcmp(name, "event") == 0) {
        return parse_option_long(name, v, 1, PARSE_ID_MAX, &a->event_id, err, err_len);
    } else if (strcmp(name, "seats") == 0) {
        g->seats = true;
        return parse_option_long(name, v, 1, 1000000000, &a->seats, err, err_len);
    } else if (strcmp(name, "users") == 0) {
        g->users = true;
        return parse_option_long(name, v, 1, 1000000, &a->users, err, err_len);
    } else if (strcmp(name, "user-base") == 0) {
        return parse_option_long(name, v, 0, PARSE_ID_MAX - 1, &a->user_base, err, err_len);
    } else if (strcmp(name, "connections") == 0) {
        g->connections = true;
        return parse_option_long(name, v, 1, 100000, &a->connections, err, err_len);
    } else if (strcmp(name, "rate") == 0) {
        g->rate = true;
        return parse_option_long(name, v, 1, 10000000, &a->rate, err, err_len);
    } else if (strcmp(name, "requests") == 0) {
        g->requests = true;
        return parse_option_long(name, v, 1, 1000000000, &a->requests, err, err_len);
    } else if (strcmp(name, "threads") == 0) {
        if (parse_option_long(name, v, 1, 256, &n, err, err_len))
            return -1;
        a->threads = (int)n;
    } else if (strcmp(name, "reads-per-booking") == 0) {
        if (parse_option_long(name, v, 0, 1000, &n, err, err_len))
            return -1;
        a->reads_per_booking = (int)n;
    } else if (strcmp(name, "timeout-ms") == 0) {
        if (parse_option_long(name, v, 1, 3600000, &n, err, err_len))
            return -1;
        a->timeout_ms = (int)n;
    } else if (strcmp(name, "drain-timeout-ms") == 0) {
        if (parse_option_long(name, v, 0, 86400000, &n, err, err_len))
            return -1;
        a->drain_timeout_ms = (int)n;
    } else if (strcmp(name, "method") == 0) {
        g->method = true;
        if (strcmp(v, "GET") != 0 && strcmp(v, "POST") != 0)
            return parse_fail(err, err_len, "--method is GET or POST, not '%s'", v);
        strcpy(a->method, v);
    } else if (strcmp(name, "path") == 0) {
        if (!valid_path(v))
            return parse_fail(err, err_len, "--path must start with '/' and hold no blanks: '%s'", v);
        return copy_string(name, v, a->path, sizeof a->path, err, err_len);
    } else if (strcmp(name, "run-id") == 0) {
        if (strlen(v) > ARGS_RUN_ID_MAX || !parse_request_id(v))
            return parse_fail(err, err_len, "--run-id is 1 to %d characters of [A-Za-z0-9_-]: '%s'",
                        ARGS_RUN_ID_MAX, v);
        strcpy(a->run_id, v);
    } else if (strcmp(name, "csv") == 0) {
        if (v[0] == '\0')
            return parse_fail(err, err_len, "--csv wants a file name, or - for none");
        if (strcmp(v, "-") == 0) {
            a->csv_path[0] = '\0';
            return 0;
        }
        return copy_string(name, v, a->csv_path, sizeof a->csv_path, err, err_len);
    } else if (strcmp(name, "timeline") == 0) {
        if (v[0] == '\0')
            return parse_fail(err, err_len, "--timeline wants a file name");
        return copy_string(name, v, a->timeline_path, sizeof a->timeline_path, err, err_len);
    } else if (strcmp(name, "pace-ms") == 0) {
        if (parse_option_long(name, v, 0, 60000, &n, err, err_len))
            return -1;
        a->pace_ms = (int)n;
        g->pace = true;
    } else if (strcmp(name, "clicks") == 0) {
        g->clicks = true;
        if (parse_option_long(name, v, 1, ARGS_CLICKS_MAX, &n, err, err_len))
            return -1;
        a->clicks = (int)n;
    } else if (strcmp(name, "retry-same-id") == 0) {
        if (parse_option_long(name, v, 0, ARGS_RETRY_SAME_ID_MAX, &n, err, err_len))
            return -1;
        a->retry_same_id = (int)n;
    } else if (strcmp(name, "backlog") == 0) {
        return parse_option_long(name, v, 1, ARGS_BACKLOG_MAX, &a->backlog, err, err_len);
    } else if (strcmp(name, "live") == 0) {
        return live_parse_address(v, &a->live, err, err_len);
    } else if (strcmp(name, "live-linger") == 0) {
        g->live_extra = true;
        if (parse_option_long(name, v, 0, 86400, &n, err, err_len))
            return -1;
        a->live.linger_s = (int)n;
    } else if (strcmp(name, "live-buffer-kb") == 0) {
        g->live_extra = true;
        if (parse_option_long(name, v, 1, 65536, &n, err, err_len))
            return -1;
        a->live.buffer_kb = (int)n;
    } else if (strcmp(name, "live-save") == 0) {
        g->live_extra = true;
        if (v[0] == '\0')
            return parse_fail(err, err_len, "--live-save wants a file name");
        return copy_string(name, v, a->live.save_path, sizeof a->live.save_path, err, err_len);
    } else if (strcmp(name, "fault") == 0) {
        return nemesis_plan_add(&a->faults, v, err, err_len);
    } else if (strcmp(name, "history") == 0) {
        if (v[0] == '\0')
            return parse_fail(err, err_len, "--history wants a file name");
        return copy_string(name, v, a->history_path, sizeof a->history_path, err, err_len);
    } else if (strcmp(name, "no-csv") == 0) {
        a->csv_path[0] = '\0';
    } else if (strcmp(name, "no-reset") == 0) {
        a->reset = false;
    } else if (strcmp(name, "json") == 0) {
        a->json = true;
    } else if (strcmp(name, "expect-clean") == 0) {
        a->expect_clean = true;
    } else if (strcmp(name, "expect-oversell") == 0) {
        a->expect_oversell = true;
    } else if (strcmp(name, "help") == 0) {
        a->help = true;
    } else {
        return parse_fail(err, err_len, "unknown option --%s", name);
    }
    return 0;
}

/* check_combination refuses options that would be silently ignored: an
 * option that does nothing in this mode is almost always a mistake in a
 * script, and a silent attack with the wrong shape is worse than an error. */
static int check_combination(struct attack_args *a, const struct given *g, char *err,
                             size_t err_len)
{
    if (a->mode == ATTACK_BURST && (g->connections || g->requests || g->pace))
        return parse_fail(err, err_len, "--connections, --requests and --pace-ms are for --mode "
                          "sustained");
    if (g->rate && a->mode != ATTACK_SUSTAINED)
        return parse_fail(err, err_len, "--rate is for --mode sustained");
    if (g->rate && g->pace)
        return parse_fail(err, err_len, "--rate and --pace-ms do not go together: the rate sets "
                          "when each request starts");
    if (a->mode == ATTACK_SUSTAINED && g->users)
        return parse_fail(err, err_len, "--users is for burst mode; sustained mode uses --requests");
    if (g->clicks && (a->mode != ATTACK_BURST || args_is_custom(a)))
        return parse_fail(err, err_len, "--clicks is for the burst of bookings");
    if (a->clicks > 1 && (a->faults.count || a->history_path[0] || a->retry_same_id ||
                          a->backlog))
        return parse_fail(err, err_len, "--clicks does not go with --fault, --history, "
                          "--retry-same-id or --backlog (their records are one per user)");
    if (g->method && !args_is_custom(a))
        return parse_fail(err, err_len, "--method goes with --path");
    if (args_is_custom(a)) {
        if (a->method[0] == '\0')
            strcpy(a->method, "GET");
        if (a->reads_per_booking > 0)
            return parse_fail(err, err_len, "--reads-per-booking is for the booking workload, not --path");
        if (a->expect_clean || a->expect_oversell)
            return parse_fail(err, err_len, "--expect-* needs the audit, which --path skips");
        if (a->timeline_path[0])
            return parse_fail(err, err_len, "--timeline counts bookings, which --path skips");
        if (a->faults.count || a->history_path[0])
            return parse_fail(err, err_len, "--fault and --history judge bookings, which --path skips");
        if (a->retry_same_id || a->backlog)
            return parse_fail(err, err_len, "--retry-same-id and --backlog are for bookings, "
                              "which --path skips");
    }
    if (g->live_extra && !a->live.on)
        return parse_fail(err, err_len, "--live-linger, --live-save and --live-buffer-kb go "
                          "with --live HOST:PORT");
    if (a->live.on && args_is_custom(a))
        return parse_fail(err, err_len, "--live shows a sale, which --path skips");
    if (a->backlog && !a->reset)
        return parse_fail(err, err_len, "--backlog resets the sale under its backlog; it "
                          "does not go with --no-reset");
    if (a->expect_clean && a->expect_oversell)
        return parse_fail(err, err_len, "--expect-clean and --expect-oversell exclude each other");
    if (!a->reset && g->seats)
        return parse_fail(err, err_len, "--seats sets the reset; it means nothing with --no-reset");
    {
        long long people = a->mode == ATTACK_BURST ? a->users * a->clicks : a->requests;
        if (a->user_base > PARSE_ID_MAX - people)
            return parse_fail(err, err_len, "--user-base %lld plus %lld users passes the id limit %lld",
                        a->user_base, people, PARSE_ID_MAX);
    }
    return 0;
}

/* parse_url_list reads --url's comma-separated list of instances into A;
 * the first is also A's host and port (the reset, the health check). */
static bool parse_url_list(struct attack_args *a, const char *list)
{
    char one[ARGS_HOST_MAX + 16];
    const char *p = list;

    a->url_count = 0;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (a->url_count == ARGS_URLS_MAX || n == 0 || n >= sizeof one)
            return false;
        memcpy(one, p, n);
        one[n] = '\0';
        if (!args_parse_url(one, a->url_hosts[a->url_count], ARGS_HOST_MAX,
                            &a->url_ports[a->url_count]))
            return false;
        a->url_count++;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    snprintf(a->host, sizeof a->host, "%s", a->url_hosts[0]);
    a->port = a->url_ports[0];
    return true;
}

/* args_parse fills A from ARGV (argv[0] is the program). DEFAULT_URL is the
 * target when --url is absent; it is only checked when it is used, so a
 * broken LAB_HTTP does not get in the way of an explicit --url. */
int args_parse(struct attack_args *a, int argc, char *const argv[], const char *default_url,
               char *err, size_t err_len)
{
    struct given g = { 0 };
    const char *url = NULL;

    set_defaults(a);
    if (err_len > 0)
        err[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq, *value = NULL;
        char name[32];
        size_t name_len;

        if (strcmp(arg, "-h") == 0) {
            a->help = true;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return parse_fail(err, err_len, "unexpected argument '%s'", arg);
        arg += 2;
        eq = strchr(arg, '=');
        name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (name_len >= sizeof name)
            return parse_fail(err, err_len, "unknown option --%s", arg);
        memcpy(name, arg, name_len);
        name[name_len] = '\0';
        if (takes_value(name)) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return parse_fail(err, err_len, "--%s needs a value", name);
        } else if (eq) {
            return parse_fail(err, err_len, "--%s takes no value", name);
        }
        if (apply_option(a, &g, &url, name, value, err, err_len))
            return -1;
        if (a->help)
            return 0;
    }
    if (!url)
        url = default_url;
    if (!url || !parse_url_list(a, url))
        return parse_fail(err, err_len, "bad URL '%s': want http://host:port, or up to %d "
                          "of them separated by commas", url ? url : "", ARGS_URLS_MAX);
    return check_combination(a, &g, err, err_len);
}

/* ------------------------------------------------------------------------
 * Usage
 * --------------------------------------------------------------------- */

void args_usage(FILE *out, const char *program)
{
    fprintf(out,
        "usage: %s [options]\n"
        "\n"
        "Attack a phase's booking service and audit the database afterwards.\n"
        "\n"
        "target\n"
        "  --url URL[,URL...]        service, http://host:port (default: $LAB_HTTP); several\n"
        "                            instances: connections go to them in turn\n"
        "  --event E                 event id (default %d)\n"
        "  --seats S                 seats the reset puts on sale (default %d)\n"
        "  --no-reset                attack the event as it is\n"
        "\n"
        "workload\n"
        "  --mode burst|sustained    burst (default): every user fires at once;\n"
        "                            sustained: a closed loop over keep-alive connections\n"
        "  --rate R                  sustained: an open loop instead, R requests/s in all,\n"
        "                            latency from each request's due time (as wrk2)\n"
        "  --users N                 burst: users, one connection and booking each (default %d)\n"
        "  --clicks K                burst: each user clicks Buy K times at once, K bookings\n"
        "                            with their own request ids, K connections (1 to 10;\n"
        "                            default 1): the per-user limit under a race\n"
        "  --connections C           sustained: connections (default %d)\n"
        "  --requests R              sustained: requests in all (default %d)\n"
        "  --pace-ms MS              sustained: each connection waits MS after each booking\n"
        "                            (a closed loop with a pause; default 0)\n"
        "  --user-base B             user ids are B+1 .. B+N (default 0)\n"
        "  --threads T               client threads (default %d)\n"
        "  --reads-per-booking K     GET the seat count K times before each booking (default 0)\n"
        "  --path P [--method M]     hit any endpoint instead (GET or POST, default GET);\n"
        "                            counts answers and latency only: no reset, no audit\n"
        "  --run-id ID               prefix of the request ids (default: from the clock)\n"
        "  --timeout-ms MS           per request, connect included (default %d)\n"
        "  --retry-same-id N         a booking that timed out, lost its connection, was\n"
        "                            refused a connection or answered 5xx is sent again\n"
        "                            with the same request id, up to N times (0 to %d;\n"
        "                            default 0), %d ms before the first retry, twice as\n"
        "                            long before each next; every try goes in the history\n"
        "  --backlog N               queue N bookings of other users first, reset the sale\n"
        "                            under them, then attack the new sale: the summary's\n"
        "                            first_ticket_after_reset_ms (1 to %d)\n"
        "  --drain-timeout-ms MS     asynchronous phases: wait for the queue (default %d)\n"
        "\n"
        "output\n"
        "  --json                    the summary as one JSON object on stdout\n"
        "  --csv FILE                append a row to FILE (default %s)\n"
        "  --no-csv, --csv -         append nothing\n"
        "  --timeline FILE           write FILE: every %d ms, users finished, bookings\n"
        "                            accepted and decided (CSV), until the queue is drained\n"
        "  --history FILE            one JSON line per booking: ids, times, status, class\n"
        "\n"
        "live page (docs/classroom.md)\n"
        "  --live HOST:PORT          serve the race as a live page on loopback (e.g.\n"
        "                            127.0.0.1:18088): seats, counter, rates, verdict\n"
        "  --live-linger S           keep the page S seconds after the audit (default:\n"
        "                            until Ctrl-C or SIGTERM)\n"
        "  --live-save FILE          write the page's last state to FILE as JSON, and to\n"
        "                            latest.json beside it\n"
        "  --live-buffer-kb N        a stream's unread bytes before its client is dropped\n"
        "                            (default %d)\n"
        "\n"
        "faults (docs/faults.md)\n"
        "  --fault KIND@WHEN[:DUR]   break something of the lab WHEN seconds into the run\n"
        "                            (or at accepted=K bookings), heal it DUR seconds later\n"
        "                            (default 2); repeatable. KIND: kill-service, kill-worker,\n"
        "                            restart-redis, restart-kafka, restart-postgres,\n"
        "                            pause-postgres, pause-redis, pause-service; with the\n"
        "                            replicated topology kill-broker, kill-controller,\n"
        "                            failover-postgres, failover-redis; partition-pg,\n"
        "                            partition-redis, partition-kafka. Writes the\n"
        "                            history (default results/<run>-history.jsonl) and\n"
        "                            runs the checker after recovery\n"
        "\n"
        "verdict\n"
        "  --expect-clean            exit 1 when the audit (or the checker) finds a bug\n"
        "  --expect-oversell         exit 1 when the audit finds none\n"
        "  -h, --help                this text\n"
        "\n"
        "exit status: 0 the attack ran, 1 an --expect-* was not met, 2 bad usage,\n"
        "3 the service or the database cannot be reached (or --live's port is taken),\n"
        "4 the harness miscounted.\n",
        program, ARGS_DEFAULT_EVENT, ARGS_DEFAULT_SEATS, ARGS_DEFAULT_USERS,
        ARGS_DEFAULT_CONNECTIONS, ARGS_DEFAULT_REQUESTS, ARGS_DEFAULT_THREADS,
        ARGS_DEFAULT_TIMEOUT_MS, ARGS_RETRY_SAME_ID_MAX, CLIENT_RETRY_BACKOFF_MS,
        ARGS_BACKLOG_MAX, ARGS_DEFAULT_DRAIN_TIMEOUT_MS, ARGS_DEFAULT_CSV,
        TIMELINE_EVERY_MS, LIVE_DEFAULT_BUFFER_KB);
}
