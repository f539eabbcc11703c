/* Card templates: the design (colours), content (names, terms link) and display settings of the
 * cards a business issues. Stored as three JSON objects; a patch replaces only the keys it gives,
 * nested keys included. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/url.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))
#define LOGO_TEXT_MAX 40
#define TERMS_TEXT_MAX 2000

struct template_in {
	struct jval name, is_default, design, content, settings;
};
struct design_in {
	struct jval background, foreground, label;
};
struct content_in {
	struct jval organization, description, program, logo_text, terms_url, terms_text;
};
struct settings_in {
	struct jval show_balance, show_qr;
};

static const struct jfield template_fields[] = {
	{ "name", J_STR, 0, 1, API_NAME_MAX, offsetof(struct template_in, name) },
	{ "isDefault", J_BOOL, 0, 0, 0, offsetof(struct template_in, is_default) },
	{ "design", J_ANY, 0, 0, 0, offsetof(struct template_in, design) },
	{ "content", J_ANY, 0, 0, 0, offsetof(struct template_in, content) },
	{ "settings", J_ANY, 0, 0, 0, offsetof(struct template_in, settings) },
};
static const struct jfield design_fields[] = {
	{ "backgroundColor", J_STR, 0, 7, 7, offsetof(struct design_in, background) },
	{ "foregroundColor", J_STR, 0, 7, 7, offsetof(struct design_in, foreground) },
	{ "labelColor", J_STR, 0, 7, 7, offsetof(struct design_in, label) },
};
static const struct jfield content_fields[] = {
	{ "organizationName", J_STR, 0, 1, API_NAME_MAX,
	  offsetof(struct content_in, organization) },
	{ "description", J_TEXT, 0, 1, API_TEXT_MAX, offsetof(struct content_in, description) },
	{ "programName", J_STR, 0, 1, API_NAME_MAX, offsetof(struct content_in, program) },
	{ "logoText", J_STR, 0, 0, LOGO_TEXT_MAX, offsetof(struct content_in, logo_text) },
	{ "termsUrl", J_STR, J_NULLABLE, 1, URL_MAX, offsetof(struct content_in, terms_url) },
	{ "termsText", J_TEXT, J_NULLABLE, 0, TERMS_TEXT_MAX,
	  offsetof(struct content_in, terms_text) },
};
static const struct jfield settings_fields[] = {
	{ "showBalance", J_BOOL, 0, 0, 0, offsetof(struct settings_in, show_balance) },
	{ "showQRCode", J_BOOL, 0, 0, 0, offsetof(struct settings_in, show_qr) },
};

static bool color_valid(const struct jval *v)
{
	if (v->len != 7 || v->s[0] != '#')
		return false;
	for (int i = 1; i < 7; i++)
		if (!strchr("0123456789abcdefABCDEF", v->s[i]))
			return false;
	return true;
}

static bool bad_field(struct http_request *req, struct http_response *res, const char *parent,
		      const char *field, const char *message)
{
	const char *name = arena_printf(&req->arena, "%s.%s", parent, field);
	api_error(res, LOY_EINVALID, name, arena_printf(&req->arena, "%s %s", name, message));
	return false;
}

/* Binds the nested object v (if given) with fields into out. */
static bool bind_object(struct http_request *req, struct http_response *res, const char *parent,
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
	if (api_bind(v->j, fields, n, out, &bad, &message) != LOY_OK)
		return bad_field(req, res, parent, bad, message);
	return true;
}

struct template_patch {
	struct template_in in;
	struct design_in design;
	struct content_in content;
	struct settings_in settings;
};

static bool bind_template(struct http_request *req, struct http_response *res,
			  struct template_patch *p)
{
	const struct jval *colors[] = { &p->design.background, &p->design.foreground,
					&p->design.label };
	const char *names[] = { "backgroundColor", "foregroundColor", "labelColor" };

	if (!bind_object(req, res, "design", &p->in.design, design_fields, NFIELDS(design_fields),
			 &p->design) ||
	    !bind_object(req, res, "content", &p->in.content, content_fields,
			 NFIELDS(content_fields), &p->content) ||
	    !bind_object(req, res, "settings", &p->in.settings, settings_fields,
			 NFIELDS(settings_fields), &p->settings))
		return false;
	for (int i = 0; i < 3; i++)
		if (colors[i]->set && !color_valid(colors[i]))
			return bad_field(req, res, "design", names[i], "must be a colour #rrggbb");
	if (p->content.terms_url.set && !p->content.terms_url.null &&
	    !url_valid((struct str){ p->content.terms_url.s, p->content.terms_url.len }))
		return bad_field(req, res, "content", "termsUrl", "must be an http(s) URL");
	return true;
}

