/* api.h -- the booking API's routes, the same for every phase. */
#ifndef LAB_API_H
#define LAB_API_H

#include "http/http.h"

extern const struct http_route api_routes[];

/* GET /api/stats (api_stats.c): the contention counters of this process. */
void api_stats(const struct service *svc, struct http_request *req, struct http_reply *reply);

#endif
