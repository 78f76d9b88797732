/* pipeline.c -- POST /api/bookings, step by step (pipeline.h has the map).
 *
 * Which thread runs a step is decided by what the step waits for: the
 * polling thread parses and hands on; the Redis pipe's thread runs the gate
 * phases' claim and take for every waiting request in one round trip; a
 * booking thread runs what must hold a PostgreSQL connection (phase 3's row
 * lock); librdkafka's poller thread answers a hand-off to Kafka when the
 * broker acknowledged it. None of them sleeps for one request. */
#include "booking/pipeline.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include "booking/admit.h"
#include "booking/api.h"
#include "booking/claim_pipe.h"
#include "clients/cache_pipe.h"
#include "db.h"
#include "gate/gate.h"
#include "gate/gate_memo.h"
#include "service/phase.h"

/* Where a booking stands. */
enum booking_step {
    STEP_ADMIT,       /* a booking thread claims the id (and runs the gate) */
    STEP_BOOK,        /* admitted: book (booking thread) or send (Kafka) */
};

struct booking_job {
    struct booking b;              /* parsed once, on the polling thread */
    struct http_request *req;
    const struct service *svc;
    enum booking_step step;
    enum lab_status known;         /* the gate's memo answer sent with the claim */
    bool holds_seat;               /* the gate gave it a seat and the claim is taken:
                                      what pipeline_undo gives back */
    bool holds_claim;              /* phase 5: its claim is taken, to settle */
    struct cache_call call;        /* its Redis step, in the pipe */
    struct claim_call claim;       /* phase 5: its claim, in the claim pipe */
};

/* ---------------------------------------------------------------------- */
/* Parse and answer                                                         */
/* ---------------------------------------------------------------------- */

/* A request that came without a request id gets one: "srv-", 16 hex
 * digits drawn at random once per process, "-" and a counter. Two
 * processes started in the same second never make the same id, nor does a
 * restart; and no client may send an id of this form (pipeline_parse), so
 * none can take one before the service makes it. */
#define PIPELINE_SERVER_ID_PREFIX "srv-"

static uint64_t pipeline_nonce;

static void pipeline_draw_nonce(void)
{
    if (getrandom(&pipeline_nonce, sizeof pipeline_nonce, 0) != sizeof pipeline_nonce)
        pipeline_nonce = lab_now_us() ^ ((uint64_t)getpid() << 32);
}

static pthread_once_t pipeline_nonce_once = PTHREAD_ONCE_INIT;

static void pipeline_make_request_id(char *buf, size_t len)
{
    static atomic_uint_fast64_t seq;

    pthread_once(&pipeline_nonce_once, pipeline_draw_nonce);
    snprintf(buf, len, PIPELINE_SERVER_ID_PREFIX "%016" PRIx64 "-%" PRIuFAST64, pipeline_nonce,
             atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed));
}

/* pipeline_server_id writes the instance's id, "srv-" and the 16 hex
 * digits of the ids it makes (PIPELINE_SERVER_ID_LEN characters): a 201
 * says which instance booked it, so that the harness can tell apart the
 * bookings of two processes that each trusted their own mutex. */
#define PIPELINE_SERVER_ID_LEN 20

static void pipeline_server_id(char *buf, size_t len)
{
    pthread_once(&pipeline_nonce_once, pipeline_draw_nonce);
    snprintf(buf, len, PIPELINE_SERVER_ID_PREFIX "%016" PRIx64, pipeline_nonce);
}

/* pipeline_parse reads a booking's parameters into B, once; on failure it
 * fills a 400 reply. The request id is the client's, or a new one. */
static bool pipeline_parse(struct http_request *req, struct booking *b, struct http_reply *reply)
{
    const char *rid = http_arg(req, "requestId");

    if (!api_id(req, "eventId", &b->event_id, reply) || !api_id(req, "userId", &b->user_id, reply))
        return false;
    if (rid && !parse_request_id(rid)) {
        http_error(reply, 400, "bad_request", "requestId must be 1 to %d characters of "
                   "A-Z a-z 0-9 _ -", PARSE_REQUEST_ID_MAX);
        return false;
    }
    if (rid && strncmp(rid, PIPELINE_SERVER_ID_PREFIX, strlen(PIPELINE_SERVER_ID_PREFIX)) == 0) {
        http_error(reply, 400, "bad_request", "requestId must not start with "
                   PIPELINE_SERVER_ID_PREFIX ": the service names requests without one so");
        return false;
    }
    if (rid)
        snprintf(b->request_id, sizeof b->request_id, "%s", rid);
    else
        pipeline_make_request_id(b->request_id, sizeof b->request_id);
    return true;
}

