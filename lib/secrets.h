/* secrets.h -- the lab's passwords: where a program finds them when the
 * user said nothing (the files infra/services.sh generates under .lab/),
 * and how every log line is kept free of them (lab_mask_secrets, lab.h).
 *
 * PostgreSQL: libpq's own ways (a password in LAB_PG, PGPASSWORD,
 * PGPASSFILE); when none is set and LAB_PG is the lab's default, the lab's
 * passfile. Redis: LAB_REDIS_PASSWORD (and LAB_REDIS_USER for an ACL user),
 * else the file LAB_REDIS_PASSFILE names, else, for the lab's default
 * address, the lab's own file. */
#ifndef SECRETS_H
#define SECRETS_H

#include <stdbool.h>
#include <stddef.h>

/* The Makefile compiles in this checkout's .lab/ paths. */
#ifndef LAB_PGPASSFILE_DEFAULT
#define LAB_PGPASSFILE_DEFAULT ".lab/pgpass"
#endif
#ifndef LAB_REDIS_PASSFILE_DEFAULT
#define LAB_REDIS_PASSFILE_DEFAULT ".lab/redis.pass"
#endif

/* secrets_pg_passfile returns the passfile that libpq should read for
 * CONNINFO: the lab's when PGPASSFILE is unset and CONNINFO is the lab's
 * default (LAB_PG_DEFAULT), NULL otherwise (libpq's own rules apply). */
const char *secrets_pg_passfile(const char *conninfo);

/* secrets_redis_auth finds the credentials for the Redis at HOST_PORT:
 * 1 with the password in PASS (and an ACL user in USER, "" for the default
 * user), 0 when there is none, -1 with the reason in ERR (a file named by
 * LAB_REDIS_PASSFILE that cannot be read, a password too long). */
int secrets_redis_auth(const char *host_port, char *user, size_t user_len, char *pass,
                       size_t pass_len, char *err, size_t err_len);

/* secrets_redact_known replaces, in LINE (NUL-terminated), every
 * occurrence of a password this process was given: PGPASSWORD,
 * LAB_REDIS_PASSWORD, and the passwords written inside LAB_PG (as written
 * and percent-decoded). Values shorter than 4 characters are left alone. */
void secrets_redact_known(char *line);

#endif
