/* The PassKit web service at webServiceURL = LOY_BASE_URL + "/passkit", built to Apple's
 * "PassKit Web Service Reference": devices register and unregister for a pass's updates, ask which
 * of their passes changed since a tag, download the latest pass (Last-Modified / If-Modified-
 * Since), and post their log messages. Android apps that read .pkpass files (WalletPasses) speak
 * the same service with `AndroidPass` instead of `ApplePass`. Also the customer's download link,
 * GET /passes/<link>.pkpass, and the walletLinks object the customer resources carry.
 *
 * Secrets: a pass's authentication token authorises everything about that pass (compared in
 * constant time, through SHA-256 digests so that not even its length leaks); the device library
 * id authorises the list of changed serials. An unknown serial, a wrong token and another pass
 * type all answer the same 401, so the service never says whether a serial exists. Identifiers
 * are checked (passkit_input.h) before anything reaches the store.
 *
 * Each listing and each download is also recorded on the device's registrations (the delivery
 * chain the admin panel shows). With Apple Wallet off every route here is 404. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/passkit_input.h"
#include "base/timeutil.h"
#include "crypto/digest.h"
#include "wallet/apple/pass.h"
#include "wallet/apple/wallet.h"

#define PASSKIT_LOG_MESSAGES_MAX 100 /* kept per request; the rest are dropped */
#define PASSKIT_LOG_MESSAGE_MAX 2000 /* characters kept of each message */
#define PASSKIT_LOG_RATE 120	     /* log requests per minute per client IP */
#define PASSKIT_LINK_MISS_RATE 30    /* unknown download links per minute per client IP */
#define PASSKIT_TAG_AHEAD_MAX_MS (24 * 3600 * 1000LL) /* a tag this far ahead was never given */

static bool wallet_on(struct http_request *req, struct http_response *res)
{
	if (api_app(req)->apple)
		return true;
	api_error(res, LOY_ENOTFOUND, NULL, "no such endpoint");
	return false;
}

static void answer_empty(struct http_response *res, int status)
{
	buf_clear(&res->body);
	res->status = status;
	res->content_type = NULL;
}

static bool rate_ok(struct http_request *req, struct http_response *res, const char *purpose,
		    int64_t per_minute)
{
	char key[96];
	int retry = 0;

	snprintf(key, sizeof(key), "%s:%s", purpose, req->ip);
	if (ratelimit_take(api_app(req)->rl, key, per_minute, &retry))
		return true;
	http_set_header(res, "Retry-After", arena_printf(&req->arena, "%d", retry));
	api_error(res, LOY_ERATE, NULL, "too many requests; try again later");
	return false;
}

/* Path parameter i as an identifier of at most max bytes (a NUL-terminated arena copy), or NULL
 * with 400 naming it answered. */
static const char *path_id(struct http_request *req, struct http_response *res, int i,
			   const char *name, size_t max)
{
	struct str s = i < req->nparams ? req->params[i] : (struct str){ "", 0 };
	const char *copy;

	if (!passkit_id_ok(s, max)) {
		api_error(res, LOY_EINVALID, name,
			  arena_printf(&req->arena,
				       "%s must be 1 to %zu characters of A-Z a-z 0-9 . _ -", name,
				       max));
		return NULL;
	}
	copy = arena_strndup(&req->arena, s.p, s.len);
	if (!copy)
		api_error(res, LOY_ENOMEM, NULL, NULL);
	return copy;
}

/* What the routes about one pass have in common. */
struct pass_req {
	struct http_request *req;
	struct http_response *res;
	const char *device; /* registration routes only */
	const char *ptid, *serial;
	enum passkit_scheme scheme;
	struct str token;
	struct apple_pass pass;
};

/* Reads the path (device when dev_i >= 0, pass type, serial) and the Authorization header, and
 * checks the pass type is this install's. False with the answer (400/401) given. */