/* pipeline_reply turns a booking's outcome ST into the HTTP answer. */
static void pipeline_reply(struct http_reply *reply, enum lab_status st, const struct booking *b,
                           long long ticket_id)
{
    switch (st) {
    case LAB_BOOKED:
        http_json(reply, 201, "{\"status\":\"booked\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\",\"ticketId\":%lld}",
                  b->event_id, b->user_id, b->request_id, ticket_id);
        break;
    case LAB_SOLD_OUT:
        http_json(reply, 409, "{\"status\":\"sold_out\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", b->event_id, b->user_id, b->request_id);
        break;
    case LAB_QUEUED:
        snprintf(reply->location, sizeof reply->location, "/api/bookings/result?requestId=%s",
                 b->request_id);
        http_json(reply, 202, "{\"status\":\"queued\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", b->event_id, b->user_id, b->request_id);
        break;
    case LAB_DUPLICATE:
        http_error(reply, 409, "duplicate", "request %s was booked already", b->request_id);
        break;
    case LAB_LIMIT:
    case LAB_STALE:
        http_json(reply, 409, "{\"status\":\"%s\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", lab_status_name(st), b->event_id, b->user_id,
                  b->request_id);
        break;
    default:
        api_failed(reply, st, b->event_id);
        if (st == LAB_ERR_CACHE)
            http_nothing_done(reply);   /* the gate failed: nothing reached the database */
        break;
    }
}

/* pipeline_reply_booked is pipeline_reply for the booking a phase's book
 * has just made: a booking that read the seat counter (BR->counted) also
 * says what it read and wrote, and on which instance ("counterRead",
 * "counterWrote", "server"). Every other answer, a replay included, is
 * pipeline_reply's, unchanged. */
static void pipeline_reply_booked(struct http_reply *reply, enum lab_status st,
                                  const struct booking *b, const struct booking_reply *br)
{
    char server[PIPELINE_SERVER_ID_LEN + 1];

    if (st != LAB_BOOKED || !br->counted) {
        pipeline_reply(reply, st, b, br->ticket_id);
        return;
    }
    pipeline_server_id(server, sizeof server);
    http_json(reply, 201, "{\"status\":\"booked\",\"eventId\":%lld,\"userId\":%lld,"
              "\"requestId\":\"%s\",\"ticketId\":%lld,\"counterRead\":%lld,"
              "\"counterWrote\":%lld,\"server\":\"%s\"}",
              b->event_id, b->user_id, b->request_id, br->ticket_id, br->counter_read,
              br->counter_wrote, server);
}

/* pipeline_answer_admission answers a request whose id was claimed before
 * (a retry: the first answer, or in_progress), or used for someone else.
 * False for the first request with its id: it goes on. */
static bool pipeline_answer_admission(struct http_reply *reply, const struct booking *b,
                                      enum admit_outcome outcome, const struct admit_prior *prior)
{
    switch (outcome) {
    case ADMIT_IN_PROGRESS:
        http_json(reply, 409, "{\"status\":\"in_progress\",\"eventId\":%lld,\"userId\":%lld,"
                  "\"requestId\":\"%s\"}", b->event_id, b->user_id, b->request_id);
        return true;
    case ADMIT_REUSED:
        http_error(reply, 422, "request_id_reused", "request %s was used for another "
                   "event or user", b->request_id);
        return true;
    case ADMIT_REPLAY:
        pipeline_reply(reply, prior->answer, b, prior->ticket_id);
        return true;
    default:
        return false;
    }
}

/* pipeline_answer sends the job's answer ST from whichever thread has it.
 * The job is freed with its request: nothing of it may be used after. */
static void pipeline_answer(struct booking_job *job, enum lab_status st, long long ticket_id)
{
    struct http_reply reply;

    http_reply_empty(&reply);
    pipeline_reply(&reply, st, &job->b, ticket_id);
    http_answer(job->req, &reply);
}

/* ---------------------------------------------------------------------- */
/* Undo and finish, through the Redis pipe                                 */
/* ---------------------------------------------------------------------- */

