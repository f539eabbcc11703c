/* Customers: self-registration, the staff endpoints, and the cashier's card lookup. */
#include <string.h>

#include "api/customer_input.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "core/card.h"
#include "wallet/apple/wallet.h"

#define CONSENT_VERSION_DEFAULT "1"

static const struct jfield register_fields[] = {
	{ "name", J_STR, J_REQUIRED, 1, API_NAME_MAX, offsetof(struct customer_in, name) },
	{ "phone", J_STR, J_REQUIRED, 1, 32, offsetof(struct customer_in, phone) },
	{ "email", J_STR, J_NULLABLE, 0, 254, offsetof(struct customer_in, email) },
	{ "birthday", J_STR, J_NULLABLE, 0, 10, offsetof(struct customer_in, birthday) },
	{ "consent", J_BOOL, J_REQUIRED, 0, 0, offsetof(struct customer_in, consent) },
	{ "consentVersion", J_STR, 0, 1, 32, offsetof(struct customer_in, consent_version) },
};

static const struct jfield create_fields[] = {
	{ "name", J_STR, J_REQUIRED, 1, API_NAME_MAX, offsetof(struct customer_in, name) },
	{ "phone", J_STR, J_REQUIRED, 1, 32, offsetof(struct customer_in, phone) },
	{ "email", J_STR, J_NULLABLE, 0, 254, offsetof(struct customer_in, email) },
	{ "birthday", J_STR, J_NULLABLE, 0, 10, offsetof(struct customer_in, birthday) },
	{ "tags", J_ANY, 0, 0, 0, offsetof(struct customer_in, tags) },
	{ "notes", J_TEXT, 0, 0, API_NOTES_MAX, offsetof(struct customer_in, notes) },
	{ "status", J_STR, 0, 1, 16, offsetof(struct customer_in, status) },
};

static const struct jfield patch_fields[] = {
	{ "name", J_STR, 0, 1, API_NAME_MAX, offsetof(struct customer_in, name) },
	{ "phone", J_STR, 0, 1, 32, offsetof(struct customer_in, phone) },
	{ "email", J_STR, J_NULLABLE, 0, 254, offsetof(struct customer_in, email) },
	{ "birthday", J_STR, J_NULLABLE, 0, 10, offsetof(struct customer_in, birthday) },
	{ "tags", J_ANY, 0, 0, 0, offsetof(struct customer_in, tags) },
	{ "notes", J_TEXT, 0, 0, API_NOTES_MAX, offsetof(struct customer_in, notes) },
	{ "status", J_STR, 0, 1, 16, offsetof(struct customer_in, status) },
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* ---- walletLinks: the customer's pass download links ---- */

static json_t *render(const struct app *app, const struct customer *c, const struct wallet_refs *w)
{
	json_t *j = api_render_customer(c);

	if (j)
		json_object_set_new(j, "walletLinks", api_wallet_links(app, w));
	return j;
}

/* ---- creating: self-registration and staff ---- */

struct create_ctx {
	struct http_request *req;
	struct http_response *res;
	const struct api_idem *idem;
	const char *business_slug; /* self-registration: NULL = the install's default */
	int64_t business_id;	   /* staff: the principal's business */
	struct customer c;
	struct wallet_refs wallets; /* made with the customer for the wallets that are on */
	const char *operator_id, *channel;
	const char *conflict; /* the field that is taken */
};

static enum loy_err create_op(struct store_tx *tx, void *arg)
{
	struct create_ctx *x = arg;
	struct app *app = api_app(x->req);
	struct business b;
	enum loy_err err;

	if (x->business_id)
		err = store_business_get(tx, x->business_id, &b);
	else if (x->business_slug)
		err = store_business_by_slug(tx, x->business_slug, &b);
	else
		err = store_business_default(tx, &b);
	if (err != LOY_OK)
		return err;
	x->c.business_id = b.id;
	x->c.balance = 0;
	x->conflict = "email";
	err = store_customer_email_taken(tx, b.id, x->c.email, 0);
	if (err != LOY_OK)
		return err;
	x->conflict = "phone";
	err = store_customer_insert(tx, &x->c);
	if (err != LOY_OK)
		return err;
	if (b.loyalty.welcome_bonus > 0) {
		struct ledger_entry e = {
			.business_id = b.id,
			.customer_id = x->c.id,
			.type = LEDGER_WELCOME,
			.amount = b.loyalty.welcome_bonus,
			.description = "Welcome bonus",
			.operator_id = x->operator_id,
			.channel = x->channel,
		};
		err = store_ledger_post(tx, &e, 0);
		if (err != LOY_OK)
			return err;
		x->c.balance = e.balance_after;
		x->c.last_activity = tx->now;
	}
	if (x->operator_id) {
		err = store_audit(tx, b.id, x->operator_id, "customer.create",
				  arena_printf(tx->a, "customer:%lld", (long long)x->c.id),
				  x->req->ip);
		if (err != LOY_OK)
			return err;
	}
	err = api_wallet_refs_ensure(tx, app, b.id, x->c.id, &x->wallets);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 201, render(app, &x->c, &x->wallets));
	return LOY_OK;
}

