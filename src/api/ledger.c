/* The ledger over HTTP: a customer's transactions, posting credits/debits/adjustments, reversals,
 * and the POS purchase that redeems and earns in one transaction. Every write is idempotent by
 * Idempotency-Key and, where given, by orderId (unique per business). */
#include <string.h>

#include "api/api.h"
#include "base/log.h"
#include "core/card.h"
#include "core/phone.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* Claims orderId (unique per business) for this request. *replayed: res now holds the response
 * first given for it. Called inside the operation, so a refused request leaves no claim. */
static enum loy_err claim_order(struct store_tx *tx, struct http_response *res,
				const struct api_idem *idem, int64_t business_id,
				const char *order_id, bool *replayed)
{
	struct idem_replay r;
	enum loy_err err;

	*replayed = false;
	if (!order_id)
		return LOY_OK;
	err = store_idem_claim(tx, business_id, "order", order_id, idem->hash, &r);
	if (err != LOY_OK || !r.replayed)
		return err;
	*replayed = true;
	return api_idem_replay(res, &r);
}

static enum loy_err finish_order(struct store_tx *tx, struct http_response *res,
				 int64_t business_id, const char *order_id)
{
	if (!order_id)
		return LOY_OK;
	return store_idem_finish(tx, business_id, "order", order_id, res->status, res->body.p);
}

/* Checks an orderId and, when there is one, makes sure the request is hashed: the orderId is an
 * idempotency key of its own. */
static bool valid_order_id(struct http_request *req, struct http_response *res,
			   const struct jval *v, const char **out, struct api_idem *idem)
{
	*out = NULL;
	if (!v->set)
		return true;
	if (!str_is_visible_ascii((struct str){ v->s, v->len })) {
		api_error(res, LOY_EINVALID, "orderId",
			  "orderId must be 1 to 128 visible ASCII characters");
		return false;
	}
	*out = api_str(req, v);
	return idem->hash[0] || api_idem_hash(req, res, idem);
}

/* ---- POST /customers/{id}/transactions ---- */

struct tx_in {
	struct jval type, amount, order_id, description;
};

static const struct jfield tx_fields[] = {
	{ "type", J_STR, J_REQUIRED, 1, 16, offsetof(struct tx_in, type) },
	{ "amount", J_INT, J_REQUIRED, -LOYALTY_AMOUNT_MAX, LOYALTY_AMOUNT_MAX,
	  offsetof(struct tx_in, amount) },
	{ "orderId", J_STR, 0, 1, API_KEY_LEN_MAX, offsetof(struct tx_in, order_id) },
	{ "description", J_TEXT, 0, 0, API_TEXT_MAX, offsetof(struct tx_in, description) },
};

struct post_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	struct ledger_entry e;
	bool posted;
};

static enum loy_err post_op(struct store_tx *tx, void *arg)
{
	struct post_ctx *x = arg;
	bool replayed;
	enum loy_err err =
		claim_order(tx, x->res, &x->idem, x->e.business_id, x->e.order_id, &replayed);

	x->posted = false;
	if (err != LOY_OK || replayed)
		return err;
	/* A blocked card takes no credits or debits; staff adjustments still go through. */
	x->e.refuse_blocked = x->e.type != LEDGER_ADJUSTMENT;
	err = store_ledger_post(tx, &x->e, 0);
	if (err != LOY_OK)
		return err;
	x->posted = true;
	api_json(x->res, 201, api_render_entry(&x->e));
	return finish_order(tx, x->res, x->e.business_id, x->e.order_id);
}

static void post_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	switch (err) {
	case LOY_ENOTFOUND:
		api_error(res, err, NULL, "no such customer");
		break;
	case LOY_EBALANCE:
		api_error(res, err, NULL, "the balance is too low for this debit");
		break;
	case LOY_ERULE:
		api_error(res, err, NULL, "the card is blocked");
		break;
	case LOY_EIDEMPOTENCY:
		api_error(res, err, "orderId", "this orderId was used for another request");
		break;
	default:
		api_error(res, err, NULL, NULL);
	}
}

static void post_done(struct http_request *req, enum loy_err err, void *ctx)
{
	const struct post_ctx *x = ctx;
	req->log_customer_id = x->e.customer_id;
	if (err == LOY_OK && x->posted)
		api_count_ledger(x->e.type);
}

