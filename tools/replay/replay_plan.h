/* replay_plan.h -- the interleaving a replay runs: which session does which
 * step, in which order. Pure data and pure functions: no database, no
 * threads, so that the unit tests can check every rule.
 *
 * A plan is written the way the isolation tester of PostgreSQL writes a
 * permutation, one "SESSION:ACTION" per step, e.g.
 *     A:read B:read A:write B:write A:insert B:insert
 * Sessions are letters from A; every session does its strategy's steps
 * (replay_strategy.h) in order: phase 2's and phase 3's read, write, insert,
 * and may end with a commit. */
#ifndef LAB_REPLAY_PLAN_H
#define LAB_REPLAY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include "replay_strategy.h"

#define REPLAY_MAX_SESSIONS 8
/* a strategy's steps and its commit per session: nothing can be longer */
#define REPLAY_MAX_STEPS (REPLAY_MAX_ACTIONS * REPLAY_MAX_SESSIONS)

struct replay_step {
    int session;                 /* 0 = A, 1 = B, ... */
    enum replay_action action;
};

struct replay_plan {
    int sessions;                /* how many sessions the steps use */
    int count;                   /* how many steps */
    struct replay_step steps[REPLAY_MAX_STEPS];
};

/* The named interleavings, NULL-terminated; the first is the default. */
extern const char *const replay_presets[];

/* "read", "write", "insert", "commit", "lock", "take", "check". */
const char *replay_action_name(enum replay_action action);

/* 'A' for session 0, 'B' for 1, ... */
char replay_session_name(int session);

/* replay_plan_parse reads TEXT ("A:read B:read ...", blanks or commas
 * between steps) into P: phase 2's and 3's steps, read, write, insert and
 * an optional commit. false, with the reason in ERR, if it is not a plan
 * every session can follow to the end. */
bool replay_plan_parse(struct replay_plan *p, const char *text, char *err, size_t err_len);

/* replay_plan_parse_for is replay_plan_parse for strategy ST's steps. */
bool replay_plan_parse_for(struct replay_plan *p, const char *text,
                           const struct replay_strategy *st, char *err, size_t err_len);

/* replay_plan_preset builds the interleaving NAME for SESSIONS sessions. */
bool replay_plan_preset(struct replay_plan *p, const char *name, int sessions, char *err,
                        size_t err_len);

/* replay_plan_preset_for: the same for strategy ST's steps (its commit
 * left to replay_plan_for_strategy). */
bool replay_plan_preset_for(struct replay_plan *p, const char *name, int sessions,
                            const struct replay_strategy *st, char *err, size_t err_len);

/* replay_plan_for_phase adapts P to PHASE: phase 3 runs each session in a
 * transaction, so a session without an explicit commit commits right after
 * its insert. Phase 2 has no transaction: P is left as it is. */
void replay_plan_for_phase(struct replay_plan *p, int phase);

/* replay_plan_for_strategy: the same for ST: a session of a strategy with a
 * transaction that has no commit in P commits right after its last step. */
void replay_plan_for_strategy(struct replay_plan *p, const struct replay_strategy *st);

/* replay_plan_format writes P as "1 A:read  2 B:read ..." into BUF. */
void replay_plan_format(const struct replay_plan *p, char *buf, size_t len);

/* replay_plan_steps writes P as --steps takes it, "A:read B:read ...". */
void replay_plan_steps(const struct replay_plan *p, char *buf, size_t len);

#endif
