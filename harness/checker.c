/* checker.c -- the checker's query and arithmetic (checker.h). */
#include "checker.h"

#include <inttypes.h>
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
        "SELECT request_id, 1 FROM tickets WHERE event_id = $1 "
        "  AND left(request_id, length($2)) = $2 "
        "UNION ALL "
        "SELECT request_id, 0 FROM decisions WHERE event_id = $1 "
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
        } else if (facts[job].refusals < 255) {
            facts[job].refusals++;
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

/* checker_compute walks the history once, request by request, against
 * the facts; then the time to recover, fault by fault (the longest). */
void checker_compute(const struct check_input *in, struct check_result *out)
{
    const struct history_log *h = in->history;

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < h->len; i++) {
        const struct history_record *r = &h->rec[i];
        struct check_fact f = { 0 };
        bool booked;

        if (r->job >= 0 && r->job < in->jobs)
            f = in->facts[r->job];
        booked = f.tickets > 0;
        out->requests++;
        out->ok += r->cls == HISTORY_OK;
        out->fail += r->cls == HISTORY_FAIL;
        out->info += r->cls == HISTORY_INFO;
        if (f.tickets + f.refusals > 1)
            out->duplicated++;
        switch ((enum outcome)r->outcome) {
        case OUTCOME_BOOKED:
            out->false_confirmations += !booked;
            break;
        case OUTCOME_SOLD_OUT:
            out->false_refusals += booked;
            out->refused++;
            break;
        case OUTCOME_QUEUED:
            out->lost += f.tickets + f.refusals == 0;
            out->refused += !booked && f.refusals > 0;
            break;
        default:
            break;
        }
        if (r->cls == HISTORY_INFO) {
            out->unknown_booked += booked;
            out->unknown_not_booked += !booked;
        }
        if (in_window(in->plan, r->invoke_us)) {
            out->window_requests++;
            out->window_ok += r->cls == HISTORY_OK;
        }
    }
    out->oversold = in->oversold;
    out->duplicated += in->duplicate_users;
    out->drift_known = in->gate_known;
    out->drift = in->gate_known ? in->drift : 0;
    out->undersold = in->available > 0 ? (in->available < out->refused ? in->available
                                                                        : out->refused) : 0;
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
 * Drift and undersold are costs of a fault, reported, not bugs. */
bool checker_is_bug(const struct check_result *r)
{
    return r->oversold || r->lost || r->duplicated || r->false_confirmations ||
           r->false_refusals;
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
    } else if (r->undersold || (r->drift_known && r->drift)) {
        snprintf(out, out_len, "clean, degraded (");
        add_part(out, out_len, "undersold", r->undersold);
        if (r->drift_known)
            add_part(out, out_len, "drift", r->drift);
    } else {
        snprintf(out, out_len, "clean");
        return;
    }
    if (strlen(out) + 1 < out_len)
        strcat(out, ")");
}

/* checker_write_human prints the checker's table and verdict line, below
 * the audit's summary. */
void checker_write_human(FILE *out, const struct check_result *r)
{
    char verdict[256], drift[32] = "n/a", avail[32] = "n/a", recover[32] = "n/a";

    checker_verdict(r, verdict, sizeof verdict);
    if (r->drift_known)
        snprintf(drift, sizeof drift, "%lld", r->drift);
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
            "  false refusals      %lld\n"
            "  unknown outcomes    %lld (resolved: %lld booked, %lld not booked)\n"
            "  counter drift       %s\n"
            "  undersold           %lld (refused %lld)\n"
            "  availability        %s (in the fault window)\n"
            "  time to recover     %s\n"
            "checker verdict: %s\n",
            r->requests, r->ok, r->fail, r->info, r->oversold, r->lost, r->duplicated,
            r->false_confirmations, r->false_refusals, r->info, r->unknown_booked,
            r->unknown_not_booked, drift, r->undersold, r->refused, avail, recover, verdict);
}

/* checker_write_fields writes the figures as "check_NAME":value pairs,
 * without braces: the attack's --json summary carries them (flat, as
 * regress/expectations.conf reads figures), and so does the -check.json. */
void checker_write_fields(FILE *out, const struct check_result *r)
{
    char verdict[256];

    checker_verdict(r, verdict, sizeof verdict);
    fprintf(out, "\"check_requests\":%lld,\"check_ok\":%lld,\"check_fail\":%lld,"
            "\"check_info\":%lld,\"check_oversold\":%lld,\"check_lost\":%lld,"
            "\"check_duplicated\":%lld,\"check_false_confirmations\":%lld,"
            "\"check_false_refusals\":%lld,\"check_unknown_booked\":%lld,"
            "\"check_unknown_not_booked\":%lld,",
            r->requests, r->ok, r->fail, r->info, r->oversold, r->lost, r->duplicated,
            r->false_confirmations, r->false_refusals, r->unknown_booked, r->unknown_not_booked);
    if (r->drift_known)
        fprintf(out, "\"check_drift\":%lld,", r->drift);
    else
        fprintf(out, "\"check_drift\":null,");
    fprintf(out, "\"check_refused\":%lld,\"check_undersold\":%lld,"
            "\"check_window_requests\":%lld,\"check_window_ok\":%lld,",
            r->refused, r->undersold, r->window_requests, r->window_ok);
    if (r->availability >= 0)
        fprintf(out, "\"check_availability_pct\":%.1f,", 100.0 * r->availability);
    else
        fprintf(out, "\"check_availability_pct\":null,");
    if (r->recover_s >= 0)
        fprintf(out, "\"check_recover_s\":%.3f,", r->recover_s);
    else
        fprintf(out, "\"check_recover_s\":null,");
    fprintf(out, "\"check_bug\":%s,\"check_verdict\":\"%s\"", checker_is_bug(r) ? "true" : "false",
            verdict);
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
