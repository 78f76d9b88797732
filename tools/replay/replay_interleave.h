/* replay_interleave.h -- every interleaving of K sessions' steps, counted,
 * numbered and listed; and the id of one explored interleaving, which
 * `build/replay --explored ID` runs again. Pure: no database, no threads
 * (the unit tests check the counts).
 *
 * An interleaving of K sessions of N steps each is a sequence of K * N
 * session numbers in which each session appears N times: its I-th
 * appearance is its I-th step, so each session's own order is kept. There
 * are (K*N)! / (N!)^K of them (C(2N, N) for two sessions). They are
 * numbered in lexicographic order, A before B: number 0 is the serial
 * A...A B...B, the last one the serial in reverse. */
#ifndef LAB_REPLAY_INTERLEAVE_H
#define LAB_REPLAY_INTERLEAVE_H

#include <stdbool.h>
#include <stddef.h>
#include "replay_plan.h"

/* replay_interleavings: how many interleavings K sessions of N steps have;
 * 0 when the number does not fit in 64 bits, or K or N is out of range. */
unsigned long long replay_interleavings(int sessions, int steps);

/* replay_interleaving_unrank writes interleaving number RANK into ORDER
 * (K * N session numbers). false when RANK is out of range. */
bool replay_interleaving_unrank(int sessions, int steps, unsigned long long rank, int *order);

/* replay_interleaving_rank is the inverse: the number of ORDER. */
unsigned long long replay_interleaving_rank(int sessions, int steps, const int *order);

/* replay_interleaving_next turns ORDER (N session numbers in all) into the
 * next interleaving in lexicographic order; false after the last one. */
bool replay_interleaving_next(int *order, int n);

/* replay_interleaving_switches: how often ORDER goes from one session to
 * another (1 for two serial bookings): the fewer, the simpler the race. */
int replay_interleaving_switches(const int *order, int n);

/* replay_interleaving_plan: the plan of ORDER for strategy ST, every step
 * of it (the commit included), K sessions of ST->n_steps steps. */
void replay_interleaving_plan(const int *order, int sessions, const struct replay_strategy *st,
                              struct replay_plan *p);

/* One explored interleaving: what the explorer ran it with. */
struct replay_explored {
    const struct replay_strategy *strategy;
    enum replay_isolation isolation;     /* never DEFAULT */
    int sessions;
    long long seats;
    unsigned long long rank;
};

/* The id: STRATEGY:ISOLATION:SESSIONS:SEATS:NUMBER, e.g.
 * "unsafe:rc:2:1:3" (isolation rc, rr or ser). */
void replay_explored_format(const struct replay_explored *e, char *buf, size_t len);

/* replay_explored_parse reads an id into E and its plan into P; false with
 * the reason in ERR when it names no interleaving. */
bool replay_explored_parse(const char *id, struct replay_explored *e, struct replay_plan *p,
                           char *err, size_t err_len);

#endif
