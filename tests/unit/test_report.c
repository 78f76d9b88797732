/* test_report.c -- harness/report.c: how answers are counted, the counting
 * rule, the verdict line, and the three outputs (human, JSON, CSV), the CSV
 * against real temporary files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "report.h"

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* The lesson's phase 2 run: 500 users, 100 seats, 412 tickets sold, the
 * counter 68 off. */
static struct summary phase2_summary(void)
{
    struct summary s;

    memset(&s, 0, sizeof s);
    s.phase = 2;
    strcpy(s.phase_name, "unsafe");
    s.think_ms = 20;
    s.mode = "burst";
    s.audited = true;
    s.event_id = 1;
    s.seats = 100;
    s.users = 500;
    s.concurrency = 500;
    s.threads = 2;
    s.bookings.attempted = 500;
    s.bookings.n[OUTCOME_BOOKED] = 412;
    s.bookings.n[OUTCOME_SOLD_OUT] = 88;
    s.p50_us = 40123;
    s.p90_us = 80000;
    s.p99_us = 99000;
    s.max_us = 120456;
    s.wall_s = 0.5;
    s.req_per_s = 1000.0;
    s.total_seats = 100;
    s.sold = 412;
    s.available = 0;
    s.oversold = 312;
    s.phantom = 68;
    s.booked_decisions = 412;
    return s;
}

/* A clean run: exactly 100 booked, 400 sold out. */
static struct summary clean_summary(void)
{
    struct summary s = phase2_summary();

    s.phase = 3;
    strcpy(s.phase_name, "pessimistic");
    s.bookings.n[OUTCOME_BOOKED] = 100;
    s.bookings.n[OUTCOME_SOLD_OUT] = 400;
    s.sold = 100;
    s.oversold = 0;
    s.phantom = 0;
    s.booked_decisions = 100;
    return s;
}

/* capture runs WRITE into a temporary stream and returns what it wrote
 * (the caller frees it). */
static char *capture(void (*write)(FILE *, const struct summary *), const struct summary *s)
{
    FILE *f = tmpfile();
    char *text;
    long len;

    assert_non_null(f);
    write(f, s);
    len = ftell(f);
    assert_true(len > 0);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

/* read_file returns the whole of PATH (the caller frees it). */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 65536);
    size_t n;

    assert_non_null(f);
    assert_non_null(text);
    n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static int count_char(const char *s, char c)
{
    int n = 0;

    for (; *s; s++)
        n += *s == c;
    return n;
}

