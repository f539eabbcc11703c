/* Google Wallet's HTTP side: the "Add to Google Wallet" link a customer taps, the save/delete
 * callbacks Google posts, and the messages the business sends to a card (see gwallet.h). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/passkit_input.h"
#include "base/log.h"
#include "base/str.h"
#include "wallet/apple/images.h"
#include "wallet/apple/pass.h"
#include "wallet/google/gwallet.h"

#define GOOGLE_SAVE_MISS_RATE 30 /* unknown links per minute per address */
#define MESSAGE_HEADER_MAX 35	 /* Google shows about this many characters of a header */
#define MESSAGE_BODY_MAX 500
#define LOGO_ARENA (8u << 20) /* room for a template image at its cap */

static bool google_on(struct http_request *req, struct http_response *res)
{
	if (api_app(req)->google)
		return true;
	api_error(res, LOY_ENOTFOUND, NULL, "Google Wallet is not set up");
	return false;
}

/* ---- GET /google/save/{link} ---- */

struct save_ctx {
	const char *token;
	struct google_object obj;
};

static enum loy_err save_read_tx(struct store_tx *tx, void *arg)
{
	struct save_ctx *x = arg;
	return store_google_object_by_link(tx, x->token, &x->obj);
}

/* The link in walletLinks.google: the card is inserted at Google (if the outbox has not done it
 * yet) and the customer is sent on to Google's save page with a freshly signed, short JWT — the
 * practice Google recommends over long-lived links (spec §2.7). */
void api_google_save(struct http_request *req, struct http_response *res)
{
	struct app *app = api_app(req);
	struct str link = req->nparams > 0 ? req->params[0] : (struct str){ "", 0 };
	struct save_ctx x = { 0 };
	const char *url = NULL, *why = NULL;
	enum loy_err err;

	if (!google_on(req, res))
		return;
	if (!passkit_link_ok(link) || !(x.token = arena_strndup(&req->arena, link.p, link.len))) {
		api_error(res, LOY_ENOTFOUND, NULL, "no such card");
		return;
	}
	err = store_read(app->st, &req->arena, save_read_tx, &x);
	if (err == LOY_ENOTFOUND) {
		int retry = 0;
		char key[96];
		snprintf(key, sizeof(key), "google-save:%s", req->ip);
		if (!ratelimit_take(app->rl, key, GOOGLE_SAVE_MISS_RATE, &retry)) {
			http_set_header(res, "Retry-After", arena_printf(&req->arena, "%d", retry));
			api_error(res, LOY_ERATE, NULL, "too many requests; try again later");
			return;
		}
		api_error(res, LOY_ENOTFOUND, NULL, "no such card");
		return;
	}
	if (err == LOY_OK)
		err = gwallet_save_url(app->google, &req->arena, x.obj.customer_id, &url, &why);
	if (err == LOY_ENOTFOUND) {
		api_error(res, LOY_ENOTFOUND, NULL, "no such card");
		return;
	}
	if (err != LOY_OK) {
		/* Google is down or refused the card: the customer may try again in a moment. */
		http_set_header(res, "Retry-After", "30");
		api_error(res, LOY_EUNAVAILABLE, NULL,
			  "Google Wallet cannot take the card right now; try again in a minute");
		log_warn("Google save link for customer %lld: %s", (long long)x.obj.customer_id,
			 why ? why : err_code(err));
		return;
	}
	res->status = 302;
	http_set_header(res, "Location", url);
	http_set_header(res, "Cache-Control", "no-store");
}

/* ---- POST /google/callback ---- */

void api_google_callback(struct http_request *req, struct http_response *res)
{
	struct app *app = api_app(req);
	const char *why = NULL;
	enum loy_err err;

	if (!google_on(req, res))
		return;
	err = gwallet_callback(app->google, &req->arena, req->body.p ? req->body.p : "",
			       req->body.len, &why);
	if (err == LOY_OK) {
		api_json(res, 200, json_object());
		return;
	}
	log_warn("Google callback refused: %s", why ? why : err_code(err));
	api_error(res,
		  err == LOY_EUNAUTH	    ? LOY_EUNAUTH
		  : err == LOY_EUNAVAILABLE ? LOY_EUNAVAILABLE
					    : LOY_EINVALID,
		  NULL, why);
}

/* ---- POST /api/v1/customers/{id}/wallet/google/messages ---- */

struct message_in {
	struct jval header, body;
};

static const struct jfield message_fields[] = {
	{ "header", J_STR, J_REQUIRED, 1, MESSAGE_HEADER_MAX, offsetof(struct message_in, header) },
	{ "body", J_TEXT, J_REQUIRED, 1, MESSAGE_BODY_MAX, offsetof(struct message_in, body) },
};

struct message_ctx {
	struct http_request *req;
	struct http_response *res;
	struct google_message m;
};

static enum loy_err message_op(struct store_tx *tx, void *arg)
{
	struct message_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	struct customer c;
	struct google_object obj;
	enum loy_err err = store_customer_get(tx, p->business_id, x->m.customer_id, &c);

