/* The REST API's shared pieces: the application state every handler reaches through the request,
 * the authenticated principal, and the helpers that bind JSON input to C structs (400 naming the
 * field), render resources and answer errors in the one error shape. */
#ifndef LOY_API_API_H
#define LOY_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "core/roles.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "store/store.h"

struct apple_wallet;
struct gwallet;

#define API_BODY_SMALL 4096   /* auth, transactions, purchases */
#define API_BODY_MEDIUM 16384 /* customers, settings, staff */
#define API_BODY_LARGE 65536  /* card templates */
#define API_NAME_MAX 200      /* characters */
#define API_NOTES_MAX 2000
#define API_TEXT_MAX 500 /* descriptions, addresses */
#define API_TAGS_MAX 20
#define API_TAG_LEN_MAX 40
#define API_KEY_LEN_MAX 128 /* Idempotency-Key, orderId */
#define API_LIST_LIMIT_DEFAULT 50
#define API_LIST_LIMIT_MAX 100
#define API_QUERY_MAX 100
/* A template image's body: the largest slot's byte cap (strip@3x, wallet/apple/images.c). */
#define API_BODY_IMAGE (2048u * 1024u)
/* The PassKit web service's bodies: {"pushToken"} (an Android token may be 4 096 characters)
 * and a device's log messages. */
#define API_BODY_PASSKIT_REGISTER 8192
#define API_BODY_PASSKIT_LOG 65536

struct app {
	struct store *st;
	const struct conf *conf;
	struct ratelimit *rl;
	bool secure_cookies;
	struct apple_wallet *apple; /* NULL: Apple Wallet is off (no LOY_APPLE_PASS_CERT) */
	struct gwallet *google;	    /* NULL: Google Wallet is off or could not start */
	const char *google_problem; /* why Google Wallet could not start, for the admin; or NULL */
};

enum principal_kind { PRINCIPAL_NONE, PRINCIPAL_USER, PRINCIPAL_APIKEY };

struct principal {
	enum principal_kind kind;
	int64_t id; /* user id or API key id */
	int64_t business_id;
	enum role role;
	const char *actor;   /* "user:12" / "apikey:3", for the ledger and the audit log */
	const char *channel; /* "admin" for staff sessions, "api" for API keys */
	const char *csrf;    /* staff sessions only */
};

static inline struct app *api_app(struct http_request *req)
{
	return req->app;
}
static inline struct principal *api_principal(struct http_request *req)
{
	return req->auth;
}

/* The route table and the dispatcher handed to the HTTP server. */
extern const struct route api_routes[];
extern const size_t api_nroutes;
void api_dispatch(struct http_request *req, struct http_response *res);

/* Resolves credentials (bearer token or session cookie + CSRF for unsafe methods) into
 * req->auth. LOY_EUNAUTH / LOY_EFORBIDDEN with a message for the client. */
enum loy_err api_authenticate(struct http_request *req, const char **message);

/* ---- answering ---- */
void api_error(struct http_response *res, enum loy_err err, const char *field, const char *message);
/* Serialises j (and releases it) as the response body with this status. */
void api_json(struct http_response *res, int status, json_t *j);
void api_no_content(struct http_response *res);
/* Runs fn in a read of the store (results in the request's arena); when it fails, answers the
 * error and returns false. */
bool api_read(struct http_request *req, struct http_response *res, store_fn fn, void *ctx);

/* ---- input ---- */
/* J_STR is one line (no control characters at all); J_TEXT may hold tabs and line breaks. */
enum jkind { J_STR, J_TEXT, J_INT, J_BOOL, J_ANY };
#define J_REQUIRED 1u
#define J_NULLABLE 2u

struct jfield {
	const char *name;
	enum jkind kind;
	unsigned flags;
	int64_t min, max; /* J_STR: length in characters; J_INT: value */
	size_t off;	  /* offset of a struct jval in the output struct */
};

struct jval {
	bool set;  /* present in the input */
	bool null; /* present and null */
	const char *s;
	size_t len;
	int64_t i;
	bool b;
	json_t *j; /* J_ANY: borrowed from the parsed document */
};

/* Parses the request body as a JSON object: 415 for another content type, 413 past the route's
 * cap, 400 malformed_json. On success *out is owned by the caller (json_decref). */
