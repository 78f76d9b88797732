/* checker.c -- the checker's query and arithmetic (checker.h). */
#include "checker.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "parse.h"

/* checker_load_facts reads, in one query, every ticket and decision row of
 * the run's requests (ids "<run_id>-<user>"), and counts them per job. A
 * row whose id does not parse, or whose user is outside the run, is not
 * one of ours and is skipped. */
int checker_load_facts(PGconn *db, long long event_id, const char *run_id, long long user_base,
                       long long jobs, struct check_fact *facts)
{
    static const char sql[] =
        "SELECT request_id, 1, id::text FROM tickets WHERE event_id = $1 "
        "  AND left(request_id, length($2)) = $2 "
        "UNION ALL "
        "SELECT request_id, 0, decision FROM decisions WHERE event_id = $1 "
        "  AND left(request_id, length($2)) = $2";
    char event_text[32], prefix[PARSE_REQUEST_ID_MAX + 2];
    const char *params[2] = { event_text, prefix };
    size_t prefix_len;
    PGresult *res;

    memset(facts, 0, (size_t)jobs * sizeof *facts);
    snprintf(event_text, sizeof event_text, "%lld", event_id);
    snprintf(prefix, sizeof prefix, "%s-", run_id);
    prefix_len = strlen(prefix);
    res = PQexecParams(db, sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        lab_log("checker: %s", PQerrorMessage(db));
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *rid = PQgetvalue(res, i, 0);
        long long user, job;

        if (strlen(rid) <= prefix_len || !parse_long(rid + prefix_len, 1, PARSE_ID_MAX, &user))
            continue;
        job = user - user_base - 1;
        if (job < 0 || job >= jobs)
            continue;
        if (strcmp(PQgetvalue(res, i, 1), "1") == 0) {
            if (facts[job].tickets < 255)
                facts[job].tickets++;
            if (!parse_long(PQgetvalue(res, i, 2), 1, LLONG_MAX, &facts[job].ticket_id))
                facts[job].ticket_id = 0;
        } else if (facts[job].refusals < 255) {
            enum history_answer d = history_answer_of(409, PQgetvalue(res, i, 2), "");
            facts[job].refusals++;
            facts[job].decision = (unsigned char)d;   /* 'failed' reads as an error */
        }
    }
    PQclear(res);
    return 0;
}

/* in_window tells whether a request invoked at T fell inside a fault. */
static bool in_window(const struct nemesis_plan *plan, uint64_t t)
{
    for (int i = 0; plan && i < plan->count; i++) {
        const struct fault *f = &plan->faults[i];
        if (f->broken_us && t >= f->broken_us && t <= f->heal_us)
            return true;
    }
    return false;
}

/* checker_try_final: see checker.h. */
enum history_answer checker_try_final(const struct history_record *r,
                                      const struct check_fact *fact, long long *ticket_id)
{
    enum history_answer answer = (enum history_answer)r->answer;

    /* the counting rule's three answers of the API say it already */
    if (r->outcome == OUTCOME_BOOKED)
        answer = HISTORY_ANSWER_BOOKED;
    else if (r->outcome == OUTCOME_QUEUED)
        answer = HISTORY_ANSWER_QUEUED;
    else if (r->outcome == OUTCOME_SOLD_OUT)
        answer = HISTORY_ANSWER_SOLD_OUT;
    *ticket_id = 0;
    switch (answer) {
    case HISTORY_ANSWER_BOOKED:
        *ticket_id = r->ticket_id > 0 ? r->ticket_id : fact->ticket_id;
        return HISTORY_ANSWER_BOOKED;
    case HISTORY_ANSWER_QUEUED:
        if (fact->tickets > 0) {
            *ticket_id = fact->ticket_id;
            return HISTORY_ANSWER_BOOKED;
        }
        return fact->refusals > 0 ? (enum history_answer)fact->decision : HISTORY_ANSWER_NONE;
    case HISTORY_ANSWER_SOLD_OUT:
    case HISTORY_ANSWER_LIMIT:
    case HISTORY_ANSWER_DUPLICATE:
    case HISTORY_ANSWER_STALE:
    case HISTORY_ANSWER_REUSED:
        return answer;
    case HISTORY_ANSWER_ERROR:
        return r->http_status >= 400 && r->http_status <= 499 ? HISTORY_ANSWER_ERROR
                                                               : HISTORY_ANSWER_NONE;
    default:
        return HISTORY_ANSWER_NONE;
    }
}

