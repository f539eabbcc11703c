/* Wallet delivery you can see: for a customer's Apple Wallet pass, the devices that hold it and
 * how far the pass's current version got to each (registered → pushed, with APNs' answer →
 * fetched), the messages devices wrote to the log endpoint, revoking the download link; for the
 * customer's Google Wallet card, whether it is saved, when Google last took it, Google's last
 * refusal, the day's notification budget and the messages sent to it; and the install's wallet
 * set-up for the admin (certificate, APNs refusal, Google's service account, outbox depth). This
 * is what a business looks at when a customer says "my card did not update".
 *
 * Device library ids and push tokens are secrets of the device: they never leave the server. A
 * device is named by the first 8 hex digits of the SHA-256 of its library id, stable across
 * calls and useless to anyone who wants to talk to the PassKit web service as that device. */
#include <string.h>

#include "api/api.h"
#include "api/passkit_input.h"
#include "crypto/digest.h"
#include "wallet/apple/wallet.h"
#include "wallet/google/gwallet.h"

#define WALLET_REPORT_LOG 20	  /* device log messages shown with a pass */
#define WALLET_REPORT_MESSAGES 20 /* Google Wallet messages shown with a card */
#define WALLET_DAY_MS (24 * 3600 * 1000LL)
#define WALLET_DEVICE_LABEL 8

/* The link a customer or the admin panel downloads the pass from: walletLinks.apple, made in one
 * place. */
static json_t *download_url(struct http_request *req, const struct apple_pass *p)
{
	struct wallet_refs w = { .apple = p };
	json_t *links = api_wallet_links(api_app(req), &w);
	json_t *url = json_incref(json_object_get(links, "apple"));

	json_decref(links);
	return url;
}

/* Device messages are untrusted; one that is not UTF-8 must not cost the whole report. */
static json_t *text(const char *s)
{
	json_t *j = json_string(s ? s : "");
	return j ? j : json_string("(not UTF-8)");
}

/* ---- GET /api/v1/customers/{id}/wallet ---- */

struct report_ctx {
	int64_t business_id, id;
	bool apple_on, google_on;
	bool has_pass, has_object;
	struct customer c;
	struct apple_pass p;
	struct apple_registration *regs;
	int nregs;
	struct apple_log_entry *logs;
	int nlogs;
	struct google_object g;
	int64_t notified; /* notifying updates and messages in the last 24 h */
	struct google_message *msgs;
	int nmsgs;
};

static enum loy_err google_read(struct store_tx *tx, struct report_ctx *x)
{
	enum loy_err err = store_google_object_get(tx, x->id, &x->g);

	if (err == LOY_ENOTFOUND)
		return LOY_OK;
	if (err != LOY_OK)
		return err;
	x->has_object = true;
	err = store_google_notifications(tx, x->id, tx->now - WALLET_DAY_MS, &x->notified);
	if (err != LOY_OK)
		return err;
	return store_google_messages_list(tx, x->id, WALLET_REPORT_MESSAGES, &x->msgs, &x->nmsgs);
}

static enum loy_err report_read(struct store_tx *tx, void *arg)
{
	struct report_ctx *x = arg;
	enum loy_err err = store_customer_get(tx, x->business_id, x->id, &x->c);

	if (err == LOY_OK && x->google_on)
		err = google_read(tx, x);
	if (err != LOY_OK || !x->apple_on)
		return err;
	err = store_apple_pass_get(tx, x->id, &x->p);
	if (err == LOY_ENOTFOUND)
		return LOY_OK;
	if (err != LOY_OK)
		return err;
	x->has_pass = true;
	err = store_apple_registrations(tx, x->p.serial, &x->regs, &x->nregs);
	if (err != LOY_OK)
		return err;
	return store_apple_log_list(tx, x->business_id, x->p.serial, WALLET_REPORT_LOG, &x->logs,
				    &x->nlogs);
}

/* The newest version the device is known to hold: the one it last downloaded, or the tag it
 * last asked "what changed since" with, whichever is newer. The tag covers every pass of the
 * device, so a tag past this pass's version means it holds the current one. */