/* A fresh path in /tmp; the file does not exist yet. */
static void temp_path(char *path, size_t len)
{
    int fd;

    snprintf(path, len, "/tmp/test_report_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
}

/* ------------------------------------------------------------------------
 * Classifying answers
 * --------------------------------------------------------------------- */

/* The three answers of the API count when code and body agree. */
static void test_classify_booking(void **state)
{
    (void)state;
    assert_int_equal(report_classify_booking(201, "booked"), OUTCOME_BOOKED);
    assert_int_equal(report_classify_booking(202, "queued"), OUTCOME_QUEUED);
    assert_int_equal(report_classify_booking(409, "sold_out"), OUTCOME_SOLD_OUT);
}

/* Any other answer to a booking is one of the five kinds of error. */
static void test_classify_booking_errors(void **state)
{
    (void)state;
    assert_int_equal(report_classify_booking(201, "queued"), OUTCOME_ERR_PROTOCOL);
    assert_int_equal(report_classify_booking(201, ""), OUTCOME_ERR_PROTOCOL);
    assert_int_equal(report_classify_booking(409, "error"), OUTCOME_ERR_PROTOCOL);
    assert_int_equal(report_classify_booking(200, "booked"), OUTCOME_ERR_PROTOCOL);
    assert_int_equal(report_classify_booking(302, ""), OUTCOME_ERR_PROTOCOL);
    assert_int_equal(report_classify_booking(400, "error"), OUTCOME_ERR_4XX);
    assert_int_equal(report_classify_booking(404, "error"), OUTCOME_ERR_4XX);
    assert_int_equal(report_classify_booking(500, "error"), OUTCOME_ERR_5XX);
    assert_int_equal(report_classify_booking(503, "error"), OUTCOME_ERR_5XX);
    assert_int_equal(report_classify_booking(600, ""), OUTCOME_ERR_PROTOCOL);
}

static void test_classify_plain(void **state)
{
    (void)state;
    assert_int_equal(report_classify_plain(200), OUTCOME_OK);
    assert_int_equal(report_classify_plain(204), OUTCOME_OK);
    assert_int_equal(report_classify_plain(301), OUTCOME_OK);
    assert_int_equal(report_classify_plain(409), OUTCOME_ERR_4XX);
    assert_int_equal(report_classify_plain(503), OUTCOME_ERR_5XX);
    assert_int_equal(report_classify_plain(0), OUTCOME_ERR_PROTOCOL);
}

/* ------------------------------------------------------------------------
 * The counting rule
 * --------------------------------------------------------------------- */

static void test_counts_rule(void **state)
{
    struct counts a = { 0 }, b = { 0 };

    (void)state;
    a.attempted = 10;
    a.n[OUTCOME_BOOKED] = 3;
    a.n[OUTCOME_SOLD_OUT] = 5;
    a.n[OUTCOME_ERR_TIMEOUT] = 1;
    a.n[OUTCOME_ERR_5XX] = 1;
    assert_true(counts_balanced(&a, true));
    assert_int_equal(counts_errors(&a), 2);
    assert_int_equal(counts_ended(&a), 10);

    b.attempted = 4;
    b.n[OUTCOME_QUEUED] = 3;
    b.n[OUTCOME_ERR_CONNECT] = 1;
    counts_merge(&a, &b);
    assert_int_equal(a.attempted, 14);
    assert_int_equal(a.n[OUTCOME_QUEUED], 3);
    assert_int_equal(counts_errors(&a), 3);
    assert_true(counts_balanced(&a, true));

    /* a request that never ended breaks the rule */
    a.attempted++;
    assert_false(counts_balanced(&a, true));
}

/* "ok" is not a booking's outcome, nor "booked" a status read's. */
static void test_counts_misfiled(void **state)
{
    struct counts c = { 0 };

    (void)state;
    c.attempted = 1;
    c.n[OUTCOME_OK] = 1;
    assert_false(counts_balanced(&c, true));
    assert_true(counts_balanced(&c, false));
    c.n[OUTCOME_OK] = 0;
    c.n[OUTCOME_BOOKED] = 1;
    assert_false(counts_balanced(&c, false));
}

/* ------------------------------------------------------------------------
 * The verdict
 * --------------------------------------------------------------------- */

static void test_verdict_oversold(void **state)
{
    struct summary s = phase2_summary();
    char v[256];

    (void)state;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "OVERSOLD by 312 seats; PHANTOM: counter is 68 off");
    assert_true(report_is_bug(&s));
    assert_string_equal(report_verdict_word(&s), "BUG");
}

static void test_verdict_phantom_only(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    s.phantom = 68;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "PHANTOM: counter is 68 off");
}

/* Seats left on the shelf while buyers were refused: a bug of its own. */
static void test_verdict_undersold(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    s.undersold = 12;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "UNDERSOLD: 12 seats left unsold while buyers were refused");
    assert_true(report_is_bug(&s));
}

/* The Redis gate out of step with the database once the sale is quiet:
 * a bug of the audit's verdict, whichever way, said in words. */
