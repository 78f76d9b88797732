/* gate_memo.h -- the gate's short memory of "sold out" (--gate-memo-ms).
 *
 * Once Redis answered "sold out" for an event, the gate remembers it for a
 * few milliseconds and refuses that event's next requests without asking
 * Redis again: the sold-out path costs no round trip at all. It can only
 * refuse too early, never sell too much: a seat given back within the memo's
 * life is sold to a later request (this process forgets the memo when it
 * gives a seat back or resets the event; another process's reset is seen
 * when the memo ends). 0, the default, turns it off. */
#ifndef LAB_GATE_MEMO_H
#define LAB_GATE_MEMO_H

#include <stdbool.h>

/* gate_memo_sold_out: did Redis say "sold out" for EVENT_ID less than
 * MEMO_MS ago (as told by gate_memo_note)? Always false when MEMO_MS is 0. */
bool gate_memo_sold_out(long long event_id, int memo_ms);

/* gate_memo_note remembers that Redis said "sold out" for EVENT_ID now. */
void gate_memo_note(long long event_id);

/* gate_memo_forget drops what is remembered of EVENT_ID. */
void gate_memo_forget(long long event_id);

#endif