static int64_t holds_version(const struct apple_registration *r, int64_t current)
{
	int64_t listed = r->listed_since < current ? r->listed_since : current;
	return r->fetched_modified_at > listed ? r->fetched_modified_at : listed;
}

/* push_status is "done" or "<status>: <APNs' reason>". */
static json_t *render_push(struct http_request *req, const struct apple_registration *r)
{
	const char *s = r->push_status ? r->push_status : "";
	const char *colon = strchr(s, ':');
	const char *status = colon ? arena_strndup(&req->arena, s, (size_t)(colon - s)) : s;
	const char *detail = NULL;

	if (r->pushed_at == 0)
		return json_null();
	if (colon) {
		detail = colon + 1;
		while (*detail == ' ')
			detail++;
		if (!*detail)
			detail = NULL;
	}
	return json_pack("{s:o,s:o,s:o,s:o}", "at", api_time(r->pushed_at), "version",
			 api_time(r->pushed_version), "status", text(*status ? status : "unknown"),
			 "detail", detail ? text(detail) : json_null());
}

/* Where the pass's current version is on its way to this device. A failed last push is shown
 * whatever version it was for: until a push goes through, the device learns of nothing. */
static const char *stage(const struct apple_registration *r, bool up_to_date, int64_t current)
{
	if (up_to_date)
		return "fetched";
	if (r->pushed_at && (!r->push_status || strcmp(r->push_status, "done") != 0))
		return "push_failed";
	if (r->pushed_at == 0 || r->pushed_version < current)
		return "registered";
	return "pushed";
}

static json_t *render_device(struct http_request *req, const struct apple_registration *r,
			     int64_t current)
{
	char hash[SHA256_HEX_LEN + 1];
	int64_t holds = holds_version(r, current);
	bool up_to_date = holds >= current;

	digest_sha256_hex(r->library_id, strlen(r->library_id), hash);
	hash[WALLET_DEVICE_LABEL] = '\0';
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:s}", "device", hash, "kind",
			 r->kind, "registeredAt", api_time(r->created_at), "pushTokenUpdatedAt",
			 api_time(r->token_updated_at), "lastPush", render_push(req, r),
			 "lastListed",
			 r->listed_at ? json_pack("{s:o,s:o}", "at", api_time(r->listed_at),
						  "since", api_time(r->listed_since))
				      : json_null(),
			 "lastFetch",
			 r->fetched_at ? json_pack("{s:o,s:o}", "at", api_time(r->fetched_at),
						   "version", api_time(r->fetched_modified_at))
				       : json_null(),
			 "holdsVersion", api_time(holds), "upToDate", up_to_date, "stage",
			 stage(r, up_to_date, current));
}

static json_t *render_log(const struct apple_log_entry *e)
{
	return json_pack("{s:o,s:o}", "at", api_time(e->created_at), "message", text(e->message));
}

static json_t *render_pass(struct http_request *req, const struct report_ctx *x)
{
	json_t *devices = json_array(), *log = json_array();

	for (int i = 0; i < x->nregs; i++)
		json_array_append_new(devices, render_device(req, &x->regs[i], x->p.modified_at));
	for (int i = 0; i < x->nlogs; i++)
		json_array_append_new(log, render_log(&x->logs[i]));
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "serialNumber", x->p.serial,
			 "passTypeIdentifier", x->p.pass_type_id, "downloadUrl",
			 download_url(req, &x->p), "version", api_time(x->p.modified_at),
			 "createdAt", api_time(x->p.created_at), "devices", devices, "log", log);
}

static json_t *render_message(const struct google_message *m)
{
	return json_pack("{s:I,s:s,s:o,s:o,s:s,s:b,s:o,s:o,s:o}", "id", (json_int_t)m->id,
			 "messageId", m->message_id, "header", text(m->header), "body",
			 text(m->body), "state", m->state, "notified", m->notified, "createdAt",
			 api_time(m->created_at), "sentAt", api_time(m->sent_at), "problem",
			 m->last_error ? text(m->last_error) : json_null());
}