enum loy_err api_parse_body(struct http_request *req, json_t **out, const char **message);
/* Binds obj's members to fields (unknown members are an error). On error *bad names the field. */
enum loy_err api_bind(json_t *obj, const struct jfield *fields, size_t n, void *out,
		      const char **bad, const char **message);
/* Parses a body and binds it; answers the error itself and returns false when it fails. */
bool api_read_body(struct http_request *req, struct http_response *res, const struct jfield *fields,
		   size_t n, void *out, json_t **doc);
/* Path parameter i as a positive id; false (and a 404 answered) otherwise. */
bool api_param_id(struct http_request *req, struct http_response *res, int i, int64_t *out);
/* Query parameter as an integer within bounds; def when absent; false (400 answered) otherwise. */
bool api_query_int(struct http_request *req, struct http_response *res, const char *name,
		   int64_t min, int64_t max, int64_t def, int64_t *out);
/* Rejects query parameters outside `allowed` (NULL-terminated) with 400. */
bool api_query_only(struct http_request *req, struct http_response *res,
		    const char *const *allowed);
/* A NUL-terminated arena copy of a bound string. */
const char *api_str(struct http_request *req, const struct jval *v);

/* ---- rendering ---- */
json_t *api_time(int64_t ms); /* ISO string, or null for 0 */
json_t *api_str_or_null(const char *s);
json_t *api_render_customer(const struct customer *c);
json_t *api_render_entry(const struct ledger_entry *e);
json_t *api_render_user(const struct user *u);
json_t *api_render_apikey(const struct api_key *k);

/* ---- idempotency ---- */
struct api_idem {
	const char *key; /* Idempotency-Key header, NULL when absent */
	char hash[65];	 /* of method, path and body */
};

/* Reads and checks the Idempotency-Key header (1..128 visible ASCII) and, when there is one,
 * hashes the request. False (400 answered) for a malformed key. */
bool api_idem_prepare(struct http_request *req, struct http_response *res, struct api_idem *idem);
/* Hashes the request into idem->hash (done by api_idem_prepare when a key is given; call it when
 * an orderId is). False (500 answered) when out of memory. */
bool api_idem_hash(struct http_request *req, struct http_response *res, struct api_idem *idem);
/* Puts a stored first response into res, marked Idempotent-Replayed. */
enum loy_err api_idem_replay(struct http_response *res, const struct idem_replay *r);

/* A write the API makes on behalf of a request. `op` runs in a durable transaction (inside a
 * savepoint) and renders its success response into the request's response; when it returns a 4xx
 * error its changes are undone and `fail` renders the refusal (api_error when NULL). With an
 * Idempotency-Key (idem->key) the key is claimed first, in the business's scope, and whatever
 * response results — success or refusal — is stored for replay. */
struct api_write {
	const struct api_idem *idem; /* NULL or no key: not idempotent */
	int64_t business_id;
	store_fn op;
	void (*fail)(struct http_response *res, enum loy_err err, void *ctx);
	/* Optional: runs once the answer is in res, with LOY_OK when op succeeded (or a stored
	 * response was replayed), else the error answered. */
	void (*done)(struct http_request *req, enum loy_err err, void *ctx);
	json_t *doc; /* optional: released when the write is over (op may read its strings) */
	void *ctx;
};

/* Runs w. On a request that can defer (a ROUTE_DEFERRABLE route on SQLite) it returns at once and
 * the write completes on the store's writer thread, which then sends the answer: ctx, and all it
 * points to, must live in the request's arena, not on the handler's stack, and the handler must do
 * nothing after this call. Otherwise it blocks until the answer is in res. Either way `done` runs
 * last. */
void api_write(struct http_request *req, struct http_response *res, const struct api_write *w);

/* A new random API key ("loy_<12 id chars>_<secret>"), its lookup id and its SHA-256. */
void api_apikey_generate(char key[80], char prefix[13], char hash[65]);

/* Counts a ledger entry for /metrics. */
void api_count_ledger(enum ledger_type t);

/* The PassKit web service (webServiceURL = LOY_BASE_URL/passkit) and the customer's pass
 * download link, GET /passes/<link>.pkpass (passkit.c). All 404 while Apple Wallet is off. */
void api_passkit_register(struct http_request *req, struct http_response *res);
void api_passkit_unregister(struct http_request *req, struct http_response *res);
void api_passkit_updated(struct http_request *req, struct http_response *res);
void api_passkit_pass(struct http_request *req, struct http_response *res);
void api_passkit_log(struct http_request *req, struct http_response *res);
void api_pass_download(struct http_request *req, struct http_response *res);
/* A customer's cards in the wallets, as far as they exist: NULL when that wallet is off or the
 * customer has none there (one from before the wallet was set up). */