static void test_verdict_cache_drift(void **state)
{
    struct summary s = clean_summary();
    char v[512];

    (void)state;
    s.available = 800;
    s.gate_known = true;
    s.cache_drift = 0;
    assert_false(report_is_bug(&s));
    s.cache_drift = -198;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "CACHE DRIFT: the Redis gate counts 602 free seats, the database 800 "
                           "(cacheDrift -198): 198 seats the gate will never sell");
    assert_true(report_is_bug(&s));
    assert_string_equal(report_verdict_word(&s), "BUG");
    s.cache_drift = 20;
    report_verdict(&s, v, sizeof v);
    assert_non_null(strstr(v, "(cacheDrift 20): 20 buyers the gate admits"));
    assert_true(report_is_bug(&s));
    s.gate_known = false;   /* no gate (phases 2, 3, 5): nothing to judge */
    assert_false(report_is_bug(&s));
}

/* The gate let through requests the database refused for want of a seat:
 * a bug in a run that neither a fault nor a failed request explains (the
 * planted split gate, --without atomic-gate); after either, the correction
 * working. Unknown (no gate, or an instance that did not say): nothing. */
static void test_verdict_gate_leak(void **state)
{
    struct summary s = clean_summary();
    char v[512], *text;

    (void)state;
    s.gate_refused = 72;
    assert_false(report_is_bug(&s));              /* not known: not judged */
    text = capture(report_write_json, &s);
    assert_non_null(strstr(text, "\"gate_refused\":null"));
    free(text);
    s.gate_refused_known = true;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "GATE LEAK: the Redis gate let through 72 requests that the database "
                           "refused for want of a seat (more buyers than seats passed it)");
    assert_true(report_is_bug(&s));
    text = capture(report_write_json, &s);
    assert_non_null(strstr(text, "\"gate_refused\":72"));
    free(text);
    text = capture(report_write_human, &s);
    assert_non_null(strstr(text, "\ngate_refused = 72\n"));
    free(text);
    s.faulted = true;                             /* after a fault: a correction */
    assert_false(report_gate_leak(&s));
    assert_false(report_is_bug(&s));
    s.faulted = false;
    s.bookings.n[OUTCOME_ERR_5XX] = 1;            /* a failed request may explain it */
    s.bookings.n[OUTCOME_SOLD_OUT]--;
    assert_false(report_is_bug(&s));
    s.bookings.n[OUTCOME_ERR_5XX] = 0;
    s.bookings.n[OUTCOME_SOLD_OUT]++;
    s.gate_refused = 0;
    assert_false(report_is_bug(&s));
}

/* Claims left in_progress, and ids told two outcomes: bugs of the audit. */
static void test_verdict_stuck_and_disagree(void **state)
{
    struct summary s = clean_summary();
    char v[512];

    (void)state;
    assert_int_equal(report_stuck_claims(&s), -1);   /* neither store read */
    s.claims_db_known = true;
    s.stuck_claims_db = 0;
    s.claims_redis_known = false;
    s.stuck_claims_redis = 9;                      /* not read: not counted */
    assert_int_equal(report_stuck_claims(&s), 0);
    assert_false(report_is_bug(&s));
    s.claims_redis_known = true;
    s.stuck_claims_db = 3;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "STUCK CLAIMS: 12 request ids still in_progress after the sale went "
                           "quiet: every retry of them is refused for good");
    assert_true(report_is_bug(&s));
    s.stuck_claims_db = s.stuck_claims_redis = 0;
    s.answers_checked = true;
    s.answers_disagree = 2;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "ANSWERS DISAGREE: 2 request ids were told different outcomes on "
                           "different tries");
    assert_true(report_is_bug(&s));
}

/* A backlog's requests booked into the sale reset under them: the fence
 * let them in, a bug of the audit however well the rest adds up. */
static void test_verdict_backlog_booked(void **state)
{
    struct summary s = clean_summary();
    char v[512];

    (void)state;
    s.backlog = 2000;
    s.backlog_booked_known = true;
    assert_false(report_is_bug(&s));
    s.backlog_booked = 204;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "STALE BOOKED: 204 requests queued before the reset were booked "
                           "into the new sale");
    assert_true(report_is_bug(&s));
}