static bool pass_req_read(struct pass_req *x, int dev_i, int ptid_i, int serial_i)
{
	struct http_request *req = x->req;
	struct http_response *res = x->res;

	if (dev_i >= 0 && !(x->device = path_id(req, res, dev_i, "deviceLibraryIdentifier",
						PASSKIT_DEVICE_ID_MAX)))
		return false;
	if (!(x->ptid = path_id(req, res, ptid_i, "passTypeIdentifier", PASSKIT_PASS_TYPE_MAX)) ||
	    !(x->serial = path_id(req, res, serial_i, "serialNumber", PASSKIT_SERIAL_MAX)))
		return false;
	/* The pass type is checked with the serial number: the pass is looked up by both. */
	if (!passkit_auth_parse(http_header(req, "Authorization"), &x->scheme, &x->token)) {
		api_error(res, LOY_EUNAUTH, NULL, "not authorized for this pass");
		return false;
	}
	return true;
}

/* Loads the pass and checks the token: LOY_EUNAUTH for an unknown serial or a wrong token. */
static enum loy_err pass_authorize(struct store_tx *tx, struct pass_req *x)
{
	char given[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
	enum loy_err err = store_apple_pass_by_serial(tx, x->ptid, x->serial, &x->pass);

	if (err == LOY_ENOTFOUND)
		return LOY_EUNAUTH;
	if (err != LOY_OK)
		return err;
	digest_sha256_hex(x->token.p, x->token.len, given);
	digest_sha256_hex(x->pass.auth_token, strlen(x->pass.auth_token), want);
	return digest_equal(given, SHA256_HEX_LEN, want, SHA256_HEX_LEN) ? LOY_OK : LOY_EUNAUTH;
}

static void answer_failure(struct http_response *res, enum loy_err err)
{
	api_error(res, err, NULL, err == LOY_EUNAUTH ? "not authorized for this pass" : NULL);
}

/* ---- POST and DELETE /passkit/v1/devices/{dev}/registrations/{ptid}/{serial} ---- */

struct register_ctx {
	struct pass_req p;
	const char *push_token;
	bool created;
};

static enum loy_err register_tx(struct store_tx *tx, void *arg)
{
	struct register_ctx *x = arg;
	enum loy_err err = pass_authorize(tx, &x->p);

	if (err != LOY_OK)
		return err;
	return store_apple_register(tx, x->p.device, x->push_token,
				    x->p.scheme == PASSKIT_APPLE ? "apple" : "android", x->p.serial,
				    &x->created);
}

/* {"pushToken": "..."}: other members are ignored (Apple may add some; devices are not API
 * clients that a strict 400 would teach anything). */
static bool read_push_token(struct register_ctx *x)
{
	struct http_request *req = x->p.req;
	const char *message = NULL;
	json_t *doc = NULL, *tok;
	enum loy_err err = api_parse_body(req, &doc, &message);

	if (err != LOY_OK) {
		api_error(x->p.res, err, NULL, message);
		return false;
	}
	tok = json_object_get(doc, "pushToken");
	if (!json_is_string(tok) ||
	    !passkit_push_token_ok(x->p.scheme, (struct str){ json_string_value(tok),
							      json_string_length(tok) })) {
		json_decref(doc);
		api_error(
			x->p.res, LOY_EINVALID, "pushToken",
			x->p.scheme == PASSKIT_APPLE
				? "pushToken must be an APNs device token (64 hex digits)"
				: "pushToken must be 1 to 4096 characters of A-Z a-z 0-9 : _ . -");
		return false;
	}
	x->push_token = arena_strndup(&req->arena, json_string_value(tok), json_string_length(tok));
	json_decref(doc);
	if (!x->push_token)
		api_error(x->p.res, LOY_ENOMEM, NULL, NULL);
	return x->push_token != NULL;
}

void api_passkit_register(struct http_request *req, struct http_response *res)
{
	struct register_ctx x = { .p = { .req = req, .res = res } };
	enum loy_err err;

	if (!wallet_on(req, res) || !pass_req_read(&x.p, 0, 1, 2) || !read_push_token(&x))
		return;
	err = store_write(api_app(req)->st, &req->arena, register_tx, &x);
	if (err != LOY_OK) {
		answer_failure(res, err);
		return;
	}
	answer_empty(res, x.created ? 201 : 200);
}

static enum loy_err unregister_tx(struct store_tx *tx, void *arg)
{
	struct pass_req *x = arg;
	enum loy_err err = pass_authorize(tx, x);

