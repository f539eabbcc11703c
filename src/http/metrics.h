/* Request metrics in Prometheus text format: loy_http_requests_total{route,method,status} and
 * loy_http_request_duration_seconds (histogram) per route. Counters are lock-free atomics indexed by
 * the route's position in the table, so recording costs no allocation and no lock. */
#ifndef LOY_HTTP_METRICS_H
#define LOY_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "http/router.h"

/* Sizes the counters for a table of n routes (plus one row for requests that matched none). */
enum loy_err metrics_init(const struct route *routes, size_t n);
void metrics_shutdown(void);
/* route may be NULL (unmatched). */
void metrics_record(const struct route *route, int status, int64_t duration_us);
/* Appends the exposition text for the HTTP metrics. */
enum loy_err metrics_render(struct buf *out);

#endif
