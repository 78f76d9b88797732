/* test_queue_codec.c -- the Kafka message format: queue_encode() and
 * queue_decode() are pure, so they are tested without a broker.
 *
 * The decoder's input comes from the network and is not NUL-terminated; the
 * tests that matter most hand it a heap buffer of exactly LEN bytes, so that
 * AddressSanitizer stops the run on any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clients/queue.h"

/*-----------------------------------------------------------------------------
 * Helpers
 *----------------------------------------------------------------------------*/

/* decode_exact copies the LEN bytes of TEXT into a heap block of exactly LEN
 * bytes (no NUL after them) and decodes that. */
static bool decode_exact(const char *text, size_t len, struct booking *b)
{
    char *copy = malloc(len ? len : 1);
    bool ok;

    assert_non_null(copy);
    memcpy(copy, text, len);
    ok = queue_decode(copy, len, b);
    free(copy);
    return ok;
}

/* decode_str decodes a C string, without its NUL, from an exact-size copy. */
static bool decode_str(const char *text)
{
    struct booking b;
    return decode_exact(text, strlen(text), &b);
}

/* booking_of builds a booking, its request id NUL-padded like a real one. */
static struct booking booking_of(long long event_id, long long user_id, const char *request_id)
{
    struct booking b;

    memset(&b, 0, sizeof b);
    b.event_id = event_id;
    b.user_id = user_id;
    snprintf(b.request_id, sizeof b.request_id, "%s", request_id);
    return b;
}

/*-----------------------------------------------------------------------------
 * Encoding
 *----------------------------------------------------------------------------*/

/* The format is the one the architecture page documents, byte for byte. */
static void test_encode_format(void **state)
{
    struct booking b = booking_of(1, 42, "abc");
    char buf[256];
    int n;

    (void)state;
    n = queue_encode(&b, buf, sizeof buf);
    assert_string_equal(buf, "{\"eventId\":1,\"userId\":42,\"requestId\":\"abc\"}");
    assert_int_equal(n, (int)strlen(buf));
}

/* Round trips, including the extremes: the largest id and the longest
 * request id made of every allowed character class. */
static void test_round_trip(void **state)
{
    const struct booking cases[] = {
        booking_of(1, 1, "a"),
        booking_of(1, 42, "abc"),
        booking_of(PARSE_ID_MAX, PARSE_ID_MAX,
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        booking_of(123456789, 987654321, "req_1-x"),
    };
    char buf[256];
    struct booking out;
    size_t i;
    int n;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n = queue_encode(&cases[i], buf, sizeof buf);
        assert_true(n > 0);
        memset(&out, 0x5a, sizeof out);
        assert_true(decode_exact(buf, (size_t)n, &out));
        assert_int_equal(out.event_id, cases[i].event_id);
        assert_int_equal(out.user_id, cases[i].user_id);
        assert_string_equal(out.request_id, cases[i].request_id);
    }
}

/* An invalid booking is never put on the wire, and a buffer that is too
 * small is refused rather than truncated. */
static void test_encode_refuses(void **state)
{
    struct booking b;
    char buf[256];

    (void)state;
    b = booking_of(0, 1, "a");
    assert_int_equal(queue_encode(&b, buf, sizeof buf), -1);
    b = booking_of(1, -1, "a");
    assert_int_equal(queue_encode(&b, buf, sizeof buf), -1);
    b = booking_of(PARSE_ID_MAX + 1, 1, "a");
    assert_int_equal(queue_encode(&b, buf, sizeof buf), -1);
    b = booking_of(1, 1, "");
    assert_int_equal(queue_encode(&b, buf, sizeof buf), -1);
    b = booking_of(1, 1, "a\"b");
    assert_int_equal(queue_encode(&b, buf, sizeof buf), -1);
    b = booking_of(1, 1, "abc");
    assert_int_equal(queue_encode(&b, buf, 10), -1);
    /* exactly long enough: the text and its NUL */
    assert_int_equal(queue_encode(&b, buf, strlen("{\"eventId\":1,\"userId\":1,\"requestId\":\"abc\"}") + 1),
                     (int)strlen("{\"eventId\":1,\"userId\":1,\"requestId\":\"abc\"}"));
}

/*-----------------------------------------------------------------------------
 * Decoding
 *----------------------------------------------------------------------------*/

/* What a strict reader may still accept: blanks between tokens, members in
 * another order. */
static void test_decode_accepts(void **state)
{
    struct booking b;
    const char *text = " {\n \"requestId\" : \"r-1\" ,\t\"userId\":7, \"eventId\" :3 }\r\n";

    (void)state;
    assert_true(decode_exact(text, strlen(text), &b));
    assert_int_equal(b.event_id, 3);
    assert_int_equal(b.user_id, 7);
    assert_string_equal(b.request_id, "r-1");
}

