/* replay_plan.c -- parsing, checking and building interleavings (see
 * replay_plan.h). */
#include "replay_plan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const replay_presets[] = { "lost-update", "overtake", "serial", NULL };

static const char *const action_names[REPLAY_ACTIONS] = {
    "read", "write", "insert", "commit", "lock", "take", "check",
};

const char *replay_action_name(enum replay_action action)
{
    return action_names[action];
}

char replay_session_name(int session)
{
    return (char)('A' + session);
}

/* ------------------------------------------------------------------------
 * Checking a plan
 * --------------------------------------------------------------------- */

/* fail writes the reason a plan is refused and returns false. */
static bool fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return false;
}

/* plan_check enforces what a booking is: each session does its strategy's
 * steps exactly once and in that order (phase 2's write needs what was
 * read), the trailing commit optional. The sessions must be A, B, ...
 * without a gap, so that "session C" always means the third connection.
 * Sets P->sessions. */
static bool plan_check(struct replay_plan *p, const struct replay_strategy *st, char *err,
                       size_t err_len)
{
    int next[REPLAY_MAX_SESSIONS] = { 0 };   /* the position each session owes */
    int sessions = 0;
    int needed = st->transaction ? st->n_steps - 1 : st->n_steps;  /* the commit may wait */

    if (p->count == 0)
        return fail(err, err_len, "no steps");
    for (int i = 0; i < p->count; i++) {
        int s = p->steps[i].session;
        int a = replay_strategy_position(st, p->steps[i].action);
        char name = replay_session_name(s);
        enum replay_action owed = next[s] < st->n_steps ? st->steps[next[s]] : REPLAY_COMMIT;

        if (a < next[s])
            return fail(err, err_len, "%c:%s comes twice", name,
                        action_names[p->steps[i].action]);
        if (a > next[s])
            return fail(err, err_len, "%c:%s before %c:%s", name,
                        action_names[p->steps[i].action], name, action_names[owed]);
        next[s]++;
        if (s + 1 > sessions)
            sessions = s + 1;
    }
    for (int s = 0; s < sessions; s++) {
        char steps[80];

        if (next[s] == 0)
            return fail(err, err_len, "session %c is missing (sessions are A, B, ... in turn)",
                        replay_session_name(s));
        if (next[s] < needed) {
            snprintf(steps, sizeof steps, "does");
            for (int k = 0; k < needed; k++)
                snprintf(steps + strlen(steps), sizeof steps - strlen(steps), "%s%s",
                         k ? ", " : " ", action_names[st->steps[k]]);
            if (strcmp(steps, "does read, write, insert") == 0)   /* phases 2 and 3 */
                snprintf(steps, sizeof steps, "reads, writes and inserts");
            return fail(err, err_len, "session %c stops before %c:%s (each session %s)",
                        replay_session_name(s), replay_session_name(s),
                        action_names[st->steps[next[s]]], steps);
        }
    }
    p->sessions = sessions;
    return true;
}

/* ------------------------------------------------------------------------
 * Reading and building plans
 * --------------------------------------------------------------------- */

/* actions_list writes ST's actions as "read, write, insert or commit". */
static void actions_list(const struct replay_strategy *st, char *buf, size_t len)
{
    const char *names[REPLAY_MAX_ACTIONS + 1];
    int n = 0;

    for (int k = 0; k < st->n_steps; k++)
        names[n++] = action_names[st->steps[k]];
    if (!st->transaction)
        names[n++] = action_names[REPLAY_COMMIT];
    buf[0] = '\0';
    for (int k = 0; k < n; k++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
                 k == 0 ? "" : k + 1 == n ? " or " : ", ", names[k]);
}

/* parse_step reads one "X:action" token of length LEN, an action of ST. */
static bool parse_step(const char *tok, size_t len, const struct replay_strategy *st,
                       struct replay_step *step, char *err, size_t err_len)
{
    int letter = toupper((unsigned char)tok[0]);
    char actions[80];

    if (len < 3 || tok[1] != ':' || letter < 'A' || letter >= 'A' + REPLAY_MAX_SESSIONS)
        return fail(err, err_len, "'%.*s' is not SESSION:ACTION with SESSION from A to %c",
                    (int)len, tok, replay_session_name(REPLAY_MAX_SESSIONS - 1));
    step->session = letter - 'A';
    for (int a = 0; a < REPLAY_ACTIONS; a++) {
        if (strlen(action_names[a]) == len - 2 && strncmp(tok + 2, action_names[a], len - 2) == 0 &&
            replay_strategy_position(st, (enum replay_action)a) >= 0) {
            step->action = (enum replay_action)a;
            return true;
        }
    }
    actions_list(st, actions, sizeof actions);
    return fail(err, err_len, "'%.*s': the action is %s", (int)len, tok, actions);
}

