/* test_phase2.c -- phase 2 against the real services: the crash happens on
 * every run, bad input gets its 4xx and the service stays up, and the audit
 * endpoint agrees with a direct SQL count.
 *
 * The race is made reliable, not hoped for: the harness opens all 500
 * connections first and releases them together through a barrier, and the
 * service's think time (50 ms here) keeps every read-to-write window open
 * long enough for the 16 booking threads' windows to overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "support.h"

static struct svc service;

static int start_phase2(void **state)
{
    static const char *const args[] = { "--think-ms", "50", "--threads", "16", NULL };

    (void)state;
    return svc_start(&service, 2, args) ? 0 : -1;
}

static int stop_phase2(void **state)
{
    (void)state;
    /* a non-zero exit here is a sanitizer report or an unclean shutdown */
    return svc_stop(&service) == 0 ? 0 : -1;
}

/* The default burst oversells, and the counter drifts: lost updates. */
static void burst_oversells(void **state)
{
    char json[8192];
    long long oversold, phantom, booked, sold, errors;

    (void)state;
    for (int run = 0; run < 3; run++) {
        assert_int_equal(run_attack(&service, "--users 500 --seats 100", json, sizeof json), 0);
        assert_true(json_ll(json, "oversold", &oversold));
        assert_true(json_ll(json, "phantom", &phantom));
        assert_true(json_ll(json, "booked", &booked));
        assert_true(json_ll(json, "sold", &sold));
        assert_true(json_ll(json, "errors", &errors));
        print_message("run %d: booked %lld sold %lld oversold %lld phantom %lld\n", run, booked,
                      sold, oversold, phantom);
        assert_int_equal(errors, 0);
        assert_true(oversold > 0);
        assert_true(phantom > 0);
        assert_int_equal(booked, sold);       /* every 201 is a ticket row */
    }
}

/* Each bad request gets its status and a JSON reason; the service lives on. */
static void bad_input_is_refused(void **state)
{
    static char huge[6000];
    static const struct {
        const char *method, *target, *headers, *body;
        int status;
    } cases[] = {
        { "POST", "/api/bookings", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=abc&userId=1", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=-1&userId=1", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=0&userId=1", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=99999999999999999999", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=1x", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=a%20b", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=424242&userId=1", NULL, NULL, 404 },
        { "GET", "/api/bookings/status?eventId=", NULL, NULL, 400 },
        { "GET", "/api/bookings/audit", NULL, NULL, 400 },
        { "POST", "/api/admin/reset?eventId=1&seats=-5", NULL, NULL, 400 },
        { "GET", "/nowhere", NULL, NULL, 404 },
        { "GET", "/api/bookings?eventId=1&userId=1", NULL, NULL, 405 },
        { "DELETE", "/healthz", NULL, NULL, 405 },
        { "POST", "/api/bookings?eventId=1&userId=1", "Content-Length: 100000\r\n", NULL, 413 },
        { "POST", "/api/bookings?eventId=1&eventId=2&userId=1", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=1&a%22b=1&a%22b=2", NULL, NULL, 400 },
        /* issue 14: request identity, ambiguous framing, the reset's bounds */
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=zz%00cd", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=ok&note=a%01b", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=smuggle1",
          "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400 },
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=smuggle2",
          "Content-Length: 0\r\nContent-Length: 5\r\n", "hello", 400 },
        /* parameter names differ only in case: libmicrohttpd would read either */
        { "POST", "/api/bookings?EVENTID=2&eventId=1&userId=1&requestId=case1", NULL, NULL, 400 },
        /* whitespace before the colon: no Transfer-Encoding to libmicrohttpd */
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=smuggle3",
          "Content-Length: 0\r\nTransfer-Encoding : chunked\r\n", NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=te-gzip",
          "Transfer-Encoding: gzip\r\n", NULL, 501 },
        /* names compare exactly: EVENTID is not eventId, so eventId is missing */
        { "POST", "/api/bookings?EVENTID=1&userId=1&requestId=case2", NULL, NULL, 400 },
        { "POST", "/api/bookings?eventId=1&USERID=1&requestId=case3", NULL, NULL, 400 },
        /* a header name holding a character no name may hold (a vertical tab) */
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=smuggle4",
          "Content-Length: 0\r\nTransfer-Encoding\v: chunked\r\n", NULL, 400 },
        /* a header folded onto a second line (obs-fold): libmicrohttpd 0.9.75
         * glues it into a header named "Transfer-Encodingchunked" */
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=smuggle5",
          "Content-Length: 0\r\nTransfer-Encoding:\r\n chunked\r\n", NULL, 400 },
        { "POST", "/api/bookings?eventId=1&userId=1&requestId=fold2",
          "X-Note: a\r\n\tb\r\n", NULL, 400 },
        /* a header block over 8 KB (but within the connection's memory) */
        { "GET", "/healthz", "BIGHEADER", NULL, 431 },
        { "POST", "/api/admin/reset?eventId=2000000&seats=10", NULL, NULL, 400 },
        { "POST", "/api/admin/reset?eventId=1&seats=200000", NULL, NULL, 400 },
        { "POST", "/api/admin/reset?eventId=1&seats=10&perUser=0", NULL, NULL, 400 },
        { "GET", NULL, NULL, NULL, 414 },   /* the huge query string below */
        { "GET", "LONGPATH", NULL, NULL, 414 }, /* a 6 KB path, no query */
        { "GET", "MANY", NULL, NULL, 400 }, /* 1000 short parameters, below 4 KB */
    };
    static char big_header[12100];
    char target[7000], body[2048];

    (void)state;
    memset(huge, 'x', sizeof huge - 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].target, *headers = cases[i].headers;
        int status;

        if (!t) {
            snprintf(target, sizeof target, "/api/bookings/status?eventId=1&pad=%s", huge);
            t = target;
        } else if (strcmp(t, "LONGPATH") == 0) {
            snprintf(target, sizeof target, "/%s", huge);
            t = target;
        } else if (strcmp(t, "MANY") == 0) {
            size_t n = snprintf(target, sizeof target, "/api/bookings/status?eventId=1");
            for (int k = 0; k < 1000; k++)
                n += snprintf(target + n, sizeof target - n, "&a=b");
            t = target;
        }
        if (headers && strcmp(headers, "BIGHEADER") == 0) {
            size_t n = (size_t)snprintf(big_header, sizeof big_header, "X-Big: ");
            memset(big_header + n, 'x', 12000);
            memcpy(big_header + n + 12000, "\r\n", 3);
            headers = big_header;
        }
        status = http_call(service.addr, cases[i].method, t, headers, cases[i].body,
                           body, sizeof body, 5000);
        print_message("%s %.60s -> %d %s", cases[i].method, t, status, body);
        assert_int_equal(status, cases[i].status);
        assert_non_null(strstr(body, "\"reason\":"));
    }
    assert_int_equal(http_call(service.addr, "GET", "/healthz", NULL, NULL, body, sizeof body,
                               2000), 200);
    /* HEAD where GET is allowed: the status without the body */
    assert_int_equal(http_call(service.addr, "HEAD", "/healthz", NULL, NULL, body, sizeof body,
                               2000), 200);
    assert_string_equal(body, "");
}

