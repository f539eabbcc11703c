/* Business settings: name, contacts and the loyalty rules. */
#include <string.h>

#include "api/api.h"
#include "core/email.h"
#include "core/phone.h"
#include "core/url.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static json_t *render_settings(const struct business *b)
{
	return json_pack(
		"{s:s,s:s,s:{s:o,s:o,s:o,s:o},s:{s:I,s:I,s:I,s:I},s:o}", "businessName", b->name,
		"slug", b->slug, "contactInfo", "phone", api_str_or_null(b->contact_phone), "email",
		api_str_or_null(b->contact_email), "website", api_str_or_null(b->contact_website),
		"address", api_str_or_null(b->contact_address), "loyaltySettings", "pointsPerRuble",
		(json_int_t)b->loyalty.points_per_ruble_bp, "minimumRedemption",
		(json_int_t)b->loyalty.minimum_redemption, "expirationDays",
		(json_int_t)b->loyalty.expiration_days, "welcomeBonus",
		(json_int_t)b->loyalty.welcome_bonus, "updatedAt", api_time(b->updated_at));
}

static enum loy_err get_tx(struct store_tx *tx, void *arg)
{
	struct business *b = arg;
	return store_business_get(tx, b->id, b);
}

void api_settings_get(struct http_request *req, struct http_response *res)
{
	struct business b = { .id = api_principal(req)->business_id };
	if (!api_read(req, res, get_tx, &b))
		return;
	api_json(res, 200, render_settings(&b));
}

struct settings_in {
	struct jval name, contact, loyalty;
};
struct contact_in {
	struct jval phone, email, website, address;
};
struct loyalty_in {
	struct jval rate, minimum, expiration, welcome;
};

static const struct jfield settings_fields[] = {
	{ "businessName", J_STR, 0, 1, API_NAME_MAX, offsetof(struct settings_in, name) },
	{ "contactInfo", J_ANY, 0, 0, 0, offsetof(struct settings_in, contact) },
	{ "loyaltySettings", J_ANY, 0, 0, 0, offsetof(struct settings_in, loyalty) },
};
static const struct jfield contact_fields[] = {
	{ "phone", J_STR, J_NULLABLE, 1, 32, offsetof(struct contact_in, phone) },
	{ "email", J_STR, J_NULLABLE, 1, 254, offsetof(struct contact_in, email) },
	{ "website", J_STR, J_NULLABLE, 1, API_TEXT_MAX, offsetof(struct contact_in, website) },
	{ "address", J_STR, J_NULLABLE, 1, API_TEXT_MAX, offsetof(struct contact_in, address) },
};
static const struct jfield loyalty_fields[] = {
	{ "pointsPerRuble", J_INT, 0, 0, LOYALTY_BP_MAX, offsetof(struct loyalty_in, rate) },
	{ "minimumRedemption", J_INT, 0, 0, LOYALTY_AMOUNT_MAX,
	  offsetof(struct loyalty_in, minimum) },
	{ "expirationDays", J_INT, 0, 0, 3650, offsetof(struct loyalty_in, expiration) },
	{ "welcomeBonus", J_INT, 0, 0, 100000, offsetof(struct loyalty_in, welcome) },
};

struct put_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	struct settings_in in;
	struct contact_in contact;
	struct loyalty_in loyalty;
};

