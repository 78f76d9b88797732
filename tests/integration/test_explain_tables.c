/* test_explain_tables.c -- the explanation of a BUG verdict against the database:
 * phase 2 oversells, the harness names the collisions, and what it names
 * must be what the tables hold.
 *
 *   the groups' bookings    = the run's ticket rows, request id by request id
 *   distinct values read    = the decrements that landed: total - available
 *   lost decrements         = tickets - (total - available)
 *   the final counter       = the lowest value written (phase 2)
 *
 * The race is made reliable, not hoped for: the harness opens every
 * connection before releasing them together, and each booking thinks
 * 200 ms between its read and its write, so that the 16 booking threads'
 * windows overlap in waves: every booking of a wave reads the value the
 * wave before wrote, and writes the same value back. With the local mutex
 * on two instances the two processes run in step the same way: each pair
 * that read one value ran on the two instances, named by the ids they make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lab.h"
#include "parse.h"
#include "support.h"
#include "support_db.h"

#define MAX_BOOKINGS 1000

/* What the explanation file says, read back. */
struct explained {
    char *text;                      /* the whole file */
    long long groups, booked_in_groups, lowest_wrote, lost, distinct, cross;
    int instances_max;               /* the most instances one group ran on */
    char *ids[MAX_BOOKINGS];         /* the groups' request ids */
    size_t n_ids;
    char servers[2][32];             /* the instances seen, the first two */
    int n_servers;
};

/* read_file returns PATH's contents (free it), failing the test without. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long len;

    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

/* string_at copies the JSON string value that starts after P (at its
 * opening quote's next character) into OUT. */
static void string_at(const char *p, char *out, size_t len)
{
    const char *end = strchr(p, '"');

    assert_non_null(end);
    assert_true((size_t)(end - p) < len);
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
}

/* explained_read reads the file the summary names: each group's figures,
 * every request id and server of the groups' bookings. */
static void explained_read(const char *summary, struct explained *x)
{
    char path[256];
    const char *p = strstr(summary, "\"explain\":{\"known\":true,");
    const char *groups, *end;

    memset(x, 0, sizeof *x);
    x->lowest_wrote = -1;
    if (!p || !(p = strstr(p, "\"file\":\"")))
        fail_msg("no explanation in %s", summary);
    string_at(p + 8, path, sizeof path);
    x->text = read_file(path);
    assert_true(json_ll(x->text, "lostDecrements", &x->lost));
    assert_true(json_ll(x->text, "distinctValues", &x->distinct));
    assert_true(json_ll(x->text, "crossInstance", &x->cross));
    groups = strstr(x->text, "\"groups\":[");
    end = strstr(x->text, "\"duplicateUsers\":[");
    assert_non_null(groups);
    assert_non_null(end);
    for (p = strstr(groups, "{\"read\":"); p && p < end; p = strstr(p + 1, "{\"read\":")) {
        long long read, count, wrote_min, wrote_max;
        int instances;

        assert_int_equal(sscanf(p, "{\"read\":%lld,\"count\":%lld,\"wroteMin\":%lld,"
                                   "\"wroteMax\":%lld,\"instances\":%d",
                                &read, &count, &wrote_min, &wrote_max, &instances), 5);
        assert_int_equal(wrote_min, read - 1);     /* phase 2 writes what it read, minus one */
        assert_int_equal(wrote_max, read - 1);
        x->groups++;
        x->booked_in_groups += count;
        if (x->lowest_wrote < 0 || wrote_min < x->lowest_wrote)
            x->lowest_wrote = wrote_min;
        if (instances > x->instances_max)
            x->instances_max = instances;
    }
    for (p = strstr(groups, "\"requestId\":\""); p && p < end;
         p = strstr(p + 1, "\"requestId\":\"")) {
        char id[PARSE_REQUEST_ID_MAX + 1], server[32];
        const char *s = strstr(p, "\"server\":\"");

        assert_true(x->n_ids < MAX_BOOKINGS);
        string_at(p + 13, id, sizeof id);
        x->ids[x->n_ids++] = strdup(id);
        assert_non_null(s);
        string_at(s + 10, server, sizeof server);
        if (x->n_servers < 2 && (x->n_servers == 0 || strcmp(x->servers[0], server) != 0))
            snprintf(x->servers[x->n_servers++], sizeof x->servers[0], "%s", server);
    }
}

