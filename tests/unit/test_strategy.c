/* test_strategy.c -- --strategy and the retry loop (phases/shared/strategy.c):
 * the default is the list's first, a name picks its booking, an unknown
 * name or a phase without strategies is refused with the choices named;
 * a conflicting attempt is run again at most --retries times, each retry
 * and each give-up counted. No service, no database: the attempts are
 * functions of the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "service/config.h"
#include "contention.h"
#include "service/strategy.h"

static enum lab_status book_a(struct conns *c, const struct booking *b, struct booking_reply *r)
{
    (void)c, (void)b, (void)r;
    return LAB_BOOKED;
}

static enum lab_status book_b(struct conns *c, const struct booking *b, struct booking_reply *r)
{
    (void)c, (void)b, (void)r;
    return LAB_SOLD_OUT;
}

static const struct strategy two[] = {
    { .name = "first", .book = book_a },
    { .name = "second", .book = book_b, .safeguards = SAFEGUARD_BIT(SAFEGUARD_REREAD) },
    { .name = "planted", .book = book_b, .planted = true },
    { .name = NULL },
};
static const struct phase with = { .number = 7, .name = "t", .book = book_a, .strategies = two,
                                   .safeguards = SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE) };
static const struct phase without = { .number = 8, .name = "u", .book = book_a };

/* No --strategy: the first of the list, and its name is reported. */
static void default_is_first(void **state)
{
    struct phase out;
    const char *name = NULL;
    char err[256];

    (void)state;
    assert_true(strategy_choose(&with, &name, &out, err, sizeof err));
    assert_string_equal(name, "first");
    assert_ptr_equal(out.book, book_a);
    assert_int_equal(out.number, 7);
}

/* A name picks its booking; the rest of the descriptor is kept. */
static void name_picks_booking(void **state)
{
    struct phase out;
    const char *name = "second";
    char err[256];

    (void)state;
    assert_true(strategy_choose(&with, &name, &out, err, sizeof err));
    assert_ptr_equal(out.book, book_b);
    assert_string_equal(out.name, "t");
}

/* An unknown name, or any name for a phase that has no list: refused,
 * saying which names there are. */
static void unknown_is_refused(void **state)
{
    struct phase out;
    const char *name = "mutex";
    char err[256];

    (void)state;
    assert_false(strategy_choose(&with, &name, &out, err, sizeof err));
    assert_non_null(strstr(err, "'mutex'"));
    assert_non_null(strstr(err, "first second planted"));
    name = "first";
    assert_false(strategy_choose(&without, &name, &out, err, sizeof err));
    assert_non_null(strstr(err, "phase 8 has no --strategy"));
    name = NULL;
    assert_true(strategy_choose(&without, &name, &out, err, sizeof err));
    assert_null(name);
    assert_ptr_equal(out.book, book_a);
}

/* An asynchronous phase's planted strategy: its own API and consumer steps
 * replace the phase's, with no claim before the queue when it says so; the
 * phase's default keeps them. */
static enum lab_status send_x(const struct service *svc, const struct booking *b,
                              struct queue_send *send, char *err, size_t err_len)
{
    (void)svc, (void)b, (void)send, (void)err, (void)err_len;
    return LAB_OK;
}

static enum lab_status send_y(const struct service *svc, const struct booking *b,
                              struct queue_send *send, char *err, size_t err_len)
{
    (void)svc, (void)b, (void)send, (void)err, (void)err_len;
    return LAB_ERR_QUEUE;
}

static enum lab_status batch_y(struct conns *c, const struct booking *b, size_t n,
                               enum lab_status *out)
{
    (void)c, (void)b, (void)n, (void)out;
    return LAB_OK;
}

static const struct strategy async_list[] = {
    { .name = "default" },
    { .name = "demo", .planted = true, .unclaimed = true, .send = send_y, .decide = book_b,
      .decide_batch = batch_y },
    { .name = NULL },
};
static const struct phase async_phase = { .number = 9, .name = "a", .send = send_x,
                                          .decide = book_a, .strategies = async_list };

static void planted_async_strategy(void **state)
{
    struct phase out;
    const char *name = NULL;
    char err[256], said[320];

    (void)state;
    assert_true(strategy_choose(&async_phase, &name, &out, err, sizeof err));
    assert_string_equal(name, "default");
    assert_ptr_equal(out.send, send_x);
    assert_ptr_equal(out.decide, book_a);
    assert_null(out.planted);
    assert_false(out.unclaimed);
    name = "demo";
    assert_true(strategy_choose(&async_phase, &name, &out, err, sizeof err));
    assert_ptr_equal(out.send, send_y);
    assert_ptr_equal(out.decide, book_b);
    assert_ptr_equal(out.decide_batch, batch_y);
    assert_true(out.unclaimed);
    assert_string_equal(out.planted, "demo");
    assert_string_equal(strategy_planted(&out, 0, said, sizeof said), "strategy demo");
}

/* An attempt that conflicts the first CONFLICTS times, then books. */
static int conflicts, calls;