static void create_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct create_ctx *x = ctx;

	if (err == LOY_ECONFLICT && x->conflict && strcmp(x->conflict, "email") == 0)
		api_error(res, err, "email", "this e-mail address is already registered");
	else if (err == LOY_ECONFLICT)
		api_error(res, err, "phone", "this phone number is already registered");
	else if (err == LOY_ENOTFOUND)
		api_error(res, err, NULL, "no such business");
	else
		api_error(res, err, NULL, NULL);
}

static void create_done(struct http_request *req, enum loy_err err, void *ctx)
{
	const struct create_ctx *x = ctx;

	if (err == LOY_OK && x->res->status == 201) {
		req->log_customer_id = x->c.id;
		if (x->c.balance > 0)
			api_count_ledger(LEDGER_WELCOME);
	}
}

/* x lives in the request's arena: the write may finish after the handler returned. */
static void finish_create(struct http_request *req, struct http_response *res, struct create_ctx *x)
{
	struct api_write w = { .idem = x->idem,
			       .business_id = x->business_id,
			       .op = create_op,
			       .fail = create_failed,
			       .done = create_done,
			       .ctx = x };
	api_write(req, res, &w);
}

void api_register(struct http_request *req, struct http_response *res)
{
	static const char *const allowed[] = { "business", NULL };
	struct app *app = api_app(req);
	struct customer_in in = { 0 };
	struct create_ctx *x = arena_zalloc(&req->arena, sizeof(*x));
	json_t *doc = NULL;
	char key[96];
	int retry = 0;

	if (!x) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	*x = (struct create_ctx){ .req = req, .res = res, .channel = "web" };
	snprintf(key, sizeof(key), "register:%s", req->ip);
	if (!ratelimit_take(app->rl, key, app->conf->register_rate, &retry)) {
		http_set_header(res, "Retry-After", arena_printf(&req->arena, "%d", retry));
		api_error(res, LOY_ERATE, NULL, "too many registrations from this address");
		return;
	}
	if (!api_query_only(req, res, allowed))
		return;
	if (!api_read_body(req, res, register_fields, NFIELDS(register_fields), &in, &doc))
		return;
	if (!in.consent.b) {
		json_decref(doc);
		api_error(res, LOY_EINVALID, "consent",
			  "consent to the processing of personal data is required");
		return;
	}
	x->c.status = "active";
	x->c.source = "web";
	x->c.tags = "";
	x->c.notes = "";
	x->c.consent_version = in.consent_version.set ? api_str(req, &in.consent_version)
						      : CONSENT_VERSION_DEFAULT;
	x->c.consent_at = time_now_ms();
	x->c.consent_ip = req->ip;
	x->business_slug = http_query(req, "business");
	if (!customer_input_apply(req, res, &in, &x->c)) {
		json_decref(doc);
		return;
	}
	json_decref(doc);
	finish_create(req, res, x);
}

void api_customers_create(struct http_request *req, struct http_response *res)
{
	struct principal *p = api_principal(req);
	struct customer_in in = { 0 };
	struct create_ctx *x = arena_zalloc(&req->arena, sizeof(*x));
	struct api_idem *idem = arena_zalloc(&req->arena, sizeof(*idem));
	json_t *doc = NULL;

	if (!x || !idem) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	*x = (struct create_ctx){ .req = req, .res = res, .idem = idem };
	if (!api_idem_prepare(req, res, idem))
		return;
	if (!api_read_body(req, res, create_fields, NFIELDS(create_fields), &in, &doc))
		return;
	x->business_id = p->business_id;
	x->operator_id = p->actor;
	x->channel = p->channel;
	x->c.status = "active";
	x->c.source = p->kind == PRINCIPAL_APIKEY ? "api" : "admin";
	x->c.tags = "";
	x->c.notes = "";
	if (!customer_input_apply(req, res, &in, &x->c)) {
		json_decref(doc);
		return;
	}
	json_decref(doc);
	finish_create(req, res, x);
}

