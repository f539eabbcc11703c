/* Card-template images: the PNGs (icon, logo, strip at @1x/@2x/@3x) a template's Apple Wallet
 * passes show in place of the drawn defaults. An upload is the raw file (Content-Type image/png)
 * and is checked for its slot by pass_png_check — signature, every chunk's CRC, every row, nothing
 * after IEND, Apple's pixel size, the slot's byte cap — before anything is stored. Changing an
 * image of the business's default template refreshes its passes in the same transaction. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "crypto/digest.h"
#include "wallet/apple/images.h"

/* One image read back: its base64 text and its bytes, some 5 MB for the largest slot — more than a
 * request's arena holds, so the read gets an arena of its own. */
#define IMAGE_READ_ARENA (8u << 20)
#define PNG_SUFFIX ".png"
#define IHDR_END 24 /* signature (8), chunk length and type (8), width and height (8) */

struct image_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	int64_t template_id;
	enum pass_png_slot slot;
	const char *name; /* "icon@2x" */
	struct template_image img;
	struct template_image *rows;
	int n;
	const char *missing; /* what a 404 from a write says */
};

/* The slot named by path parameter 1 ("icon@2x" is file icon@2x.png); false (404) otherwise. */
static bool slot_param(struct http_request *req, struct http_response *res, struct image_ctx *x)
{
	struct str name = req->nparams > 1 ? req->params[1] : (struct str){ "", 0 };

	for (int i = 0; i < PASS_PNG_SLOTS; i++) {
		const char *file = pass_png_spec((enum pass_png_slot)i)->file;
		size_t n = strlen(file) - strlen(PNG_SUFFIX);
		if (name.len == n && memcmp(name.p, file, n) == 0) {
			x->slot = (enum pass_png_slot)i;
			x->name = arena_strndup(&req->arena, file, n);
			if (x->name)
				return true;
			api_error(res, LOY_ENOMEM, NULL, NULL);
			return false;
		}
	}
	api_error(res, LOY_ENOTFOUND, NULL,
		  "no such image: use icon, logo or strip, each with @2x or @3x or neither");
	return false;
}

static bool params(struct http_request *req, struct http_response *res, struct image_ctx *x)
{
	return api_param_id(req, res, 0, &x->template_id) && slot_param(req, res, x);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static json_t *render_image(const struct template_image *img)
{
	return json_pack("{s:s,s:I,s:s,s:o}", "name", img->name, "bytes", (json_int_t)img->len,
			 "sha1", img->sha1, "updatedAt", api_time(img->updated_at));
}

/* ---- reads ---- */

static enum loy_err list_tx(struct store_tx *tx, void *arg)
{
	struct image_ctx *x = arg;
	int64_t business_id = api_principal(x->req)->business_id;
	struct card_template t;
	enum loy_err err = store_template_get(tx, business_id, x->template_id, &t);

	if (err == LOY_OK)
		err = store_template_image_list(tx, business_id, x->template_id, &x->rows, &x->n);
	return err;
}

void api_template_images_list(struct http_request *req, struct http_response *res)
{
	struct image_ctx x = { .req = req };
	enum loy_err err;
	json_t *items;

	if (!api_param_id(req, res, 0, &x.template_id))
		return;
	err = store_read(api_app(req)->st, &req->arena, list_tx, &x);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such template" : NULL);
		return;
	}
	items = json_array();
	for (int i = 0; i < x.n; i++)
		json_array_append_new(items, render_image(&x.rows[i]));
	api_json(res, 200, json_pack("{s:o}", "items", items));
}

static enum loy_err get_tx(struct store_tx *tx, void *arg)
{
	struct image_ctx *x = arg;
	return store_template_image_get(tx, api_principal(x->req)->business_id, x->template_id,
					x->name, &x->img);
}

void api_template_image_get(struct http_request *req, struct http_response *res)
{
	struct image_ctx x = { .req = req };
	struct arena a;
	enum loy_err err;

	if (!params(req, res, &x))
		return;
	arena_init(&a, IMAGE_READ_ARENA);
	err = store_read(api_app(req)->st, &a, get_tx, &x);
	if (err == LOY_OK) {
		buf_clear(&res->body);
		err = buf_append(&res->body, x.img.png, x.img.len);
	}
	arena_free(&a);
	if (err != LOY_OK) {
		api_error(res, err, NULL,
			  err == LOY_ENOTFOUND ? "the template has no such image" : NULL);
		return;
	}
	res->status = 200;
	res->content_type = "image/png";
}

/* ---- writes ---- */

