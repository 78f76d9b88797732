/* test_explain.c -- the explainer (harness/explain.c) on hand-made sales:
 * the grouping by the value read, the figures, the wording of each case
 * (lost decrements, two instances, a user with two tickets, no counter),
 * the choice of lines when they do not all fit, the file; and what the
 * client reads of a 201, the history's new fields, the summary's block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "client.h"
#include "explain.h"
#include "history.h"
#include "report.h"

#define START_US 1000000u

/* add puts a 201 of job J, answered at T_MS since the start, that read
 * READ and wrote READ - 1 on instance SERVER, into LOG. */
static void add(struct explain_log *log, long long j, long long t_ms, long long read,
                const char *server)
{
    struct explain_booking b = { .job = j, .invoke_us = START_US,
                                 .complete_us = START_US + (uint64_t)t_ms * 1000u,
                                 .ticket_id = 100 + j, .counted = true,
                                 .counter_read = read, .counter_wrote = read - 1 };

    snprintf(b.server, sizeof b.server, "%s", server);
    explain_add(log, &b);
}

/* sale: the input of a run of TICKETS tickets on 10 seats, the counter
 * from 10 down to AFTER. */
static struct explain_input sale(long long tickets, long long after)
{
    struct explain_input in = { .run_id = "r", .user_base = 0, .clicks = 1,
                                .start_us = START_US, .strategy = "unsafe", .total_seats = 10,
                                .counter_before = 10, .counter_after = after,
                                .tickets = tickets, .per_user_limit = 1, .bug = true };

    in.oversold = tickets > 10 ? tickets - 10 : 0;
    return in;
}

/* Six bookings read three values: 10 (three of them), 9 (two), 8 (one).
 * Three decrements landed (10 -> 7), three were lost; the largest group is
 * named in the headline, the two collisions listed, the single one not. */
static void test_groups_and_headline(void **state)
{
    struct explain_log log = { 0 };
    struct explain_input in = sale(6, 7);
    struct explanation e;

    (void)state;
    add(&log, 5, 40, 8, "srv-a");        /* out of order on purpose */
    add(&log, 0, 10, 10, "srv-a");
    add(&log, 3, 22, 9, "srv-a");
    add(&log, 1, 11, 10, "srv-a");
    add(&log, 4, 25, 9, "srv-a");
    add(&log, 2, 12, 10, "srv-a");
    explain_compute(&log, &in, &e);

    assert_true(e.known);
    assert_int_equal(e.booked, 6);
    assert_int_equal(e.counted, 6);
    assert_int_equal(e.distinct, 3);
    assert_int_equal(e.lost, 3);
    assert_int_equal(e.landed, 3);
    assert_int_equal(e.collisions, 2);
    assert_int_equal(e.largest_read, 10);
    assert_int_equal(e.largest_count, 3);
    assert_int_equal(e.lowest_wrote, 7);
    assert_int_equal(e.servers, 1);
    assert_int_equal(e.cross_instance, 0);
    /* sorted: the highest value read first, then by answer time */
    assert_int_equal(log.rec[0].job, 0);
    assert_int_equal(log.rec[2].job, 2);
    assert_int_equal(log.rec[3].job, 3);
    assert_int_equal(log.rec[5].job, 5);
    assert_non_null(strstr(e.text, "3 decrements lost: 6 bookings read only 3 distinct values "
                                   "of the seat counter; 3 of them read 10 and all wrote 9.\n"));
    assert_non_null(strstr(e.text, "The counter fell by 3, from 10 to 7, while 6 tickets were "
                                   "written."));
    assert_non_null(strstr(e.text, "\n- read 10, all wrote 9 (3 bookings): r-1 at 10 ms, "
                                   "r-2 at 11 ms and r-3 at 12 ms"));
    assert_non_null(strstr(e.text, "\n- read 9, all wrote 8 (2 bookings): r-4 at 22 ms and "
                                   "r-5 at 25 ms"));
    assert_null(strstr(e.text, "read 8,"));          /* one booking: no collision */
    assert_null(strstr(e.text, "instances"));
    assert_int_not_equal(e.text[strlen(e.text) - 1], '\n');
    explain_free(&log);
}

/* A group larger than the names shown ends with "and N more"; of two
 * groups as large, the later in the sale (the lower value) comes first;
 * an oversold sale says by how many. */