/* checker_answers_agree: see checker.h. */
bool checker_answers_agree(enum history_answer a, long long ticket_a, enum history_answer b,
                           long long ticket_b)
{
    if (a != b)
        return false;
    return a != HISTORY_ANSWER_BOOKED || ticket_a == 0 || ticket_b == 0 || ticket_a == ticket_b;
}

/* id_note adds one try of an id to its record: the first final outcome is
 * kept, every later one is compared with it. */
static void id_note(struct check_id *id, enum history_answer final, long long ticket_id)
{
    id->tries++;
    if (final == HISTORY_ANSWER_NONE)
        return;
    if (id->final == HISTORY_ANSWER_NONE) {
        id->final = (unsigned char)final;
        id->ticket_id = ticket_id;
        return;
    }
    if (!checker_answers_agree((enum history_answer)id->final, id->ticket_id, final, ticket_id))
        id->disagree = true;
    else if (id->ticket_id == 0)
        id->ticket_id = ticket_id;
}

/* is_refusal: an answer that says the request got no ticket for want of
 * one it could have (sold out), or for a rule (limit, stale). */
static bool is_refusal(enum history_answer a)
{
    return a == HISTORY_ANSWER_SOLD_OUT || a == HISTORY_ANSWER_LIMIT || a == HISTORY_ANSWER_STALE;
}

/* checker_compute walks the history once, try by try, against the facts,
 * noting each id's final outcomes; then the ids one by one (duplicated,
 * refused, answers that disagree), then the time to recover, fault by
 * fault (the longest). */
void checker_compute(const struct check_input *in, struct check_result *out)
{
    const struct history_log *h = in->history;
    long long unsold;

    memset(out, 0, sizeof *out);
    memset(in->ids, 0, (size_t)in->jobs * sizeof *in->ids);
    for (size_t i = 0; i < h->len; i++) {
        const struct history_record *r = &h->rec[i];
        struct check_fact f = { 0 };
        bool booked, ours = r->job >= 0 && r->job < in->jobs;
        long long ticket_id;
        enum history_answer final;

        if (ours)
            f = in->facts[r->job];
        booked = f.tickets > 0;
        out->requests++;
        out->ok += r->cls == HISTORY_OK;
        out->fail += r->cls == HISTORY_FAIL;
        out->info += r->cls == HISTORY_INFO;
        out->same_id_retries += r->try_no > 1;
        switch ((enum outcome)r->outcome) {
        case OUTCOME_BOOKED:
            out->false_confirmations += !booked;
            break;
        case OUTCOME_QUEUED:
            out->lost += f.tickets + f.refusals == 0;
            break;
        case OUTCOME_SOLD_OUT:
            out->false_refusals += booked;
            break;
        default:
            /* the 409s the counting rule files as protocol errors (limit,
               stale): refusals too, false when the id holds a ticket */
            out->false_refusals += booked && is_refusal((enum history_answer)r->answer);
            break;
        }
        final = checker_try_final(r, &f, &ticket_id);
        if (ours)
            id_note(&in->ids[r->job], final, ticket_id);
        if (r->cls == HISTORY_INFO) {
            out->unknown_booked += booked;
            out->unknown_not_booked += !booked;
        }
        if (in_window(in->plan, r->invoke_us)) {
            out->window_requests++;
            out->window_ok += r->cls == HISTORY_OK;
        }
    }
    for (long long j = 0; j < in->jobs; j++) {
        const struct check_id *id = &in->ids[j];
        const struct check_fact *f = &in->facts[j];

        if (id->tries == 0)
            continue;
        out->ids++;
        out->duplicated += f->tickets + f->refusals > 1;
        out->refused += id->final == HISTORY_ANSWER_SOLD_OUT;
        out->answers_disagree += id->disagree;
    }
    out->claims_known = in->claims_known;
    out->stuck_claims = in->claims_known ? in->stuck_claims : 0;
    out->oversold = in->oversold;
    out->duplicated += in->duplicate_users;
    out->drift_known = in->gate_known;
    out->drift = in->gate_known ? in->drift : 0;
    out->phantom = in->phantom;
    out->acked_lost = out->false_confirmations + out->lost;
    unsold = in->available - in->phantom;      /* seats - sold: what the tickets leave */
    out->undersold = unsold > 0 ? (unsold < out->refused ? unsold : out->refused) : 0;
    out->availability = out->window_requests > 0
        ? (double)out->window_ok / (double)out->window_requests : -1.0;
    out->recover_s = -1.0;
    for (int k = 0; in->plan && k < in->plan->count; k++) {
        const struct fault *fa = &in->plan->faults[k];
        uint64_t first = 0;

        if (!fa->heal_us)
            continue;
        for (size_t i = 0; i < h->len; i++) {
            const struct history_record *r = &h->rec[i];
            if (r->cls == HISTORY_OK && r->invoke_us >= fa->heal_us &&
                (first == 0 || r->complete_us < first))
                first = r->complete_us;
        }
        if (first) {
            double s = (double)(first - fa->heal_us) / 1e6;
            if (s > out->recover_s)
                out->recover_s = s;
        }
    }
}