/* The figures read once the sale was quiet, in the JSON: null when not
 * measured, numbers when they were. */
static void test_json_quiet_figures(void **state)
{
    struct summary s = clean_summary();
    char *text;

    (void)state;
    text = capture(report_write_json, &s);
    assert_non_null(strstr(text, "\"cache_drift\":null"));
    assert_non_null(strstr(text, "\"stuck_claims\":null"));
    assert_non_null(strstr(text, "\"answers_disagree\":null"));
    assert_null(strstr(text, "\"first_ticket_after_reset_ms\""));   /* no backlog */
    free(text);
    s.gate_known = s.gate_counter = true;
    s.cache_drift = -3;
    s.claims_db_known = s.claims_redis_known = true;
    s.stuck_claims_db = 1;
    s.stuck_claims_redis = 2;
    s.retry_same_id = 3;
    s.same_id_retries = 17;
    s.answers_checked = true;
    s.backlog = 10000;
    s.backlog_accepted = 9990;
    s.first_ticket_known = true;
    s.first_ticket_after_reset_ms = 66000;
    s.backlog_booked_known = true;
    s.backlog_booked = 0;
    text = capture(report_write_json, &s);
    assert_non_null(strstr(text, "\"cache_drift\":-3,\"gate_counter\":true,\"stuck_claims\":3,\"stuck_claims_db\":1,"
                                 "\"stuck_claims_redis\":2,\"retry_same_id\":3,"
                                 "\"same_id_retries\":17,\"answers_disagree\":0,"
                                 "\"backlog\":10000,\"backlog_accepted\":9990,"
                                 "\"first_ticket_after_reset_ms\":66000,\"backlog_booked\":0"));
    free(text);
    text = capture(report_write_human, &s);
    assert_non_null(strstr(text, "\ncache_drift = -3\nstuck_claims = 3\n"));
    assert_non_null(strstr(text, "\nfirst_ticket_after_reset_ms = 66000\nbacklog_booked = 0\n"));
    free(text);
}

static void test_verdict_clean(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "clean");
    assert_false(report_is_bug(&s));
    assert_string_equal(report_verdict_word(&s), "clean");
}

/* A planted bug (the zoo) is named on the verdict line, clean or not, so
 * that nobody takes a zoo run for a lab result. */
static void test_verdict_planted(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    snprintf(s.planted, sizeof s.planted, "without for-update");
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "clean [PLANTED BUG: without for-update: a zoo run, not a lab result]");
    s.oversold = 3;
    report_verdict(&s, v, sizeof v);
    assert_non_null(strstr(v, "OVERSOLD by 3 seats"));
    assert_non_null(strstr(v, "[PLANTED BUG: without for-update"));
}

/* Failed requests show beside the verdict: a clean audit of requests
 * that mostly failed proves little. */
static void test_verdict_clean_with_errors(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    s.bookings.n[OUTCOME_SOLD_OUT] = 390;
    s.bookings.n[OUTCOME_ERR_TIMEOUT] = 10;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "clean (10 of 500 requests failed)");
    assert_false(report_is_bug(&s));
}

/* The service's answers and the ticket rows disagree, or the queue lost
 * accepted requests: bugs too, though the seat arithmetic is right. */
static void test_verdict_mismatch_and_lost(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    s.booked_decisions = 97;
    s.mismatch = 3;
    s.lost = 12;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "MISMATCH: 97 booked answers, 100 ticket rows; "
                           "LOST: 12 accepted requests never decided");
    assert_true(report_is_bug(&s));
}

/* Ticket rows for bookings whose answers never came (timeouts, resets) are
 * the client's blind spot: reported, but a bug only beyond their number. */
