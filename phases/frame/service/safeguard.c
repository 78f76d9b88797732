/* safeguard.c -- the names of the safeguards (safeguard.h). */
#include "service/safeguard.h"

#include <stdio.h>
#include <string.h>

/* One name per safeguard, in the enum's order; docs/zoo.md has a row each. */
static const char *const safeguard_names[SAFEGUARD_COUNT] = {
    [SAFEGUARD_FOR_UPDATE] = "for-update",
    [SAFEGUARD_REREAD] = "reread",
    [SAFEGUARD_ATOMIC_GATE] = "atomic-gate",
    [SAFEGUARD_GIVE_BACK] = "give-back",
    [SAFEGUARD_CLAIM_FIRST] = "claim-first",
    [SAFEGUARD_REBUILD] = "rebuild",
    [SAFEGUARD_FENCE] = "fence",
    [SAFEGUARD_COMMIT_AFTER] = "commit-after",
    [SAFEGUARD_DEDUPE] = "dedupe",
    [SAFEGUARD_ACK_FIRST] = "ack-first",
};

const char *safeguard_name(enum safeguard s)
{
    return (unsigned)s < SAFEGUARD_COUNT ? safeguard_names[s] : "?";
}

char *safeguard_list(unsigned mask, char *out, size_t out_len)
{
    size_t used = 0;

    if (out_len == 0)
        return out;
    out[0] = '\0';
    for (int s = 0; s < SAFEGUARD_COUNT; s++) {
        if (!(mask & SAFEGUARD_BIT(s)))
            continue;
        int n = snprintf(out + used, out_len - used, "%s%s", used ? "," : "", safeguard_names[s]);
        if (n < 0 || (size_t)n >= out_len - used)
            break;
        used += (size_t)n;
    }
    return out;
}

/* safeguard_parse reads LIST one name at a time; an empty name (",," or a
 * trailing comma) is as wrong as an unknown one. */
bool safeguard_parse(const char *list, unsigned *mask, char *err, size_t err_len)
{
    const char *p = list;

    for (;;) {
        size_t len = strcspn(p, ",");
        int found = -1;

        for (int s = 0; s < SAFEGUARD_COUNT; s++)
            if (strlen(safeguard_names[s]) == len && strncmp(p, safeguard_names[s], len) == 0)
                found = s;
        if (found < 0) {
            char all[256];
            snprintf(err, err_len, "--without: no safeguard '%.*s' (there are: %s)",
                     (int)(len > 64 ? 64 : len), p,
                     safeguard_list(SAFEGUARD_BIT(SAFEGUARD_COUNT) - 1, all, sizeof all));
            return false;
        }
        *mask |= SAFEGUARD_BIT(found);
        if (p[len] == '\0')
            return true;
        p += len + 1;
    }
}