static json_t *render_google(const struct report_ctx *x)
{
	json_t *msgs = json_array();

	for (int i = 0; i < x->nmsgs; i++)
		json_array_append_new(msgs, render_message(&x->msgs[i]));
	return json_pack("{s:s,s:o,s:b,s:o,s:o,s:o,s:o,s:I,s:o}", "objectId", x->g.object_id,
			 "classId", api_str_or_null(x->g.class_id), "saved", x->g.saved, "savedAt",
			 api_time(x->g.saved_at), "deletedAt", api_time(x->g.deleted_at),
			 "syncedAt", api_time(x->g.patched_at), "problem",
			 x->g.last_error ? text(x->g.last_error) : json_null(),
			 "notificationsToday", (json_int_t)x->notified, "messages", msgs);
}

void api_customer_wallet_get(struct http_request *req, struct http_response *res)
{
	struct report_ctx x = { .business_id = api_principal(req)->business_id,
				.apple_on = api_app(req)->apple != NULL,
				.google_on = api_app(req)->google != NULL };
	enum loy_err err;

	if (!api_param_id(req, res, 0, &x.id))
		return;
	err = store_read(api_app(req)->st, &req->arena, report_read, &x);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such customer" : NULL);
		return;
	}
	api_json(res, 200,
		 json_pack("{s:o,s:o}", "apple", x.has_pass ? render_pass(req, &x) : json_null(),
			   "google", x.has_object ? render_google(&x) : json_null()));
}

/* ---- POST /api/v1/customers/{id}/wallet/apple/link ---- */

struct rotate_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	int64_t id;
	const char *missing; /* what the 404 is about */
};

static enum loy_err rotate_op(struct store_tx *tx, void *arg)
{
	struct rotate_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	struct customer c;
	struct apple_pass pass;
	enum loy_err err;

	x->missing = "no such customer";
	err = store_customer_get(tx, p->business_id, x->id, &c);
	if (err != LOY_OK)
		return err;
	struct apple_wallet *w = api_app(x->req)->apple;
	const char *ptid = w ? apple_wallet_pass_type_id(w, p->business_id) : NULL;
	bool issued = false;

	x->missing = "Apple Wallet is not set up for this business";
	err = store_apple_link_rotate(tx, p->business_id, x->id, &pass);
	/* A customer from before Apple Wallet was set up gets the pass now. */
	if (err == LOY_ENOTFOUND && ptid) {
		err = store_apple_pass_ensure(tx, p->business_id, x->id, ptid, &pass);
		issued = err == LOY_OK;
	}
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor,
				  issued ? "wallet.apple.pass_issue" : "wallet.apple.link_rotate",
				  arena_printf(tx->a, "customer:%lld", (long long)x->id),
				  x->req->ip);
	if (err != LOY_OK)
		return err;
	api_json(x->res, issued ? 201 : 200,
		 json_pack("{s:o}", "downloadUrl", download_url(x->req, &pass)));
	return LOY_OK;
}

static void rotate_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct rotate_ctx *x = ctx;
	api_error(res, err, NULL, err == LOY_ENOTFOUND ? x->missing : NULL);
}

void api_customer_wallet_link_rotate(struct http_request *req, struct http_response *res)
{
	struct rotate_ctx *x = arena_zalloc(&req->arena, sizeof(*x));
	struct jval unused;
	json_t *doc = NULL;

	if (!x) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	*x = (struct rotate_ctx){ .req = req, .res = res };
	if (!api_param_id(req, res, 0, &x->id) || !api_idem_prepare(req, res, &x->idem))
		return;
	/* No fields: no body, or {}. */
	if (!api_read_body(req, res, NULL, 0, &unused, &doc))
		return;
	json_decref(doc);
	if (!api_app(req)->apple) {
		api_error(res, LOY_ENOTFOUND, NULL, "Apple Wallet is not enabled on this install");
		return;
	}
	struct api_write w = { .idem = &x->idem,
			       .business_id = api_principal(req)->business_id,
			       .op = rotate_op,
			       .fail = rotate_failed,
			       .ctx = x };
	api_write(req, res, &w);
}

/* ---- GET /api/v1/wallet/status ---- */

struct depth_ctx {
	int64_t queued, dead;
};

static enum loy_err depth_read(struct store_tx *tx, void *arg)
{
	struct depth_ctx *d = arg;
	return store_job_depth(tx, &d->queued, &d->dead);
}

