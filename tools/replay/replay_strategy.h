/* replay_strategy.h -- the bookings a replay can run, step by step, and the
 * isolation level their transactions run at. Pure data and pure functions:
 * the plan's checks (replay_plan.c), the sessions (replay_session.c) and
 * the explorer (tools/explore) read the same table.
 *
 * Each strategy is one of the lab's bookings cut at its statements, the
 * points where another session can come in: phase 2's read-think-write, its
 * in-process mutex, phase 3's FOR UPDATE and its other strategies, and the
 * zoo's check-then-insert. A step runs the same lib/ function the phase
 * calls (db_read_seats, db_take_seat, ...), BEGIN folded into the first
 * statement of a transaction (it takes no snapshot and no lock). */
#ifndef LAB_REPLAY_STRATEGY_H
#define LAB_REPLAY_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>

/* The steps a booking is made of; which ones, and in which order, is the
 * strategy's. The first four are phases 2 and 3's. */
enum replay_action {
    REPLAY_READ,      /* read the counter (and for optimistic its version) */
    REPLAY_WRITE,     /* write what was read minus one (optimistic: compare-and-set) */
    REPLAY_INSERT,    /* insert the ticket */
    REPLAY_COMMIT,    /* end the transaction */
    REPLAY_LOCK,      /* advisory: BEGIN and pg_advisory_xact_lock */
    REPLAY_TAKE,      /* the conditional decrement, UPDATE ... WHERE available_seats > 0 */
    REPLAY_CHECK,     /* check-then-insert: count the user's tickets, no transaction */
};
#define REPLAY_ACTIONS 7

/* A booking has at most this many steps, its commit included. */
#define REPLAY_MAX_ACTIONS 5

enum replay_kind {
    REPLAY_UNSAFE,            /* phase 2: read, write, insert; no transaction */
    REPLAY_LOCAL_MUTEX,       /* phase 2 --strategy local-mutex: the same, under a mutex */
    REPLAY_FOR_UPDATE,        /* phase 3: SELECT ... FOR UPDATE in a transaction */
    REPLAY_ATOMIC,            /* phase 3 --strategy atomic */
    REPLAY_OPTIMISTIC,        /* phase 3 --strategy optimistic, one attempt */
    REPLAY_SERIALIZABLE_TX,   /* phase 3 --strategy serializable, one attempt */
    REPLAY_ADVISORY,          /* phase 3 --strategy advisory */
    REPLAY_CHECK_THEN_INSERT, /* the zoo's planted check-then-insert */
};

struct replay_strategy {
    enum replay_kind kind;
    const char *name;              /* as --strategy says it */
    int phase;                     /* the phase whose booking it is */
    const char *what;              /* the timeline header's words */
    int n_steps;                   /* its steps, the commit included */
    enum replay_action steps[REPLAY_MAX_ACTIONS];
    bool transaction;              /* its last step is a commit a plan may leave out */
    bool same_user;                /* every session books for user 1 (else A = 1, B = 2...) */
};

/* The strategies, ended by a NULL name; phase 2's default comes first. */
extern const struct replay_strategy replay_strategies[];

/* replay_strategy_find: the strategy called NAME, or NULL. */
const struct replay_strategy *replay_strategy_find(const char *name);

/* replay_strategy_of_phase: phase 2's default (unsafe) or phase 3's
 * (for-update). */
const struct replay_strategy *replay_strategy_of_phase(int phase);

/* replay_strategy_names writes every name, comma-separated, into BUF. */
void replay_strategy_names(char *buf, size_t len);

/* replay_strategy_position: where ACTION comes in one session's booking
 * (0 first), or -1 if the strategy has no such step. A strategy without a
 * transaction still takes a trailing commit (it does nothing), as phase 2's
 * plans always have. */
int replay_strategy_position(const struct replay_strategy *st, enum replay_action action);

/* The level of each session's transactions. DEFAULT sets nothing: the
 * server's default (READ COMMITTED), and the serializable strategy's own
 * BEGIN ISOLATION LEVEL SERIALIZABLE, as the phases run. */
enum replay_isolation {
    REPLAY_ISOLATION_DEFAULT,
    REPLAY_ISOLATION_READ_COMMITTED,
    REPLAY_ISOLATION_REPEATABLE_READ,
    REPLAY_ISOLATION_SERIALIZABLE,
};

/* replay_isolation_parse reads "read-committed" (or "rc"), "repeatable-read"
 * ("rr"), "serializable" ("ser"); false for anything else. */
bool replay_isolation_parse(const char *text, enum replay_isolation *out);

/* "read-committed", ...; "default" for REPLAY_ISOLATION_DEFAULT. */
const char *replay_isolation_name(enum replay_isolation iso);

/* "rc", "rr", "ser": the short name an explored interleaving's id uses. */
const char *replay_isolation_short(enum replay_isolation iso);

/* "READ COMMITTED", ...: how PostgreSQL says it. */
const char *replay_isolation_sql(enum replay_isolation iso);

#endif
