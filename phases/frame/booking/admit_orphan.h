/* admit_orphan.h -- what booking/admit.c and its sweep (admit_sweep.c)
 * share about claims whose holder is gone; private to booking/. */
#ifndef LAB_ADMIT_ORPHAN_H
#define LAB_ADMIT_ORPHAN_H

#include "booking/admit.h"
#include "service/phase.h"

/* The key that says a holder (a process) is alive, renewed by
 * admit_heartbeat, and the spelling of a number inside a script's text. */
#define ADMIT_HOLDER_KEY "lab:holder:"
#define ADMIT_STR_(x) #x
#define ADMIT_STR(x) ADMIT_STR_(x)

/* admit_in_cache: the gate phases keep their claims beside the gate. */
static inline bool admit_in_cache(const struct conns *c)
{
    return c->svc->phase->admit == ADMIT_AT_GATE;
}

/* admit_orphan_answer asks the database what became of B's request, whose
 * claim's holder is gone: *FOUND with the answer a retry replays. */
enum lab_status admit_orphan_answer(struct conns *c, const struct booking *b, bool *found,
                                    enum lab_status *answer, long long *ticket_id);

/* admit_settle_orphan settles B's Redis claim ORPHAN (its value when found)
 * if it still has that value: the answer stored when FOUND, else the claim
 * dropped; *DONE when this call did it. */
enum lab_status admit_settle_orphan(struct conns *c, const struct booking *b,
                                    const char *orphan, bool found,
                                    enum lab_status answer, long long ticket_id, bool *done);

#endif
