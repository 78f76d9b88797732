/* audit.c -- the audit's arithmetic, stated once. */
#include "audit.h"

/* audit_compute derives the three figures of the lie detector from the raw
 * counts. `phantom` is the seed's "phantom tickets": the seats the counter
 * still offers although their tickets were sold. Each lost update in phase 2
 * adds one. A negative phantom would mean the counter went down without a
 * ticket being written (a booking that failed after its UPDATE): also a bug.
 * With a gate read (audit_set_gate), a counter out of step with the
 * database is a bug as well. */
void audit_compute(struct audit *a)
{
    a->oversold = a->sold > a->total_seats ? a->sold - a->total_seats : 0;
    a->phantom = a->available - (a->total_seats - a->sold);
    a->clean = a->oversold == 0 && a->phantom == 0 && a->duplicate_users == 0 &&
               a->other_runs == 0 && !(a->gate_known && a->cache_drift != 0);
}

/* audit_set_gate: the drift is the gate's count minus the database's, the
 * sign the service's audit endpoint gives as "cacheDrift". */
void audit_set_gate(struct audit *a, long long cache_available)
{
    a->gate_known = true;
    a->cache_drift = cache_available - a->available;
    audit_compute(a);
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
