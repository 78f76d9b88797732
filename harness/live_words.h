/* live_words.h -- the verdicts in words a class understands, for the live
 * page's last screen (live.h).
 *
 * The summary's verdict line ("OVERSOLD by 400 seats; PHANTOM: counter is
 * 467 off") is for the people who wrote the lab; a class watching the race
 * wants sentences: "500 tickets were sold for 100 seats". These functions
 * turn the audit's and the checker's figures into such sentences. Pure: the
 * unit tests (tests/unit/test_live_words.c) call them on made-up figures. */
#ifndef HARNESS_LIVE_WORDS_H
#define HARNESS_LIVE_WORDS_H

#include <stddef.h>

#include "checker.h"
#include "report.h"

#define LIVE_WORDS_MAX 1024

/* live_words_audit writes what the audit found in S: a first sentence that
 * says whether the sale went wrong, then one sentence per finding. */
void live_words_audit(const struct summary *s, char *out, size_t out_len);

/* live_words_check writes what the checker (after a fault) found in C:
 * whether every answer told the truth, and how the service fared during
 * the fault window. */
void live_words_check(const struct check_result *c, char *out, size_t out_len);

#endif
