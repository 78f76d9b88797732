/* gate_memo.c -- the gate's memory of "sold out": a small table of events,
 * each slot one event id and the time Redis last said "sold out" for it.
 * A slot is guarded by its own mutex (the two values must be read together);
 * events that share a slot only evict each other, which costs a Redis round
 * trip, never a wrong answer. */
#include "gate/gate_memo.h"

#include <pthread.h>
#include <stdint.h>
#include "lab.h"

#define GATE_MEMO_SLOTS 64

static struct gate_memo_slot {
    pthread_mutex_t lock;
    long long event_id;        /* 0: empty (event ids start at 1) */
    uint64_t sold_out_us;      /* when Redis said so (lab_now_us) */
} gate_memo[GATE_MEMO_SLOTS] = {
    [0 ... GATE_MEMO_SLOTS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};

/* gate_memo_slot: the slot of EVENT_ID. */
static struct gate_memo_slot *gate_memo_slot(long long event_id)
{
    return &gate_memo[(unsigned long long)event_id % GATE_MEMO_SLOTS];
}

bool gate_memo_sold_out(long long event_id, int memo_ms)
{
    struct gate_memo_slot *s;
    bool sold_out;

    if (memo_ms <= 0)
        return false;
    s = gate_memo_slot(event_id);
    pthread_mutex_lock(&s->lock);
    sold_out = s->event_id == event_id &&
               lab_now_us() - s->sold_out_us < (uint64_t)memo_ms * 1000u;
    pthread_mutex_unlock(&s->lock);
    return sold_out;
}

void gate_memo_note(long long event_id)
{
    struct gate_memo_slot *s = gate_memo_slot(event_id);

    pthread_mutex_lock(&s->lock);
    s->event_id = event_id;
    s->sold_out_us = lab_now_us();
    pthread_mutex_unlock(&s->lock);
}

void gate_memo_forget(long long event_id)
{
    struct gate_memo_slot *s = gate_memo_slot(event_id);

    pthread_mutex_lock(&s->lock);
    if (s->event_id == event_id)
        s->event_id = 0;
    pthread_mutex_unlock(&s->lock);
}