/* checker_is_bug: what a correct system never does, whatever the fault.
 * A gate out of step with the database once the sale is quiet is one: its
 * difference is seats never sold, or buyers admitted only to be refused.
 * So is the database's own counter out of step with its ticket rows (a
 * seat taken twice for one ticket, or a decrement lost), a retry told
 * another outcome than the first answer, and a claim that no retry can
 * ever get past. Undersold is a cost of a fault. */
bool checker_is_bug(const struct check_result *r)
{
    return r->oversold || r->lost || r->duplicated || r->false_confirmations ||
           r->false_refusals || r->phantom || (r->drift_known && r->drift != 0) ||
           r->answers_disagree || (r->claims_known && r->stuck_claims);
}

/* add_part appends ", NAME N" (or "NAME N" first) to OUT when N is not 0. */
static void add_part(char *out, size_t out_len, const char *name, long long n)
{
    size_t used = strlen(out);

    if (n == 0 || used >= out_len)
        return;
    snprintf(out + used, out_len - used, "%s%lld %s", used && out[used - 1] != '(' ? ", " : "",
             n, name);
}

/* add_drift appends the gate's drift with what it means: a gate below the
 * database never sells the difference, one above it admits buyers that
 * the database then refuses. */
static void add_drift(char *out, size_t out_len, long long drift)
{
    size_t used = strlen(out);

    if (used >= out_len)
        return;
    snprintf(out + used, out_len - used, "%s%lld drift: the Redis gate counts %lld %s free seats "
             "than the database%s", used && out[used - 1] != '(' ? ", " : "", drift,
             drift < 0 ? -drift : drift, drift < 0 ? "fewer" : "more",
             drift < 0 ? ", never sold" : ", buyers admitted then refused");
}

/* add_phantom appends the counter's error with what it means: below the
 * tickets, seats that will never be sold; above them, seats sold twice. */
static void add_phantom(char *out, size_t out_len, long long phantom)
{
    size_t used = strlen(out);

    if (used >= out_len)
        return;
    snprintf(out + used, out_len - used, "%sphantom %lld: the counter says %lld %s free seats "
             "than the ticket rows leave", used && out[used - 1] != '(' ? ", " : "", phantom,
             phantom < 0 ? -phantom : phantom, phantom < 0 ? "fewer" : "more");
}

/* checker_verdict writes the verdict line's text: the bugs by name, or
 * the costs when there is no bug, or "clean". */