struct wallet_refs {
	const struct apple_pass *apple;
	const struct google_object *google;
	struct apple_pass apple_buf;
	struct google_object google_buf;
};

/* Reads the customer's wallet rows into w (inside a unit of work). */
enum loy_err api_wallet_refs(struct store_tx *tx, const struct app *app, int64_t customer_id,
			     struct wallet_refs *w);
/* Makes the customer's wallet rows (in the transaction that creates the customer), for the
 * wallets that are on for the business. */
enum loy_err api_wallet_refs_ensure(struct store_tx *tx, const struct app *app, int64_t business_id,
				    int64_t customer_id, struct wallet_refs *w);
/* The customer resources' walletLinks: {"apple": "<LOY_BASE_URL>/passes/<link>.pkpass",
 * "google": "<LOY_BASE_URL>/google/save/<link>"}, each null when that wallet is off or the
 * customer has no card there. */
json_t *api_wallet_links(const struct app *app, const struct wallet_refs *w);

/* Route handlers, one group per file. */
void api_healthz(struct http_request *req, struct http_response *res);
void api_readyz(struct http_request *req, struct http_response *res);
void api_metrics(struct http_request *req, struct http_response *res);
void api_login(struct http_request *req, struct http_response *res);
void api_logout(struct http_request *req, struct http_response *res);
void api_me(struct http_request *req, struct http_response *res);
void api_token(struct http_request *req, struct http_response *res);
void api_register(struct http_request *req, struct http_response *res);
void api_customers_list(struct http_request *req, struct http_response *res);
void api_customers_create(struct http_request *req, struct http_response *res);
void api_customer_get(struct http_request *req, struct http_response *res);
void api_customer_patch(struct http_request *req, struct http_response *res);
void api_customer_delete(struct http_request *req, struct http_response *res);
void api_card_get(struct http_request *req, struct http_response *res);
void api_transactions_list(struct http_request *req, struct http_response *res);
void api_transactions_create(struct http_request *req, struct http_response *res);
void api_transaction_reverse(struct http_request *req, struct http_response *res);
void api_pos_purchase(struct http_request *req, struct http_response *res);
void api_templates_list(struct http_request *req, struct http_response *res);
void api_templates_create(struct http_request *req, struct http_response *res);
void api_template_get(struct http_request *req, struct http_response *res);
void api_template_patch(struct http_request *req, struct http_response *res);
void api_template_delete(struct http_request *req, struct http_response *res);
void api_template_images_list(struct http_request *req, struct http_response *res);
void api_template_image_get(struct http_request *req, struct http_response *res);
void api_template_image_put(struct http_request *req, struct http_response *res);
void api_template_image_delete(struct http_request *req, struct http_response *res);
void api_locations_list(struct http_request *req, struct http_response *res);
void api_locations_create(struct http_request *req, struct http_response *res);
void api_location_get(struct http_request *req, struct http_response *res);
void api_location_patch(struct http_request *req, struct http_response *res);
void api_location_delete(struct http_request *req, struct http_response *res);
void api_settings_get(struct http_request *req, struct http_response *res);
void api_settings_put(struct http_request *req, struct http_response *res);
void api_users_list(struct http_request *req, struct http_response *res);
void api_users_create(struct http_request *req, struct http_response *res);
void api_user_get(struct http_request *req, struct http_response *res);
void api_user_patch(struct http_request *req, struct http_response *res);
void api_user_delete(struct http_request *req, struct http_response *res);
void api_apikeys_list(struct http_request *req, struct http_response *res);
void api_apikeys_create(struct http_request *req, struct http_response *res);
void api_apikey_delete(struct http_request *req, struct http_response *res);
void api_google_save(struct http_request *req, struct http_response *res);
void api_google_callback(struct http_request *req, struct http_response *res);
void api_google_message(struct http_request *req, struct http_response *res);
void api_wallet_logo(struct http_request *req, struct http_response *res);
void api_customer_wallet_get(struct http_request *req, struct http_response *res);
void api_customer_wallet_link_rotate(struct http_request *req, struct http_response *res);
void api_wallet_status(struct http_request *req, struct http_response *res);
void api_wallet_apple_logs(struct http_request *req, struct http_response *res);

#endif
