/* support_db.h -- what the tests of a sale's integrity share: the test's
 * own PostgreSQL connection and the queries that poll it, and the service
 * (and worker) of the running test, stopped by the teardown. Built on
 * cmocka: a failure fails the test. */
#ifndef LAB_TEST_SUPPORT_DB_H
#define LAB_TEST_SUPPORT_DB_H

#include <libpq-fe.h>
#include <sys/types.h>
#include "support.h"

/* The service (a second one, when a test runs two) and the worker of the
 * running test; stop_current (a cmocka teardown) stops them all, even when
 * an assertion failed half-way, so that the next test's ports are free. */
extern struct svc current, second;
extern pid_t current_worker;
int stop_current(void **state);

/* test_db connects to the lab's PostgreSQL, or fails the test. */
PGconn *test_db(void);

/* sql_ll runs SQL (the tests' own constants, no parameters) and returns row
 * 0, column 0 as a number. */
long long sql_ll(PGconn *db, const char *sql);

/* wait_sql polls SQL until it gives WANT, for at most 30 s (a bound, not a
 * synchronisation: each poll reads the state it waits for). */
void wait_sql(PGconn *db, const char *sql, long long want);

#endif