static void test_many_and_oversold(void **state)
{
    struct explain_log log = { 0 };
    struct explain_input in = sale(12, 8);
    struct explanation e;

    (void)state;
    for (int j = 0; j < 6; j++)
        add(&log, j, 10 + j, 10, "srv-a");
    for (int j = 6; j < 12; j++)
        add(&log, j, 20 + j, 9, "srv-a");
    explain_compute(&log, &in, &e);
    assert_int_equal(e.lost, 10);
    assert_non_null(strstr(e.text, "6 of them read 9 and all wrote 8."));
    assert_non_null(strstr(e.text, "- read 9, all wrote 8 (6 bookings): r-7 at 26 ms, r-8 at "
                                   "27 ms, r-9 at 28 ms and 3 more\n- read 10"));
    assert_non_null(strstr(e.text, "while 12 tickets were written for 10 seats (2 too many)"));
    explain_free(&log);
}

/* The local mutex on two instances: each instance reads in turn, the two
 * read the same values. The pairs ran on two instances, none within one. */
static void test_two_instances(void **state)
{
    struct explain_log log = { 0 };
    struct explain_input in = sale(6, 7);
    struct explanation e;

    (void)state;
    in.strategy = "local-mutex";
    for (int v = 0; v < 3; v++) {
        add(&log, 2 * v, 10 * v, 10 - v, "srv-aaaa");
        add(&log, 2 * v + 1, 10 * v + 1, 10 - v, "srv-bbbb");
    }
    explain_compute(&log, &in, &e);
    assert_int_equal(e.servers, 2);
    assert_int_equal(e.collisions, 3);
    assert_int_equal(e.cross_instance, 3);
    assert_int_equal(e.same_instance, 0);
    assert_non_null(strstr(e.text, "(2 bookings, on 2 instances)"));
    assert_non_null(strstr(e.text, "The 2 bookings that read 8 ran on two instances: srv-aaaa "
                                   "and srv-bbbb; each instance's mutex knows only its own "
                                   "threads."));
    assert_non_null(strstr(e.text, "3 of the 3 collisions span instances; none has two "
                                   "bookings of one instance"));
    explain_free(&log);

    /* one more booking of srv-aaaa reads 8 too: a collision inside it */
    memset(&log, 0, sizeof log);
    for (int v = 0; v < 3; v++) {
        add(&log, 2 * v, 10 * v, 10 - v, "srv-aaaa");
        add(&log, 2 * v + 1, 10 * v + 1, 10 - v, "srv-bbbb");
    }
    add(&log, 6, 40, 8, "srv-aaaa");
    in = sale(7, 7);
    in.strategy = "local-mutex";
    explain_compute(&log, &in, &e);
    assert_int_equal(e.same_instance, 1);
    assert_non_null(strstr(e.text, "1 have two bookings of one instance"));
    explain_free(&log);
}

/* --clicks 2: user 2 (jobs 2 and 3) got two 201s; user 1 got one. */
static void test_duplicates(void **state)
{
    struct explain_log log = { 0 };
    struct explain_input in = sale(3, 7);
    struct explanation e;

    (void)state;
    in.clicks = 2;
    in.duplicates = 1;
    add(&log, 0, 10, 10, "srv-a");
    add(&log, 3, 12, 9, "srv-a");
    add(&log, 2, 11, 8, "srv-a");
    explain_compute(&log, &in, &e);
    assert_int_equal(e.duplicate_users, 1);
    assert_int_equal(e.lost, 0);
    assert_non_null(strstr(e.text, "No two bookings read the same value of the seat counter: "
                                   "all 3 decrements landed."));
    /* request ids are <run>-<user_base + 1 + job>; users <user_base + 1 + job / clicks> */
    assert_non_null(strstr(e.text, "1 user holds more than one ticket: user 2 was booked 2 "
                                   "times, r-3 at 11 ms (read 8) and r-4 at 12 ms (read 9)"));
    explain_free(&log);

    /* the audit's count differs from the 201s': said */
    memset(&log, 0, sizeof log);
    add(&log, 0, 10, 10, "srv-a");
    add(&log, 1, 11, 9, "srv-a");
    in.clicks = 1;
    in.duplicates = 2;
    in.tickets = 2;
    in.counter_after = 8;
    explain_compute(&log, &in, &e);
    assert_int_equal(e.duplicate_users, 0);
    assert_non_null(strstr(e.text, "The audit counts 2 users with more tickets than the limit"));
    explain_free(&log);
}

/* A clean run is not explained, though its figures are counted; a BUG
 * with no counter told says so; decrements of bookings without a 201 and
 * a counter put back up by an older write are told apart. */
