/* replay_timeline.c -- what the replay prints: the header, one line per
 * step with what a third connection sees after it, and the verdict. */
#include "replay_core.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "db.h"

/* ------------------------------------------------------------------------
 * The timeline
 * --------------------------------------------------------------------- */

/* who_name writes the session that inserted ticket ID (or, failing that,
 * whose user USER_ID is), or the user id. */
static void who_name(struct replay *r, char *buf, size_t len, long long id, long long user_id)
{
    int who = -1;

    pthread_mutex_lock(&r->mu);
    for (int k = 0; k < r->plan.sessions; k++)
        if (r->s[k].ticket_id == id)
            who = k;
    pthread_mutex_unlock(&r->mu);
    if (who < 0 && !r->strategy->same_user && user_id >= 1 && user_id <= r->plan.sessions)
        who = (int)user_id - 1;
    if (who >= 0)
        snprintf(buf, len, "%c", replay_session_name(who));
    else
        snprintf(buf, len, "user %lld", user_id);
}

/* snapshot reads, on the observer connection, what everybody else sees now:
 * the counter, and the ticket rows written as "#41 A, #42 B" (or "-"). */
static enum lab_status snapshot(struct replay *r, long long *counter, char *tickets, size_t len)
{
    struct db_ticket t[REPLAY_MAX_SESSIONS];
    size_t count, used;
    enum lab_status st;

    st = db_read_event(r->observer, r->cfg->event_id, counter, t, REPLAY_MAX_SESSIONS, &count);
    if (st != LAB_OK)
        return st;
    used = (size_t)snprintf(tickets, len, "%s", count ? "" : "-");
    for (size_t i = 0; i < count && i < REPLAY_MAX_SESSIONS && used < len; i++) {
        char who[32];
        who_name(r, who, sizeof who, t[i].id, t[i].user_id);
        used += (size_t)snprintf(tickets + used, len - used, "%s#%lld %s", i ? ", " : "",
                                 t[i].id, who);
    }
    if (count > REPLAY_MAX_SESSIONS && used < len)
        snprintf(tickets + used, len - used, ", ... (%zu rows)", count);
    return LAB_OK;
}

/* timeline_line prints one line: the plan's step number, the session, what
 * it did, and (WITH_STATE) the observer's view after it. */
void timeline_line(struct replay *r, int step, int session, const char *did, bool with_state)
{
    char state[256] = "", tickets[200];
    long long counter;

    if (!r->cfg->out)
        return;
    if (with_state) {
        if (snapshot(r, &counter, tickets, sizeof tickets) == LAB_OK) {
            snprintf(state, sizeof state, "%7lld  %s", counter, tickets);
        } else {
            r->failed = true;
            snprintf(state, sizeof state, "(the observer could not read the event)");
        }
    }
    if (with_state)
        fprintf(r->cfg->out, "%4d  %c    %-46s %s\n", step + 1, replay_session_name(session),
                did, state);
    else
        fprintf(r->cfg->out, "%4d  %c    %s\n", step + 1, replay_session_name(session), did);
    fflush(r->cfg->out);
}

/* timeline_blockers names whom S waits for: "A", "A and B", "pid 4242". */
void timeline_blockers(const struct session *s, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < s->n_blockers && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == s->n_blockers ? " and " : ", ";
        int b = s->blockers[i];
        if (b >= 0)
            used += (size_t)snprintf(buf + used, len - used, "%s%c's", sep,
                                     replay_session_name(b));
        else
            used += (size_t)snprintf(buf + used, len - used, "%spid %d's (not a session)",
                                     sep, -1 - b);
    }
}

/* timeline_waits writes what S's step waits for: "write: B waits for A's
 * row lock" (the mutex for local-mutex, the advisory lock for its lock). */
void timeline_waits(const struct replay *r, const struct session *s, char *buf, size_t len)
{
    char who[96];
    const char *what = s->action == REPLAY_LOCK ? "advisory lock" : "row lock";

    if (r->strategy->kind == REPLAY_LOCAL_MUTEX && s->n_blockers > 0 && s->blockers[0] >= 0) {
        char ahead[REPLAY_MAX_SESSIONS + 1] = "";
        for (size_t i = 1; i < s->n_blockers && i <= REPLAY_MAX_SESSIONS; i++)
            ahead[i - 1] = replay_session_name(s->blockers[i]);
        snprintf(buf, len, "%s: %c waits for the mutex (%c has it%s%s%s)",
                 replay_action_name(s->action), replay_session_name(s->index),
                 replay_session_name(s->blockers[0]), ahead[0] ? ", " : "", ahead,
                 ahead[0] ? " ahead" : "");
        return;
    }
    timeline_blockers(s, who, sizeof who);
    snprintf(buf, len, "%s: %c waits for %s %s", replay_action_name(s->action),
             replay_session_name(s->index), who, what);
}

/* ended_words: why a session's later steps are skipped. */
static const char *ended_words(enum replay_outcome outcome)
{
    return outcome == REPLAY_ABORTED ? "aborted" : replay_outcome_name(outcome);
}

