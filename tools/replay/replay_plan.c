/* replay_plan.c -- parsing, checking and building interleavings (see
 * replay_plan.h). */
#include "replay_plan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const replay_presets[] = { "lost-update", "overtake", "serial", NULL };

static const char *const action_names[] = { "read", "write", "insert", "commit" };

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

/* plan_check enforces what a booking is: each session reads, writes and
 * inserts exactly once and in that order (the write needs what was read),
 * then may commit. The sessions must be A, B, ... without a gap, so that
 * "session C" always means the third connection. Sets P->sessions. */
static bool plan_check(struct replay_plan *p, char *err, size_t err_len)
{
    int next[REPLAY_MAX_SESSIONS] = { 0 };   /* the action each session owes */
    int sessions = 0;

    if (p->count == 0)
        return fail(err, err_len, "no steps");
    for (int i = 0; i < p->count; i++) {
        int s = p->steps[i].session;
        int a = (int)p->steps[i].action;
        char name = replay_session_name(s);

        if (a < next[s])
            return fail(err, err_len, "%c:%s comes twice", name, action_names[a]);
        if (a > next[s])
            return fail(err, err_len, "%c:%s before %c:%s", name, action_names[a], name,
                        action_names[next[s]]);
        next[s]++;
        if (s + 1 > sessions)
            sessions = s + 1;
    }
    for (int s = 0; s < sessions; s++) {
        if (next[s] == 0)
            return fail(err, err_len, "session %c is missing (sessions are A, B, ... in turn)",
                        replay_session_name(s));
        if (next[s] <= REPLAY_INSERT)
            return fail(err, err_len, "session %c stops before %c:%s (each session reads, "
                        "writes and inserts)", replay_session_name(s), replay_session_name(s),
                        action_names[next[s]]);
    }
    p->sessions = sessions;
    return true;
}

/* ------------------------------------------------------------------------
 * Reading and building plans
 * --------------------------------------------------------------------- */

/* parse_step reads one "X:action" token of length LEN. */
static bool parse_step(const char *tok, size_t len, struct replay_step *step, char *err,
                       size_t err_len)
{
    int letter = toupper((unsigned char)tok[0]);

    if (len < 3 || tok[1] != ':' || letter < 'A' || letter >= 'A' + REPLAY_MAX_SESSIONS)
        return fail(err, err_len, "'%.*s' is not SESSION:ACTION with SESSION from A to %c",
                    (int)len, tok, replay_session_name(REPLAY_MAX_SESSIONS - 1));
    step->session = letter - 'A';
    for (int a = REPLAY_READ; a <= REPLAY_COMMIT; a++) {
        if (strlen(action_names[a]) == len - 2 && strncmp(tok + 2, action_names[a], len - 2) == 0) {
            step->action = (enum replay_action)a;
            return true;
        }
    }
    return fail(err, err_len, "'%.*s': the action is read, write, insert or commit", (int)len,
                tok);
}

bool replay_plan_parse(struct replay_plan *p, const char *text, char *err, size_t err_len)
{
    static const char *const separators = " ,\t\n";
    const char *s = text;

    memset(p, 0, sizeof *p);
    while (*(s += strspn(s, separators))) {
        size_t len = strcspn(s, separators);

        if (p->count == REPLAY_MAX_STEPS)
            return fail(err, err_len, "too many steps (at most %d)", REPLAY_MAX_STEPS);
        if (!parse_step(s, len, &p->steps[p->count++], err, err_len))
            return false;
        s += len;
    }
    return plan_check(p, err, err_len);
}

/* add appends one step to a plan being built. */
static void add(struct replay_plan *p, int session, enum replay_action action)
{
    p->steps[p->count].session = session;
    p->steps[p->count].action = action;
    p->count++;
}

/* The presets, for K sessions:
 *   lost-update  everyone reads, then everyone writes, then everyone inserts:
 *                every session writes the same value, one decrement survives.
 *   overtake     everyone reads, then the last session books to the end, then
 *                the one before... : the first reader overwrites the others.
 *   serial       one booking after the other: nothing to race with. */
bool replay_plan_preset(struct replay_plan *p, const char *name, int sessions, char *err,
                        size_t err_len)
{
    memset(p, 0, sizeof *p);
    if (sessions < 1 || sessions > REPLAY_MAX_SESSIONS)
        return fail(err, err_len, "sessions go from 1 to %d, not %d", REPLAY_MAX_SESSIONS,
                    sessions);
    if (strcmp(name, "lost-update") == 0) {
        for (int a = REPLAY_READ; a <= REPLAY_INSERT; a++)
            for (int s = 0; s < sessions; s++)
                add(p, s, (enum replay_action)a);
    } else if (strcmp(name, "overtake") == 0) {
        for (int s = 0; s < sessions; s++)
            add(p, s, REPLAY_READ);
        for (int s = sessions - 1; s >= 0; s--) {
            add(p, s, REPLAY_WRITE);
            add(p, s, REPLAY_INSERT);
        }
    } else if (strcmp(name, "serial") == 0) {
        for (int s = 0; s < sessions; s++)
            for (int a = REPLAY_READ; a <= REPLAY_INSERT; a++)
                add(p, s, (enum replay_action)a);
    } else {
        return fail(err, err_len, "no interleaving called '%s' (lost-update, overtake, serial)",
                    name);
    }
    return plan_check(p, err, err_len);
}

void replay_plan_for_phase(struct replay_plan *p, int phase)
{
    struct replay_plan in = *p;
    bool commits[REPLAY_MAX_SESSIONS] = { false };

    if (phase != 3)
        return;
    for (int i = 0; i < in.count; i++)
        if (in.steps[i].action == REPLAY_COMMIT)
            commits[in.steps[i].session] = true;
    p->count = 0;
    for (int i = 0; i < in.count; i++) {
        add(p, in.steps[i].session, in.steps[i].action);
        if (in.steps[i].action == REPLAY_INSERT && !commits[in.steps[i].session])
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
