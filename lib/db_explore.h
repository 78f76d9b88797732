/* db_explore.h -- the statement the interleaving explorer (tools/explore)
 * and the replay (tools/replay) need beside db.h's: a session's isolation
 * level. Through db.c's db_exec, like every statement of the lab. */
#ifndef LAB_DB_EXPLORE_H
#define LAB_DB_EXPLORE_H

#include <libpq-fe.h>
#include "lab.h"

/* The isolation levels a session's transactions can run at. */
enum db_isolation { DB_READ_COMMITTED, DB_REPEATABLE_READ, DB_SERIALIZABLE };

/* db_set_isolation makes LEVEL the level of every later transaction of the
 * connection, an explicit one (BEGIN) and the one each statement outside a
 * BEGIN runs in (SET SESSION CHARACTERISTICS). */
enum lab_status db_set_isolation(PGconn *db, enum db_isolation level);

#endif
