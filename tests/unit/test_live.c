/* test_live.c -- the live page's pure parts (harness/live.c): the latency
 * buckets and the p99 of a tick, the cells of the seat grid (by the
 * counter value read, or by the ticket count), --live's loopback-only
 * address and its companion options, the 201 body's counterRead, and a
 * stream's bounded buffer over a socketpair whose peer never reads: the
 * push never blocks and says "drop" once the bound is passed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "args.h"
#include "client.h"
#include "live.h"

/* Every value falls in a bucket whose upper edge is above it and within
 * a quarter of an octave; the buckets grow monotonically. */
static void test_buckets(void **state)
{
    (void)state;
    assert_int_equal(live_bucket_of(0), 0);
    assert_int_equal(live_bucket_of(63), 0);
    assert_int_equal(live_bucket_of(64), 1);
    assert_int_equal(live_bucket_high(0), 64);
    for (uint64_t us = 1; us < 100000000u; us = us * 3 / 2 + 1) {
        unsigned b = live_bucket_of(us);
        assert_true(b < LIVE_LAT_BUCKETS);
        if (b < LIVE_LAT_BUCKETS - 1) {
            assert_true(live_bucket_high(b) > us);
            assert_true(live_bucket_high(b) <= us + us / 4 + 64);
        }
        assert_true(live_bucket_of(us + 1) >= b);
    }
    /* past the last edge: the last bucket */
    assert_int_equal(live_bucket_of(UINT64_C(1) << 40), LIVE_LAT_BUCKETS - 1);
}

/* The p99 of a window: 99 fast answers and one slow one give the fast
 * bucket's edge; 98 and two slow, the slow one's; none, 0. */
static void test_p99(void **state)
{
    uint64_t w[LIVE_LAT_BUCKETS] = { 0 };
    unsigned fast = live_bucket_of(1000), slow = live_bucket_of(500000);

    (void)state;
    assert_int_equal(live_p99_us(w), 0);
    w[fast] = 99;
    w[slow] = 1;
    assert_int_equal(live_p99_us(w), live_bucket_high(fast));
    w[fast] = 98;
    w[slow] = 2;
    assert_int_equal(live_p99_us(w), live_bucket_high(slow));
}

/* One cell per seat up to LIVE_MAX_CELLS; blocks of seats past it. */
static void test_cells(void **state)
{
    long long cells, per;

    (void)state;
    live_cells(100, &cells, &per);
    assert_int_equal(cells, 100);
    assert_int_equal(per, 1);
    live_cells(LIVE_MAX_CELLS, &cells, &per);
    assert_int_equal(cells, LIVE_MAX_CELLS);
    assert_int_equal(per, 1);
    live_cells(100000, &cells, &per);
    assert_int_equal(per, 20);
    assert_int_equal(cells, 5000);
    live_cells(0, &cells, &per);
    assert_int_equal(cells, 0);
}

/* By the counter value read: seat s is the one a booking takes when it
 * reads SEATS - s; two bookings that read 10 of 10 both took seat 0. By
 * the tickets: the first N seats, once each. */
static void test_cell_hits(void **state)
{
    unsigned seat_hits[11] = { 0 }, hits[10];

    (void)state;
    seat_hits[10] = 2;   /* two read 10: seat 0, twice */
    seat_hits[9] = 1;    /* one read 9: seat 1 */
    seat_hits[1] = 3;    /* three read 1: the last seat */
    live_cell_hits(seat_hits, 11, true, 0, 10, hits, 10);
    assert_int_equal(hits[0], 2);
    assert_int_equal(hits[1], 1);
    assert_int_equal(hits[2], 0);
    assert_int_equal(hits[9], 3);
    live_cell_hits(seat_hits, 11, false, 4, 10, hits, 10);
    assert_int_equal(hits[0], 1);
    assert_int_equal(hits[3], 1);
    assert_int_equal(hits[4], 0);
    /* more tickets than seats: every seat once (the rest is drawn past the grid) */
    live_cell_hits(seat_hits, 11, false, 40, 10, hits, 10);
    assert_int_equal(hits[9], 1);
}

