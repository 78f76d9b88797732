/* db_exec.h -- db.c's plumbing, for the files of lib/ that add statements
 * (db_strategy.c) without growing db.c. Not for the services or the harness:
 * they call the named statements of db.h. */
#ifndef LAB_DB_EXEC_H
#define LAB_DB_EXEC_H

#include <libpq-fe.h>
#include "lab.h"

/* The parameters of a statement are passed as text. */
struct db_num { char s[24]; };

/* db_num formats V into N and returns its text. */
const char *db_num(struct db_num *n, long long v);

/* db_value reads a bigint from row 0, column COL of R. */
long long db_value(const PGresult *r, int col);

/* db_row_value reads a bigint from ROW, COL of R (0 for NULL). */
long long db_row_value(const PGresult *r, int row, int col);

/* db_exec runs SQL through PQexecParams; see db.c. */
enum lab_status db_exec(PGconn *db, const char *sql, int n, const char *const *params,
                        ExecStatusType want, PGresult **res);

/* db_exec_named runs SQL as the prepared statement NAME (prepared on the
 * connection when it is missing); see db.c. */
enum lab_status db_exec_named(PGconn *db, const char *name, const char *sql, int n,
                              const char *const *params, ExecStatusType want, PGresult **res);

/* db_event_numbers runs SQL, a SELECT of N bigint columns of the events
 * row whose id is $1 (EVENT_ID), and reads them into OUT[0..N-1]:
 * LAB_NOT_FOUND when there is no such row. */
enum lab_status db_event_numbers(PGconn *db, const char *sql, long long event_id,
                                 long long *out, int n);

#endif