static enum lab_status flaky(struct conns *c, const struct booking *b, struct booking_reply *r,
                             bool *conflict)
{
    (void)c, (void)b, (void)r;
    calls++;
    if (calls <= conflicts) {
        *conflict = true;
        return LAB_ERR_DB;
    }
    return LAB_BOOKED;
}

/* run_flaky runs retry_booking with RETRIES against an attempt that
 * conflicts N times; the counters it added go to D. */
static enum lab_status run_flaky(int retries, int n, struct contention *d)
{
    struct config cfg = { .retries = retries };
    struct service svc = { .cfg = &cfg };
    struct conns c = { .svc = &svc };
    struct booking b = { .event_id = 1, .user_id = 1 };
    struct booking_reply r = { 0 };
    struct contention before, after;
    enum lab_status st;

    conflicts = n;
    calls = 0;
    contention_read(&before);
    st = retry_booking(&c, &b, &r, flaky);
    contention_read(&after);
    contention_diff(&after, &before, d);
    return st;
}

/* Two conflicts with three retries: booked on the third attempt, two
 * retries counted, nobody gave up. */
static void retries_until_won(void **state)
{
    struct contention d;

    (void)state;
    assert_int_equal(run_flaky(3, 2, &d), LAB_BOOKED);
    assert_int_equal(calls, 3);
    assert_int_equal(d.retries, 2);
    assert_int_equal(d.gave_up, 0);
}

/* Conflicts every time: 1 + retries attempts, then LAB_ERR_CONFLICT and
 * one give-up; with --retries 0, one attempt. */
static void gives_up_after_retries(void **state)
{
    struct contention d;

    (void)state;
    assert_int_equal(run_flaky(3, 100, &d), LAB_ERR_CONFLICT);
    assert_int_equal(calls, 4);
    assert_int_equal(d.retries, 3);
    assert_int_equal(d.gave_up, 1);
    assert_int_equal(run_flaky(0, 100, &d), LAB_ERR_CONFLICT);
    assert_int_equal(calls, 1);
    assert_int_equal(d.retries, 0);
    assert_int_equal(d.gave_up, 1);
}

/* --without: names read one by one, an unknown or empty one refused with
 * the names there are; a safeguard the chosen phase lacks refused, one that
 * only a strategy has accepted with that strategy alone. */
static void safeguards_by_name(void **state)
{
    unsigned mask = 0;
    struct phase out;
    const char *name = NULL;
    char err[256], list[128];

    (void)state;
    assert_true(safeguard_parse("give-back,fence", &mask, err, sizeof err));
    assert_true(safeguard_parse("for-update", &mask, err, sizeof err));
    assert_int_equal(mask, SAFEGUARD_BIT(SAFEGUARD_GIVE_BACK) | SAFEGUARD_BIT(SAFEGUARD_FENCE) |
                               SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE));
    assert_string_equal(safeguard_list(mask, list, sizeof list), "for-update,give-back,fence");
    assert_false(safeguard_parse("give-back,bogus", &mask, err, sizeof err));
    assert_non_null(strstr(err, "'bogus'"));
    assert_non_null(strstr(err, "ack-first"));
    assert_false(safeguard_parse("fence,", &mask, err, sizeof err));
    assert_false(safeguard_parse("", &mask, err, sizeof err));

    assert_true(strategy_choose(&with, &name, &out, err, sizeof err));
    assert_true(strategy_check_without(&out, SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE), err, sizeof err));
    assert_false(strategy_check_without(&out, SAFEGUARD_BIT(SAFEGUARD_REREAD), err, sizeof err));
    assert_non_null(strstr(err, "no safeguard reread (it has: for-update)"));
    name = "second";
    assert_true(strategy_choose(&with, &name, &out, err, sizeof err));
    assert_true(strategy_check_without(&out, SAFEGUARD_BIT(SAFEGUARD_REREAD), err, sizeof err));
    assert_false(strategy_check_without(&without, SAFEGUARD_BIT(SAFEGUARD_GIVE_BACK), err,
                                         sizeof err));
}

/* What a zoo run planted, as /healthz and the log say it. */
static void planted_is_named(void **state)
{
    struct phase out;
    const char *name = "first";
    char err[256], text[320];

    (void)state;
    assert_true(strategy_choose(&with, &name, &out, err, sizeof err));
    assert_null(out.planted);
    assert_string_equal(strategy_planted(&out, 0, text, sizeof text), "");
    assert_string_equal(strategy_planted(&out, SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE), text,
                                         sizeof text), "without for-update");
    name = "planted";
    assert_true(strategy_choose(&with, &name, &out, err, sizeof err));
    assert_string_equal(out.planted, "planted");
    assert_string_equal(strategy_planted(&out, 0, text, sizeof text), "strategy planted");
    assert_string_equal(strategy_planted(&out, SAFEGUARD_BIT(SAFEGUARD_FOR_UPDATE), text,
                                         sizeof text), "strategy planted, without for-update");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_is_first),
        cmocka_unit_test(name_picks_booking),
        cmocka_unit_test(unknown_is_refused),
        cmocka_unit_test(safeguards_by_name),
        cmocka_unit_test(planted_is_named),
        cmocka_unit_test(planted_async_strategy),
        cmocka_unit_test(retries_until_won),
        cmocka_unit_test(gives_up_after_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
