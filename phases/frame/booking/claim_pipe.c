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

struct claim_pipe {
    struct conns conns;            /* the pipe thread's own connection */
    pthread_t thread;
    pthread_mutex_t lock;          /* guards the lists and stop */
    pthread_cond_t ready;          /* something was submitted, or stop was set */
    struct claim_call *head, *tail;
    struct claim_settle *settles;
    bool stop;
};

/* How often an idle pipe tries again the settlements PostgreSQL refused. */
#define CLAIM_PIPE_TICK_MS 1000

/* ---------------------------------------------------------------------- */
/* One round: settle, then claim                                            */
/* ---------------------------------------------------------------------- */

/* claim_pipe_settle_all stores the settlements S in one statement, or
 * gives them back to the pipe when PostgreSQL fails. */
static void claim_pipe_settle_all(struct claim_pipe *p, struct claim_settle *s)
{
    const char *queued[DB_BATCH_MAX], *released[DB_BATCH_MAX];
    struct claim_settle *rest = s, *next;
    size_t nq = 0, nr = 0;

    while (rest && nq < DB_BATCH_MAX && nr < DB_BATCH_MAX) {
        if (rest->queued)
            queued[nq++] = rest->request_id;
        else
            released[nr++] = rest->request_id;
        rest = rest->next;
    }
    if (conns_db(&p->conns) != LAB_OK ||
        db_request_settle_many(p->conns.db, queued, nq, released, nr) != LAB_OK) {
        pthread_mutex_lock(&p->lock);       /* all of them again, next round */
        for (; s; s = next) {
            next = s->next;
            s->next = p->settles;
            p->settles = s;
        }
        pthread_mutex_unlock(&p->lock);
        return;
    }
    for (; s != rest; s = next) {
        next = s->next;
        free(s);
    }
    if (rest)
        claim_pipe_settle_all(p, rest);
}

/* claim_pipe_claim_all claims the calls from HEAD on, DB_BATCH_MAX per
 * statement, and hands each its result. */
static void claim_pipe_claim_all(struct claim_pipe *p, struct claim_call *head)
{
    static struct db_claim claims[DB_BATCH_MAX];   /* the pipe thread's own */
    struct claim_call *calls[DB_BATCH_MAX];

    while (head) {
        enum lab_status st;
        size_t n = 0;

        for (; head && n < DB_BATCH_MAX; head = head->next) {
            calls[n] = head;
            claims[n] = (struct db_claim){ .b = head->b, .result = DB_CLAIM_ASK_AGAIN };
            n++;
        }
        st = conns_db(&p->conns);
        if (st == LAB_OK)
            st = db_request_claim_many(p->conns.db, claims, n);
        for (size_t i = 0; i < n; i++) {
            calls[i]->result = claims[i].result;
            calls[i]->prior = claims[i].prior;
            if (claims[i].result == DB_CLAIM_FIRST)
                calls[i]->b->generation = claims[i].generation;
            calls[i]->next = NULL;
            calls[i]->done(calls[i], st);   /* may free the call: not used after */
        }
    }
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
        if (settles)
            claim_pipe_settle_all(p, settles);
        if (calls)
            claim_pipe_claim_all(p, calls);
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
        claim_pipe_settle_all(p, s);
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
