/* sale.h -- what the API of a phase that claims nothing before the queue
 * (phase 5) knows of each event without asking PostgreSQL: that it exists,
 * and the generation of its sale, which every message carries so that the
 * consumer can tell a request of an earlier sale (docs/architecture.md,
 * "Integrity of a sale").
 *
 * An event is learnt from the database the first time it is booked (on a
 * booking thread), and then kept: events are never deleted. A reset changes
 * the generation; the reset of this process notes it at once, and a watcher
 * thread LISTENs for the notification that every reset's commit sends
 * (db_reset_sale), so a reset made through another process is heard within
 * a round trip. Each time the watcher starts listening it reads every
 * event's generation again; until it first listened, every booking asks the
 * database. */
#ifndef LAB_SALE_H
#define LAB_SALE_H

#include <stdbool.h>
#include "clients/conns.h"

/* sale_generation: true with *GENERATION when EVENT_ID's sale is known. */
bool sale_generation(long long event_id, long long *generation);

/* sale_note records EVENT_ID's GENERATION (a later one never goes back). */
void sale_note(long long event_id, long long generation);

/* sale_watch_start starts the watcher thread on SVC's database; false when
 * the thread cannot be started. sale_watch_stop stops it. */
bool sale_watch_start(const struct service *svc);
void sale_watch_stop(void);

#endif
