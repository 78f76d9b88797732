/* db_explore.c -- the explorer's statement (db_explore.h), beside db.c's
 * and through its db_exec. */
#include "db_explore.h"
#include "db.h"
#include "db_exec.h"

/* db_set_isolation: the level is one of three fixed texts, never a
 * parameter (SET takes no bind parameters); the enum chooses the text. */
enum lab_status db_set_isolation(PGconn *db, enum db_isolation level)
{
    static const char *const sql[] = {
        [DB_READ_COMMITTED] =
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
        [DB_REPEATABLE_READ] =
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        [DB_SERIALIZABLE] =
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    };

    return db_exec(db, sql[level], 0, NULL, PGRES_COMMAND_OK, NULL);
}