static void explained_free(struct explained *x)
{
    for (size_t i = 0; i < x->n_ids; i++)
        free(x->ids[i]);
    free(x->text);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* agree_with_tables holds the explanation X to event 1's rows: the run's
 * ticket rows are the groups' bookings, one for one; the values read are the
 * decrements that landed; the rest were lost. */
static void agree_with_tables(PGconn *db, struct explained *x, long long *tickets_out,
                              long long *available_out)
{
    const char *sql = "SELECT t.request_id FROM tickets t JOIN events e ON e.id = t.event_id "
                      "WHERE t.event_id = $1::bigint AND t.generation = e.generation "
                      "ORDER BY t.request_id";
    const char *params[1] = { "1" };
    PGresult *r = PQexecParams(db, sql, 1, NULL, params, NULL, NULL, 0);
    long long total = sql_ll(db, "SELECT total_seats FROM events WHERE id = 1");
    long long available = sql_ll(db, "SELECT available_seats FROM events WHERE id = 1");
    long long tickets;

    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(db));
    tickets = PQntuples(r);
    print_message("tickets %lld, total %lld, available %lld; groups %lld holding %lld bookings, "
                  "lowest written %lld, lost %lld\n", tickets, total, available, x->groups,
                  x->booked_in_groups, x->lowest_wrote, x->lost);
    assert_true(x->lost > 0);                          /* the race happened */
    assert_int_equal(x->booked_in_groups, tickets);
    assert_int_equal((long long)x->n_ids, tickets);
    qsort(x->ids, x->n_ids, sizeof x->ids[0], by_string);
    for (long long i = 0; i < tickets; i++)           /* both sorted: one for one */
        assert_string_equal(x->ids[i], PQgetvalue(r, (int)i, 0));
    PQclear(r);
    assert_int_equal(x->groups, total - available);
    assert_int_equal(x->distinct, total - available);
    assert_int_equal(x->lost, tickets - (total - available));
    *tickets_out = tickets;
    *available_out = available;
}

/* One instance: 100 users on 50 seats. */
static void phase2_collisions_are_the_tickets(void **state)
{
    static const char *const args[] = { "--think-ms", "200", "--threads", "16", NULL };
    static char json[16384];
    struct explained x;
    PGconn *db = test_db();
    long long tickets, available, lost;

    (void)state;
    assert_true(svc_start(&current, 2, args));
    assert_int_equal(run_attack(&current, "--users 100 --seats 50", json, sizeof json), 0);
    assert_true(json_has(json, "verdict", "BUG"));
    explained_read(json, &x);
    agree_with_tables(db, &x, &tickets, &available);
    assert_int_equal(available, x.lowest_wrote);       /* phase 2: the last write was the lowest */
    assert_true(tickets > 50);                         /* oversold */
    assert_int_equal(x.cross, 0);                      /* one instance */
    assert_int_equal(x.n_servers, 1);
    assert_true(json_ll(json, "lostDecrements", &lost));
    assert_int_equal(lost, x.lost);
    assert_non_null(strstr(json, " decrements lost: 100 bookings read only "));
    explained_free(&x);
    PQfinish(db);
}

/* server_id_of asks S for a booking of USER without a request id: the id
 * it makes is "srv-" and its instance's 16 hex digits, then "-N". */
static void server_id_of(const struct svc *s, int user, char *out, size_t len)
{
    char body[1024], target[96], rid[PARSE_REQUEST_ID_MAX + 1];
    const char *p;

    snprintf(target, sizeof target, "/api/bookings?eventId=1&userId=%d", user);
    assert_int_equal(http_call(s->addr, "POST", target, NULL, NULL, body, sizeof body, 5000),
                     201);
    p = strstr(body, "\"requestId\":\"");
    assert_non_null(p);
    string_at(p + 13, rid, sizeof rid);
    assert_true(strlen(rid) > 20 && rid[20] == '-');
    rid[20] = '\0';
    snprintf(out, len, "%s", rid);
    assert_non_null(strstr(body, "\"server\":\""));
    assert_non_null(strstr(body, rid));
}

/* Two instances of the local mutex: every collision is a pair on the two
 * instances, and the servers named are the two processes. */
static void local_mutex_collides_across_instances(void **state)
{
    static const char *const args[] = { "--strategy", "local-mutex", "--think-ms", "200", NULL };
    static char json[16384];
    char host[64], addr2[96], cmd[256], id_a[32], id_b[32];
    struct explained x;
    PGconn *db = test_db();
    long long tickets, available;
    int port;

    (void)state;
    assert_true(parse_host_port(lab_env("LAB_TEST_HTTP", "127.0.0.1:18181"), host,
                                (int)sizeof host, &port));
    snprintf(addr2, sizeof addr2, "%s:%d", host, port + 1);
    assert_true(svc_launch(&current, 2, NULL, args));
    assert_true(svc_launch(&second, 2, addr2, args));
    assert_true(svc_ready(&current) && svc_ready(&second));
    snprintf(cmd, sizeof cmd, "--url http://%s,http://%s --users 16 --seats 50", current.addr,
             second.addr);
    assert_int_equal(run_attack(&current, cmd, json, sizeof json), 0);
    assert_true(json_has(json, "verdict", "BUG"));
    explained_read(json, &x);
    agree_with_tables(db, &x, &tickets, &available);
    assert_int_equal(x.instances_max, 2);
    assert_true(x.cross > 0);
    assert_int_equal(x.n_servers, 2);
    assert_non_null(strstr(json, "ran on two instances: "));
    assert_non_null(strstr(json, "each instance's mutex knows only its own threads"));
    server_id_of(&current, 999998, id_a, sizeof id_a);
    server_id_of(&second, 999999, id_b, sizeof id_b);
    assert_true((strcmp(x.servers[0], id_a) == 0 && strcmp(x.servers[1], id_b) == 0) ||
                (strcmp(x.servers[0], id_b) == 0 && strcmp(x.servers[1], id_a) == 0));
    explained_free(&x);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(phase2_collisions_are_the_tickets, stop_current),
        cmocka_unit_test_teardown(local_mutex_collides_across_instances, stop_current),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