/* A pipe call of its own, freed when Redis has answered: for what must
 * happen after the request was answered (and its job freed). The pipe
 * keeps it until Redis takes it (call->keep); only a call that failed
 * CACHE_CALL_TRIES round trips, or is still kept when the service stops,
 * is lost, and said so. */
static void pipeline_call_done(struct cache_call *call, const redisReply *reply)
{
    if (!reply || reply->type == REDIS_REPLY_ERROR)
        lab_log("admit: a claim's answer or give-back was lost (Redis %s)",
                reply ? reply->str : "did not answer");
    free(call);
}

/* pipeline_pipe_before runs before each of the pipe's round trips, and at
 * least once a second: the gate is rebuilt if Redis failed over to another
 * primary, the seats of lost takes are given back, and the claims this
 * process holds are said to be alive. */
static void pipeline_pipe_before(struct conns *c)
{
    gate_follow_primary(c->svc);
    gate_settle(c);
    admit_heartbeat(c);
}

/* pipeline_after settles a job that holds the gate's seat and its claim,
 * or phase 5's claim (nothing for any other): with UNDO the seat and the
 * claim go back, otherwise ANSWER (phase 5: queued) is stored on the claim.
 * It runs once per job. */
static void pipeline_after(struct booking_job *job, bool undo, enum lab_status answer)
{
    /* without give-back (the zoo, docs/zoo.md) an undo drops the claim alone */
    bool give_back = !safeguard_off(job->svc->cfg, SAFEGUARD_GIVE_BACK);
    struct cache_call *call;
    bool built;

    if (job->holds_claim) {
        job->holds_claim = false;
        claim_pipe_settle(job->svc->claims, job->b.request_id, !undo);
    }
    if (!job->holds_seat)
        return;
    job->holds_seat = false;
    call = calloc(1, sizeof *call);
    built = call && (!undo      ? admit_finish_call(call, &job->b, answer, 0)
                     : give_back ? admit_undo_call(call, &job->b)
                                 : admit_release_call(call, &job->b));

    if (!built) {
        lab_log("admit: out of memory: request %s keeps its claim%s", job->b.request_id,
                undo ? " and its seat" : "");
        free(call);
        return;
    }
    if (undo && give_back)
        gate_memo_forget(job->b.event_id);   /* a seat is back: ask Redis again */
    call->done = pipeline_call_done;
    call->keep = true;
    cache_pipe_submit(job->svc->pipe, call);
}

void pipeline_undo(const struct service *svc, struct http_request *req, struct http_reply *reply)
{
    struct booking_job *job = http_job(req);

    (void)svc;
    (void)reply;
    if (job)
        pipeline_after(job, true, LAB_OK);
}

/* ---------------------------------------------------------------------- */
/* Send: the hand-off to Kafka, answered by the broker or by the deadline    */
/* ---------------------------------------------------------------------- */

/* A hand-off in flight. librdkafka holds SEND until its delivery report,
 * which always comes, but may come later than the answer promised within
 * --queue-timeout-ms (measured: 10 to 14 s with the broker down and a 5 s
 * timeout). So the ticket lives apart from the job, on a list that the
 * clock thread scans: whichever of the report and the deadline comes first
 * answers the request; the report frees the ticket. */
enum { TICKET_WAITING, TICKET_REPORTED, TICKET_EXPIRED };

struct pipeline_ticket {
    struct queue_send send;        /* first: librdkafka's opaque */
    struct booking_job *job;       /* valid while the ticket is WAITING */
    atomic_int state;
    uint64_t deadline_us;
    struct pipeline_ticket *prev, *next;
};

static struct {
    pthread_mutex_t lock;          /* guards the list and stop */
    pthread_cond_t wake;           /* stop was set */
    struct pipeline_ticket *head, *tail;   /* oldest first: deadlines in order */
    bool stop, started;
    pthread_t thread;
} pipeline_clock = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

/* pipeline_unlink takes T off the list; the caller holds the lock. */
static void pipeline_unlink(struct pipeline_ticket *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        pipeline_clock.head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        pipeline_clock.tail = t->prev;
    t->prev = t->next = NULL;
}

/* pipeline_not_sent answers JOB 503: Kafka refused or did not acknowledge
 * its message in time. The gate's seat and the claim go back (the client's
 * retry is a new try). */
static void pipeline_not_sent(struct booking_job *job)
{
    pipeline_after(job, true, LAB_OK);
    pipeline_answer(job, LAB_ERR_QUEUE, 0);
}