/* The context lives in the arena: on SQLite the write completes after this returns. */
void api_transactions_create(struct http_request *req, struct http_response *res)
{
	struct principal *p = api_principal(req);
	struct tx_in in = { 0 };
	struct post_ctx *x = arena_zalloc(&req->arena, sizeof(*x));
	json_t *doc = NULL;
	const char *type;

	if (!x) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	*x = (struct post_ctx){ .req = req, .res = res };
	if (!api_param_id(req, res, 0, &x->e.customer_id) || !api_idem_prepare(req, res, &x->idem))
		return;
	if (!api_read_body(req, res, tx_fields, NFIELDS(tx_fields), &in, &doc))
		return;
	type = api_str(req, &in.type);
	if (ledger_type_parse(type, 1, &x->e.type) != LOY_OK) {
		json_decref(doc);
		api_error(res, LOY_EINVALID, "type", "type must be credit, debit or adjustment");
		return;
	}
	if (ledger_delta(x->e.type, in.amount.i, &x->e.amount) != LOY_OK) {
		json_decref(doc);
		api_error(res, LOY_EINVALID, "amount",
			  x->e.type == LEDGER_ADJUSTMENT ? "amount must not be zero"
							 : "amount must be a positive integer");
		return;
	}
	if (x->e.type == LEDGER_ADJUSTMENT && !role_allows(p->role, ROLE_ADMIN)) {
		json_decref(doc);
		api_error(res, LOY_EFORBIDDEN, NULL, "adjustments need the admin role");
		return;
	}
	if (!valid_order_id(req, res, &in.order_id, &x->e.order_id, &x->idem)) {
		json_decref(doc);
		return;
	}
	x->e.description = api_str(req, &in.description);
	json_decref(doc);
	x->e.business_id = p->business_id;
	x->e.operator_id = p->actor;
	x->e.channel = p->channel;
	struct api_write w = { .idem = &x->idem,
			       .business_id = p->business_id,
			       .op = post_op,
			       .fail = post_failed,
			       .done = post_done,
			       .ctx = x };
	api_write(req, res, &w);
}

/* ---- GET /customers/{id}/transactions ---- */

struct list_ctx {
	int64_t business_id, customer_id, before;
	int limit;
	struct ledger_entry *items;
	int n;
	int64_t next;
};

static enum loy_err list_tx(struct store_tx *tx, void *arg)
{
	struct list_ctx *l = arg;
	struct customer c;
	enum loy_err err = store_customer_get(tx, l->business_id, l->customer_id, &c);
	if (err != LOY_OK)
		return err;
	return store_ledger_list(tx, l->business_id, l->customer_id, l->before, l->limit, &l->items,
				 &l->n, &l->next);
}

void api_transactions_list(struct http_request *req, struct http_response *res)
{
	static const char *const allowed[] = { "limit", "cursor", NULL };
	struct list_ctx l = { .business_id = api_principal(req)->business_id };
	int64_t limit;
	json_t *items;
	enum loy_err err;

	if (!api_param_id(req, res, 0, &l.customer_id) || !api_query_only(req, res, allowed) ||
	    !api_query_int(req, res, "limit", 1, API_LIST_LIMIT_MAX, API_LIST_LIMIT_DEFAULT,
			   &limit) ||
	    !api_query_int(req, res, "cursor", 1, INT64_MAX, 0, &l.before))
		return;
	l.limit = (int)limit;
	err = store_read(api_app(req)->st, &req->arena, list_tx, &l);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such customer" : NULL);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, api_render_entry(&l.items[i]));
	api_json(
		res, 200,
		json_pack("{s:o,s:o}", "items", items, "nextCursor",
			  l.next ? json_string(arena_printf(&req->arena, "%lld", (long long)l.next))
				 : json_null()));
}

/* ---- POST /transactions/{id}/reverse ---- */

struct reverse_in {
	struct jval description;
};

static const struct jfield reverse_fields[] = {
	{ "description", J_TEXT, 0, 0, API_TEXT_MAX, offsetof(struct reverse_in, description) },
};

struct reverse_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	int64_t id;
	const char *description;
	struct ledger_entry e;
	bool reversal_of_reversal;
};

static enum loy_err reverse_op(struct store_tx *tx, void *arg)
{
	struct reverse_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	struct ledger_entry orig;
	enum loy_err err;

	x->reversal_of_reversal = false;
	x->e.id = 0;
	err = store_ledger_get(tx, p->business_id, x->id, &orig);
	if (err != LOY_OK)
		return err;
	if (orig.type == LEDGER_REVERSAL) {
		x->reversal_of_reversal = true;
		return LOY_ERULE;
	}
	if (orig.reversed_by)
		return LOY_ECONFLICT;
	x->e = (struct ledger_entry){
		.business_id = p->business_id,
		.customer_id = orig.customer_id,
		.type = LEDGER_REVERSAL,
		.amount = -orig.amount,
		.description = x->description,
		.order_id = orig.order_id,
		.operator_id = p->actor,
		.channel = p->channel,
		.reversal_of = orig.id,
	};
	err = store_ledger_post(tx, &x->e, 0);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "transaction.reverse",
				  arena_printf(tx->a, "transaction:%lld", (long long)orig.id),
				  x->req->ip);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 201, api_render_entry(&x->e));
	return LOY_OK;
}

