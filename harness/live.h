/* live.h -- the live page (--live HOST:PORT): the class watches the race.
 *
 * The harness serves one self-contained page (live_page.html, embedded at
 * build time) and a stream of Server-Sent Events on loopback while it
 * attacks: the seats being sold, the counter the service believes against
 * the tickets that exist, the answers over time, the fault window, and at
 * the end the verdicts in words (docs/results-format.md lists every event).
 *
 * Three threads, none of which the client threads ever wait for:
 *
 *   client threads  count into their own struct live_counters (relaxed
 *                   stores of a value only they write: no lock, no
 *                   read-modify-write) and, for a 201 that names the
 *                   counter value it read, one relaxed fetch_add on the
 *                   shared seat_hits array;
 *   live thread     one poll(2) loop: every LIVE_TICK_MS it reads those
 *                   counters, diffs them with the last tick's (answers,
 *                   rate, p99 of the window), formats one event and hands
 *                   it to every stream's own bounded buffer, written with
 *                   non-blocking sends; it also answers the page's requests;
 *   database poller its own PostgreSQL connection, every LIVE_DB_POLL_MS:
 *                   the counter and the ticket rows, published as atomics.
 *
 * A stream whose client does not read is dropped when its buffer passes
 * its bound; the loop never blocks on a socket. Main talks to the live
 * thread through live_attack_started, live_stage and live_finish (a
 * mutex-guarded mailbox and a wake-up pipe). */
#ifndef HARNESS_LIVE_H
#define HARNESS_LIVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checker.h"
#include "nemesis.h"
#include "report.h"

#define LIVE_TICK_MS 100           /* an event every 100 ms while the sale runs */
#define LIVE_DB_POLL_MS 150        /* the counter and the tickets, from PostgreSQL */
#define LIVE_MAX_STREAMS 256       /* open /events streams; the next one is 503 */
#define LIVE_DEFAULT_BUFFER_KB 256 /* a stream's unsent bytes before it is dropped */
#define LIVE_MAX_CELLS 5000        /* seats drawn one element each, at most */
#define LIVE_SERIES_MAX 2048       /* points kept; past that every other is dropped */
#define LIVE_CLIENT_ID_MAX 40      /* /events?client=ID: [A-Za-z0-9_-], 1 to 40 */

/* The latency buckets of one thread: bucket 0 holds answers under 64 µs,
 * then four per power of two up to 2^27 µs (134 s); the p99 of a tick is
 * the upper edge of its bucket, so within 19 % above the true value. */
#define LIVE_LAT_BUCKETS 85

/* One client thread's counters: written by that thread alone, read by the
 * live thread. Aligned so that two threads' counters share no cache line. */
struct live_counters {
    _Alignas(64) _Atomic long long accepted;   /* 201 booked, 202 queued */
    _Atomic long long refused;                 /* 409 sold_out */
    _Atomic long long failed;                  /* every error (report.h) */
    _Atomic uint32_t latency[LIVE_LAT_BUCKETS];
};

/* live_bucket_of: the latency bucket of an answer that took US µs. */
unsigned live_bucket_of(uint64_t us);

/* live_bucket_high: the upper edge of bucket B, in µs. */
uint64_t live_bucket_high(unsigned b);

/* live_bump_ll adds one to a counter only the calling thread writes: a
 * relaxed load and store, which costs what a plain increment costs. */