/* pipeline_sent is the broker's verdict on a ticket's message, on
 * librdkafka's poller thread: 202 once it is stored, else 503 and the undo.
 * A ticket whose deadline answered first is only freed: its message, if it
 * was stored after all, is decided by the consumer like any other. */
static void pipeline_sent(struct queue_send *send, enum lab_status st)
{
    struct pipeline_ticket *t = (struct pipeline_ticket *)send;
    int waiting = TICKET_WAITING;

    pthread_mutex_lock(&pipeline_clock.lock);
    pipeline_unlink(t);
    pthread_mutex_unlock(&pipeline_clock.lock);
    if (atomic_compare_exchange_strong(&t->state, &waiting, TICKET_REPORTED)) {
        struct booking_job *job = t->job;

        if (st != LAB_OK) {
            lab_log("queue: Kafka did not store request %s: %s", job->b.request_id,
                    send->reason ? send->reason : "refused");
            pipeline_not_sent(job);
        } else {
            pipeline_after(job, false, LAB_QUEUED);
            pipeline_answer(job, LAB_QUEUED, 0);
        }
    }
    free(t);
}

/* The clock thread answers the tickets past their deadline, every 20 ms. */
static void *pipeline_clock_run(void *arg)
{
    struct booking_job *expired[256];
    size_t n;

    (void)arg;
    pthread_mutex_lock(&pipeline_clock.lock);
    while (!pipeline_clock.stop) {
        struct timespec until;
        uint64_t now = lab_now_us();

        n = 0;
        for (struct pipeline_ticket *t = pipeline_clock.head; t && n < 256; t = t->next) {
            int waiting = TICKET_WAITING;

            if (atomic_load(&t->state) == TICKET_WAITING && now < t->deadline_us)
                break;                    /* every ticket after it is due later */
            if (atomic_compare_exchange_strong(&t->state, &waiting, TICKET_EXPIRED))
                expired[n++] = t->job;   /* the ticket stays until its report */
        }
        pthread_mutex_unlock(&pipeline_clock.lock);
        for (size_t i = 0; i < n; i++) {
            lab_log("queue: Kafka did not acknowledge request %s within %d ms",
                    expired[i]->b.request_id, expired[i]->svc->cfg->queue_timeout_ms);
            pipeline_not_sent(expired[i]);
        }
        pthread_mutex_lock(&pipeline_clock.lock);
        if (n == 256)
            continue;                     /* more may be due */
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pipeline_clock.wake, &pipeline_clock.lock, &until);
    }
    pthread_mutex_unlock(&pipeline_clock.lock);
    return NULL;
}

/* pipeline_send hands the admitted job to the phase's send, with a ticket
 * that the report or the deadline answers. */
static void pipeline_send(struct booking_job *job)
{
    struct pipeline_ticket *t = calloc(1, sizeof *t);
    char err[256];

    if (!t) {
        lab_log("queue: out of memory for request %s", job->b.request_id);
        pipeline_not_sent(job);
        return;
    }
    t->send.done = pipeline_sent;
    t->job = job;
    atomic_init(&t->state, TICKET_WAITING);
    t->deadline_us = lab_now_us() + (uint64_t)job->svc->cfg->queue_timeout_ms * 1000u;
    pthread_mutex_lock(&pipeline_clock.lock);
    t->prev = pipeline_clock.tail;
    if (t->prev)
        t->prev->next = t;
    else
        pipeline_clock.head = t;
    pipeline_clock.tail = t;
    pthread_mutex_unlock(&pipeline_clock.lock);
    if (job->svc->phase->send(job->svc, &job->b, &t->send, err, sizeof err) != LAB_OK) {
        lab_log("queue: %s", err);
        t->send.reason = NULL;
        pipeline_sent(&t->send, LAB_ERR_QUEUE);   /* no report will come: answer and free */
    }
}

/* pipeline_next runs the step after the admission, from the thread that
 * admitted the job: the send, or a booking thread's book. */
static void pipeline_next(struct booking_job *job)
{
    job->step = STEP_BOOK;
    if (job->svc->phase->send)
        pipeline_send(job);
    else
        http_backlog(job->req);
}

/* ---------------------------------------------------------------------- */
/* Admit at the gate: the claim and the seat, one script in the pipe        */
/* ---------------------------------------------------------------------- */

