/* api.h -- the booking API's routes, the same for every phase. */
#ifndef LAB_API_H
#define LAB_API_H

#include "http.h"

extern const struct http_route api_routes[];

#endif
