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

/* who_name writes the session that owns ticket USER_ID, or the user id. */
static void who_name(char *buf, size_t len, long long user_id, int sessions)
{
    if (user_id >= 1 && user_id <= sessions)
        snprintf(buf, len, "%c", replay_session_name((int)user_id - 1));
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
        who_name(who, sizeof who, t[i].user_id, r->plan.sessions);
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

/* timeline_describe writes what S's finished step did, in the timeline's
 * words; RESUMED: the step had been waiting for a lock. */
void timeline_describe(const struct replay *r, const struct session *s, bool resumed,
                       char *buf, size_t len)
{
    enum replay_action a = r->plan.steps[s->step].action;
    bool phase3 = r->cfg->phase == 3;
    char who[64];

    if (s->st != LAB_OK && s->st != LAB_SOLD_OUT) {
        snprintf(buf, len, "%s failed: %s", replay_action_name(a), lab_status_name(s->st));
        return;
    }
    switch (a) {
    case REPLAY_READ:
        if (resumed) {
            timeline_blockers(s, who, sizeof who);
            if (s->sold_out)
                snprintf(buf, len, "read %lld after %s lock: sold out, ROLLBACK", s->value, who);
            else
                snprintf(buf, len, "read %lld FOR UPDATE, once %s lock was released", s->value,
                         who);
        } else if (s->sold_out) {
            snprintf(buf, len, "read %lld: sold out%s", s->value, phase3 ? ", ROLLBACK" : "");
        } else if (phase3) {
            snprintf(buf, len, "BEGIN; read %lld FOR UPDATE (row locked)", s->value);
        } else {
            snprintf(buf, len, "read %lld", s->value);
        }
        break;
    case REPLAY_WRITE:
        if (s->st == LAB_SOLD_OUT)
            snprintf(buf, len, "write skipped: sold out");
        else
            snprintf(buf, len, "wrote %lld (what it read, minus 1)", s->value);
        break;
    case REPLAY_INSERT:
        if (s->st == LAB_SOLD_OUT)
            snprintf(buf, len, "insert skipped: sold out");
        else
            snprintf(buf, len, "inserted ticket #%lld", s->value);
        break;
    case REPLAY_COMMIT:
        if (!phase3)
            snprintf(buf, len, "commit: nothing to do, no transaction");
        else if (s->st == LAB_SOLD_OUT)
            snprintf(buf, len, "commit: nothing to do, rolled back");
        else
            snprintf(buf, len, "committed (row lock released)");
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

    if ((st = db_audit(r->observer, r->cfg->event_id, &a)) != LAB_OK ||
        (st = snapshot(r, &counter, tickets, sizeof tickets)) != LAB_OK)
        return st;
    res->counter = a.available;
    res->tickets = a.sold;
    res->oversold = a.oversold;
    down = res->seats - res->counter;
    res->lost_updates = res->tickets - down;
    fprintf(r->cfg->out, "\nend: counter %lld, tickets %s\n", res->counter, tickets);
    fprintf(r->cfg->out, "verdict: %s: %lld ticket%s sold, counter went down by %lld",
            res->lost_updates > 0 ? "lost update" : "no lost update", res->tickets,
            res->tickets == 1 ? "" : "s", down);
    if (res->oversold > 0)
        fprintf(r->cfg->out, ", oversold by %lld", res->oversold);
    fprintf(r->cfg->out, "\n");
    fflush(r->cfg->out);
    return LAB_OK;
}

/* timeline_header says what is about to run: phase, event, the plan as
 * adapted to the phase, which backend is which session. */
void timeline_header(struct replay *r)
{
    char plan[1024];
    FILE *out = r->cfg->out;

    replay_plan_format(&r->plan, plan, sizeof plan);
    fprintf(out, "replay: phase %d (%s), event %lld, %lld seats, %d session%s\n", r->cfg->phase,
            r->cfg->phase == 3 ? "each booking a transaction, SELECT ... FOR UPDATE"
                               : "no lock, no transaction",
            r->cfg->event_id, r->cfg->seats, r->plan.sessions, r->plan.sessions > 1 ? "s" : "");
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