/* pipeline_admitted reads the gate script's answer, on the pipe's thread:
 * a retry or a refusal is answered there and then; a request that holds a
 * seat goes on; one whose counter is missing goes to a booking thread,
 * which seeds it from PostgreSQL. */
static void pipeline_admitted(struct cache_call *call, const redisReply *r)
{
    struct booking_job *job = (struct booking_job *)((char *)call -
                                                     offsetof(struct booking_job, call));
    struct http_reply reply;
    enum admit_outcome outcome;
    struct admit_prior prior;
    enum lab_status answer = LAB_OK;

    http_reply_empty(&reply);
    if (!r && call->sent)
        admit_forget_later(job->svc, &job->b);   /* it may run when Redis answers again */
    if (admit_gate_reply(&job->b, r, job->known, &outcome, &prior, &answer) != LAB_OK) {
        pipeline_answer(job, LAB_ERR_CACHE, 0);
        return;
    }
    if (pipeline_answer_admission(&reply, &job->b, outcome, &prior)) {
        http_answer(job->req, &reply);
        return;
    }
    switch (answer) {
    case LAB_OK:
        job->holds_seat = true;
        pipeline_next(job);
        break;
    case LAB_NOT_FOUND:
        job->step = STEP_ADMIT;
        http_backlog(job->req);
        break;
    case LAB_SOLD_OUT:
        if (job->known == LAB_OK && job->svc->cfg->gate_memo_ms > 0)
            gate_memo_note(job->b.event_id);
        /* fall through */
    default:
        pipeline_answer(job, answer, 0);
        break;
    }
}

/* pipeline_gate_half reads the reply of a round trip of the zoo's split
 * gate (admit_gate_split, docs/zoo.md), on the pipe's thread, and sends
 * the next one; the last is the claim, read by pipeline_admitted. */
static void pipeline_gate_half(struct cache_call *call, const redisReply *r)
{
    struct booking_job *job = (struct booking_job *)((char *)call -
                                                     offsetof(struct booking_job, call));
    bool last;

    if (!r || r->type == REDIS_REPLY_ERROR ||
        !admit_gate_next_call(call, &job->b, admit_gate_split(job->svc->cfg), r, &last)) {
        if (!r && call->sent && call->script)
            gate_uncertain(job->b.event_id);    /* a take whose answer was lost */
        pipeline_answer(job, LAB_ERR_CACHE, 0);
        return;
    }
    /* RACE: (planted) between this round trip and the next, every other
     * request of the batch read the same count, or took its seat before
     * its id was claimed: what the one script never lets happen. */
    call->done = last ? pipeline_admitted : pipeline_gate_half;
    cache_pipe_submit(job->svc->pipe, call);
}

/* pipeline_gate_call builds JOB's first Redis call: the gate's one script
 * (claim, then take), or with a safeguard of the gate off, the first round
 * trip of the zoo's split gate. A request with the sold-out memo's answer
 * takes no seat: the one script stores it. */
static bool pipeline_gate_call(struct booking_job *job)
{
    unsigned split = job->known == LAB_OK ? admit_gate_split(job->svc->cfg) : 0;

    job->call.done = split ? pipeline_gate_half : pipeline_admitted;
    return split ? admit_gate_first_call(&job->call, &job->b, split)
                 : admit_gate_call(&job->call, &job->b, job->known);
}

/* ---------------------------------------------------------------------- */
/* Admit in PostgreSQL, many claims per statement (phase 5)                 */
/* ---------------------------------------------------------------------- */

/* pipeline_claimed reads the claim pipe's answer, on its thread: the first
 * request with its id goes on to Kafka; a retry or a refusal is answered
 * there and then; what the statement could not tell (an id claimed by
 * another process meanwhile, a claim whose holder is gone) goes to a
 * booking thread, which claims it alone. */