/* Malformed payloads, one defect each. */
static void test_decode_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "   ",
        "null",
        "[]",
        "{}",
        "{\"eventId\":1,\"userId\":42}",                                        /* missing */
        "{\"eventId\":1,\"requestId\":\"abc\"}",                                /* missing */
        "{\"userId\":42,\"requestId\":\"abc\"}",                                /* missing */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"abc\",\"x\":1}",          /* unknown */
        "{\"eventId\":1,\"eventId\":2,\"userId\":42,\"requestId\":\"abc\"}",    /* repeated */
        "{\"eventId\":0,\"userId\":42,\"requestId\":\"abc\"}",                  /* id 0 */
        "{\"eventId\":-1,\"userId\":42,\"requestId\":\"abc\"}",                 /* negative */
        "{\"eventId\":+1,\"userId\":42,\"requestId\":\"abc\"}",                 /* sign */
        "{\"eventId\":01,\"userId\":42,\"requestId\":\"abc\"}",                 /* leading 0 */
        "{\"eventId\":1.5,\"userId\":42,\"requestId\":\"abc\"}",                /* fraction */
        "{\"eventId\":1e3,\"userId\":42,\"requestId\":\"abc\"}",                /* exponent */
        "{\"eventId\":\"1\",\"userId\":42,\"requestId\":\"abc\"}",              /* quoted */
        "{\"eventId\":9007199254740993,\"userId\":42,\"requestId\":\"abc\"}",   /* 2^53 + 1 */
        "{\"eventId\":99999999999999999999999,\"userId\":42,\"requestId\":\"abc\"}",
        "{\"eventId\":1,\"userId\":,\"requestId\":\"abc\"}",                    /* no value */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"\"}",                     /* empty */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"a b\"}",                  /* blank */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"a\\\"b\"}",               /* escape */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"\xc3\xa9t\xc3\xa9\"}",    /* UTF-8 */
        "{\"eventId\":1,\"userId\":42,\"requestId\":42}",                       /* number */
        "{\"eventId\":1,\"userId\":42,\"requestId\":"
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", /* 65 chars */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"abc\"}x",                 /* trailing */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"abc\"}{}",                /* two objects */
        "{\"eventId\":1,\"userId\":42,\"requestId\":\"abc\",}",                 /* comma */
        "{\"eventId\" 1,\"userId\":42,\"requestId\":\"abc\"}",                  /* no colon */
        "{\"eventId\":1 \"userId\":42,\"requestId\":\"abc\"}",                  /* no comma */
        "{eventId:1,userId:42,requestId:\"abc\"}",                              /* bare keys */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (decode_str(bad[i]))
            fail_msg("accepted malformed payload #%zu: %s", i, bad[i]);
}

/* A NUL inside the payload is a byte like any other, and refused. */
static void test_decode_rejects_nul(void **state)
{
    static const char text[] = "{\"eventId\":1,\"userId\":42,\"requestId\":\"ab\0c\"}";
    struct booking b;

    (void)state;
    assert_false(decode_exact(text, sizeof text - 1, &b));
}

/* Every proper prefix of a valid message is a truncated message: all are
 * refused, each from a block of exactly its length (ASan checks the reads). */
static void test_decode_truncated(void **state)
{
    const char *text = "{\"eventId\":12,\"userId\":42,\"requestId\":\"abc\"}";
    size_t len = strlen(text), i;
    struct booking b;

    (void)state;
    assert_true(decode_exact(text, len, &b));
    for (i = 0; i < len; i++)
        if (decode_exact(text, i, &b))
            fail_msg("accepted a prefix of %zu bytes", i);
}

/* The decoder honours LEN, not a NUL: a valid message followed by garbage
 * decodes when LEN stops before the garbage, and a message whose closing
 * brace lies just past LEN does not decode. */
static void test_decode_honours_len(void **state)
{
    const char *text = "{\"eventId\":5,\"userId\":6,\"requestId\":\"xyz\"}GARBAGE";
    size_t valid = strlen(text) - strlen("GARBAGE");
    struct booking b;

    (void)state;
    assert_true(queue_decode(text, valid, &b));
    assert_int_equal(b.event_id, 5);
    assert_int_equal(b.user_id, 6);
    assert_string_equal(b.request_id, "xyz");
    assert_false(queue_decode(text, valid - 1, &b));
    assert_false(queue_decode(text, strlen(text), &b));
}

/* A refused payload leaves the caller's booking as it was. */
static void test_decode_failure_leaves_booking(void **state)
{
    struct booking b = booking_of(9, 9, "keep");

    (void)state;
    assert_false(decode_str("{\"eventId\":1,\"userId\":2,\"requestId\":\"a b\"}"));
    assert_false(queue_decode("{\"eventId\":1,\"userId\":2}",
                              strlen("{\"eventId\":1,\"userId\":2}"), &b));
    assert_int_equal(b.event_id, 9);
    assert_int_equal(b.user_id, 9);
    assert_string_equal(b.request_id, "keep");
}

/* main runs every test; cmocka's exit status is the number that failed. */
/* The sale's generation travels with a message (issue 14): written when
 * known, read back; a message without it (from before) decodes as 0; a
 * repeated or zero generation is refused. */
static void test_generation_member(void **state)
{
    struct booking b = { .event_id = 1, .user_id = 42, .request_id = "abc", .generation = 7 };
    struct booking out;
    char buf[256];
    const char *old = "{\"eventId\":1,\"userId\":2,\"requestId\":\"x\"}";

    (void)state;
    assert_true(queue_encode(&b, buf, sizeof buf) > 0);
    assert_string_equal(buf, "{\"eventId\":1,\"userId\":42,\"requestId\":\"abc\",\"generation\":7}");
    assert_true(decode_exact(buf, strlen(buf), &out));
    assert_int_equal(out.generation, 7);
    assert_true(decode_exact(old, strlen(old), &out));
    assert_int_equal(out.generation, 0);
    assert_false(decode_str("{\"eventId\":1,\"userId\":2,\"requestId\":\"x\",\"generation\":0}"));
    assert_false(decode_str("{\"eventId\":1,\"userId\":2,\"requestId\":\"x\",\"generation\":3,"
                            "\"generation\":4}"));
    assert_false(decode_str("{\"eventId\":1,\"generation\":3}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_decode_accepts),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_decode_rejects_nul),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_decode_honours_len),
        cmocka_unit_test(test_decode_failure_leaves_booking),
        cmocka_unit_test(test_generation_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