static const char *str_or_keep(struct http_request *req, const struct jval *v, const char *old)
{
	if (!v->set)
		return old;
	return api_str(req, v); /* NULL when explicitly null */
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The name and the contacts show on every card (organizationName, the back fields). */
static bool card_changed(const struct business *a, const struct business *b)
{
	return !same(a->name, b->name) || !same(a->contact_phone, b->contact_phone) ||
	       !same(a->contact_email, b->contact_email) ||
	       !same(a->contact_website, b->contact_website) ||
	       !same(a->contact_address, b->contact_address);
}

static enum loy_err put_op(struct store_tx *tx, void *arg)
{
	struct put_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	struct business b, old;
	enum loy_err err = store_business_get(tx, p->business_id, &b);

	if (err != LOY_OK)
		return err;
	old = b;
	if (x->in.name.set)
		b.name = api_str(x->req, &x->in.name);
	b.contact_phone = str_or_keep(x->req, &x->contact.phone, b.contact_phone);
	b.contact_email = str_or_keep(x->req, &x->contact.email, b.contact_email);
	b.contact_website = str_or_keep(x->req, &x->contact.website, b.contact_website);
	b.contact_address = str_or_keep(x->req, &x->contact.address, b.contact_address);
	if (x->loyalty.rate.set)
		b.loyalty.points_per_ruble_bp = x->loyalty.rate.i;
	if (x->loyalty.minimum.set)
		b.loyalty.minimum_redemption = x->loyalty.minimum.i;
	if (x->loyalty.expiration.set)
		b.loyalty.expiration_days = x->loyalty.expiration.i;
	if (x->loyalty.welcome.set)
		b.loyalty.welcome_bonus = x->loyalty.welcome.i;
	err = store_business_update(tx, &b);
	if (err == LOY_OK)
		err = store_audit(tx, b.id, p->actor, "settings.update", NULL, x->req->ip);
	if (err == LOY_OK && card_changed(&old, &b))
		err = store_wallet_design_changed(tx, b.id, api_app(x->req)->google != NULL);
	if (err != LOY_OK)
		return err;
	b.updated_at = tx->now;
	api_json(x->res, 200, render_settings(&b));
	return LOY_OK;
}

/* Binds a nested object; answers 400 naming "parent.field" on failure. */
static bool bind_nested(struct http_request *req, struct http_response *res, const char *parent,
			const struct jval *v, const struct jfield *fields, size_t n, void *out)
{
	const char *bad = NULL, *message = NULL;
	if (!v->set)
		return true;
	if (!json_is_object(v->j)) {
		api_error(res, LOY_EINVALID, parent,
			  arena_printf(&req->arena, "%s must be an object", parent));
		return false;
	}
	if (api_bind(v->j, fields, n, out, &bad, &message) != LOY_OK) {
		const char *field = arena_printf(&req->arena, "%s.%s", parent, bad);
		api_error(res, LOY_EINVALID, field,
			  arena_printf(&req->arena, "%s %s", field, message));
		return false;
	}
	return true;
}

void api_settings_put(struct http_request *req, struct http_response *res)
{
	struct put_ctx x = { .req = req, .res = res };
	json_t *doc = NULL;

	if (!api_idem_prepare(req, res, &x.idem) ||
	    !api_read_body(req, res, settings_fields, NFIELDS(settings_fields), &x.in, &doc))
		return;
	if (!bind_nested(req, res, "contactInfo", &x.in.contact, contact_fields,
			 NFIELDS(contact_fields), &x.contact) ||
	    !bind_nested(req, res, "loyaltySettings", &x.in.loyalty, loyalty_fields,
			 NFIELDS(loyalty_fields), &x.loyalty)) {
		json_decref(doc);
		return;
	}
	if (x.contact.email.set && !x.contact.email.null &&
	    !email_valid((struct str){ x.contact.email.s, x.contact.email.len })) {
		json_decref(doc);
		api_error(res, LOY_EINVALID, "contactInfo.email",
			  "contactInfo.email is not a valid e-mail address");
		return;
	}
	if (x.contact.website.set && !x.contact.website.null &&
	    !url_valid((struct str){ x.contact.website.s, x.contact.website.len })) {
		json_decref(doc);
		api_error(res, LOY_EINVALID, "contactInfo.website",
			  "contactInfo.website must be an http(s) URL");
		return;
	}
	if (x.contact.phone.set && !x.contact.phone.null) {
		char *e164 = arena_alloc(&req->arena, PHONE_E164_MAX);
		if (!e164 ||
		    !phone_normalize((struct str){ x.contact.phone.s, x.contact.phone.len },
				     e164)) {
			json_decref(doc);
			api_error(res, LOY_EINVALID, "contactInfo.phone",
				  "contactInfo.phone is not a valid phone number");
			return;
		}
		x.contact.phone.s = e164;
		x.contact.phone.len = strlen(e164);
	}
	struct api_write w = { .idem = &x.idem,
			       .business_id = api_principal(req)->business_id,
			       .op = put_op,
			       .fail = NULL,
			       .ctx = &x };
	api_write(req, res, &w);
	json_decref(doc);
}