	if (err == LOY_OK)
		err = store_google_object_get(tx, c.id, &obj);
	if (err == LOY_OK)
		err = store_google_message_insert(tx, &x->m);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "wallet.google.message",
				  arena_printf(tx->a, "customer:%lld", (long long)c.id),
				  x->req->ip);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 202,
		 json_pack("{s:I,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)x->m.id, "messageId",
			   x->m.message_id, "header", x->m.header, "body", x->m.body, "state",
			   x->m.state, "createdAt", api_time(x->m.created_at)));
	return LOY_OK;
}

static void message_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	(void)ctx;
	api_error(res, err, NULL,
		  err == LOY_ENOTFOUND ? "no such customer, or the card is not in Google Wallet"
				       : NULL);
}

void api_google_message(struct http_request *req, struct http_response *res)
{
	struct message_ctx *x = arena_zalloc(&req->arena, sizeof(*x));
	struct api_idem *idem = arena_zalloc(&req->arena, sizeof(*idem));
	struct message_in in = { 0 };
	json_t *doc = NULL;

	if (!x || !idem) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	if (!google_on(req, res) || !api_param_id(req, res, 0, &x->m.customer_id) ||
	    !api_idem_prepare(req, res, idem) ||
	    !api_read_body(req, res, message_fields, 2, &in, &doc))
		return;
	x->req = req;
	x->res = res;
	x->m.business_id = api_principal(req)->business_id;
	x->m.header = api_str(req, &in.header);
	x->m.body = api_str(req, &in.body);
	api_write(req, res,
		  &(struct api_write){ .idem = idem,
				       .business_id = x->m.business_id,
				       .op = message_op,
				       .fail = message_failed,
				       .doc = doc,
				       .ctx = x });
}

/* ---- GET /wallet/logo/{business}.png ---- */

/* The programme logo Google shows on the card (the class's programLogo, fetched by Google from a
 * public URL): the business's default template's own icon at @3x, else its logo, else the icon
 * drawn in its colours — the same mark as on the Apple pass. */
struct logo_ctx {
	int64_t business_id;
	struct template_image img;
	bool found;
	struct pass_rgb colors[3];
};

static enum loy_err logo_tx(struct store_tx *tx, void *arg)
{
	static const char *const names[] = { "icon@3x", "logo@3x", "icon@2x", "icon" };
	struct logo_ctx *x = arg;
	struct card_template t;
	json_t *design;
	enum loy_err err = store_template_default(tx, x->business_id, &t);

	if (err == LOY_ENOTFOUND) {
		struct business b;
		return store_business_get(tx, x->business_id, &b); /* the plain card's mark */
	}
	if (err != LOY_OK)
		return err;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !x->found; i++) {
		err = store_template_image_get(tx, x->business_id, t.id, names[i], &x->img);
		if (err != LOY_OK && err != LOY_ENOTFOUND)
			return err;
		x->found = err == LOY_OK;
	}
	design = json_loads(t.design, 0, NULL);
	pass_color_parse(json_string_value(json_object_get(design, "backgroundColor")),
			 &x->colors[0]);
	pass_color_parse(json_string_value(json_object_get(design, "foregroundColor")),
			 &x->colors[1]);
	pass_color_parse(json_string_value(json_object_get(design, "labelColor")), &x->colors[2]);
	json_decref(design);
	return LOY_OK;
}

void api_wallet_logo(struct http_request *req, struct http_response *res)
{
	struct str file = req->nparams > 0 ? req->params[0] : (struct str){ "", 0 };
	struct logo_ctx x = {
		.colors = { { 0x1f, 0x29, 0x37 }, { 0xff, 0xff, 0xff }, { 0xcb, 0xd5, 0xe1 } }
	};
	struct pass_images drawn = { 0 };
	struct arena a;
	enum loy_err err;
	int64_t id;

	if (file.len < 5 || memcmp(file.p + file.len - 4, ".png", 4) != 0 ||
	    !str_to_i64((struct str){ file.p, file.len - 4 }, &id) || id <= 0) {
		api_error(res, LOY_ENOTFOUND, NULL, "no such image");
		return;
	}
	x.business_id = id;
	arena_init(&a, LOGO_ARENA);
	err = store_read(api_app(req)->st, &a, logo_tx, &x);
	if (err == LOY_OK && !x.found)
		err = pass_png_defaults(&drawn, x.colors[0], x.colors[1], x.colors[2]);
	if (err == LOY_OK) {
		const struct pass_png *png = &drawn.png[PASS_PNG_ICON_3X];
		buf_clear(&res->body);
		err = x.found ? buf_append(&res->body, x.img.png, x.img.len)
			      : buf_append(&res->body, png->data, png->len);
	}
	pass_png_release(&drawn);
	arena_free(&a);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such image" : NULL);
		return;
	}
	res->status = 200;
	res->content_type = "image/png";
	http_set_header(res, "Cache-Control", "public, max-age=3600");
}