/* ---- reading ---- */

struct get_ctx {
	const struct app *app; /* set: the customer's pass is wanted too */
	int64_t business_id, id;
	const char *card;
	struct customer c;
	struct wallet_refs wallets;
};

static enum loy_err get_tx(struct store_tx *tx, void *arg)
{
	struct get_ctx *g = arg;
	enum loy_err err;

	if (g->card)
		return store_customer_by_card(tx, g->business_id, g->card, &g->c);
	err = store_customer_get(tx, g->business_id, g->id, &g->c);
	if (err != LOY_OK || !g->app)
		return err;
	return api_wallet_refs(tx, g->app, g->c.id, &g->wallets);
}

void api_customer_get(struct http_request *req, struct http_response *res)
{
	struct get_ctx g = { .app = api_app(req), .business_id = api_principal(req)->business_id };
	enum loy_err err;

	if (!api_param_id(req, res, 0, &g.id))
		return;
	err = store_read(api_app(req)->st, &req->arena, get_tx, &g);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such customer" : NULL);
		return;
	}
	api_json(res, 200, render(g.app, &g.c, &g.wallets));
}

void api_card_get(struct http_request *req, struct http_response *res)
{
	struct get_ctx g = { .business_id = api_principal(req)->business_id };
	char masked[32];
	enum loy_err err;

	if (!card_number_valid(req->params[0])) {
		api_error(res, LOY_ENOTFOUND, NULL, "no such card (check the number)");
		return;
	}
	g.card = arena_strndup(&req->arena, req->params[0].p, req->params[0].len);
	err = store_read(api_app(req)->st, &req->arena, get_tx, &g);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such card" : NULL);
		return;
	}
	log_mask_phone(g.c.phone, masked, sizeof(masked));
	api_json(res, 200,
		 json_pack("{s:s,s:I,s:s,s:s,s:I,s:s,s:o}", "cardNumber", g.c.card_number,
			   "customerId", (json_int_t)g.c.id, "name", g.c.name, "phoneMasked",
			   masked, "balance", (json_int_t)g.c.balance, "status", g.c.status,
			   "lastActivity", api_time(g.c.last_activity)));
}

struct list_ctx {
	const struct app *app;
	int64_t business_id;
	struct customer_query q;
	struct customer *items;
	int n;
	int64_t next;
	struct wallet_refs *wallets; /* per item */
};

static enum loy_err list_tx(struct store_tx *tx, void *arg)
{
	struct list_ctx *l = arg;
	enum loy_err err =
		store_customer_list(tx, l->business_id, &l->q, &l->items, &l->n, &l->next);

	if (err != LOY_OK)
		return err;
	l->wallets = arena_zalloc(tx->a, sizeof(*l->wallets) * (size_t)(l->n ? l->n : 1));
	if (!l->wallets)
		return LOY_ENOMEM;
	for (int i = 0; i < l->n && err == LOY_OK; i++)
		err = api_wallet_refs(tx, l->app, l->items[i].id, &l->wallets[i]);
	return err;
}

void api_customers_list(struct http_request *req, struct http_response *res)
{
	static const char *const allowed[] = { "query", "status", "tag", "limit", "cursor", NULL };
	struct list_ctx l = { .app = api_app(req), .business_id = api_principal(req)->business_id };
	const char *query = http_query(req, "query");
	const char *status = http_query(req, "status");
	const char *tag = http_query(req, "tag");
	int64_t limit, cursor;
	json_t *items;
	enum loy_err err;

	if (!api_query_only(req, res, allowed) ||
	    !api_query_int(req, res, "limit", 1, API_LIST_LIMIT_MAX, API_LIST_LIMIT_DEFAULT,
			   &limit) ||
	    !api_query_int(req, res, "cursor", 1, INT64_MAX, 0, &cursor))
		return;
	if (query && (strlen(query) > API_QUERY_MAX || !str_is_clean_utf8(str_from(query)))) {
		api_error(res, LOY_EINVALID, "query", "query must be at most 100 characters");
		return;
	}
	if (status && strcmp(status, "active") && strcmp(status, "inactive") &&
	    strcmp(status, "blocked")) {
		api_error(res, LOY_EINVALID, "status",
			  "status must be active, inactive or blocked");
		return;
	}
	if (tag && (strlen(tag) == 0 || strlen(tag) > API_TAG_LEN_MAX * 4 || strchr(tag, ',') ||
		    strchr(tag, '%') || strchr(tag, '_') || strchr(tag, '!'))) {
		api_error(res, LOY_EINVALID, "tag", "not a valid tag");
		return;
	}
	l.q.search = query && *query ? customer_search_pattern(&req->arena, query) : NULL;
	l.q.status = status;
	l.q.tag = tag ? arena_printf(&req->arena, "%%,%s,%%", tag) : NULL;
	l.q.before_id = cursor;
	l.q.limit = (int)limit;
	err = store_read(api_app(req)->st, &req->arena, list_tx, &l);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render(l.app, &l.items[i], &l.wallets[i]));
	api_json(
		res, 200,
		json_pack("{s:o,s:o}", "items", items, "nextCursor",
			  l.next ? json_string(arena_printf(&req->arena, "%lld", (long long)l.next))
				 : json_null()));
}

