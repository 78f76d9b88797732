/* sentinel.h -- reaching the lab's Redis from its address, LAB_REDIS: one
 * server ("host:port"), or the Sentinels that know which server is the
 * primary of a name ("sentinel://host:port,host:port,.../NAME": the
 * replicated topology, docs/cluster.md). Every connection of the phases
 * (phases/frame/clients/cache.c) and of the harness (harness/claims.c) is
 * opened here, so that each one, the first and every reconnection, asks
 * the Sentinels again and lands on the primary of the moment. */
#ifndef LAB_SENTINEL_H
#define LAB_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <hiredis/hiredis.h>

#define REDIS_ADDR_SENTINELS 8     /* Sentinels an address may list, at most */
#define REDIS_ADDR_HOST 128        /* bytes of a host name, with its NUL */
#define REDIS_ADDR_NAME 64         /* bytes of a primary's name, with its NUL */
#define REDIS_RUN_ID 41            /* a server's run_id: 40 hex digits and a NUL */

/* A parsed address. SENTINELS is 0 for one server (HOST[0]:PORT[0]), else
 * how many Sentinels there are, asked in their order for NAME. */
struct redis_addr {
    int sentinels;
    char host[REDIS_ADDR_SENTINELS][REDIS_ADDR_HOST];
    int port[REDIS_ADDR_SENTINELS];
    char name[REDIS_ADDR_NAME];
};

/* redis_addr_parse reads TEXT into *A: false, with a reason naming both
 * forms in ERR, when it is neither. A NAME is 1 to 63 characters of
 * [A-Za-z0-9_.-], as common.sh takes it. */
bool redis_addr_parse(const char *text, struct redis_addr *a, char *err, size_t err_len);

/* redis_open connects to the Redis that TEXT names and authenticates (the
 * password found for TEXT: secrets_redis_auth), waiting TIMEOUT_MS at most
 * per server. For Sentinels: each in turn, until one names the primary
 * (SENTINEL get-master-addr-by-name); then the primary's ROLE must be
 * master, else (a Sentinel's answer gone stale in a failover) it is an
 * error, counted (redis_not_primary_count); RUN_ID (REDIS_RUN_ID bytes,
 * may be NULL) receives the primary's run_id, "" for one server. NULL with
 * the reason in ERR when it cannot. */
redisContext *redis_open(const char *text, int timeout_ms, char *run_id, char *err,
                         size_t err_len);

/* redis_not_primary_count: how many times, since the process started, a
 * Sentinel named a server that was not (or no longer) the primary. */
long long redis_not_primary_count(void);

#endif