static void reverse_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct reverse_ctx *x = ctx;

	if (err == LOY_ENOTFOUND)
		api_error(res, err, NULL, "no such transaction");
	else if (err == LOY_ECONFLICT)
		api_error(res, err, NULL, "this transaction is already reversed");
	else if (err == LOY_ERULE && x->reversal_of_reversal)
		api_error(res, err, NULL, "a reversal cannot be reversed");
	else if (err == LOY_EBALANCE)
		api_error(res, err, NULL, "the balance is too low to take these points back");
	else
		api_error(res, err, NULL, NULL);
}

static void reverse_done(struct http_request *req, enum loy_err err, void *ctx)
{
	const struct reverse_ctx *x = ctx;
	if (err == LOY_OK && x->e.id)
		api_count_ledger(LEDGER_REVERSAL);
}

void api_transaction_reverse(struct http_request *req, struct http_response *res)
{
	struct reverse_in in = { 0 };
	struct reverse_ctx *x = arena_zalloc(&req->arena, sizeof(*x));
	json_t *doc = NULL;

	if (!x) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	*x = (struct reverse_ctx){ .req = req, .res = res };
	if (!api_param_id(req, res, 0, &x->id) || !api_idem_prepare(req, res, &x->idem))
		return;
	if (!api_read_body(req, res, reverse_fields, NFIELDS(reverse_fields), &in, &doc))
		return;
	x->description = api_str(req, &in.description);
	json_decref(doc);
	struct api_write w = { .idem = &x->idem,
			       .business_id = api_principal(req)->business_id,
			       .op = reverse_op,
			       .fail = reverse_failed,
			       .done = reverse_done,
			       .ctx = x };
	api_write(req, res, &w);
}

/* ---- POST /pos/purchase ---- */

struct purchase_in {
	struct jval card, phone, amount, redeem, order_id, description;
};

static const struct jfield purchase_fields[] = {
	{ "card", J_STR, 0, 1, 32, offsetof(struct purchase_in, card) },
	{ "phone", J_STR, 0, 1, 32, offsetof(struct purchase_in, phone) },
	{ "purchaseAmount", J_INT, J_REQUIRED, 1, LOYALTY_PURCHASE_MAX,
	  offsetof(struct purchase_in, amount) },
	{ "redeem", J_INT, 0, 0, LOYALTY_AMOUNT_MAX, offsetof(struct purchase_in, redeem) },
	{ "orderId", J_STR, J_REQUIRED, 1, API_KEY_LEN_MAX,
	  offsetof(struct purchase_in, order_id) },
	{ "description", J_TEXT, 0, 0, API_TEXT_MAX, offsetof(struct purchase_in, description) },
};

struct purchase_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	const char *card, *phone, *order_id, *description;
	int64_t amount, redeem;
	struct customer c;
	struct purchase_plan plan;
	enum loy_err why; /* the rule that refused it, for the message */
	bool applied;
};

static enum loy_err post_entry(struct store_tx *tx, struct purchase_ctx *x, enum ledger_type type,
			       int64_t amount, int64_t spent, json_t *list)
{
	struct principal *p = api_principal(x->req);
	struct ledger_entry e = {
		.business_id = p->business_id,
		.customer_id = x->c.id,
		.type = type,
		.amount = amount,
		.description = x->description,
		.order_id = x->order_id,
		.operator_id = p->actor,
		.channel = "pos",
	};
	enum loy_err err = store_ledger_post(tx, &e, spent);
	if (err == LOY_OK) {
		x->c.balance = e.balance_after;
		json_array_append_new(list, api_render_entry(&e));
	}
	return err;
}

static enum loy_err purchase_op(struct store_tx *tx, void *arg)
{
	struct purchase_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	struct business b;
	json_t *list;
	bool replayed;
	enum loy_err err;