/* ---- changing ---- */

struct patch_ctx {
	struct http_request *req;
	struct http_response *res;
	const struct api_idem *idem;
	const struct customer_in *in;
	int64_t id;
	struct customer c;
	struct wallet_refs wallets;
	bool invalid; /* the response already holds a 400 */
	const char *conflict;
};

static enum loy_err patch_op(struct store_tx *tx, void *arg)
{
	struct patch_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err;

	x->invalid = false;
	err = store_customer_get(tx, p->business_id, x->id, &x->c);
	if (err != LOY_OK)
		return err;
	if (!customer_input_apply(x->req, x->res, x->in, &x->c)) {
		x->invalid = true;
		return LOY_EINVALID;
	}
	x->conflict = "email";
	err = store_customer_email_taken(tx, p->business_id, x->c.email, x->c.id);
	if (err != LOY_OK)
		return err;
	x->conflict = "phone";
	err = store_customer_update(tx, &x->c);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "customer.update",
				  arena_printf(tx->a, "customer:%lld", (long long)x->id),
				  x->req->ip);
	if (err == LOY_OK)
		err = api_wallet_refs(tx, api_app(x->req), x->c.id, &x->wallets);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 200, render(api_app(x->req), &x->c, &x->wallets));
	return LOY_OK;
}

static void patch_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct patch_ctx *x = ctx;

	if (x->invalid)
		return; /* the 400 naming the field is already in res */
	if (err == LOY_ECONFLICT && x->conflict && strcmp(x->conflict, "email") == 0)
		api_error(res, err, "email", "this e-mail address belongs to another customer");
	else if (err == LOY_ECONFLICT)
		api_error(res, err, "phone", "this phone number belongs to another customer");
	else
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such customer" : NULL);
}

void api_customer_patch(struct http_request *req, struct http_response *res)
{
	struct customer_in in = { 0 };
	struct api_idem idem;
	struct patch_ctx x = { .req = req, .res = res, .idem = &idem, .in = &in };
	json_t *doc = NULL;

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &idem))
		return;
	if (!api_read_body(req, res, patch_fields, NFIELDS(patch_fields), &in, &doc))
		return;
	struct api_write w = { .idem = &idem,
			       .business_id = api_principal(req)->business_id,
			       .op = patch_op,
			       .fail = patch_failed,
			       .doc = doc,
			       .ctx = &x };
	api_write(req, res, &w); /* a request-thread route: it returns when the write is over */
}

struct delete_ctx {
	struct http_request *req;
	struct http_response *res;
	int64_t id;
};

static enum loy_err delete_op(struct store_tx *tx, void *arg)
{
	struct delete_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err = store_customer_erase(tx, p->business_id, x->id);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "customer.erase",
				  arena_printf(tx->a, "customer:%lld", (long long)x->id),
				  x->req->ip);
	if (err == LOY_OK)
		api_no_content(x->res);
	return err;
}

static void delete_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such customer" : NULL);
}

void api_customer_delete(struct http_request *req, struct http_response *res)
{
	struct delete_ctx x = { .req = req, .res = res };
	struct api_idem idem;

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &idem))
		return;
	struct api_write w = { .idem = &idem,
			       .business_id = api_principal(req)->business_id,
			       .op = delete_op,
			       .fail = delete_failed,
			       .ctx = &x };
	api_write(req, res, &w);
}