void checker_verdict(const struct check_result *r, char *out, size_t out_len)
{
    if (checker_is_bug(r)) {
        snprintf(out, out_len, "BUG (");
        add_part(out, out_len, "oversold", r->oversold);
        add_part(out, out_len, "lost", r->lost);
        add_part(out, out_len, "duplicated", r->duplicated);
        add_part(out, out_len, "false confirmations", r->false_confirmations);
        add_part(out, out_len, "false refusals", r->false_refusals);
        if (r->phantom)
            add_phantom(out, out_len, r->phantom);
        add_part(out, out_len, "answers disagree", r->answers_disagree);
        if (r->claims_known)
            add_part(out, out_len, "stuck claims (in_progress for good)", r->stuck_claims);
        if (r->drift_known && r->drift)
            add_drift(out, out_len, r->drift);
    } else if (r->undersold) {
        snprintf(out, out_len, "clean, degraded (");
        add_part(out, out_len, "undersold", r->undersold);
    } else {
        snprintf(out, out_len, "clean");
    }
    if (strncmp(out, "clean", 6) != 0 && strlen(out) + 1 < out_len)
        strcat(out, ")");
    if (r->planted[0]) {
        size_t used = strlen(out);
        snprintf(out + used, out_len - used, " [PLANTED BUG: %s]", r->planted);
    }
}

/* checker_write_human prints the checker's table and verdict line, below
 * the audit's summary. */
void checker_write_human(FILE *out, const struct check_result *r)
{
    char verdict[512], drift[32] = "n/a", avail[32] = "n/a", recover[32] = "n/a";
    char stuck[32] = "n/a";

    checker_verdict(r, verdict, sizeof verdict);
    if (r->drift_known)
        snprintf(drift, sizeof drift, "%lld", r->drift);
    if (r->claims_known)
        snprintf(stuck, sizeof stuck, "%lld", r->stuck_claims);
    if (r->availability >= 0)
        snprintf(avail, sizeof avail, "%.1f %% of %lld", 100.0 * r->availability,
                 r->window_requests);
    if (r->recover_s >= 0)
        snprintf(recover, sizeof recover, "%.2f s", r->recover_s);
    fprintf(out,
            "\nchecker (history against the database, after recovery)\n"
            "  requests            %lld (ok %lld, fail %lld, info %lld)\n"
            "  oversold            %lld\n"
            "  lost                %lld\n"
            "  duplicated          %lld\n"
            "  false confirmations %lld\n"
            "  acknowledged, lost  %lld (201 with no ticket %lld, 202 never decided %lld)\n"
            "  false refusals      %lld\n"
            "  unknown outcomes    %lld (resolved: %lld booked, %lld not booked)\n"
            "  counter drift       %s\n"
            "  phantom             %lld\n"
            "  undersold           %lld (refused %lld)\n"
            "  request ids         %lld (%lld tries were retries of an id)\n"
            "  answers disagree    %lld\n"
            "  stuck claims        %s\n"
            "  availability        %s (in the fault window)\n"
            "  time to recover     %s\n"
            "checker verdict: %s\n",
            r->requests, r->ok, r->fail, r->info, r->oversold, r->lost, r->duplicated,
            r->false_confirmations, r->acked_lost, r->false_confirmations, r->lost,
            r->false_refusals, r->info, r->unknown_booked,
            r->unknown_not_booked, drift, r->phantom, r->undersold, r->refused, r->ids,
            r->same_id_retries,
            r->answers_disagree, stuck, avail, recover, verdict);
}

/* checker_write_fields writes the figures as "check_NAME":value pairs,
 * without braces: the attack's --json summary carries them (flat, as
 * regress/expectations.conf reads figures), and so does the -check.json. */