	if (err != LOY_OK)
		return err;
	err = store_apple_unregister(tx, x->device, x->serial);
	return err == LOY_ENOTFOUND ? LOY_OK : err; /* a device's retry must not see an error */
}

void api_passkit_unregister(struct http_request *req, struct http_response *res)
{
	struct pass_req x = { .req = req, .res = res };
	enum loy_err err;

	if (!wallet_on(req, res) || !pass_req_read(&x, 0, 1, 2))
		return;
	err = store_write(api_app(req)->st, &req->arena, unregister_tx, &x);
	if (err != LOY_OK) {
		answer_failure(res, err);
		return;
	}
	answer_empty(res, 200);
}

/* ---- GET /passkit/v1/devices/{dev}/registrations/{ptid}?passesUpdatedSince=<tag> ---- */

struct updated_ctx {
	const char *device, *ptid;
	int64_t since, last;
	const char **serials;
	int n;
};

static enum loy_err updated_tx(struct store_tx *tx, void *arg)
{
	struct updated_ctx *x = arg;
	enum loy_err err =
		store_apple_updated(tx, x->device, x->ptid, x->since, &x->serials, &x->n, &x->last);

	if (err != LOY_OK)
		return err;
	return store_apple_listed(tx, x->device, x->ptid, x->since);
}

void api_passkit_updated(struct http_request *req, struct http_response *res)
{
	struct updated_ctx x = { 0 };
	const char *tag = http_query(req, "passesUpdatedSince");
	enum loy_err err;
	json_t *serials;

	if (!wallet_on(req, res) ||
	    !(x.device = path_id(req, res, 0, "deviceLibraryIdentifier", PASSKIT_DEVICE_ID_MAX)) ||
	    !(x.ptid = path_id(req, res, 1, "passTypeIdentifier", PASSKIT_PASS_TYPE_MAX)))
		return;
	/* Absent or empty: every pass the device holds. Tags trail the clock, so one ahead of it by
	 * more than any clock skew between nodes was never given. */
	if (tag && *tag &&
	    (!passkit_tag_parse(str_from(tag), &x.since) ||
	     x.since > time_now_ms() + PASSKIT_TAG_AHEAD_MAX_MS)) {
		api_error(res, LOY_EINVALID, "passesUpdatedSince",
			  "passesUpdatedSince must be a lastUpdated value this service gave");
		return;
	}
	err = store_write(api_app(req)->st, &req->arena, updated_tx, &x);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	if (x.n == 0) {
		api_no_content(res);
		return;
	}
	serials = json_array();
	for (int i = 0; i < x.n; i++)
		json_array_append_new(serials, json_string(x.serials[i]));
	/* A string: devices stop updating when lastUpdated is a JSON number. */
	api_json(res, 200,
		 json_pack("{s:o,s:s}", "serialNumbers", serials, "lastUpdated",
			   arena_printf(&req->arena, "%lld", (long long)x.last)));
}

/* ---- GET /passkit/v1/passes/{ptid}/{serial} ---- */

static enum loy_err pass_read_tx(struct store_tx *tx, void *arg)
{
	return pass_authorize(tx, arg);
}

/* Records the download of the version read before the build. The build reads the card after that
 * read, so what the device gets is at least that version: Last-Modified may understate the content
 * (a change the push job has not dated yet, which it then pushes) but never overstate it, which
 * would make If-Modified-Since hide a change. */
static enum loy_err pass_fetched_tx(struct store_tx *tx, void *arg)
{
	struct pass_req *x = arg;
	return store_apple_fetched(tx, x->serial, x->pass.modified_at);
}

static void set_pass_headers(struct http_request *req, struct http_response *res, int64_t ms)
{
	char *date = arena_alloc(&req->arena, PASSKIT_HTTP_DATE_SIZE);

	if (date) {
		passkit_http_date_format(ms / 1000, date);
		http_set_header(res, "Last-Modified", date);
	}
	http_set_header(res, "Cache-Control", "no-cache");
}

/* Puts the signed pass into res (200, PASS_MIME_TYPE); false with the error answered. */
static bool answer_pkpass(struct http_request *req, struct http_response *res,
			  const struct apple_pass *p, enum loy_err not_found_as)
{
	unsigned char *data = NULL;
	size_t len = 0;
	enum loy_err err = apple_wallet_pkpass(api_app(req)->apple, p, &data, &len);

	if (err == LOY_OK) {
		buf_clear(&res->body);
		err = buf_append(&res->body, data, len);
		free(data);
	}
	if (err != LOY_OK) {
		if (err == LOY_ENOTFOUND)
			err = not_found_as;
		api_error(res, err, NULL,
			  err == LOY_EUNAUTH	 ? "not authorized for this pass"
			  : err == LOY_ENOTFOUND ? "no such pass"
						 : NULL);
		return false;
	}
	res->status = 200;
	res->content_type = PASS_MIME_TYPE;
	return true;
}

void api_passkit_pass(struct http_request *req, struct http_response *res)
{
	struct pass_req x = { .req = req, .res = res };
	struct app *app = api_app(req);
	const char *ims;
	int64_t since;
	enum loy_err err;

	if (!wallet_on(req, res) || !pass_req_read(&x, -1, 0, 1))
		return;
	err = store_read(app->st, &req->arena, pass_read_tx, &x);
	if (err != LOY_OK) {
		answer_failure(res, err);
		return;
	}
	ims = http_header(req, "If-Modified-Since");
	if (ims && passkit_http_date_parse(str_from(ims), time_now_ms() / 1000, &since) &&
	    x.pass.modified_at / 1000 <= since) {
		err = store_write(app->st, &req->arena, pass_fetched_tx, &x);
		if (err != LOY_OK) {
			answer_failure(res, err);
			return;
		}
		answer_empty(res, 304);
		set_pass_headers(req, res, x.pass.modified_at);
		return;
	}
	/* The customer erased (a pass without its card) is as unknown as a wrong serial. */
	if (!answer_pkpass(req, res, &x.pass, LOY_EUNAUTH))
		return;
	err = store_write(app->st, &req->arena, pass_fetched_tx, &x);
	if (err != LOY_OK) {
		answer_failure(res, err);
		return;
	}
	set_pass_headers(req, res, x.pass.modified_at);
}

/* ---- POST /passkit/v1/log ---- */

struct log_ctx {
	const char **messages;
	int n;
};

/* The message cut to PASSKIT_LOG_MESSAGE_MAX characters (it is valid UTF-8: jansson's). */
static const char *log_message(struct arena *a, const char *s, size_t len)
{
	size_t chars = 0, i = 0;

	while (i < len && chars < PASSKIT_LOG_MESSAGE_MAX) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	return arena_strndup(a, s, i);
}

static enum loy_err log_tx(struct store_tx *tx, void *arg)
{
	struct log_ctx *x = arg;

