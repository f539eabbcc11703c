/* HTTP metrics (see metrics.h). */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

#define STATUS_MIN 100
#define STATUS_MAX 599

static const double bucket_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					0.05,	0.1,   0.25,   0.5,   1,    2.5 };
#define NBUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct route_metrics {
	atomic_uint_fast64_t status[STATUS_MAX - STATUS_MIN + 1];
	atomic_uint_fast64_t buckets[NBUCKETS + 1]; /* the last is +Inf */
	atomic_uint_fast64_t sum_us;
};

static const struct route *m_routes;
static size_t m_nroutes;
static struct route_metrics *m_rows; /* m_nroutes + 1 rows; the last is "unmatched" */

enum loy_err metrics_init(const struct route *routes, size_t n)
{
	m_rows = calloc(n + 1, sizeof(*m_rows));
	if (!m_rows)
		return LOY_ENOMEM;
	m_routes = routes;
	m_nroutes = n;
	return LOY_OK;
}

void metrics_shutdown(void)
{
	free(m_rows);
	m_rows = NULL;
}

void metrics_record(const struct route *route, int status, int64_t duration_us)
{
	size_t row = route ? (size_t)(route - m_routes) : m_nroutes;
	struct route_metrics *m;
	double secs = (double)duration_us / 1e6;
	size_t b = 0;

	if (!m_rows || row > m_nroutes || status < STATUS_MIN || status > STATUS_MAX)
		return;
	m = &m_rows[row];
	atomic_fetch_add_explicit(&m->status[status - STATUS_MIN], 1, memory_order_relaxed);
	while (b < NBUCKETS && secs > bucket_bounds[b])
		b++;
	atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us, (uint64_t)duration_us, memory_order_relaxed);
}

static void row_labels(size_t row, const char **pattern, const char **method)
{
	*pattern = row < m_nroutes ? m_routes[row].pattern : "unmatched";
	*method = row < m_nroutes ? m_routes[row].method : "";
}

enum loy_err metrics_render(struct buf *out)
{
	enum loy_err err = LOY_OK;

	err = buf_append_cstr(out,
			      "# HELP loy_http_requests_total HTTP requests by route and status.\n"
			      "# TYPE loy_http_requests_total counter\n");
	for (size_t row = 0; err == LOY_OK && row <= m_nroutes; row++) {
		const char *pattern, *method;
		row_labels(row, &pattern, &method);
		for (int s = STATUS_MIN; err == LOY_OK && s <= STATUS_MAX; s++) {
			uint64_t v = atomic_load(&m_rows[row].status[s - STATUS_MIN]);
			if (v)
				err = buf_printf(
					out,
					"loy_http_requests_total{route=\"%s\",method=\"%s\","
					"status=\"%d\"} %llu\n",
					pattern, method, s, (unsigned long long)v);
		}
	}
	if (err == LOY_OK)
		err = buf_append_cstr(out,
				      "# HELP loy_http_request_duration_seconds Request latency.\n"
				      "# TYPE loy_http_request_duration_seconds histogram\n");
	for (size_t row = 0; err == LOY_OK && row <= m_nroutes; row++) {
		const char *pattern, *method;
		uint64_t cum = 0;
		row_labels(row, &pattern, &method);
		for (size_t b = 0; b <= NBUCKETS; b++)
			cum += atomic_load(&m_rows[row].buckets[b]);
		if (cum == 0)
			continue;
		cum = 0;
		for (size_t b = 0; err == LOY_OK && b <= NBUCKETS; b++) {
			cum += atomic_load(&m_rows[row].buckets[b]);
			if (b < NBUCKETS)
				err = buf_printf(
					out,
					"loy_http_request_duration_seconds_bucket{route=\"%s\","
					"method=\"%s\",le=\"%g\"} %llu\n",
					pattern, method, bucket_bounds[b], (unsigned long long)cum);
			else
				err = buf_printf(
					out,
					"loy_http_request_duration_seconds_bucket{route=\"%s\","
					"method=\"%s\",le=\"+Inf\"} %llu\n",
					pattern, method, (unsigned long long)cum);
		}
		if (err == LOY_OK)
			err = buf_printf(
				out,
				"loy_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"}"
				" %.6f\nloy_http_request_duration_seconds_count{route=\"%s\","
				"method=\"%s\"} %llu\n",
				pattern, method, (double)atomic_load(&m_rows[row].sum_us) / 1e6,
				pattern, method, (unsigned long long)cum);
	}
	return err;
}