void checker_write_fields(FILE *out, const struct check_result *r)
{
    char verdict[512];

    checker_verdict(r, verdict, sizeof verdict);
    fprintf(out, "\"check_requests\":%lld,\"check_ok\":%lld,\"check_fail\":%lld,"
            "\"check_info\":%lld,\"check_oversold\":%lld,\"check_lost\":%lld,"
            "\"check_duplicated\":%lld,\"check_false_confirmations\":%lld,"
            "\"check_false_refusals\":%lld,\"check_unknown_booked\":%lld,"
            "\"check_unknown_not_booked\":%lld,\"check_acked_lost\":%lld,",
            r->requests, r->ok, r->fail, r->info, r->oversold, r->lost, r->duplicated,
            r->false_confirmations, r->false_refusals, r->unknown_booked, r->unknown_not_booked,
            r->acked_lost);
    if (r->drift_known)
        fprintf(out, "\"check_drift\":%lld,", r->drift);
    else
        fprintf(out, "\"check_drift\":null,");
    fprintf(out, "\"check_phantom\":%lld,\"check_refused\":%lld,\"check_undersold\":%lld,"
            "\"check_window_requests\":%lld,\"check_window_ok\":%lld,",
            r->phantom, r->refused, r->undersold, r->window_requests, r->window_ok);
    if (r->availability >= 0)
        fprintf(out, "\"check_availability_pct\":%.1f,", 100.0 * r->availability);
    else
        fprintf(out, "\"check_availability_pct\":null,");
    if (r->recover_s >= 0)
        fprintf(out, "\"check_recover_s\":%.3f,", r->recover_s);
    else
        fprintf(out, "\"check_recover_s\":null,");
    fprintf(out, "\"check_ids\":%lld,\"check_same_id_retries\":%lld,"
            "\"check_answers_disagree\":%lld,", r->ids, r->same_id_retries, r->answers_disagree);
    if (r->claims_known)
        fprintf(out, "\"check_stuck_claims\":%lld,", r->stuck_claims);
    else
        fprintf(out, "\"check_stuck_claims\":null,");
    fprintf(out, "\"check_bug\":%s,\"check_verdict\":\"%s\",\"check_planted\":\"%s\"",
            checker_is_bug(r) ? "true" : "false", verdict, r->planted);
}

/* checker_write_json writes <run>-check.json: the run, the faults with
 * their windows (seconds since the start line), and the figures. */
void checker_write_json(FILE *out, const struct check_result *r, const char *run_id, int phase,
                        const struct nemesis_plan *plan, uint64_t start_us)
{
    fprintf(out, "{\"runId\":\"%s\",\"phase\":%d,\"faults\":\"", run_id, phase);
    for (int i = 0; plan && i < plan->count; i++)
        fprintf(out, "%s%s%s", i ? "," : "", fault_kind_name(plan->faults[i].kind),
                plan->faults[i].broken_us ? "" : " (skipped)");
    fprintf(out, "\",\"windows\":[");
    for (int i = 0, n = 0; plan && i < plan->count; i++) {
        const struct fault *f = &plan->faults[i];
        if (!f->broken_us)
            continue;
        fprintf(out, "%s[%.3f,%.3f,%.3f]", n++ ? "," : "",
                (double)((long long)f->broken_us - (long long)start_us) / 1e6,
                (double)((long long)f->heal_us - (long long)start_us) / 1e6,
                (double)((long long)f->healed_us - (long long)start_us) / 1e6);
    }
    fprintf(out, "],");
    checker_write_fields(out, r);
    fprintf(out, "}\n");
}

/* checker_write_ids: see checker.h. The ids in job order, the tried ones. */
void checker_write_ids(FILE *out, const struct check_id *ids, long long jobs, const char *run_id,
                       long long user_base)
{
    for (long long j = 0; j < jobs; j++) {
        const struct check_id *id = &ids[j];

        if (id->tries == 0)
            continue;
        fprintf(out, "{\"requestId\":\"%s-%lld\",\"tries\":%d,\"final\":\"%s\"", run_id,
                user_base + 1 + j, id->tries, history_answer_name((enum history_answer)id->final));
        if (id->final == HISTORY_ANSWER_BOOKED && id->ticket_id > 0)
            fprintf(out, ",\"ticketId\":%lld", id->ticket_id);
        fprintf(out, ",\"agree\":%s}\n", id->disagree ? "false" : "true");
    }
}
