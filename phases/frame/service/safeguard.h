/* safeguard.h -- the safeguards a phase can be run without (--without NAME),
 * for the zoo of planted bugs (docs/zoo.md).
 *
 * Every safe phase is safe because of a handful of safeguards: a row lock, a
 * seat given back, an offset committed after the database commit, ... The
 * zoo switches one off at a time to show what it buys, and to show that the
 * lab's audit and checker catch the damage. A service with a safeguard off
 * says so loudly: in its log at start, in GET /healthz ("safeguardsOff"),
 * and so in the harness's summary and verdict line. */
#ifndef LAB_SAFEGUARD_H
#define LAB_SAFEGUARD_H

#include <stdbool.h>
#include <stddef.h>

enum safeguard {
    SAFEGUARD_FOR_UPDATE,      /* phase 3's transaction reads the event row FOR UPDATE */
    SAFEGUARD_REREAD,          /* optimistic: a retry reads the seats again */
    SAFEGUARD_ATOMIC_GATE,     /* the gate takes a seat in one Redis script */
    SAFEGUARD_GIVE_BACK,       /* a seat the database refused or failed goes back to the gate */
    SAFEGUARD_CLAIM_FIRST,     /* a request id is claimed before the gate takes a seat */
    SAFEGUARD_REBUILD,         /* a gate found empty is rebuilt from the database */
    SAFEGUARD_FENCE,           /* a booking never lands in a later generation of the sale */
    SAFEGUARD_COMMIT_AFTER,    /* the Kafka offset is committed after the database commit */
    SAFEGUARD_DEDUPE,          /* the consumer skips a message whose request was decided */
    SAFEGUARD_ACK_FIRST,       /* the 202 waits for the broker's acknowledgement */
    SAFEGUARD_COUNT
};

#define SAFEGUARD_BIT(s) (1u << (s))

/* safeguard_name is S's name on the command line ("give-back"). */
const char *safeguard_name(enum safeguard s);

/* safeguard_parse adds the safeguards named in LIST (comma-separated) to
 * *MASK. False with the reason, and the names there are, in ERR. */
bool safeguard_parse(const char *list, unsigned *mask, char *err, size_t err_len);

/* safeguard_list writes the names in MASK, comma-separated, into OUT ("" for
 * none), and returns OUT. */
char *safeguard_list(unsigned mask, char *out, size_t out_len);

#endif