static void test_other_cases(void **state)
{
    struct explain_log log = { 0 };
    struct explain_input in = sale(2, 8);
    struct explain_booking untold = { .job = 0, .complete_us = START_US + 5000 };
    struct explanation e;

    (void)state;
    add(&log, 0, 10, 10, "srv-a");
    add(&log, 1, 11, 9, "srv-a");
    in.bug = false;
    explain_compute(&log, &in, &e);
    assert_false(e.known);
    assert_string_equal(e.text, "");
    assert_int_equal(e.distinct, 2);
    assert_int_equal(e.lost, 0);
    explain_free(&log);

    memset(&log, 0, sizeof log);
    explain_add(&log, &untold);
    in = sale(1, 9);
    explain_compute(&log, &in, &e);
    assert_true(e.known);
    assert_int_equal(e.booked, 1);
    assert_int_equal(e.counted, 0);
    assert_non_null(strstr(e.text, "No 201 told the counter value its booking read"));
    explain_free(&log);

    /* two 201s read 10, the counter fell by 2: one decrement had no 201 */
    memset(&log, 0, sizeof log);
    add(&log, 0, 10, 10, "srv-a");
    add(&log, 1, 11, 10, "srv-a");
    in = sale(2, 8);
    explain_compute(&log, &in, &e);
    assert_int_equal(e.landed, 2);
    assert_non_null(strstr(e.text, ": 1 of those decrements are the 201s' (one per value "
                                   "read), 1 came from bookings that got no 201"));
    explain_free(&log);

    /* 10, 10, then 9 (wrote 8), and the counter says 9: an old write last */
    memset(&log, 0, sizeof log);
    add(&log, 0, 10, 10, "srv-a");
    add(&log, 1, 11, 10, "srv-a");
    add(&log, 2, 12, 9, "srv-a");
    in = sale(3, 9);
    explain_compute(&log, &in, &e);
    assert_int_equal(e.lowest_wrote, 8);
    assert_non_null(strstr(e.text, "The lowest value written was 8, yet the counter says 9: a "
                                   "booking that had read an older value wrote last."));
    explain_free(&log);
}

/* Lines that do not all fit: the headline and the users with two tickets
 * are kept, the text stays within its size, no line is cut. */
static void test_text_fits(void **state)
{
    struct explain_log log = { 0 };
    struct explain_input in = sale(400, 7);
    struct explanation e;

    (void)state;
    in.run_id = "a-rather-long-run-id-0123456789abcdefghijklmnopqrstuvwxyz";
    in.clicks = 2;
    in.duplicates = 3;
    for (int j = 0; j < 400; j++)
        add(&log, j, j, 10 - (j % 3), j % 2 ? "srv-0123456789abcdef" : "srv-fedcba9876543210");
    explain_compute(&log, &in, &e);
    assert_true(strlen(e.text) < sizeof e.text);
    assert_non_null(strstr(e.text, "397 decrements lost"));
    assert_non_null(strstr(e.text, "users hold more than one ticket"));
    assert_null(strstr(e.text, "\n\n"));
    for (const char *line = e.text; *line;) {        /* every line a whole sentence */
        size_t n = strcspn(line, "\n");
        assert_true(line[n - 1] == '.' || strncmp(line, "- read", 6) == 0);
        line += n + (line[n] == '\n');
    }
    explain_free(&log);
}

/* The file: every group with its bookings, the figures, valid escapes. */
static void test_file(void **state)
{
    struct explain_log log = { 0 };
    struct explain_input in = sale(3, 8);
    struct explanation e;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    add(&log, 0, 10, 10, "srv-a");
    add(&log, 1, 11, 10, "srv-\"b");
    add(&log, 2, 12, 9, "srv-a");
    explain_compute(&log, &in, &e);
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(explain_write_json(f, &log, &in, &e), 0);
    fclose(f);
    assert_non_null(strstr(buf, "{\"runId\":\"r\",\"strategy\":\"unsafe\",\"text\":\"1 decrements "
                                "lost: 3 bookings read only 2 distinct values"));
    assert_non_null(strstr(buf, "\\n"));              /* the text's lines, escaped */
    assert_non_null(strstr(buf, "\"counted\":3,\"distinctValues\":2,\"lostDecrements\":1,"
                                "\"landed\":2,\"lowestWritten\":8"));
    assert_non_null(strstr(buf, "\"groups\":[{\"read\":10,\"count\":2,\"wroteMin\":9,"
                                "\"wroteMax\":9,\"instances\":2,\"bookings\":[{\"requestId\":"
                                "\"r-1\",\"userId\":1,\"invokeMs\":0.000,\"answeredMs\":10.000,"
                                "\"ticketId\":100,\"counterRead\":10,\"counterWrote\":9,"
                                "\"server\":\"srv-a\"},"));
    assert_non_null(strstr(buf, "\"server\":\"srv-\\\"b\"}"));
    assert_non_null(strstr(buf, "{\"read\":9,\"count\":1,"));
    assert_non_null(strstr(buf, "\"duplicateUsers\":[]}\n"));
    free(buf);
    explain_free(&log);
}