static bool content_type_is_png(const char *ct)
{
	size_t n = strlen("image/png");
	if (!ct || strncasecmp(ct, "image/png", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* pass_png_check's verdict as the uploader sees it: 413 past the slot's byte cap, 422 for anything
 * that is not a whole PNG or is too large in pixels (naming both sizes). */
static bool png_acceptable(struct http_request *req, struct http_response *res,
			   const struct image_ctx *x)
{
	const struct pass_png_spec *s = pass_png_spec(x->slot);
	const unsigned char *p = (const unsigned char *)req->body.p;
	const char *why = NULL;
	enum loy_err err = pass_png_check(p, req->body.len, x->slot, &why);

	switch (err) {
	case LOY_OK:
		return true;
	case LOY_ETOOBIG:
		api_error(res, err, NULL,
			  arena_printf(&req->arena, "%s may be at most %zu bytes; this file is %zu",
				       x->name, s->max_bytes, req->body.len));
		return false;
	case LOY_EMEDIA:
		api_error(res, LOY_ERULE, NULL, arena_printf(&req->arena, "%s: %s", x->name, why));
		return false;
	case LOY_EINVALID:
		api_error(res, LOY_ERULE, NULL,
			  arena_printf(
				  &req->arena,
				  "%s may be at most %u pixels wide and %u high; this image is "
				  "%lu x %lu",
				  x->name, s->width, s->height,
				  req->body.len >= IHDR_END ? (unsigned long)be32(p + 16) : 0ul,
				  req->body.len >= IHDR_END ? (unsigned long)be32(p + 20) : 0ul));
		return false;
	default:
		api_error(res, err, NULL, NULL);
		return false;
	}
}

/* The template (404 when not the business's) and whether its passes show what changes. */
static enum loy_err template_default(struct store_tx *tx, struct image_ctx *x, bool *is_def)
{
	struct card_template t;
	enum loy_err err =
		store_template_get(tx, api_principal(x->req)->business_id, x->template_id, &t);
	*is_def = err == LOY_OK && t.is_default;
	x->missing = "no such template";
	return err;
}

static enum loy_err audit_and_refresh(struct store_tx *tx, const struct image_ctx *x,
				      const char *action, bool is_default)
{
	struct principal *p = api_principal(x->req);
	enum loy_err err = store_audit(tx, p->business_id, p->actor, action,
				       arena_printf(tx->a, "template:%lld/%s",
						    (long long)x->template_id, x->name),
				       x->req->ip);
	if (err == LOY_OK && is_default)
		err = store_wallet_design_changed(tx, p->business_id,
						  api_app(x->req)->google != NULL);
	return err;
}

static enum loy_err put_op(struct store_tx *tx, void *arg)
{
	struct image_ctx *x = arg;
	const unsigned char *p = x->img.png;
	bool is_default = false;
	enum loy_err err = template_default(tx, x, &is_default);

	if (err == LOY_OK)
		err = store_template_image_put(tx, api_principal(x->req)->business_id, &x->img);
	if (err == LOY_OK)
		err = audit_and_refresh(tx, x, "template.image.put", is_default);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 200,
		 json_pack("{s:s,s:I,s:I,s:I,s:s,s:o}", "name", x->name, "width",
			   (json_int_t)be32(p + 16), "height", (json_int_t)be32(p + 20), "bytes",
			   (json_int_t)x->img.len, "sha1", x->img.sha1, "updatedAt",
			   api_time(tx->now)));
	return LOY_OK;
}

static void image_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct image_ctx *x = ctx;
	api_error(res, err, NULL, err == LOY_ENOTFOUND ? x->missing : NULL);
}

void api_template_image_put(struct http_request *req, struct http_response *res)
{
	struct image_ctx x = { .req = req, .res = res };
	char *sha1 = arena_alloc(&req->arena, SHA1_HEX_LEN + 1);

	if (!params(req, res, &x))
		return;
	if (req->body_too_big) {
		api_error(res, LOY_ETOOBIG, NULL,
			  arena_printf(&req->arena, "an image may be at most %u bytes",
				       API_BODY_IMAGE));
		return;
	}
	if (!content_type_is_png(http_header(req, "Content-Type"))) {
		api_error(res, LOY_EMEDIA, NULL, "Content-Type must be image/png");
		return;
	}
	if (!sha1) {
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return;
	}
	if (!api_idem_prepare(req, res, &x.idem) || !png_acceptable(req, res, &x))
		return;
	digest_sha1_hex(req->body.p, req->body.len, sha1);
	x.img = (struct template_image){ .template_id = x.template_id,
					 .name = x.name,
					 .png = (const unsigned char *)req->body.p,
					 .len = req->body.len,
					 .sha1 = sha1 };
	struct api_write w = { .idem = &x.idem,
			       .business_id = api_principal(req)->business_id,
			       .op = put_op,
			       .fail = image_failed,
			       .ctx = &x };
	api_write(req, res, &w);
}

static enum loy_err delete_op(struct store_tx *tx, void *arg)
{
	struct image_ctx *x = arg;
	bool is_default = false;
	enum loy_err err = template_default(tx, x, &is_default);

	if (err != LOY_OK)
		return err;
	x->missing = "the template has no such image";
	err = store_template_image_delete(tx, api_principal(x->req)->business_id, x->template_id,
					  x->name);
	if (err == LOY_OK)
		err = audit_and_refresh(tx, x, "template.image.delete", is_default);
	if (err == LOY_OK)
		api_no_content(x->res);
	return err;
}

void api_template_image_delete(struct http_request *req, struct http_response *res)
{
	struct image_ctx x = { .req = req, .res = res };

	if (!params(req, res, &x) || !api_idem_prepare(req, res, &x.idem))
		return;
	struct api_write w = { .idem = &x.idem,
			       .business_id = api_principal(req)->business_id,
			       .op = delete_op,
			       .fail = image_failed,
			       .ctx = &x };
	api_write(req, res, &w);
}
