/* strategy.h -- choosing a phase's booking by --strategy, and retrying a
 * booking attempt that lost a conflict (optimistic, serializable). */
#ifndef LAB_STRATEGY_H
#define LAB_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include "service/phase.h"

/* strategy_choose copies PHASE into OUT with the booking of the strategy
 * named NAME (NULL: the phase's default) and sets *NAME to the name chosen.
 * False with the reason in ERR when the phase has no such strategy. */
bool strategy_choose(const struct phase *phase, const char **name, struct phase *out, char *err,
                     size_t err_len);

/* strategy_check_without: every safeguard in WITHOUT (--without) is one the
 * CHOSEN phase (after strategy_choose) has; false with the reason in ERR. */
bool strategy_check_without(const struct phase *chosen, unsigned without, char *err,
                            size_t err_len);

/* strategy_planted writes what a zoo run planted into OUT ("" for none):
 * "strategy demo", "without for-update,give-back", or both; returns OUT. */
char *strategy_planted(const struct phase *chosen, unsigned without, char *out, size_t out_len);

/* One attempt of a retried booking: like a book_fn, and *conflict set when
 * it failed on a conflict worth another attempt (contention.h). */
typedef enum lab_status attempt_fn(struct conns *c, const struct booking *b,
                                   struct booking_reply *reply, bool *conflict);

/* retry_booking runs ATTEMPT, and again after each conflict, at most
 * 1 + --retries times in all. Each retry and each booking that ran out of
 * retries is counted (GET /api/stats); one that ran out answers
 * LAB_ERR_CONFLICT (503: try again later), its seat left unsold. */
enum lab_status retry_booking(struct conns *c, const struct booking *b,
                              struct booking_reply *reply, attempt_fn *attempt);

#endif