/* A refusal's reason for the admin, or null when there was none. */
static json_t *problem(bool broken, const char *reason, const char *otherwise)
{
	if (!broken)
		return json_null();
	return text(reason[0] ? reason : otherwise);
}

/* The business's Google Wallet: its issuer and service account (its own or the install's), or
 * why Google Wallet could not start. */
static json_t *google_status(const struct app *app, int64_t business_id)
{
	const struct gwallet *g = app->google;
	const char *issuer = g ? gwallet_issuer_id(g, business_id) : NULL;

	return json_pack("{s:b,s:o,s:o,s:o}", "enabled", issuer != NULL, "issuerId",
			 api_str_or_null(issuer), "serviceAccount",
			 api_str_or_null(g ? gwallet_account(g, business_id) : NULL), "problem",
			 app->google_problem ? text(app->google_problem) : json_null());
}

void api_wallet_status(struct http_request *req, struct http_response *res)
{
	struct apple_wallet *w = api_app(req)->apple;
	struct apple_wallet_status s = { 0 };
	struct depth_ctx d = { 0 };
	bool enabled;

	if (!api_read(req, res, depth_read, &d))
		return;
	/* The business's own certificate, or the install's; off when there is neither. */
	enabled = w && apple_wallet_status(w, api_principal(req)->business_id, &s);
	api_json(res, 200,
		 json_pack("{s:{s:b,s:o,s:o,s:o,s:b,s:b,s:o,s:b,s:b,s:o,s:{s:I,s:I}},s:o}", "apple",
			   "enabled", enabled, "passTypeIdentifier",
			   api_str_or_null(s.pass_type_id), "teamIdentifier",
			   api_str_or_null(s.team_id), "certificateExpiresAt",
			   api_time(s.cert_not_after), "ownCertificate", s.own_certificate,
			   "certificateBroken", s.cert_broken, "certificateProblem",
			   problem(s.cert_broken, s.cert_broken_reason,
				   "APNs refused the certificate"),
			   "androidPush", s.android_push, "androidPushBroken",
			   s.android_push_broken, "androidPushProblem",
			   problem(s.android_push_broken, s.android_push_reason,
				   "the Android push service refused the key"),
			   "outbox", "queued", (json_int_t)d.queued, "dead", (json_int_t)d.dead,
			   "google", google_status(api_app(req), api_principal(req)->business_id)));
}

/* ---- GET /api/v1/wallet/apple/logs ---- */

struct logs_ctx {
	int64_t business_id;
	const char *serial;
	int limit;
	struct apple_log_entry *rows;
	int n;
};

static enum loy_err logs_read(struct store_tx *tx, void *arg)
{
	struct logs_ctx *l = arg;
	return store_apple_log_list(tx, l->business_id, l->serial, l->limit, &l->rows, &l->n);
}

void api_wallet_apple_logs(struct http_request *req, struct http_response *res)
{
	static const char *const allowed[] = { "serial", "limit", NULL };
	struct logs_ctx l = { .business_id = api_principal(req)->business_id };
	int64_t limit;
	json_t *items;
	enum loy_err err;

	if (!api_query_only(req, res, allowed) ||
	    !api_query_int(req, res, "limit", 1, API_LIST_LIMIT_MAX, API_LIST_LIMIT_DEFAULT,
			   &limit))
		return;
	l.serial = http_query(req, "serial");
	if (l.serial && !passkit_id_ok(str_from(l.serial), PASSKIT_SERIAL_MAX)) {
		api_error(res, LOY_EINVALID, "serial",
			  "serial must be 1 to 64 letters, digits, '-', '_' or '.', not starting "
			  "with '.'");
		return;
	}
	l.limit = (int)limit;
	err = store_read(api_app(req)->st, &req->arena, logs_read, &l);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items,
				      json_pack("{s:I,s:o,s:o,s:o}", "id", (json_int_t)l.rows[i].id,
						"serialNumber", api_str_or_null(l.rows[i].serial),
						"at", api_time(l.rows[i].created_at), "message",
						text(l.rows[i].message)));
	api_json(res, 200, json_pack("{s:o}", "items", items));
}
