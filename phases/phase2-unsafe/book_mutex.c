/* Phase 2 with --strategy local-mutex: the same unsafe booking, inside a
 * mutex of this process. Every booking thread of the process waits its turn,
 * so one instance is clean; a second instance has a mutex of its own and
 * never waits for this one: the lock lives in the process, the seats in the
 * database. */
#include <pthread.h>
#include "service/phase.h"

book_fn phase2_book;

static pthread_mutex_t phase2_lock = PTHREAD_MUTEX_INITIALIZER;

enum lab_status phase2_book_mutex(struct conns *c, const struct booking *b,
                                  struct booking_reply *reply)
{
    enum lab_status st;

    pthread_mutex_lock(&phase2_lock);
    /* RACE closed here, open across processes: no thread of this process can
     * read `seats` before we wrote it back, but the threads of another
     * instance take another mutex and read and write the same row. */
    st = phase2_book(c, b, reply);
    pthread_mutex_unlock(&phase2_lock);
    return st;
}