/* explain_merge appends; the client reads counterRead from a 201's body. */
static void test_merge_and_client(void **state)
{
    struct explain_log a = { 0 }, b = { 0 };
    static const char body[] = "{\"status\":\"booked\",\"eventId\":1,\"userId\":2,\"requestId\":"
                               "\"x-2\",\"ticketId\":7,\"counterRead\":67,\"counterWrote\":66,"
                               "\"server\":\"srv-0123456789abcdef\"}";
    long long v = 0;

    (void)state;
    add(&a, 0, 1, 5, "s");
    add(&b, 1, 2, 5, "s");
    add(&b, 2, 3, 4, "s");
    assert_int_equal(explain_merge(&a, &b), 0);
    assert_int_equal(a.len, 3);
    assert_int_equal(a.rec[2].job, 2);
    explain_free(&a);
    explain_free(&b);
    assert_true(client_counter_read(body, strlen(body), &v));
    assert_int_equal(v, 67);
    assert_false(client_counter_read("{\"status\":\"booked\",\"ticketId\":7}", 31, &v));
}

/* The history keeps the counter and the server of a 201 that told them. */
static void test_history_fields(void **state)
{
    struct history_log h = { 0 };
    struct history_record r = { .job = 4, .invoke_us = 2000, .complete_us = 7000,
                                .http_status = 201, .outcome = OUTCOME_BOOKED,
                                .answer = HISTORY_ANSWER_BOOKED, .try_no = 1, .ticket_id = 9,
                                .counted = true, .counter_read = 41, .counter_wrote = 40,
                                .server = "srv-ab" };
    char path[64], err[256], line[512];
    FILE *f;

    (void)state;
    history_add(&h, &r);
    snprintf(path, sizeof path, "/tmp/test_explain.%ld.jsonl", (long)getpid());
    assert_int_equal(history_write(path, &h, "run", 0, 1000, err, sizeof err), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    remove(path);
    assert_non_null(strstr(line, ",\"ticketId\":9,\"counterRead\":41,\"counterWrote\":40,"
                                 "\"server\":\"srv-ab\"}\n"));
    history_free(&h);
}

/* The summary: the "explanation:" block after the figures, "explain" last
 * in the JSON object, nothing in the human summary of a clean run. */
static void test_summary(void **state)
{
    static struct summary s;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    memset(&s, 0, sizeof s);
    s.mode = "burst";
    s.audited = true;
    s.explain.known = true;
    s.explain.lost = 467;
    snprintf(s.explain.text, sizeof s.explain.text, "467 decrements lost.\n- read 67");
    snprintf(s.explain_path, sizeof s.explain_path, "results/x-explain.json");
    f = open_memstream(&buf, &len);
    report_write_human(f, &s);
    fclose(f);
    assert_non_null(strstr(buf, "\nexplanation:\n  467 decrements lost.\n  - read 67\n"
                                "  (every group: results/x-explain.json)\n"));
    free(buf);

    f = open_memstream(&buf, &len);
    report_write_json(f, &s);
    fclose(f);
    assert_non_null(strstr(buf, ",\"explain\":{\"known\":true,\"text\":\"467 decrements lost."
                                "\\n- read 67\",\"bookedAnswers\":0"));
    assert_non_null(strstr(buf, "\"lostDecrements\":467,"));
    assert_non_null(strstr(buf, "\"file\":\"results/x-explain.json\"}}\n"));
    free(buf);

    s.explain.known = false;
    f = open_memstream(&buf, &len);
    report_write_human(f, &s);
    fclose(f);
    assert_null(strstr(buf, "explanation:"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_and_headline),
        cmocka_unit_test(test_many_and_oversold),
        cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_other_cases),
        cmocka_unit_test(test_text_fits),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_merge_and_client),
        cmocka_unit_test(test_history_fields),
        cmocka_unit_test(test_summary),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