/* describe_end writes the step that ended S's booking other than by a
 * sold-out read: an abort, a lost compare-and-set, the limit, a seat not
 * taken. HOW: ", after the wait" for a step that waited. */
static void describe_end(const struct session *s, const char *how, char *buf, size_t len)
{
    const char *a = replay_action_name(s->action);
    bool deadlock = strcmp(s->sqlstate, "40P01") == 0;

    switch (s->outcome) {
    case REPLAY_ABORTED:
        if (*how)
            snprintf(buf, len, "%s%s: %s, ROLLBACK", a, how, s->sqlstate);
        else
            snprintf(buf, len, "%s: %s %s, ROLLBACK", a, s->sqlstate,
                     deadlock ? "deadlock" : "serialization failure");
        break;
    case REPLAY_GAVE_UP:
        snprintf(buf, len, "%swrite if version %lld%s: lost, gave up", *how ? "" : "BEGIN; ",
                 s->version, *how ? " after wait" : "");
        break;
    case REPLAY_LIMIT:
        snprintf(buf, len, "check: user holds %lld of %lld tickets: limit", s->value,
                 s->limit);
        break;
    default:
        snprintf(buf, len, "%s%s: sold out, ROLLBACK", a, how);
        break;
    }
}

/* describe_read writes a read, the phases' words for phases 2 and 3. */
static void describe_read(const struct replay *r, const struct session *s, bool resumed,
                          char *buf, size_t len)
{
    enum replay_kind kind = r->strategy->kind;
    bool phase3 = kind == REPLAY_FOR_UPDATE || kind == REPLAY_CHECK_THEN_INSERT;
    bool mutex = kind == REPLAY_LOCAL_MUTEX;
    bool in_tx = phase3 || kind == REPLAY_SERIALIZABLE_TX || kind == REPLAY_ADVISORY;
    bool sold_out = s->ended_now && s->outcome == REPLAY_SOLD_OUT;
    char who[64];

    if (resumed) {
        timeline_blockers(s, who, sizeof who);
        if (mutex)
            snprintf(buf, len, "took the mutex at last; read %lld%s", s->value,
                     sold_out ? ": sold out" : "");
        else if (sold_out)
            snprintf(buf, len, "read %lld after %s lock: sold out, ROLLBACK", s->value, who);
        else
            snprintf(buf, len, "read %lld%s, once %s lock was released", s->value,
                     phase3 ? " FOR UPDATE" : "", who);
    } else if (sold_out) {
        snprintf(buf, len, "%sread %lld: sold out%s", mutex ? "took the mutex; " : "", s->value,
                 in_tx ? ", ROLLBACK" : "");
    } else if (phase3) {
        snprintf(buf, len, "BEGIN; read %lld FOR UPDATE (row locked)", s->value);
    } else if (mutex) {
        snprintf(buf, len, "took the mutex; read %lld", s->value);
    } else if (kind == REPLAY_OPTIMISTIC) {
        snprintf(buf, len, "read %lld at version %lld (no lock)", s->value, s->version);
    } else if (kind == REPLAY_SERIALIZABLE_TX) {
        snprintf(buf, len, "BEGIN%s; read %lld",
                 r->cfg->isolation == REPLAY_ISOLATION_DEFAULT ||
                         r->cfg->isolation == REPLAY_ISOLATION_SERIALIZABLE
                     ? " ISOLATION LEVEL SERIALIZABLE" : "", s->value);
    } else {
        snprintf(buf, len, "read %lld", s->value);
    }
}

/* timeline_describe writes what S's finished step did, in the timeline's
 * words; RESUMED: the step had been waiting for a lock. */
