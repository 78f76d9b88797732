/* api.h -- the booking API's routes, the same for every phase. */
#ifndef LAB_API_H
#define LAB_API_H

#include "http/http.h"

extern const struct http_route api_routes[];

/* api_id reads the id parameter NAME; on failure it fills a 400 reply. */
bool api_id(struct http_request *req, const char *name, long long *id, struct http_reply *reply);

/* api_failed answers a status that is not a success: 404 for a missing
 * event, 503 naming the backing service that failed. */
void api_failed(struct http_reply *reply, enum lab_status st, long long event_id);

/* GET /api/stats (api_stats.c): the contention counters of this process. */
void api_stats(const struct service *svc, struct http_request *req, struct http_reply *reply);

#endif
