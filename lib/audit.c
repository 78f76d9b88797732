/* audit.c -- the audit's arithmetic, stated once. */
#include "audit.h"

/* audit_compute derives the three figures of the lie detector from the raw
 * counts. `phantom` is the seed's "phantom tickets": the seats the counter
 * still offers although their tickets were sold. Each lost update in phase 2
 * adds one. A negative phantom would mean the counter went down without a
 * ticket being written (a booking that failed after its UPDATE): also a bug. */
void audit_compute(struct audit *a)
{
    a->oversold = a->sold > a->total_seats ? a->sold - a->total_seats : 0;
    a->phantom = a->available - (a->total_seats - a->sold);
    a->clean = a->oversold == 0 && a->phantom == 0 && a->duplicate_users == 0 &&
               a->other_runs == 0;
}

/* audit_undersold needs the demand, which only the client knows: the
 * database holds the tickets, not the requests that were turned away. */
long long audit_undersold(long long total_seats, long long sold, long long refused)
{
    long long unsold = total_seats - sold;

    if (unsold <= 0 || refused <= 0)
        return 0;
    return unsold < refused ? unsold : refused;
}