/* replay_plan_parse: phase 2's steps, which are phase 3's too. */
bool replay_plan_parse(struct replay_plan *p, const char *text, char *err, size_t err_len)
{
    return replay_plan_parse_for(p, text, replay_strategy_of_phase(2), err, err_len);
}

/* replay_plan_parse_for reads the tokens in turn, then checks the whole. */
bool replay_plan_parse_for(struct replay_plan *p, const char *text,
                           const struct replay_strategy *st, char *err, size_t err_len)
{
    static const char *const separators = " ,\t\n";
    const char *s = text;

    memset(p, 0, sizeof *p);
    while (*(s += strspn(s, separators))) {
        size_t len = strcspn(s, separators);

        if (p->count == REPLAY_MAX_STEPS)
            return fail(err, err_len, "too many steps (at most %d)", REPLAY_MAX_STEPS);
        if (!parse_step(s, len, st, &p->steps[p->count++], err, err_len))
            return false;
        s += len;
    }
    return plan_check(p, st, err, err_len);
}

/* add appends one step to a plan being built. */
static void add(struct replay_plan *p, int session, enum replay_action action)
{
    p->steps[p->count].session = session;
    p->steps[p->count].action = action;
    p->count++;
}

/* The presets, for K sessions, over a strategy's steps but its commit:
 *   lost-update  everyone reads, then everyone writes, then everyone inserts:
 *                every session writes the same value, one decrement survives.
 *   overtake     everyone reads, then the last session books to the end, then
 *                the one before... : the first reader overwrites the others.
 *   serial       one booking after the other: nothing to race with. */
bool replay_plan_preset(struct replay_plan *p, const char *name, int sessions, char *err,
                        size_t err_len)
{
    return replay_plan_preset_for(p, name, sessions, replay_strategy_of_phase(2), err, err_len);
}

/* replay_plan_preset_for builds the preset over ST's steps but its commit. */
bool replay_plan_preset_for(struct replay_plan *p, const char *name, int sessions,
                            const struct replay_strategy *st, char *err, size_t err_len)
{
    int n = st->transaction ? st->n_steps - 1 : st->n_steps;

    memset(p, 0, sizeof *p);
    if (sessions < 1 || sessions > REPLAY_MAX_SESSIONS)
        return fail(err, err_len, "sessions go from 1 to %d, not %d", REPLAY_MAX_SESSIONS,
                    sessions);
    if (strcmp(name, "lost-update") == 0) {
        for (int a = 0; a < n; a++)
            for (int s = 0; s < sessions; s++)
                add(p, s, st->steps[a]);
    } else if (strcmp(name, "overtake") == 0) {
        for (int s = 0; s < sessions; s++)
            add(p, s, st->steps[0]);
        for (int s = sessions - 1; s >= 0; s--)
            for (int a = 1; a < n; a++)
                add(p, s, st->steps[a]);
    } else if (strcmp(name, "serial") == 0) {
        for (int s = 0; s < sessions; s++)
            for (int a = 0; a < n; a++)
                add(p, s, st->steps[a]);
    } else {
        return fail(err, err_len, "no interleaving called '%s' (lost-update, overtake, serial)",
                    name);
    }
    return plan_check(p, st, err, err_len);
}

/* replay_plan_for_phase: the phase's own strategy's commits. */
void replay_plan_for_phase(struct replay_plan *p, int phase)
{
    replay_plan_for_strategy(p, replay_strategy_of_phase(phase));
}

/* replay_plan_for_strategy puts a missing commit right after the session's
 * last step, so that its transaction ends as the phase's does. */
void replay_plan_for_strategy(struct replay_plan *p, const struct replay_strategy *st)
{
    struct replay_plan in = *p;
    bool commits[REPLAY_MAX_SESSIONS] = { false };
    enum replay_action last;

    if (!st->transaction)
        return;
    last = st->steps[st->n_steps - 2];     /* the step before the commit */
    for (int i = 0; i < in.count; i++)
        if (in.steps[i].action == REPLAY_COMMIT)
            commits[in.steps[i].session] = true;
    p->count = 0;
    for (int i = 0; i < in.count; i++) {
        add(p, in.steps[i].session, in.steps[i].action);
        if (in.steps[i].action == last && !commits[in.steps[i].session])
            add(p, in.steps[i].session, REPLAY_COMMIT);
    }
}

void replay_plan_format(const struct replay_plan *p, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < p->count && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%d %c:%s", i ? "  " : "", i + 1,
                         replay_session_name(p->steps[i].session),
                         action_names[p->steps[i].action]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* replay_plan_steps: the plan as --steps takes it, so it can be pasted. */
void replay_plan_steps(const struct replay_plan *p, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < p->count && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%c:%s", i ? " " : "",
                         replay_session_name(p->steps[i].session),
                         action_names[p->steps[i].action]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