	x->applied = false;
	x->why = LOY_OK;
	err = claim_order(tx, x->res, &x->idem, p->business_id, x->order_id, &replayed);
	if (err != LOY_OK || replayed)
		return err;
	err = store_business_get(tx, p->business_id, &b);
	if (err == LOY_OK)
		err = x->card ? store_customer_by_card(tx, p->business_id, x->card, &x->c)
			      : store_customer_by_phone(tx, p->business_id, x->phone, &x->c);
	if (err != LOY_OK)
		return err;
	if (strcmp(x->c.status, "blocked") == 0)
		return x->why = LOY_EFORBIDDEN, LOY_ERULE;
	err = loyalty_plan_purchase(&b.loyalty, x->c.balance, x->amount, x->redeem, &x->plan);
	if (err != LOY_OK)
		return x->why = err, err;
	list = json_array();
	if (x->plan.redeem > 0)
		err = post_entry(tx, x, LEDGER_DEBIT, -x->plan.redeem,
				 x->plan.earn > 0 ? 0 : x->amount, list);
	if (err == LOY_OK && x->plan.earn > 0)
		err = post_entry(tx, x, LEDGER_CREDIT, x->plan.earn, x->amount, list);
	if (err == LOY_OK && x->plan.redeem == 0 && x->plan.earn == 0)
		err = store_customer_apply(tx, p->business_id, x->c.id, 0, x->amount, false,
					   &x->c.balance);
	if (err != LOY_OK) {
		json_decref(list);
		return err;
	}
	x->applied = true;
	api_json(x->res, 201,
		 json_pack("{s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "orderId", x->order_id,
			   "customerId", (json_int_t)x->c.id, "cardNumber", x->c.card_number,
			   "purchaseAmount", (json_int_t)x->amount, "redeemed",
			   (json_int_t)x->plan.redeem, "earned", (json_int_t)x->plan.earn,
			   "amountDue", (json_int_t)x->plan.paid, "balance",
			   (json_int_t)x->c.balance, "transactions", list));
	return finish_order(tx, x->res, p->business_id, x->order_id);
}

static void purchase_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct purchase_ctx *x = ctx;

	if (err == LOY_ENOTFOUND)
		api_error(res, err, NULL, "no customer with this card or phone");
	else if (err == LOY_EBALANCE)
		api_error(res, err, "redeem", "the balance is too low for this redemption");
	else if (err == LOY_ERULE && x->why == LOY_EFORBIDDEN)
		api_error(res, err, NULL, "the card is blocked");
	else if (err == LOY_ERULE)
		api_error(res, err, "redeem",
			  "redeem is below the minimum redemption or worth more than the purchase");
	else if (err == LOY_EIDEMPOTENCY)
		api_error(res, err, "orderId", "this orderId was used for another purchase");
	else
		api_error(res, err, NULL, NULL);
}

static bool bind_purchase(struct http_request *req, struct http_response *res,
			  const struct purchase_in *in, struct purchase_ctx *x)
{
	char e164[PHONE_E164_MAX];

	if (in->card.set == in->phone.set) {
		api_error(res, LOY_EINVALID, "card", "give exactly one of card and phone");
		return false;
	}
	if (in->card.set) {
		struct str card = { in->card.s, in->card.len };
		if (!card_number_valid(card)) {
			api_error(res, LOY_EINVALID, "card", "card is not a valid card number");
			return false;
		}
		x->card = api_str(req, &in->card);
	} else {
		if (!phone_normalize((struct str){ in->phone.s, in->phone.len }, e164)) {
			api_error(res, LOY_EINVALID, "phone", "phone is not a valid phone number");
			return false;
		}
		x->phone = arena_strdup(&req->arena, e164);
	}
	if (!valid_order_id(req, res, &in->order_id, &x->order_id, &x->idem))
		return false;
	x->amount = in->amount.i;
	x->redeem = in->redeem.set ? in->redeem.i : 0;
	x->description = api_str(req, &in->description);
	return true;
}

static void purchase_done(struct http_request *req, enum loy_err err, void *ctx)
{
	const struct purchase_ctx *x = ctx;

	if (err != LOY_OK || !x->applied)
		return;
	req->log_customer_id = x->c.id;
	if (x->plan.redeem)
		api_count_ledger(LEDGER_DEBIT);
	if (x->plan.earn)
		api_count_ledger(LEDGER_CREDIT);
}

void api_pos_purchase(struct http_request *req, struct http_response *res)
{
	struct purchase_in in = { 0 };
	struct purchase_ctx *x = arena_zalloc(&req->arena, sizeof(*x));
	json_t *doc = NULL;
	bool ok;

	if (!x) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	*x = (struct purchase_ctx){ .req = req, .res = res };
	if (!api_idem_prepare(req, res, &x->idem))
		return;
	if (!api_read_body(req, res, purchase_fields, NFIELDS(purchase_fields), &in, &doc))
		return;
	ok = bind_purchase(req, res, &in, x);
	json_decref(doc);
	if (!ok)
		return;
	struct api_write w = { .idem = &x->idem,
			       .business_id = api_principal(req)->business_id,
			       .op = purchase_op,
			       .fail = purchase_failed,
			       .done = purchase_done,
			       .ctx = x };
	api_write(req, res, &w);
}