static void pipeline_claimed(struct claim_call *call, enum lab_status st)
{
    struct booking_job *job = (struct booking_job *)((char *)call -
                                                     offsetof(struct booking_job, claim));
    struct http_reply reply;
    enum admit_outcome outcome;
    struct admit_prior prior;

    if (st != LAB_OK) {
        http_reply_empty(&reply);
        api_failed(&reply, st, job->b.event_id);
        http_nothing_done(&reply);          /* no claim: nothing was tried */
        http_answer(job->req, &reply);
        return;
    }
    switch (call->result) {
    case DB_CLAIM_FIRST:
        job->holds_claim = true;
        pipeline_next(job);
        return;
    case DB_CLAIM_PRIOR:
        http_reply_empty(&reply);
        admit_judge_stored(&job->b, &call->prior, &outcome, &prior);
        if (pipeline_answer_admission(&reply, &job->b, outcome, &prior)) {
            http_answer(job->req, &reply);
            return;
        }
        break;                              /* cannot be: a claim is a prior answer */
    case DB_CLAIM_NO_EVENT:
        pipeline_answer(job, LAB_NOT_FOUND, 0);
        return;
    default:
        break;
    }
    job->step = STEP_ADMIT;
    http_backlog(job->req);
}

/* ---------------------------------------------------------------------- */
/* The front step, on the polling thread                                    */
/* ---------------------------------------------------------------------- */

/* pipeline_front parses the request once and starts its first step. */
enum http_front_result pipeline_front(const struct service *svc, struct http_request *req,
                                      struct http_reply *reply)
{
    const struct phase *phase = svc->phase;
    struct booking_job *job = calloc(1, sizeof *job);

    if (!job) {
        http_error(reply, 503, "unavailable", "out of memory");
        http_nothing_done(reply);
        return HTTP_ANSWERED;
    }
    if (!pipeline_parse(req, &job->b, reply)) {
        free(job);
        return HTTP_ANSWERED;
    }
    job->req = req;
    job->svc = svc;
    job->step = STEP_ADMIT;
    http_set_job(req, job);          /* the request owns it from here on */
    if (phase->unclaimed) {
        /* a planted strategy (the Java demo's order): no claim, no seat,
         * straight to the queue from this thread */
        if (!http_suspend(req, reply))
            return HTTP_ANSWERED;
        pipeline_next(job);
        return HTTP_KEPT;
    }
    switch (phase->admit) {
    case ADMIT_AT_GATE:
        /* the sold-out memo's answer, if it has one, is stored with the claim */
        job->known = gate_memo_sold_out(job->b.event_id, svc->cfg->gate_memo_ms) ? LAB_SOLD_OUT
                                                                                : LAB_OK;
        if (!pipeline_gate_call(job)) {
            api_failed(reply, LAB_ERR_CACHE, job->b.event_id);
            return HTTP_ANSWERED;
        }
        if (!http_suspend(req, reply))
            return HTTP_ANSWERED;
        cache_pipe_submit(svc->pipe, &job->call);
        return HTTP_KEPT;
    case ADMIT_IN_DB_BATCH:
        if (!http_suspend(req, reply))
            return HTTP_ANSWERED;
        job->claim.b = &job->b;
        job->claim.done = pipeline_claimed;
        claim_pipe_submit(svc->claims, &job->claim);
        return HTTP_KEPT;
    default:
        return HTTP_TO_BACKLOG;
    }
}

/* ---------------------------------------------------------------------- */
/* The booking thread's steps                                               */
/* ---------------------------------------------------------------------- */

/* pipeline_admit_here admits JOB on a booking thread: the claim in
 * PostgreSQL (phases 2, 3; phase 5's when its claim pipe could not tell);
 * the gate phases' claim and take when the pipe could not (a counter to
 * seed first, a claim whose holder is gone to resolve). True when the job
 * goes on; false when REPLY holds its answer. */
static bool pipeline_admit_here(struct conns *c, struct booking_job *job,
                                struct http_reply *reply)
{
    const struct phase *phase = c->svc->phase;
    enum admit_outcome outcome;
    struct admit_prior prior;
    enum lab_status st, answer;

    if ((st = admit_claim(c, &job->b, job->known, &outcome, &prior, &answer)) != LAB_OK) {
        api_failed(reply, st, job->b.event_id);
        http_nothing_done(reply);   /* no claim: nothing was tried */
        return false;
    }
    if (pipeline_answer_admission(reply, &job->b, outcome, &prior))
        return false;
    if (answer == LAB_OK) {
        job->holds_seat = phase_has_gate(phase);
        job->holds_claim = phase->admit == ADMIT_IN_DB_BATCH;
        return true;
    }
    if (answer == LAB_SOLD_OUT && job->known == LAB_OK && c->svc->cfg->gate_memo_ms > 0)
        gate_memo_note(job->b.event_id);
    pipeline_reply(reply, answer, &job->b, 0);   /* stored with the claim */
    return false;
}