static void set_str(json_t *obj, const char *key, const struct jval *v)
{
	if (v->set)
		json_object_set_new(obj, key, v->null ? json_null() : json_stringn(v->s, v->len));
}

static void set_bool(json_t *obj, const char *key, const struct jval *v)
{
	if (v->set)
		json_object_set_new(obj, key, json_boolean(v->b));
}

/* Applies the patch to the three stored objects (parsed from t), and writes them back as text. */
static enum loy_err merge(struct arena *a, const struct template_patch *p, struct card_template *t)
{
	json_t *design = json_loads(t->design, 0, NULL);
	json_t *content = json_loads(t->content, 0, NULL);
	json_t *settings = json_loads(t->settings, 0, NULL);
	enum loy_err err = LOY_ENOMEM;
	char *d = NULL, *c = NULL, *s = NULL;

	if (!design || !content || !settings)
		goto out;
	set_str(design, "backgroundColor", &p->design.background);
	set_str(design, "foregroundColor", &p->design.foreground);
	set_str(design, "labelColor", &p->design.label);
	set_str(content, "organizationName", &p->content.organization);
	set_str(content, "description", &p->content.description);
	set_str(content, "programName", &p->content.program);
	set_str(content, "logoText", &p->content.logo_text);
	set_str(content, "termsUrl", &p->content.terms_url);
	set_str(content, "termsText", &p->content.terms_text);
	set_bool(settings, "showBalance", &p->settings.show_balance);
	set_bool(settings, "showQRCode", &p->settings.show_qr);
	d = json_dumps(design, JSON_COMPACT | JSON_SORT_KEYS);
	c = json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS);
	s = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
	if (!d || !c || !s)
		goto out;
	t->design = arena_strdup(a, d);
	t->content = arena_strdup(a, c);
	t->settings = arena_strdup(a, s);
	if (t->design && t->content && t->settings)
		err = LOY_OK;
out:
	free(d);
	free(c);
	free(s);
	json_decref(design);
	json_decref(content);
	json_decref(settings);
	return err;
}

static json_t *render_template(const struct card_template *t)
{
	return json_pack("{s:I,s:s,s:b,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)t->id, "name",
			 t->name, "isDefault", t->is_default, "design",
			 json_loads(t->design, 0, NULL), "content", json_loads(t->content, 0, NULL),
			 "settings", json_loads(t->settings, 0, NULL), "createdAt",
			 api_time(t->created_at), "updatedAt", api_time(t->updated_at));
}

/* The template every business starts from: readable colours, its own name on the card. */
static enum loy_err defaults(struct arena *a, const struct business *b, struct card_template *t)
{
	json_t *content = json_pack("{s:s,s:s,s:s,s:s,s:n}", "organizationName", b->name,
				    "description", b->name, "programName", "Бонусная программа",
				    "logoText", "", "termsUrl");
	char *text = content ? json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(content);
	if (!text)
		return LOY_ENOMEM;
	/* The description shows under the logo on some lock screens; the name is a fair start. */
	t->content = arena_strdup(a, text);
	free(text);
	t->design = "{\"backgroundColor\":\"#1f2937\",\"foregroundColor\":\"#ffffff\","
		    "\"labelColor\":\"#d1d5db\"}";
	t->settings = "{\"showBalance\":true,\"showQRCode\":true}";
	return t->content ? LOY_OK : LOY_ENOMEM;
}

/* ---- handlers ---- */

struct template_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	struct template_patch patch;
	int64_t id;
	struct card_template t;
	struct card_template *items;
	int n;
};

static enum loy_err list_tx(struct store_tx *tx, void *arg)
{
	struct template_ctx *x = arg;
	return store_template_list(tx, api_principal(x->req)->business_id, &x->items, &x->n);
}

void api_templates_list(struct http_request *req, struct http_response *res)
{
	struct template_ctx x = { .req = req };
	json_t *items;

	if (!api_read(req, res, list_tx, &x))
		return;
	items = json_array();
	for (int i = 0; i < x.n; i++)
		json_array_append_new(items, render_template(&x.items[i]));
	api_json(res, 200, json_pack("{s:o}", "items", items));
}

static enum loy_err get_tx(struct store_tx *tx, void *arg)
{
	struct template_ctx *x = arg;
	return store_template_get(tx, api_principal(x->req)->business_id, x->id, &x->t);
}

void api_template_get(struct http_request *req, struct http_response *res)
{
	struct template_ctx x = { .req = req };
	enum loy_err err;

	if (!api_param_id(req, res, 0, &x.id))
		return;
	err = store_read(api_app(req)->st, &req->arena, get_tx, &x);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such template" : NULL);
		return;
	}
	api_json(res, 200, render_template(&x.t));
}

