/* Business locations: the places near which a customer's Apple Wallet pass comes up on the lock
 * screen with its relevantText (a pass carries the first 10, oldest first). Coordinates are JSON
 * numbers in degrees at the edge and integer micro-degrees inside: a number is range-checked as
 * the double jansson parsed, then rounded once to the nearest micro-degree — exact for every
 * input of up to 6 decimals, since such a double is within 1e-9 of its decimal — and rendered
 * back with 9 significant digits, which is every digit a micro-degree value has, so 55.755826
 * comes back as 55.755826. Every change refreshes the business's passes in its transaction. */
#include <stdlib.h>

#include "api/api.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))
#define E6 1000000.0
#define LAT_LIMIT 90.0
#define LON_LIMIT 180.0
#define COORD_DIGITS 9 /* 3 before the point and 6 after */

struct location_in {
	struct jval name, latitude, longitude, relevant_text;
};

static const struct jfield location_fields[] = {
	{ "name", J_STR, 0, 1, API_NAME_MAX, offsetof(struct location_in, name) },
	{ "latitude", J_ANY, 0, 0, 0, offsetof(struct location_in, latitude) },
	{ "longitude", J_ANY, 0, 0, 0, offsetof(struct location_in, longitude) },
	{ "relevantText", J_STR, J_NULLABLE, 1, API_TEXT_MAX,
	  offsetof(struct location_in, relevant_text) },
};

struct location_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	struct location_in in;
	int32_t latitude_e6, longitude_e6;
	int64_t id;
	struct location l;
	struct location *items;
	int n;
};

/* Answers like api_json, but with reals written to COORD_DIGITS significant digits (jansson's
 * default, 17, turns 55.755826 into 55.755825999999999). */
static void reply(struct http_response *res, int status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(COORD_DIGITS)) : NULL;

	json_decref(j);
	buf_clear(&res->body);
	if (!text || buf_append_cstr(&res->body, text) != LOY_OK) {
		free(text);
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	free(text);
	res->status = status;
	res->content_type = "application/json";
}

static json_t *render_location(const struct location *l)
{
	return json_pack("{s:I,s:s,s:f,s:f,s:o,s:o,s:o}", "id", (json_int_t)l->id, "name", l->name,
			 "latitude", l->latitude_e6 / E6, "longitude", l->longitude_e6 / E6,
			 "relevantText", api_str_or_null(l->relevant_text), "createdAt",
			 api_time(l->created_at), "updatedAt", api_time(l->updated_at));
}

/* A given coordinate: a JSON number within ±limit degrees, to micro-degrees; 400 otherwise. */
static bool coordinate(struct http_request *req, struct http_response *res, const char *field,
		       const struct jval *v, double limit, int32_t *out)
{
	double d = json_is_number(v->j) ? json_number_value(v->j) : 0;
	double e6;

	if (!json_is_number(v->j) || !(d >= -limit && d <= limit)) {
		api_error(res, LOY_EINVALID, field,
			  arena_printf(&req->arena, "%s must be a number from %g to %g degrees",
				       field, -limit, limit));
		return false;
	}
	e6 = d * E6;
	*out = (int32_t)(e6 < 0 ? e6 - 0.5 : e6 + 0.5); /* to nearest, halves away from 0 */
	return true;
}

/* Binds the body; `create` requires name and both coordinates. Answers the error itself. */
static bool bind(struct http_request *req, struct http_response *res, struct location_ctx *x,
		 bool create, json_t **doc)
{
	const char *missing;

	if (!api_read_body(req, res, location_fields, NFIELDS(location_fields), &x->in, doc))
		return false;
	missing = !x->in.name.set ? "name" : !x->in.latitude.set ? "latitude" : "longitude";
	if (create && (!x->in.name.set || !x->in.latitude.set || !x->in.longitude.set)) {
		api_error(res, LOY_EINVALID, missing,
			  arena_printf(&req->arena, "%s is required", missing));
		return false;
	}
	return (!x->in.latitude.set ||
		coordinate(req, res, "latitude", &x->in.latitude, LAT_LIMIT, &x->latitude_e6)) &&
	       (!x->in.longitude.set ||
		coordinate(req, res, "longitude", &x->in.longitude, LON_LIMIT, &x->longitude_e6));
}

/* Applies the bound input to l. */
static void apply(const struct location_ctx *x, struct location *l)
{
	if (x->in.name.set)
		l->name = api_str(x->req, &x->in.name);
	if (x->in.latitude.set)
		l->latitude_e6 = x->latitude_e6;
	if (x->in.longitude.set)
		l->longitude_e6 = x->longitude_e6;
	if (x->in.relevant_text.set)
		l->relevant_text = api_str(x->req, &x->in.relevant_text); /* NULL for null */
}