static void test_verdict_mismatch_unanswered(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    s.booked_decisions = 97;
    s.mismatch = 3;
    s.bookings.n[OUTCOME_ERR_TIMEOUT] = 2;
    s.bookings.n[OUTCOME_ERR_PROTOCOL] = 1;
    assert_int_equal(report_unanswered(&s), 3);
    assert_false(report_is_bug(&s));
    report_verdict(&s, v, sizeof v);
    assert_non_null(strstr(v, "(no more than the requests left unanswered)"));
    s.mismatch = 4;                         /* one row too many to explain */
    assert_true(report_is_bug(&s));
    s.mismatch = -1;                        /* a booked answer without its row */
    assert_true(report_is_bug(&s));
}

static void test_verdict_duplicates(void **state)
{
    struct summary s = clean_summary();
    char v[256];

    (void)state;
    s.duplicates = 2;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "DUPLICATES: 2 users hold more than one ticket");
}

/* A custom --path has no audit, hence no verdict. */
static void test_verdict_custom(void **state)
{
    struct summary s;
    char v[256];

    (void)state;
    memset(&s, 0, sizeof s);
    s.mode = "sustained";
    strcpy(s.path, "GET /healthz");
    s.bookings.attempted = 1000;
    s.bookings.n[OUTCOME_OK] = 999;
    s.bookings.n[OUTCOME_ERR_5XX] = 1;
    s.oversold = 5;   /* ignored without an audit */
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "done: 1000 requests to GET /healthz (1 failed)");
    assert_false(report_is_bug(&s));
    assert_string_equal(report_verdict_word(&s), "none");
}

/* A short buffer is cut, never overrun. */
static void test_verdict_short_buffer(void **state)
{
    struct summary s = phase2_summary();
    char v[12];

    (void)state;
    report_verdict(&s, v, sizeof v);
    assert_string_equal(v, "OVERSOLD by");
}

/* ------------------------------------------------------------------------
 * Human and JSON output
 * --------------------------------------------------------------------- */

/* The verdict comes first, then "key = value" lines. */
static void test_human(void **state)
{
    struct summary s = phase2_summary();
    char *text = capture(report_write_human, &s);

    (void)state;
    assert_memory_equal(text, "OVERSOLD by 312 seats; PHANTOM: counter is 68 off\n",
                        strlen("OVERSOLD by 312 seats; PHANTOM: counter is 68 off\n"));
    assert_non_null(strstr(text, "\nphase = 2 (unsafe)\n"));
    assert_non_null(strstr(text, "\nattempted = 500\n"));
    assert_non_null(strstr(text, "\nbooked = 412\n"));
    assert_non_null(strstr(text, "\nsold_out = 88\n"));
    assert_non_null(strstr(text, "\nerrors = 0\n"));
    assert_non_null(strstr(text, "\nerrors_timeout = 0\n"));
    assert_non_null(strstr(text, "\noversold = 312\n"));
    assert_non_null(strstr(text, "\nphantom = 68\n"));
    assert_non_null(strstr(text, "\np50_us = 40123\n"));
    assert_non_null(strstr(text, "\nmax_us = 120456\n"));
    assert_non_null(strstr(text, "\nwall_s = 0.500\n"));
    assert_null(strstr(text, "\nreads ="));   /* no reads asked for */
    free(text);
}

/* One object on one line, the same keys. */
static void test_json(void **state)
{
    struct summary s = phase2_summary();
    char *text;

    (void)state;
    strcpy(s.phase_name, "un\"safe\\");   /* escaped, not pasted */
    text = capture(report_write_json, &s);
    assert_int_equal(text[0], '{');
    assert_int_equal(count_char(text, '\n'), 1);
    assert_memory_equal(text + strlen(text) - 2, "}\n", 2);
    assert_non_null(strstr(text, "\"verdict\":\"BUG\""));
    assert_non_null(strstr(text, "\"verdict_text\":\"OVERSOLD by 312 seats; PHANTOM: counter is 68 off\""));
    assert_non_null(strstr(text, "\"name\":\"un\\\"safe\\\\\""));
    assert_non_null(strstr(text, "\"booked\":412"));
    assert_non_null(strstr(text, "\"oversold\":312"));
    assert_non_null(strstr(text, "\"errors_http_5xx\":0"));
    assert_non_null(strstr(text, "\"p99_us\":99000"));
    assert_non_null(strstr(text, "\"async\":false"));
    free(text);
}