static enum loy_err create_op(struct store_tx *tx, void *arg)
{
	struct template_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	struct business b;
	enum loy_err err;

	err = store_business_get(tx, p->business_id, &b);
	if (err == LOY_OK)
		err = defaults(tx->a, &b, &x->t);
	if (err == LOY_OK)
		err = merge(tx->a, &x->patch, &x->t);
	if (err != LOY_OK)
		return err;
	x->t.business_id = p->business_id;
	x->t.name = api_str(x->req, &x->patch.in.name);
	x->t.is_default = x->patch.in.is_default.set && x->patch.in.is_default.b;
	err = store_template_insert(tx, &x->t);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "template.create",
				  arena_printf(tx->a, "template:%lld", (long long)x->t.id),
				  x->req->ip);
	if (err == LOY_OK && x->t.is_default) /* the cards now show this template */
		err = store_wallet_design_changed(tx, p->business_id,
						  api_app(x->req)->google != NULL);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 201, render_template(&x->t));
	return LOY_OK;
}

static void template_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such template" : NULL);
}

void api_templates_create(struct http_request *req, struct http_response *res)
{
	struct template_ctx x = { .req = req, .res = res };
	json_t *doc = NULL;

	if (!api_idem_prepare(req, res, &x.idem) ||
	    !api_read_body(req, res, template_fields, NFIELDS(template_fields), &x.patch.in, &doc))
		return;
	if (!x.patch.in.name.set) {
		json_decref(doc);
		api_error(res, LOY_EINVALID, "name", "name is required");
		return;
	}
	if (bind_template(req, res, &x.patch)) {
		struct api_write w = { .idem = &x.idem,
				       .business_id = api_principal(req)->business_id,
				       .op = create_op,
				       .fail = template_failed,
				       .ctx = &x };
		api_write(req, res, &w);
	}
	json_decref(doc);
}

static enum loy_err patch_op(struct store_tx *tx, void *arg)
{
	struct template_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err;

	err = store_template_get(tx, p->business_id, x->id, &x->t);
	if (err == LOY_OK)
		err = merge(tx->a, &x->patch, &x->t);
	if (err != LOY_OK)
		return err;
	if (x->patch.in.name.set)
		x->t.name = api_str(x->req, &x->patch.in.name);
	/* The flag moves by setting it elsewhere; clearing it would leave no default. */
	if (x->patch.in.is_default.set && x->patch.in.is_default.b)
		x->t.is_default = true;
	err = store_template_update(tx, &x->t);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "template.update",
				  arena_printf(tx->a, "template:%lld", (long long)x->id),
				  x->req->ip);
	if (err == LOY_OK && x->t.is_default) /* it was or has become what the cards show */
		err = store_wallet_design_changed(tx, p->business_id,
						  api_app(x->req)->google != NULL);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 200, render_template(&x->t));
	return LOY_OK;
}

void api_template_patch(struct http_request *req, struct http_response *res)
{
	struct template_ctx x = { .req = req, .res = res };
	json_t *doc = NULL;

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &x.idem) ||
	    !api_read_body(req, res, template_fields, NFIELDS(template_fields), &x.patch.in, &doc))
		return;
	if (bind_template(req, res, &x.patch)) {
		struct api_write w = { .idem = &x.idem,
				       .business_id = api_principal(req)->business_id,
				       .op = patch_op,
				       .fail = template_failed,
				       .ctx = &x };
		api_write(req, res, &w);
	}
	json_decref(doc);
}

static enum loy_err delete_op(struct store_tx *tx, void *arg)
{
	struct template_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err = store_template_get(tx, p->business_id, x->id, &x->t);

	if (err == LOY_OK)
		err = store_template_delete(tx, p->business_id, x->id);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "template.delete",
				  arena_printf(tx->a, "template:%lld", (long long)x->id),
				  x->req->ip);
	if (err == LOY_OK && x->t.is_default) /* the last template: cards fall back to defaults */
		err = store_wallet_design_changed(tx, p->business_id,
						  api_app(x->req)->google != NULL);
	if (err == LOY_OK)
		api_no_content(x->res);
	return err;
}

static void delete_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	if (err == LOY_ERULE)
		api_error(res, err, NULL,
			  "make another template the default before deleting this one");
	else
		template_failed(res, err, ctx);
}

void api_template_delete(struct http_request *req, struct http_response *res)
{
	struct template_ctx x = { .req = req, .res = res };

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &x.idem))
		return;
	struct api_write w = { .idem = &x.idem,
			       .business_id = api_principal(req)->business_id,
			       .op = delete_op,
			       .fail = delete_failed,
			       .ctx = &x };
	api_write(req, res, &w);
}
