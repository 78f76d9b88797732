/* claim_pipe.c -- phase 5's claims, many per statement: see claim_pipe.h. */
#include "booking/claim_pipe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "parse.h"

/* A settlement kept until PostgreSQL takes it. */
struct claim_settle {
    struct claim_settle *next;
    bool queued;
    char request_id[PARSE_REQUEST_ID_MAX + 1];
};

/* The pipe: one thread, its connection, its lists. One, not several taken
 * in turn: measured with make bench (phase 5's 202s at 50 and 200
 * connections, three runs each), two were no faster (29 k/s against 32 k/s
 * at 200 connections) and four slower (13 k/s): one thread's statements
 * batch more requests each. */
struct claim_pipe {
    struct conns conns;            /* the pipe thread's own connection */
    pthread_t thread;
    pthread_mutex_t lock;          /* guards the lists and stop */
    pthread_cond_t ready;          /* something was submitted, or stop was set */
    struct claim_call *head, *tail;
    struct claim_settle *settles;
    bool stop;
    struct db_claim claims[DB_BATCH_MAX];   /* the statement's rows */
};

/* How often an idle pipe tries again the settlements PostgreSQL refused. */
#define CLAIM_PIPE_TICK_MS 1000

/* ---------------------------------------------------------------------- */
/* One round: settle, then claim                                            */
/* ---------------------------------------------------------------------- */

/* claim_pipe_keep gives the settlements from S on back to the pipe, for
 * its next round. */
static void claim_pipe_keep(struct claim_pipe *p, struct claim_settle *s)
{
    struct claim_settle *next;

    pthread_mutex_lock(&p->lock);
    for (; s; s = next) {
        next = s->next;
        s->next = p->settles;
        p->settles = s;
    }
    pthread_mutex_unlock(&p->lock);
}

/* claim_pipe_round runs one statement: up to DB_BATCH_MAX of the
 * settlements S stored, and up to DB_BATCH_MAX of the claims CALLS made,
 * each claim handed its result. What did not fit goes to the next round
 * (the claims at once, the settlements with the pipe's next wake-up); the
 * settlements of a statement that failed are kept and tried again. */
static void claim_pipe_round(struct claim_pipe *p, struct claim_call *calls,
                             struct claim_settle *s)
{
    const char *queued[DB_BATCH_MAX], *released[DB_BATCH_MAX];
    struct claim_call *call[DB_BATCH_MAX];
    struct claim_settle *taken = s, *rest = s, *next;
    size_t nq = 0, nr = 0, n = 0;
    enum lab_status st;

    while (rest && nq < DB_BATCH_MAX && nr < DB_BATCH_MAX) {
        if (rest->queued)
            queued[nq++] = rest->request_id;
        else
            released[nr++] = rest->request_id;
        rest = rest->next;
    }
    for (; calls && n < DB_BATCH_MAX; calls = calls->next, n++) {
        call[n] = calls;
        p->claims[n] = (struct db_claim){ .b = calls->b, .result = DB_CLAIM_ASK_AGAIN };
    }
    st = conns_db(&p->conns);
    if (st == LAB_OK)
        st = db_request_claim_many(p->conns.db, p->claims, n, queued, nq, released, nr);
    for (struct claim_settle *end = rest; taken != end; taken = next) {
        next = taken->next;
        if (st == LAB_OK) {
            free(taken);
        } else {
            taken->next = rest;         /* not stored: again, with the rest */
            rest = taken;
        }
    }
    if (rest)
        claim_pipe_keep(p, rest);
    for (size_t i = 0; i < n; i++) {
        call[i]->result = p->claims[i].result;
        call[i]->prior = p->claims[i].prior;
        if (p->claims[i].result == DB_CLAIM_FIRST)
            call[i]->b->generation = p->claims[i].generation;
        call[i]->next = NULL;
        call[i]->done(call[i], st);       /* may free the call: not used after */
    }
    if (calls)
        claim_pipe_round(p, calls, NULL);
}

/* The pipe's thread: whatever was submitted since its last round is the
 * next one. Idle, it wakes every CLAIM_PIPE_TICK_MS for the settlements
 * still to store. */
static void *claim_pipe_run(void *arg)
{
    struct claim_pipe *p = arg;
    bool stop;

    conns_db(&p->conns);               /* connected before the first request */
    do {
        struct claim_call *calls;
        struct claim_settle *settles;
        struct timespec until;
        bool ticked = false;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CLAIM_PIPE_TICK_MS / 1000;
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stop && !ticked && !p->settles)
            ticked = pthread_cond_timedwait(&p->ready, &p->lock, &until) != 0;
        calls = p->head;
        settles = p->settles;
        p->head = p->tail = NULL;
        p->settles = NULL;
        stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (settles || calls)
            claim_pipe_round(p, calls, settles);
        if (settles && !calls && !stop) {   /* PostgreSQL refused them: not at once again */
            pthread_mutex_lock(&p->lock);
            if (p->settles && !p->head && !p->stop) {
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += CLAIM_PIPE_TICK_MS / 1000;
                pthread_cond_timedwait(&p->ready, &p->lock, &until);
            }
            pthread_mutex_unlock(&p->lock);
        }
    } while (!stop);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Start, submit, stop                                                      */
/* ---------------------------------------------------------------------- */

struct claim_pipe *claim_pipe_start(const struct service *svc)
{
    struct claim_pipe *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    p->conns.svc = svc;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->ready, NULL);
    if (pthread_create(&p->thread, NULL, claim_pipe_run, p) != 0) {
        pthread_cond_destroy(&p->ready);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

void claim_pipe_submit(struct claim_pipe *p, struct claim_call *call)
{
    call->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = call;
    else
        p->head = call;
    p->tail = call;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->lock);
}

void claim_pipe_settle(struct claim_pipe *p, const char *request_id, bool queued)
{
    struct claim_settle *s = calloc(1, sizeof *s);

    if (!s) {
        lab_log("claims: out of memory: the claim of %s stays in progress", request_id);
        return;
    }
    s->queued = queued;
    snprintf(s->request_id, sizeof s->request_id, "%s", request_id);
    pthread_mutex_lock(&p->lock);
    s->next = p->settles;
    p->settles = s;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->lock);
}

void claim_pipe_stop(struct claim_pipe *p)
{
    struct claim_settle *s, *next;
    size_t lost = 0;

    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    if ((s = p->settles)) {             /* one last try */
        p->settles = NULL;
        claim_pipe_round(p, NULL, s);
    }
    for (s = p->settles; s; s = next, lost++) {
        next = s->next;
        free(s);
    }
    if (lost)
        lab_log("claims: %zu claims left in progress at stop (a retry resolves them)", lost);
    PQfinish(p->conns.db);
    pthread_cond_destroy(&p->ready);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