/* pipeline_booked_before finds the ticket B's request id was booked under,
 * for a booking the database refused (ST: the ticket's unique request id,
 * or the user's limit, which that very ticket fills): LAB_BOOKED with
 * *TICKET_ID, a replay of the first answer; ST when there is none. */
static enum lab_status pipeline_booked_before(struct conns *c, const struct booking *b,
                                              enum lab_status st, long long *ticket_id)
{
    enum lab_status answer;
    long long ticket;
    bool found;

    if (conns_db(c) == LAB_OK &&
        db_request_outcome(c->db, b->request_id, &found, &answer, &ticket) == LAB_OK &&
        found && answer == LAB_BOOKED) {
        *ticket_id = ticket;
        return LAB_BOOKED;
    }
    return st;
}

/* pipeline_book is the route's handler on a booking thread: it admits the
 * job if that is still to do, then books it (or sends it on). */
void pipeline_book(const struct service *svc, struct http_request *req, struct http_reply *reply)
{
    struct booking_job *job = http_job(req);
    struct booking_reply br = { 0 };
    struct conns *c = conns_self(svc);
    enum lab_status st;

    if (!job || !c) {
        api_failed(reply, LAB_ERR_DB, job ? job->b.event_id : 0);
        pipeline_undo(svc, req, reply);
        return;
    }
    if (job->step == STEP_ADMIT) {
        if (svc->phase->admit != ADMIT_AT_GATE && (st = conns_db(c)) != LAB_OK) {
            api_failed(reply, st, job->b.event_id);
            http_nothing_done(reply);   /* no connection: nothing was tried */
            return;
        }
        if (!pipeline_admit_here(c, job, reply))
            return;
        if (svc->phase->send) {
            http_keep(req);             /* answered by the broker's verdict */
            pipeline_next(job);
            return;
        }
    }
    /* a connection that fails here fails the booking, and the phase's book
     * gives the gate's seat back */
    if (conns_db(c) == LAB_OK && phase_has_gate(svc->phase))
        conns_cache(c);
    st = svc->phase->book(c, &job->b, &br);
    job->holds_seat = false;            /* the phase's book gives back what it does not use */
    if (st == LAB_DUPLICATE || st == LAB_LIMIT) {   /* booked before under this id, its
                                           claim lost (a PostgreSQL crash empties the
                                           unlogged claims): the answer is that ticket */
        st = pipeline_booked_before(c, &job->b, st, &br.ticket_id);
        br.counted = false;             /* that ticket's counter was not read now */
    }
    admit_finish(c, &job->b, st, br.ticket_id);
    pipeline_reply_booked(reply, st, &job->b, &br);
}

/* ---------------------------------------------------------------------- */
/* Start and stop                                                           */
/* ---------------------------------------------------------------------- */

void pipeline_thread_start(const struct service *svc)
{
    struct conns *c = conns_self(svc);

    if (c && conns_db(c) == LAB_OK && phase_has_gate(svc->phase))
        conns_cache(c);
}

bool pipeline_start(struct service *svc)
{
    if (svc->phase->admit == ADMIT_AT_GATE && !(svc->pipe = cache_pipe_start(svc, pipeline_pipe_before, admit_scripts)))
        return false;
    if (svc->phase->admit == ADMIT_IN_DB_BATCH && !(svc->claims = claim_pipe_start(svc)))
        return false;
    if (!admit_sweeper_start(svc))
        return false;
    if (phase_is_async(svc->phase)) {
        pipeline_clock.stop = false;
        pipeline_clock.started =
            pthread_create(&pipeline_clock.thread, NULL, pipeline_clock_run, NULL) == 0;
        if (!pipeline_clock.started)
            return false;
    }
    return true;
}

void pipeline_stop(struct service *svc)
{
    admit_sweeper_stop();
    cache_pipe_stop(svc->pipe);
    svc->pipe = NULL;
    claim_pipe_stop(svc->claims);
    svc->claims = NULL;
    if (pipeline_clock.started) {
        pthread_mutex_lock(&pipeline_clock.lock);
        pipeline_clock.stop = true;
        pthread_cond_signal(&pipeline_clock.wake);
        pthread_mutex_unlock(&pipeline_clock.lock);
        pthread_join(pipeline_clock.thread, NULL);
        pipeline_clock.started = false;
    }
}