static inline void live_bump_ll(_Atomic long long *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* live_bump_u32: the same for a latency bucket. */
static inline void live_bump_u32(_Atomic uint32_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* live_count files one ended booking in its thread's counters: O its
 * outcome, LATENCY_US its latency when an answer came (ANSWERED). */
static inline void live_count(struct live_counters *lc, enum outcome o, bool answered,
                              uint64_t latency_us)
{
    if (o == OUTCOME_BOOKED || o == OUTCOME_QUEUED)
        live_bump_ll(&lc->accepted);
    else if (o == OUTCOME_SOLD_OUT)
        live_bump_ll(&lc->refused);
    else
        live_bump_ll(&lc->failed);
    if (answered)
        live_bump_u32(&lc->latency[live_bucket_of(latency_us)]);
}

/* Where the page is served and what becomes of it. */
struct live_options {
    bool on;                       /* --live given */
    char host[64];                 /* loopback only: 127.x.x.x or localhost */
    int port;
    int linger_s;                  /* --live-linger: after the audit; -1: until a signal */
    int buffer_kb;                 /* --live-buffer-kb: a stream's bound */
    char save_path[1024];          /* --live-save FILE; "" for none */
};

/* live_parse_address reads --live's HOST:PORT and refuses any host that is
 * not loopback: the page shows the run to whoever can reach it. 0, or -1
 * with the reason in ERR. */
int live_parse_address(const char *text, struct live_options *o, char *err, size_t err_len);

/* What the page knows of the run before it starts. Strings are copied. */
struct live_plan {
    const char *run_id;
    int phase;
    const char *phase_name;
    bool async;
    const char *mode;              /* "burst" or "sustained" */
    long long event_id, seats, users, requests, think_ms;
    int threads;                   /* client threads: one struct live_counters each */
    const char *planted;           /* the zoo's planted bug, "" for none */
    const struct nemesis_plan *faults;
    const char *conninfo;          /* the database poller's PostgreSQL */
    long long decided_before;      /* the event's decided rows before the attack */
};

struct live;

/* live_start binds the page's socket (so that a busy port is an error at
 * once), starts the live thread and the database poller, and prints the
 * page's URL on stderr. NULL with the reason in ERR. */
struct live *live_start(const struct live_options *o, const struct live_plan *plan, char *err,
                        size_t err_len);

/* live_counters_of: thread I's counters (I < plan->threads). */
struct live_counters *live_counters_of(struct live *l, int i);

/* live_seat_hits: the array the client threads count the counter values
 * read into (client.h), of *LEN entries: index v counts the 201s that read
 * the counter at v. */
_Atomic unsigned *live_seat_hits(struct live *l, size_t *len);

/* live_attack_started: the users are released at START_US; NEM (may be
 * NULL) publishes the fault windows as they happen. Ticks begin. */
void live_attack_started(struct live *l, uint64_t start_us, const struct nemesis *nem);

/* live_stage names what the harness does now: "attack", "drain", "audit". */
void live_stage(struct live *l, const char *stage);

/* live_finish ends the run on the page: the audit's summary S, the
 * checker's result CHECK (NULL when it did not run), the explanation of
 * the wrong tickets (NULL when none), or for a run that stopped early the
 * reason STOPPED (NULL otherwise). It returns once every stream has been
 * handed the final event and the state has been saved (--live-save). */
void live_finish(struct live *l, const struct summary *s, const struct check_result *check,
                 const char *explain, const char *stopped);

/* live_linger keeps the page served for LINGER_S seconds, or until SIGINT
 * or SIGTERM when LINGER_S is -1 (a signal also ends a timed linger). */
void live_linger(struct live *l, int linger_s);

/* live_stop ends both threads, closes every socket and frees L. */
void live_stop(struct live *l);

/* Exposed for the unit tests (tests/unit/test_live.c). */

/* live_p99_us: the p99 of the answers counted in WINDOW (per bucket), 0
 * when there were none. */
uint64_t live_p99_us(const uint64_t window[LIVE_LAT_BUCKETS]);

/* live_cells: how many elements the grid draws for SEATS seats, and how
 * many seats each stands for. */
void live_cells(long long seats, long long *cells, long long *per_cell);

/* live_cell_hits fills HITS (CELLS entries) with what each cell shows:
 * from SEAT_HITS (indexed by the counter value read, LEN entries) when
 * BY_COUNTER, else the first TICKETS seats sold once each. A cell of
 * several seats shows the most any of them was sold. */
void live_cell_hits(const unsigned *seat_hits, size_t len, bool by_counter, long long tickets,
                    long long seats, unsigned *hits, long long cells);

/* A stream's pending bytes, bounded (live_stream_*: the unit tests drive
 * it over a socketpair whose peer does not read). */
struct live_stream_buf {
    char *data;
    size_t off, len, cap;
    size_t bound;                  /* unsent bytes above this: the stream is dropped */
};

/* live_stream_push appends N bytes of one event and writes what the socket
 * FD takes without blocking. FORCE: append even past the bound (the first
 * state of a new stream). 0: kept; -1: the stream must be dropped (past its
 * bound, out of memory, or the socket failed). */
int live_stream_push(struct live_stream_buf *b, int fd, const char *bytes, size_t n, bool force);

/* live_stream_flush writes what the socket takes now: 0, or -1 when the
 * socket failed. */
int live_stream_flush(struct live_stream_buf *b, int fd);

void live_stream_free(struct live_stream_buf *b);

/* The page, generated at build time from harness/live_page.html. */
extern const char live_page_html[];
extern const size_t live_page_html_len;

#endif
