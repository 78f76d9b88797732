/* db_explore.h -- the statements the interleaving explorer (tools/explore)
 * and the replay (tools/replay) need beside db.h's: a session's isolation
 * level, and the zoo's check-then-insert booking (a user's tickets counted
 * by a SELECT of their own, the ticket inserted without the limit rule).
 * Through db.c's db_exec, like every statement of the lab. */
#ifndef LAB_DB_EXPLORE_H
#define LAB_DB_EXPLORE_H

#include <libpq-fe.h>
#include "lab.h"
#include "booking.h"

/* The isolation levels a session's transactions can run at. */
enum db_isolation { DB_READ_COMMITTED, DB_REPEATABLE_READ, DB_SERIALIZABLE };

/* db_set_isolation makes LEVEL the level of every later transaction of the
 * connection, an explicit one (BEGIN) and the one each statement outside a
 * BEGIN runs in (SET SESSION CHARACTERISTICS). */
enum lab_status db_set_isolation(PGconn *db, enum db_isolation level);

/* db_count_user_tickets: how many tickets of EVENT_ID user USER_ID holds
 * (*COUNT) and the event's per-user limit (*LIMIT), read in one statement
 * with no lock. LAB_NOT_FOUND when there is no such event. */
enum lab_status db_count_user_tickets(PGconn *db, long long event_id, long long user_id,
                                      long long *count, long long *limit);

/* db_insert_ticket_unchecked writes B's ticket like db_insert_ticket, with
 * the generation's fence but without the per-user limit: the caller checked
 * the limit itself, beforehand. LAB_STALE, LAB_NOT_FOUND, LAB_DUPLICATE as
 * db_insert_ticket. */
enum lab_status db_insert_ticket_unchecked(PGconn *db, const struct booking *b,
                                           long long *ticket_id);

#endif