/* ------------------------------------------------------------------------
 * CSV
 * --------------------------------------------------------------------- */

/* A row has as many fields as the header, in the header's order. */
static void test_csv_row(void **state)
{
    struct summary s = phase2_summary();
    char row[1024];
    int n;

    (void)state;
    n = report_csv_row(row, sizeof row, &s, "2024-11-25T08:30:00Z", "abc1234");
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(row));
    assert_int_equal(count_char(row, ','), count_char(report_csv_header, ','));
    assert_string_equal(row, "2024-11-25T08:30:00Z,abc1234,2,burst,100,500,500,20,0,"
                             "500,412,0,88,0,412,312,68,0,0,"
                             "1000.0,40123,80000,99000,120456,0.500,0.000,BUG,"
                             "unknown,0,0,0,0,0,0,0,0,0,0\n");
}

/* The columns this issue added come last, in the header's order: a
 * strategy, two instances, what the conflicts cost. */
static void test_csv_strategy_columns(void **state)
{
    struct summary s = clean_summary();
    char row[1024];

    (void)state;
    snprintf(s.strategy, sizeof s.strategy, "optimistic");
    s.instances = 2;
    s.undersold = 4;
    s.contention = (struct contention){ .serialization = 7, .deadlock = 1,
                                        .lock_not_available = 2, .retries = 30, .gave_up = 5 };
    assert_true(report_csv_row(row, sizeof row, &s, "T", "r") > 0);
    assert_int_equal(count_char(row, ','), count_char(report_csv_header, ','));
    assert_non_null(strstr(report_csv_header, ",verdict,strategy,instances,undersold,retries,"
                                              "gave_up,conflicts_serialization,"
                                              "conflicts_deadlock,conflicts_lock_not_available,"));
    assert_non_null(strstr(row, ",BUG,optimistic,2,4,30,5,7,1,2,0,0,0\n"));
}

/* The open loop's columns come last, after the strategies': p99.9, p99.99, the rate. */
static void test_csv_open_loop_columns(void **state)
{
    struct summary s = phase2_summary();
    char row[1024];

    (void)state;
    s.p999_us = 110000;
    s.p9999_us = 120000;
    s.rate = 2500;
    assert_true(report_csv_row(row, sizeof row, &s, "T", "r") > 0);
    assert_non_null(strstr(row, ",unknown,0,0,0,0,0,0,0,110000,120000,2500\n"));
    assert_non_null(strstr(report_csv_header, ",conflicts_lock_not_available,p999_us,p9999_us,rate"));
}

/* A revision with a comma is quoted, so the columns stay in place. */
static void test_csv_quoting(void **state)
{
    struct summary s = clean_summary();
    char row[1024];

    (void)state;
    assert_true(report_csv_row(row, sizeof row, &s, "T", "a,\"b\"") > 0);
    assert_non_null(strstr(row, "T,\"a,\"\"b\"\"\",3,"));
}

/* A new file gets the header once, then one row per append. */
static void test_csv_new_file(void **state)
{
    struct summary s = phase2_summary(), c = clean_summary();
    char path[64], err[256];
    char *text;

    (void)state;
    temp_path(path, sizeof path);
    assert_int_equal(report_append_csv(path, &s, "T1", "r1", err, sizeof err), 0);
    assert_int_equal(report_append_csv(path, &c, "T2", "r2", err, sizeof err), 0);
    text = read_file(path);
    assert_memory_equal(text, report_csv_header, strlen(report_csv_header));
    assert_int_equal(text[strlen(report_csv_header)], '\n');
    assert_int_equal(count_char(text, '\n'), 3);
    assert_non_null(strstr(text, "\nT1,r1,2,burst,"));
    assert_non_null(strstr(text, ",BUG,unknown,0,0,0,0,0,0,0,0,0,0\nT2,r2,3,burst,"));
    assert_memory_equal(text + strlen(text) - 35, ",clean,unknown,0,0,0,0,0,0,0,0,0,0\n", 35);
    free(text);
    unlink(path);
}

