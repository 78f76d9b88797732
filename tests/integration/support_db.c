/* support_db.c -- see support_db.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support_db.h"

#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "lab.h"

struct svc current, second;
pid_t current_worker;

int stop_current(void **state)
{
    int rc = 0;

    (void)state;
    if (current_worker > 0 && proc_stop(current_worker) != 0)
        rc = -1;
    current_worker = 0;
    if (current.pid > 0 && svc_stop(&current) != 0)
        rc = -1;
    if (second.pid > 0 && svc_stop(&second) != 0)
        rc = -1;
    memset(&current, 0, sizeof current);
    memset(&second, 0, sizeof second);
    return rc;
}

PGconn *test_db(void)
{
    char err[256];
    PGconn *db = db_connect(lab_env("LAB_PG", LAB_PG_DEFAULT), err, sizeof err);

    if (!db)
        fail_msg("PostgreSQL: %s", err);
    return db;
}

long long sql_ll(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    long long v;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(db));
    v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

void wait_sql(PGconn *db, const char *sql, long long want)
{
    long long v = -1;

    for (int i = 0; i < 600 && (v = sql_ll(db, sql)) != want; i++)
        lab_sleep_ms(50);
    if (v != want)
        fail_msg("%s gave %lld, expected %lld", sql, v, want);
}