/* --live takes loopback only: 127.x and localhost; anything else, and its
 * companion options without it, are refused with a reason. */
static void test_address(void **state)
{
    struct attack_args a;
    char err[256];
    char *ok[] = { "attack", "--live", "127.0.0.1:18088", "--live-linger", "5" };
    char *local[] = { "attack", "--live", "localhost:18088" };
    char *open_all[] = { "attack", "--live", "0.0.0.0:18088" };
    char *lan[] = { "attack", "--live", "192.168.1.5:18088" };
    char *alone[] = { "attack", "--live-linger", "5" };
    char *no_port[] = { "attack", "--live", "127.0.0.1" };

    (void)state;
    assert_int_equal(args_parse(&a, 5, ok, "127.0.0.1:18080", err, sizeof err), 0);
    assert_true(a.live.on);
    assert_int_equal(a.live.port, 18088);
    assert_int_equal(a.live.linger_s, 5);
    assert_int_equal(args_parse(&a, 3, local, "127.0.0.1:18080", err, sizeof err), 0);
    assert_string_equal(a.live.host, "127.0.0.1");
    assert_int_equal(a.live.linger_s, -1);   /* default: until a signal */
    assert_int_equal(args_parse(&a, 3, open_all, "127.0.0.1:18080", err, sizeof err), -1);
    assert_non_null(strstr(err, "loopback"));
    assert_int_equal(args_parse(&a, 3, lan, "127.0.0.1:18080", err, sizeof err), -1);
    assert_non_null(strstr(err, "loopback"));
    assert_int_equal(args_parse(&a, 3, alone, "127.0.0.1:18080", err, sizeof err), -1);
    assert_non_null(strstr(err, "--live HOST:PORT"));
    assert_int_equal(args_parse(&a, 3, no_port, "127.0.0.1:18080", err, sizeof err), -1);
    /* no --live: nothing served */
    assert_int_equal(args_parse(&a, 1, ok, "127.0.0.1:18080", err, sizeof err), 0);
    assert_false(a.live.on);
}

/* A 201 that says what it read names its seat; one that does not, none. */
static void test_counter_read(void **state)
{
    const char *with = "{\"status\":\"booked\",\"ticketId\":7,\"counterRead\":67,\"counterWrote\":66}";
    const char *without = "{\"status\":\"booked\",\"ticketId\":7}";
    long long v = 0;

    (void)state;
    assert_true(client_counter_read(with, strlen(with), &v));
    assert_int_equal(v, 67);
    assert_false(client_counter_read(without, strlen(without), &v));
}

/* A peer that never reads: the pushes never block, the bytes pile up in
 * the buffer once the kernel's are full, and the push that finds more
 * than the bound unread says the stream must be dropped. A forced push
 * (a new stream's first state) is kept whatever the bound. */
static void test_slow_stream(void **state)
{
    int sv[2], small = 4096, rc = 0;
    struct live_stream_buf b = { .bound = 8192 };
    char event[300];
    struct timespec t0, t1;
    long pushes = 0;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    memset(event, 'x', sizeof event);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (rc == 0 && pushes < 100000) {
        rc = live_stream_push(&b, sv[0], event, sizeof event, false);
        pushes++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(rc, -1);                    /* dropped, not blocked */
    assert_true(b.len - b.off > b.bound);
    assert_true(pushes < 100000);
    assert_true(t1.tv_sec - t0.tv_sec < 5);      /* no push waited for the peer */
    /* forced: kept however much is unread */
    assert_int_equal(live_stream_push(&b, sv[0], event, sizeof event, true), 0);
    /* the peer reads: what is pending goes out */
    {
        char sink[65536];
        size_t before = b.len - b.off;
        ssize_t got = read(sv[1], sink, sizeof sink);
        assert_true(got > 0);
        assert_int_equal(live_stream_flush(&b, sv[0]), 0);
        assert_true(b.len - b.off < before);
    }
    live_stream_free(&b);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_p99),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_cell_hits),
        cmocka_unit_test(test_address),
        cmocka_unit_test(test_counter_read),
        cmocka_unit_test(test_slow_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