/* An empty file (touch results/attacks.csv) counts as new. */
static void test_csv_empty_file(void **state)
{
    struct summary s = clean_summary();
    char path[64], err[256];
    char *text;
    FILE *f;

    (void)state;
    temp_path(path, sizeof path);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(report_append_csv(path, &s, "T", "r", err, sizeof err), 0);
    text = read_file(path);
    assert_memory_equal(text, report_csv_header, strlen(report_csv_header));
    assert_int_equal(count_char(text, '\n'), 2);
    free(text);
    unlink(path);
}

/* A file with other columns is not appended to. */
static void test_csv_other_header(void **state)
{
    struct summary s = clean_summary();
    char path[64], err[256];
    char *text;
    FILE *f;

    (void)state;
    temp_path(path, sizeof path);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("timestamp,phase,verdict\n2024,2,BUG\n", f);
    fclose(f);
    assert_int_equal(report_append_csv(path, &s, "T", "r", err, sizeof err), -1);
    assert_non_null(strstr(err, "other columns"));
    text = read_file(path);
    assert_string_equal(text, "timestamp,phase,verdict\n2024,2,BUG\n");
    free(text);
    unlink(path);
}

/* A folder that is missing is made (one level). */
static void test_csv_makes_folder(void **state)
{
    struct summary s = clean_summary();
    char dir[64], path[96], err[256];

    (void)state;
    temp_path(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/attacks.csv", dir);
    assert_int_equal(report_append_csv(path, &s, "T", "r", err, sizeof err), 0);
    unlink(path);
    rmdir(dir);
}

static void test_csv_unwritable(void **state)
{
    struct summary s = clean_summary();
    char err[256];

    (void)state;
    assert_int_equal(report_append_csv("/nonexistent-dir/x/attacks.csv", &s, "T", "r", err,
                                       sizeof err),
                     -1);
    assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_booking),
        cmocka_unit_test(test_classify_booking_errors),
        cmocka_unit_test(test_classify_plain),
        cmocka_unit_test(test_counts_rule),
        cmocka_unit_test(test_counts_misfiled),
        cmocka_unit_test(test_verdict_oversold),
        cmocka_unit_test(test_verdict_phantom_only),
        cmocka_unit_test(test_verdict_clean),
        cmocka_unit_test(test_verdict_planted),
        cmocka_unit_test(test_verdict_cache_drift),
        cmocka_unit_test(test_verdict_stuck_and_disagree),
        cmocka_unit_test(test_verdict_gate_leak),
        cmocka_unit_test(test_verdict_backlog_booked),
        cmocka_unit_test(test_json_quiet_figures),
        cmocka_unit_test(test_verdict_clean_with_errors),
        cmocka_unit_test(test_verdict_undersold),
        cmocka_unit_test(test_csv_strategy_columns),
        cmocka_unit_test(test_verdict_mismatch_and_lost),
        cmocka_unit_test(test_verdict_mismatch_unanswered),
        cmocka_unit_test(test_verdict_duplicates),
        cmocka_unit_test(test_verdict_custom),
        cmocka_unit_test(test_verdict_short_buffer),
        cmocka_unit_test(test_human),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_csv_row),
        cmocka_unit_test(test_csv_open_loop_columns),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_new_file),
        cmocka_unit_test(test_csv_empty_file),
        cmocka_unit_test(test_csv_other_header),
        cmocka_unit_test(test_csv_makes_folder),
        cmocka_unit_test(test_csv_unwritable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