static enum loy_err audit_and_refresh(struct store_tx *tx, const struct location_ctx *x,
				      const char *action, int64_t id)
{
	struct principal *p = api_principal(x->req);
	enum loy_err err = store_audit(tx, p->business_id, p->actor, action,
				       arena_printf(tx->a, "location:%lld", (long long)id),
				       x->req->ip);
	return err == LOY_OK ? store_wallet_design_changed(tx, p->business_id,
							   api_app(x->req)->google != NULL)
			     : err;
}

static void location_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct location_ctx *x = ctx;

	if (err == LOY_ERULE)
		api_error(
			res, err, NULL,
			arena_printf(&x->req->arena,
				     "a business has at most %d locations (a pass shows the first "
				     "10)",
				     STORE_LOCATIONS_MAX));
	else
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such location" : NULL);
}

/* ---- reads ---- */

static enum loy_err list_tx(struct store_tx *tx, void *arg)
{
	struct location_ctx *x = arg;
	return store_location_list(tx, api_principal(x->req)->business_id, &x->items, &x->n);
}

void api_locations_list(struct http_request *req, struct http_response *res)
{
	struct location_ctx x = { .req = req };
	json_t *items;

	if (!api_read(req, res, list_tx, &x))
		return;
	items = json_array();
	for (int i = 0; i < x.n; i++)
		json_array_append_new(items, render_location(&x.items[i]));
	reply(res, 200, json_pack("{s:o}", "items", items));
}

static enum loy_err get_tx(struct store_tx *tx, void *arg)
{
	struct location_ctx *x = arg;
	return store_location_get(tx, api_principal(x->req)->business_id, x->id, &x->l);
}

void api_location_get(struct http_request *req, struct http_response *res)
{
	struct location_ctx x = { .req = req };
	enum loy_err err;

	if (!api_param_id(req, res, 0, &x.id))
		return;
	err = store_read(api_app(req)->st, &req->arena, get_tx, &x);
	if (err != LOY_OK) {
		location_failed(res, err, &x);
		return;
	}
	reply(res, 200, render_location(&x.l));
}

/* ---- writes ---- */

static enum loy_err create_op(struct store_tx *tx, void *arg)
{
	struct location_ctx *x = arg;
	enum loy_err err;

	x->l = (struct location){ .business_id = api_principal(x->req)->business_id };
	apply(x, &x->l);
	err = store_location_insert(tx, &x->l);
	if (err == LOY_OK)
		err = audit_and_refresh(tx, x, "location.create", x->l.id);
	if (err == LOY_OK)
		reply(x->res, 201, render_location(&x->l));
	return err;
}

void api_locations_create(struct http_request *req, struct http_response *res)
{
	struct location_ctx x = { .req = req, .res = res };
	json_t *doc = NULL;

	if (!api_idem_prepare(req, res, &x.idem))
		return;
	if (bind(req, res, &x, true, &doc)) {
		struct api_write w = { .idem = &x.idem,
				       .business_id = api_principal(req)->business_id,
				       .op = create_op,
				       .fail = location_failed,
				       .ctx = &x };
		api_write(req, res, &w);
	}
	json_decref(doc);
}

static enum loy_err patch_op(struct store_tx *tx, void *arg)
{
	struct location_ctx *x = arg;
	enum loy_err err = get_tx(tx, x);

	if (err != LOY_OK)
		return err;
	apply(x, &x->l);
	err = store_location_update(tx, &x->l);
	if (err == LOY_OK)
		err = audit_and_refresh(tx, x, "location.update", x->id);
	if (err == LOY_OK)
		reply(x->res, 200, render_location(&x->l));
	return err;
}

void api_location_patch(struct http_request *req, struct http_response *res)
{
	struct location_ctx x = { .req = req, .res = res };
	json_t *doc = NULL;

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &x.idem))
		return;
	if (bind(req, res, &x, false, &doc)) {
		struct api_write w = { .idem = &x.idem,
				       .business_id = api_principal(req)->business_id,
				       .op = patch_op,
				       .fail = location_failed,
				       .ctx = &x };
		api_write(req, res, &w);
	}
	json_decref(doc);
}

static enum loy_err delete_op(struct store_tx *tx, void *arg)
{
	struct location_ctx *x = arg;
	enum loy_err err = store_location_delete(tx, api_principal(x->req)->business_id, x->id);

	if (err == LOY_OK)
		err = audit_and_refresh(tx, x, "location.delete", x->id);
	if (err == LOY_OK)
		api_no_content(x->res);
	return err;
}

void api_location_delete(struct http_request *req, struct http_response *res)
{
	struct location_ctx x = { .req = req, .res = res };

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &x.idem))
		return;
	struct api_write w = { .idem = &x.idem,
			       .business_id = api_principal(req)->business_id,
			       .op = delete_op,
			       .fail = location_failed,
			       .ctx = &x };
	api_write(req, res, &w);
}
