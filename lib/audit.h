/* audit.h -- the lie detector: what the database says against what it holds.
 * The arithmetic is here once; the service's audit endpoint and the harness's
 * direct audit both fill the raw counts from SQL and call audit_compute(). */
#ifndef LAB_AUDIT_H
#define LAB_AUDIT_H

#include <stdbool.h>

struct audit {
    /* raw counts, read from the database */
    long long total_seats;      /* events.total_seats */
    long long available;        /* events.available_seats: the counter */
    long long sold;             /* ticket rows of the event */
    long long duplicate_users;  /* users holding more than per_user_limit tickets */
    long long per_user_limit;   /* events.per_user_limit: the declared policy */
    long long other_runs;       /* tickets/decisions of another generation: traces of another run */
    /* the Redis gate (phases 4 and 6), set by audit_set_gate(); unknown otherwise */
    bool gate_known;            /* the gate's counter was read */
    long long cache_drift;      /* the gate's free seats - available (0: in step) */
    /* derived by audit_compute() */
    long long oversold;         /* max(0, sold - total_seats) */
    long long phantom;          /* available - (total_seats - sold): counter drift */
    bool clean;                 /* oversold == phantom == duplicate_users == other_runs == 0,
                                   and no cache_drift when the gate is known */
};

void audit_compute(struct audit *a);

/* audit_set_gate records the Redis gate's counter, CACHE_AVAILABLE free
 * seats, against the database's counter, and computes the verdict again.
 * Once the sale is quiet the two must agree: a gate below the database
 * never sells the difference (seats lost), a gate above it admits buyers
 * the database must refuse. Either way the verdict is no longer clean. */
void audit_set_gate(struct audit *a, long long cache_available);

/* audit_undersold: the seats left unsold although more requests than that
 * were refused, min(total_seats - sold, refused), never negative. A sale
 * that turns buyers away with seats still on the shelf (a strategy that
 * gave up after its retries, a gate that leaked seats) sold less than it
 * could: the mirror image of overselling. REFUSED is the demand of the run
 * that got no ticket (sold out, failed, or given up). */
long long audit_undersold(long long total_seats, long long sold, long long refused);

#endif
