/* replay_strategy.c -- the strategies' table and the isolation levels'
 * names (see replay_strategy.h). */
#include "replay_strategy.h"

#include <stdio.h>
#include <string.h>

const struct replay_strategy replay_strategies[] = {
    { REPLAY_UNSAFE, "unsafe", 2, "no lock, no transaction",
      3, { REPLAY_READ, REPLAY_WRITE, REPLAY_INSERT }, false, false },
    { REPLAY_LOCAL_MUTEX, "local-mutex", 2,
      "no transaction, one mutex of this process held from the read to the insert",
      3, { REPLAY_READ, REPLAY_WRITE, REPLAY_INSERT }, false, false },
    { REPLAY_FOR_UPDATE, "for-update", 3, "each booking a transaction, SELECT ... FOR UPDATE",
      4, { REPLAY_READ, REPLAY_WRITE, REPLAY_INSERT, REPLAY_COMMIT }, true, false },
    { REPLAY_ATOMIC, "atomic", 3,
      "a transaction: UPDATE ... WHERE available_seats > 0, then the ticket",
      3, { REPLAY_TAKE, REPLAY_INSERT, REPLAY_COMMIT }, true, false },
    { REPLAY_OPTIMISTIC, "optimistic", 3,
      "read with its version, then a transaction: compare-and-set, ticket; one attempt",
      4, { REPLAY_READ, REPLAY_WRITE, REPLAY_INSERT, REPLAY_COMMIT }, true, false },
    { REPLAY_SERIALIZABLE_TX, "serializable", 3,
      "phase 2's steps in one transaction, SERIALIZABLE unless --isolation says; one attempt",
      4, { REPLAY_READ, REPLAY_WRITE, REPLAY_INSERT, REPLAY_COMMIT }, true, false },
    { REPLAY_ADVISORY, "advisory", 3,
      "a transaction: pg_advisory_xact_lock(event), then phase 2's steps",
      5, { REPLAY_LOCK, REPLAY_READ, REPLAY_WRITE, REPLAY_INSERT, REPLAY_COMMIT }, true, false },
    { REPLAY_CHECK_THEN_INSERT, "check-then-insert", 3,
      "count the user's tickets, then phase 3's transaction, the insert without the limit; "
      "every session is user 1",
      5, { REPLAY_CHECK, REPLAY_READ, REPLAY_WRITE, REPLAY_INSERT, REPLAY_COMMIT }, true, true },
    { 0, NULL, 0, NULL, 0, { 0 }, false, false },
};

/* replay_strategy_find looks NAME up in the table (a handful of rows). */
const struct replay_strategy *replay_strategy_find(const char *name)
{
    for (const struct replay_strategy *st = replay_strategies; st->name; st++)
        if (strcmp(st->name, name) == 0)
            return st;
    return NULL;
}

/* replay_strategy_of_phase: what --phase alone means, as before --strategy. */
const struct replay_strategy *replay_strategy_of_phase(int phase)
{
    return replay_strategy_find(phase == 3 ? "for-update" : "unsafe");
}

/* replay_strategy_names lists the table for a refusal's message. */
void replay_strategy_names(char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (const struct replay_strategy *st = replay_strategies; st->name && used < len; st++) {
        int n = snprintf(buf + used, len - used, "%s%s", st == replay_strategies ? "" : ", ",
                         st->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* replay_strategy_position is what a plan's check compares: a session's
 * steps must come at positions 0, 1, 2... in turn. */
int replay_strategy_position(const struct replay_strategy *st, enum replay_action action)
{
    for (int i = 0; i < st->n_steps; i++)
        if (st->steps[i] == action)
            return i;
    if (action == REPLAY_COMMIT && !st->transaction)
        return st->n_steps;
    return -1;
}

/* The levels: long name, short name, PostgreSQL's words; index = enum. */
static const char *const iso_names[][3] = {
    [REPLAY_ISOLATION_DEFAULT] = { "default", "default", "the server's default" },
    [REPLAY_ISOLATION_READ_COMMITTED] = { "read-committed", "rc", "READ COMMITTED" },
    [REPLAY_ISOLATION_REPEATABLE_READ] = { "repeatable-read", "rr", "REPEATABLE READ" },
    [REPLAY_ISOLATION_SERIALIZABLE] = { "serializable", "ser", "SERIALIZABLE" },
};

/* replay_isolation_parse takes the long name (the command line's) or the
 * short one (an explored id's). */
bool replay_isolation_parse(const char *text, enum replay_isolation *out)
{
    for (int i = REPLAY_ISOLATION_READ_COMMITTED; i <= REPLAY_ISOLATION_SERIALIZABLE; i++) {
        if (strcmp(text, iso_names[i][0]) == 0 || strcmp(text, iso_names[i][1]) == 0) {
            *out = (enum replay_isolation)i;
            return true;
        }
    }
    return false;
}

/* replay_isolation_name: the command line's spelling. */
const char *replay_isolation_name(enum replay_isolation iso)
{
    return iso_names[iso][0];
}

/* replay_isolation_short: the explored id's spelling. */
const char *replay_isolation_short(enum replay_isolation iso)
{
    return iso_names[iso][1];
}

/* replay_isolation_sql: the timeline header's spelling, PostgreSQL's. */
const char *replay_isolation_sql(enum replay_isolation iso)
{
    return iso_names[iso][2];
}
