/* cache_pipe.h -- Redis without a thread per round trip: one thread, one
 * connection, every command that is ready sent in one pipeline.
 *
 * Any thread submits a struct cache_call and goes on; the pipe's thread
 * takes every call submitted since its last round trip, writes them all to
 * Redis at once (hiredis's pipelining: append, then read the replies in
 * order) and calls each call's done() with its reply. So the Redis steps of
 * all requests waiting are in flight together, one round trip for the lot,
 * and the more requests come in, the larger each batch grows. */
#ifndef LAB_CACHE_PIPE_H
#define LAB_CACHE_PIPE_H

#include <hiredis/hiredis.h>
#include "clients/conns.h"

#define CACHE_CALL_ARGS 12         /* arguments of one call, at most */
#define CACHE_CALL_TRIES 100       /* round trips a kept call is tried in */

struct cache_call;

/* DONE receives the call's reply (NULL: Redis did not answer: down,
 * restarted, timed out; SENT then tells whether the command may have run)
 * on the pipe's thread. It must not block; it may
 * free CALL, submit new calls, and answer or pass on a request. The reply
 * is freed after it returns. */
typedef void cache_done_fn(struct cache_call *call, const redisReply *reply);

/* One command: SCRIPT, when set, is a Lua script run with EVALSHA (the pipe
 * loads it once per connection) and ARGV its numkeys, keys and arguments;
 * otherwise ARGV is a whole command. The strings live in BUF (cache_call_arg
 * puts them there). The submitter owns the call until DONE is called. */
struct cache_call {
    struct cache_call *next;       /* the pipe's list */
    const char *script;
    int argc;
    const char *argv[CACHE_CALL_ARGS];
    size_t used;                   /* bytes of BUF taken */
    bool sent;                     /* set by the pipe: written to Redis */
    bool keep;                     /* a call that must land: when it fails (no
                                      reply, or an error), the pipe keeps it
                                      and sends it again with a later round
                                      trip, up to CACHE_CALL_TRIES times,
                                      before DONE sees the failure */
    int tries;
    char buf[320];
    cache_done_fn *done;
};

/* cache_call_arg appends a printf-formatted argument to CALL: false when it
 * does not fit (the call must not be submitted then). */
bool cache_call_arg(struct cache_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct cache_pipe;

/* cache_pipe_start starts the pipe's thread for SVC (its Redis address);
 * NULL when the thread cannot be started. The connection is made on the
 * first call, and made again after a failure. BEFORE, when set, runs on the
 * pipe's thread with its connection up, before each round trip (the gate
 * settles the seats of lost takes there, gate_settle). SCRIPTS (NULL-ended,
 * may be NULL) are loaded as soon as a connection is made, so that the
 * first requests do not wait for it. */
struct cache_pipe *cache_pipe_start(const struct service *svc, void (*before)(struct conns *c),
                                    const char *const *scripts);

/* cache_pipe_submit queues CALL for the next round trip; any thread. */
void cache_pipe_submit(struct cache_pipe *p, struct cache_call *call);

/* cache_pipe_stop runs what is queued, then stops the thread and closes
 * the connection. Nothing may be submitted after it began. */
void cache_pipe_stop(struct cache_pipe *p);

#endif