/* What libmicrohttpd 0.9.75 answers itself, before our code runs, with its
 * own HTML page (docs/architecture.md lists these): each case is sent as
 * raw bytes, gets the status that list gives (-1: closed unanswered), and
 * the service answers the next request. A change in libmicrohttpd shows
 * here, so that the list stays true. */
static void libmicrohttpd_own_answers(void **state)
{
    static char long_uri[30100];
    static const struct {
        const char *what, *request;
        int status;
    } cases[] = {
        { "HTTP/2.0 request line", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
        { "HTTP/0.9 request line", "GET /healthz\r\nHost: x\r\n\r\n", 400 },
        { "a word after the version", "GET /healthz HTTP/1.1 x\r\nHost: x\r\n\r\n", 400 },
        { "a request line of one word", "GARBAGE\r\nHost: x\r\n\r\n", -1 },
        { "a header line with no colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
          400 },
        { "Content-Length not a number", "POST /api/bookings?eventId=1&userId=1 HTTP/1.1\r\n"
          "Host: x\r\nContent-Length: abc\r\n\r\n", 400 },
        { "Content-Length past 2^64", "POST /api/bookings?eventId=1&userId=1 HTTP/1.1\r\n"
          "Host: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413 },
        { "a chunk size that is not hex", "POST /api/bookings?eventId=1&userId=1 HTTP/1.1\r\n"
          "Host: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n", 400 },
        { "a request line over the connection's memory", NULL, 414 },
    };
    char body[2048];
    size_t n;

    (void)state;
    n = (size_t)snprintf(long_uri, sizeof long_uri, "GET /healthz?pad=");
    memset(long_uri + n, 'x', 30000);
    snprintf(long_uri + n + 30000, sizeof long_uri - n - 30000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *r = cases[i].request ? cases[i].request : long_uri;
        int status = http_raw(service.addr, r, strlen(r), NULL, 0, body, sizeof body, 5000);

        print_message("%s -> %d %.60s\n", cases[i].what, status, body);
        assert_int_equal(status, cases[i].status);
        assert_int_equal(http_call(service.addr, "GET", "/healthz", NULL, NULL, body,
                                   sizeof body, 2000), 200);
    }
}

/* The audit endpoint says what a direct SQL count says. */
static void audit_agrees_with_sql(void **state)
{
    char json[8192], body[2048], err[256];
    long long sold, available, oversold, phantom;
    PGconn *db;
    PGresult *r;

    (void)state;
    assert_int_equal(run_attack(&service, "--users 300 --seats 50", json, sizeof json), 0);
    assert_int_equal(http_call(service.addr, "GET", "/api/bookings/audit?eventId=1", NULL, NULL,
                               body, sizeof body, 5000), 200);
    db = db_connect(lab_env("LAB_PG", LAB_PG_DEFAULT), err, sizeof err);
    assert_non_null(db);
    r = PQexec(db, "SELECT (SELECT count(*) FROM tickets WHERE event_id = 1), "
                   "available_seats FROM events WHERE id = 1");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_true(json_ll(body, "sold", &sold));
    assert_true(json_ll(body, "available", &available));
    assert_true(json_ll(body, "oversold", &oversold));
    assert_true(json_ll(body, "phantom", &phantom));
    assert_int_equal(sold, atoll(PQgetvalue(r, 0, 0)));
    assert_int_equal(available, atoll(PQgetvalue(r, 0, 1)));
    assert_int_equal(oversold, sold > 50 ? sold - 50 : 0);
    assert_int_equal(phantom, available - (50 - sold));
    assert_true(json_has(body, "verdict", "BUG"));
    PQclear(r);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_oversells),
        cmocka_unit_test(bad_input_is_refused),
        cmocka_unit_test(libmicrohttpd_own_answers),
        cmocka_unit_test(audit_agrees_with_sql),
    };
    return cmocka_run_group_tests_name("phase2", tests, start_phase2, stop_phase2);
}