void timeline_describe(const struct replay *r, const struct session *s, bool resumed,
                       char *buf, size_t len)
{
    enum replay_action a = r->plan.steps[s->step].action;
    enum replay_kind kind = r->strategy->kind;
    bool phase3 = kind == REPLAY_FOR_UPDATE || kind == REPLAY_CHECK_THEN_INSERT;
    const char *how = resumed ? ", after the wait" : "";

    if (s->st != LAB_OK && s->st != LAB_SOLD_OUT) {
        snprintf(buf, len, "%s failed: %s", replay_action_name(a), lab_status_name(s->st));
        return;
    }
    if (a == REPLAY_COMMIT && !r->strategy->transaction) {
        snprintf(buf, len, "commit: nothing to do, no transaction");
        return;
    }
    if (s->st == LAB_SOLD_OUT) {
        if (a == REPLAY_COMMIT)
            snprintf(buf, len, "commit: nothing to do, rolled back");
        else
            snprintf(buf, len, "%s skipped: %s", replay_action_name(a),
                     ended_words(s->outcome));
        return;
    }
    if (a == REPLAY_READ) {
        describe_read(r, s, resumed, buf, len);
        return;
    }
    if (s->ended_now && s->outcome != REPLAY_BOOKED) {
        describe_end(s, how, buf, len);
        return;
    }
    switch (a) {
    case REPLAY_WRITE:
        if (kind == REPLAY_OPTIMISTIC)
            snprintf(buf, len, "BEGIN; wrote %lld %s version %lld%s", s->value,
                     resumed ? "at" : "if still", s->version, resumed ? how : ": won");
        else if (resumed)
            snprintf(buf, len, "wrote %lld (read minus 1)%s", s->value, how);
        else
            snprintf(buf, len, "wrote %lld (what it read, minus 1)", s->value);
        break;
    case REPLAY_INSERT:
        snprintf(buf, len, "inserted ticket #%lld%s", s->value,
                 kind == REPLAY_CHECK_THEN_INSERT ? " (no limit rule)" : "");
        break;
    case REPLAY_COMMIT:
        snprintf(buf, len, "committed%s", phase3 ? " (row lock released)"
                                          : kind == REPLAY_ADVISORY ? " (advisory lock released)"
                                                                    : "");
        break;
    case REPLAY_LOCK:
        snprintf(buf, len, "BEGIN; took the advisory lock%s", how);
        break;
    case REPLAY_TAKE:
        snprintf(buf, len, "BEGIN; UPDATE: took a seat%s", how);
        break;
    case REPLAY_CHECK:
        snprintf(buf, len, "check: user holds %lld of %lld (no lock)", s->value, s->limit);
        break;
    case REPLAY_READ:
        break;
    }
}

/* timeline_verdict reads the end state with the audit the lab uses
 * everywhere and compares the tickets sold with how far the counter went
 * down: more tickets than decrements is a lost update. */
enum lab_status timeline_verdict(struct replay *r)
{
    struct replay_result *res = r->res;
    struct audit a;
    char tickets[200];
    long long counter, down;
    enum lab_status st;
    FILE *out = r->cfg->out;

    if ((st = db_audit(r->observer, r->cfg->event_id, &a)) != LAB_OK)
        return st;
    if (out && (st = snapshot(r, &counter, tickets, sizeof tickets)) != LAB_OK)
        return st;
    res->counter = a.available;
    res->tickets = a.sold;
    res->oversold = a.oversold;
    res->duplicate_users = a.duplicate_users;
    down = res->seats - res->counter;
    res->lost_updates = res->tickets - down;
    if (!out)
        return LAB_OK;
    fprintf(out, "\nend: counter %lld, tickets %s\n", res->counter, tickets);
    fprintf(out, "verdict: %s: %lld ticket%s sold, counter went down by %lld",
            res->lost_updates > 0 ? "lost update" : "no lost update", res->tickets,
            res->tickets == 1 ? "" : "s", down);
    if (res->oversold > 0)
        fprintf(out, ", oversold by %lld", res->oversold);
    if (res->duplicate_users > 0)
        fprintf(out, ", %lld user%s over the per-user limit", res->duplicate_users,
                res->duplicate_users == 1 ? "" : "s");
    for (int k = 0; k < r->plan.sessions; k++) {
        if (res->outcome[k] == REPLAY_ABORTED)
            fprintf(out, ", %c aborted (%s)", replay_session_name(k), res->sqlstate[k]);
        else if (res->outcome[k] == REPLAY_GAVE_UP)
            fprintf(out, ", %c gave up", replay_session_name(k));
    }
    fprintf(out, "\n");
    fflush(out);
    return LAB_OK;
}

/* timeline_header says what is about to run: phase, event, the plan as
 * adapted to the phase, which backend is which session. */
void timeline_header(struct replay *r)
{
    char plan[1024], name[64] = "";
    FILE *out = r->cfg->out;
    const struct replay_strategy *st = r->strategy;

    if (!out)
        return;
    replay_plan_format(&r->plan, plan, sizeof plan);
    if (st != replay_strategy_of_phase(st->phase))
        snprintf(name, sizeof name, " --strategy %s", st->name);
    fprintf(out, "replay: phase %d%s (%s)", st->phase, name, st->what);
    if (r->cfg->isolation != REPLAY_ISOLATION_DEFAULT)
        fprintf(out, ", %s", replay_isolation_sql(r->cfg->isolation));
    fprintf(out, ", event %lld, %lld seats, %d session%s\n", r->cfg->event_id, r->cfg->seats,
            r->plan.sessions, r->plan.sessions > 1 ? "s" : "");
    fprintf(out, "interleaving %s: %s\n", r->cfg->interleaving ? r->cfg->interleaving : "custom",
            plan);
    fprintf(out, "sessions:");
    for (int k = 0; k < r->plan.sessions; k++)
        fprintf(out, " %c = backend %d%s", replay_session_name(k), r->s[k].backend_pid,
                k + 1 < r->plan.sessions ? "," : "\n");
    fprintf(out, "counter, tickets: what a third connection sees after the step "
                 "(committed rows only)\n\n");
    fprintf(out, "step  who  %-46s counter  tickets\n", "did");
}
