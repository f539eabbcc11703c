/* Health, readiness and metrics: no credentials, cheap, safe to poll. */
#include <stdatomic.h>

#include "api/api.h"
#include "http/metrics.h"

static atomic_uint_fast64_t ledger_ops[LEDGER_EXPIRY + 1];

void api_count_ledger(enum ledger_type t)
{
	atomic_fetch_add_explicit(&ledger_ops[t], 1, memory_order_relaxed);
}

void api_healthz(struct http_request *req, struct http_response *res)
{
	api_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

void api_readyz(struct http_request *req, struct http_response *res)
{
	bool ok = store_ping(api_app(req)->st) == LOY_OK;
	api_json(res, ok ? 200 : 503, json_pack("{s:s}", "status", ok ? "ok" : "unavailable"));
}

struct depth {
	int64_t queued, dead;
};

static enum loy_err read_depth(struct store_tx *tx, void *arg)
{
	struct depth *d = arg;
	return store_job_depth(tx, &d->queued, &d->dead);
}

void api_metrics(struct http_request *req, struct http_response *res)
{
	struct depth d = { 0, 0 };
	enum loy_err err = metrics_render(&res->body);

	if (err == LOY_OK)
		err = buf_append_cstr(
			&res->body, "# HELP loy_ledger_operations_total Ledger entries written by "
				    "this process, by type.\n"
				    "# TYPE loy_ledger_operations_total counter\n");
	for (int t = 0; err == LOY_OK && t <= LEDGER_EXPIRY; t++)
		err = buf_printf(&res->body, "loy_ledger_operations_total{type=\"%s\"} %llu\n",
				 ledger_type_name((enum ledger_type)t),
				 (unsigned long long)atomic_load(&ledger_ops[t]));
	if (err == LOY_OK && store_read(api_app(req)->st, &req->arena, read_depth, &d) == LOY_OK)
		err = buf_printf(
			&res->body,
			"# HELP loy_outbox_depth Outbox jobs waiting to be delivered.\n"
			"# TYPE loy_outbox_depth gauge\n"
			"loy_outbox_depth %lld\n"
			"# HELP loy_outbox_dead Outbox jobs dead-lettered (see the admin panel).\n"
			"# TYPE loy_outbox_dead gauge\n"
			"loy_outbox_dead %lld\n",
			(long long)d.queued, (long long)d.dead);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	res->status = 200;
	res->content_type = "text/plain; version=0.0.4";
}