	for (int i = 0; i < x->n; i++) {
		struct str named;
		const char *serial = NULL;
		enum loy_err err;

		if (passkit_log_serial(str_from(x->messages[i]), &named)) {
			serial = arena_strndup(tx->a, named.p, named.len);
			if (!serial)
				return LOY_ENOMEM;
		}
		err = store_apple_log(tx, serial, x->messages[i]);
		if (err != LOY_OK)
			return err;
	}
	return LOY_OK;
}

/* Binds {"logs": ["...", ...]} into x (the first PASSKIT_LOG_MESSAGES_MAX non-empty messages);
 * false with 4xx answered. */
static bool read_logs(struct http_request *req, struct http_response *res, struct log_ctx *x)
{
	const char *message = NULL;
	json_t *doc = NULL, *logs, *v;
	enum loy_err err = api_parse_body(req, &doc, &message);
	size_t i;

	if (err != LOY_OK) {
		api_error(res, err, NULL, message);
		return false;
	}
	logs = json_object_get(doc, "logs");
	if (!json_is_array(logs)) {
		json_decref(doc);
		api_error(res, LOY_EINVALID, "logs", "logs must be an array of strings");
		return false;
	}
	x->messages = arena_alloc(&req->arena, sizeof(*x->messages) * PASSKIT_LOG_MESSAGES_MAX);
	if (!x->messages) {
		json_decref(doc);
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return false;
	}
	json_array_foreach(logs, i, v)
	{
		if (!json_is_string(v)) {
			json_decref(doc);
			api_error(res, LOY_EINVALID, arena_printf(&req->arena, "logs[%zu]", i),
				  "logs must be an array of strings");
			return false;
		}
		if (x->n == PASSKIT_LOG_MESSAGES_MAX || json_string_length(v) == 0)
			continue;
		x->messages[x->n] =
			log_message(&req->arena, json_string_value(v), json_string_length(v));
		if (!x->messages[x->n++]) {
			json_decref(doc);
			api_error(res, LOY_ENOMEM, NULL, NULL);
			return false;
		}
	}
	json_decref(doc);
	return true;
}

void api_passkit_log(struct http_request *req, struct http_response *res)
{
	struct app *app = api_app(req);
	struct log_ctx x = { 0 };
	enum loy_err err;

	if (!wallet_on(req, res) || !rate_ok(req, res, "passkit-log", PASSKIT_LOG_RATE) ||
	    !read_logs(req, res, &x))
		return;
	if (x.n > 0) {
		err = store_write(app->st, &req->arena, log_tx, &x);
		if (err != LOY_OK) {
			api_error(res, err, NULL, NULL);
			return;
		}
	}
	answer_empty(res, 200);
}

/* ---- GET /passes/{token}.pkpass ---- */

struct link_ctx {
	const char *token;
	struct apple_pass pass;
};

static enum loy_err link_tx(struct store_tx *tx, void *arg)
{
	struct link_ctx *x = arg;
	return store_apple_pass_by_link(tx, x->token, &x->pass);
}

static void link_unknown(struct http_request *req, struct http_response *res)
{
	if (rate_ok(req, res, "pass-link-miss", PASSKIT_LINK_MISS_RATE))
		api_error(res, LOY_ENOTFOUND, NULL,
			  "no such pass (the link may have been revoked)");
}

void api_pass_download(struct http_request *req, struct http_response *res)
{
	static const struct str suffix = STR_LIT(".pkpass");
	struct str seg = req->nparams > 0 ? req->params[0] : (struct str){ "", 0 };
	struct link_ctx x = { 0 };
	enum loy_err err;

	if (!wallet_on(req, res))
		return;
	if (seg.len <= suffix.len ||
	    !str_eq((struct str){ seg.p + seg.len - suffix.len, suffix.len }, suffix) ||
	    !passkit_link_ok((struct str){ seg.p, seg.len - suffix.len })) {
		link_unknown(req, res);
		return;
	}
	x.token = arena_strndup(&req->arena, seg.p, seg.len - suffix.len);
	if (!x.token) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	err = store_read(api_app(req)->st, &req->arena, link_tx, &x);
	if (err == LOY_ENOTFOUND) {
		link_unknown(req, res);
		return;
	}
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	if (!answer_pkpass(req, res, &x.pass, LOY_ENOTFOUND))
		return;
	http_set_header(res, "Content-Disposition", "attachment; filename=\"card.pkpass\"");
}
