/* Staff accounts and API keys. Who may manage whom: an admin manages cashiers and viewers; only an
 * owner creates, changes or removes owners and admins; nobody changes their own role, disables or
 * deletes themselves (so a business can never lock itself out by accident). */
#include <string.h>

#include "api/api.h"
#include "api/keycache.h"
#include "core/email.h"
#include "crypto/digest.h"
#include "crypto/password.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static bool may_manage(const struct principal *p, enum role target)
{
	return p->role == ROLE_OWNER || target < ROLE_ADMIN;
}

/* ---- users ---- */

struct user_in {
	struct jval email, password, role, name, disabled;
};

static const struct jfield user_create_fields[] = {
	{ "email", J_STR, J_REQUIRED, 3, 254, offsetof(struct user_in, email) },
	{ "password", J_STR, J_REQUIRED, PASSWORD_MIN, PASSWORD_MAX,
	  offsetof(struct user_in, password) },
	{ "role", J_STR, J_REQUIRED, 1, 16, offsetof(struct user_in, role) },
	{ "name", J_STR, J_NULLABLE, 1, API_NAME_MAX, offsetof(struct user_in, name) },
};

static const struct jfield user_patch_fields[] = {
	{ "password", J_STR, 0, PASSWORD_MIN, PASSWORD_MAX, offsetof(struct user_in, password) },
	{ "role", J_STR, 0, 1, 16, offsetof(struct user_in, role) },
	{ "name", J_STR, J_NULLABLE, 1, API_NAME_MAX, offsetof(struct user_in, name) },
	{ "disabled", J_BOOL, 0, 0, 0, offsetof(struct user_in, disabled) },
};

struct user_ctx {
	struct http_request *req;
	struct http_response *res;
	struct api_idem idem;
	int64_t id;
	struct user u;
	struct user_in in;
	const char *hash; /* new password hash, computed before the write */
	enum role role;
	struct user *items;
	int n;
	const char *refusal;
};

/* True if removing u's ownership (demotion, disabling, deletion) would leave no enabled owner. */
static enum loy_err last_owner(struct store_tx *tx, const struct user *u, bool *last)
{
	int64_t owners = 0;
	enum loy_err err = LOY_OK;

	*last = false;
	if (u->role == ROLE_OWNER && !u->disabled) {
		err = store_user_count_role(tx, u->business_id, ROLE_OWNER, &owners);
		*last = owners <= 1;
	}
	return err;
}

static bool parse_role(struct http_request *req, struct http_response *res, const struct jval *v,
		       enum role *out)
{
	if (role_parse(api_str(req, v), out) != LOY_OK) {
		api_error(res, LOY_EINVALID, "role",
			  "role must be owner, admin, cashier or viewer");
		return false;
	}
	return true;
}

static enum loy_err users_list_tx(struct store_tx *tx, void *arg)
{
	struct user_ctx *x = arg;
	return store_user_list(tx, api_principal(x->req)->business_id, &x->items, &x->n);
}

void api_users_list(struct http_request *req, struct http_response *res)
{
	struct user_ctx x = { .req = req };
	json_t *items;

	if (!api_read(req, res, users_list_tx, &x))
		return;
	items = json_array();
	for (int i = 0; i < x.n; i++)
		json_array_append_new(items, api_render_user(&x.items[i]));
	api_json(res, 200, json_pack("{s:o}", "items", items));
}

static enum loy_err user_get_tx(struct store_tx *tx, void *arg)
{
	struct user_ctx *x = arg;
	return store_user_get(tx, api_principal(x->req)->business_id, x->id, &x->u);
}

void api_user_get(struct http_request *req, struct http_response *res)
{
	struct user_ctx x = { .req = req };
	enum loy_err err;

	if (!api_param_id(req, res, 0, &x.id))
		return;
	err = store_read(api_app(req)->st, &req->arena, user_get_tx, &x);
	if (err != LOY_OK) {
		api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such user" : NULL);
		return;
	}
	api_json(res, 200, api_render_user(&x.u));
}

static enum loy_err user_create_op(struct store_tx *tx, void *arg)
{
	struct user_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err;

	x->u.business_id = p->business_id;
	err = store_user_insert(tx, &x->u);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "user.create",
				  arena_printf(tx->a, "user:%lld", (long long)x->u.id), x->req->ip);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 201, api_render_user(&x->u));
	return LOY_OK;
}

static void user_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	const struct user_ctx *x = ctx;

	if (err == LOY_ECONFLICT)
		api_error(res, err, "email", "a user with this e-mail exists");
	else
		api_error(res, err, NULL,
			  x->refusal		 ? x->refusal
			  : err == LOY_ENOTFOUND ? "no such user"
						 : NULL);
}

static char *lower_email(struct http_request *req, const struct jval *v)
{
	char *e = arena_strndup(&req->arena, v->s, v->len);
	for (char *c = e; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	return e;
}

void api_users_create(struct http_request *req, struct http_response *res)
{
	struct principal *p = api_principal(req);
	struct user_ctx x = { .req = req, .res = res };
	char *hash = arena_alloc(&req->arena, PASSWORD_HASH_MAX);
	json_t *doc = NULL;
	enum loy_err err;

	if (!hash || !api_idem_prepare(req, res, &x.idem) ||
	    !api_read_body(req, res, user_create_fields, NFIELDS(user_create_fields), &x.in, &doc))
		return;
	x.u.email = lower_email(req, &x.in.email);
	x.u.name = api_str(req, &x.in.name);
	if (!email_valid(str_from(x.u.email))) {
		api_error(res, LOY_EINVALID, "email", "email is not a valid e-mail address");
		goto out;
	}
	if (!parse_role(req, res, &x.in.role, &x.u.role))
		goto out;
	if (!may_manage(p, x.u.role)) {
		api_error(res, LOY_EFORBIDDEN, NULL, "only an owner may create owners and admins");
		goto out;
	}
	err = password_hash(x.in.password.s, x.in.password.len, hash);
	x.u.password_hash = hash;
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		goto out;
	}
	struct api_write w = { .idem = &x.idem,
			       .business_id = p->business_id,
			       .op = user_create_op,
			       .fail = user_failed,
			       .ctx = &x };
	api_write(req, res, &w);
out:
	json_decref(doc);
}

static enum loy_err user_patch_op(struct store_tx *tx, void *arg)
{
	struct user_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err;

	x->refusal = NULL;
	err = store_user_get(tx, p->business_id, x->id, &x->u);
	if (err != LOY_OK)
		return err;
	if (!may_manage(p, x->u.role) || (x->in.role.set && !may_manage(p, x->role)))
		return x->refusal = "only an owner may manage owners and admins", LOY_EFORBIDDEN;
	if (x->u.id == p->id && p->kind == PRINCIPAL_USER &&
	    ((x->in.role.set && x->role != x->u.role) || (x->in.disabled.set && x->in.disabled.b)))
		return x->refusal = "you cannot change your own role or disable yourself",
		       LOY_ERULE;
	if ((x->in.role.set && x->role != ROLE_OWNER) || (x->in.disabled.set && x->in.disabled.b)) {
		bool last;
		err = last_owner(tx, &x->u, &last);
		if (err != LOY_OK)
			return err;
		if (last)
			return x->refusal = "a business needs at least one owner", LOY_ERULE;
	}
	if (x->in.role.set)
		x->u.role = x->role;
	if (x->in.name.set)
		x->u.name = api_str(x->req, &x->in.name);
	if (x->in.disabled.set)
		x->u.disabled = x->in.disabled.b;
	if (x->hash)
		x->u.password_hash = x->hash;
	err = store_user_update(tx, &x->u);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "user.update",
				  arena_printf(tx->a, "user:%lld", (long long)x->id), x->req->ip);
	if (err != LOY_OK)
		return err;
	api_json(x->res, 200, api_render_user(&x->u));
	return LOY_OK;
}

void api_user_patch(struct http_request *req, struct http_response *res)
{
	struct user_ctx x = { .req = req, .res = res };
	json_t *doc = NULL;
	enum loy_err err = LOY_OK;

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &x.idem) ||
	    !api_read_body(req, res, user_patch_fields, NFIELDS(user_patch_fields), &x.in, &doc))
		return;
	if (x.in.role.set && !parse_role(req, res, &x.in.role, &x.role)) {
		json_decref(doc);
		return;
	}
	if (x.in.password.set) {
		char *hash = arena_alloc(&req->arena, PASSWORD_HASH_MAX);
		err = hash ? password_hash(x.in.password.s, x.in.password.len, hash) : LOY_ENOMEM;
		x.hash = hash;
	}
	if (err == LOY_OK) {
		struct api_write w = { .idem = &x.idem,
				       .business_id = api_principal(req)->business_id,
				       .op = user_patch_op,
				       .fail = user_failed,
				       .ctx = &x };
		api_write(req, res, &w);
	} else {
		api_error(res, err, NULL, NULL);
	}
	json_decref(doc);
}

static enum loy_err user_delete_op(struct store_tx *tx, void *arg)
{
	struct user_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err;

	x->refusal = NULL;
	err = store_user_get(tx, p->business_id, x->id, &x->u);

	if (err != LOY_OK)
		return err;
	if (!may_manage(p, x->u.role))
		return x->refusal = "only an owner may remove owners and admins", LOY_EFORBIDDEN;
	if (x->u.id == p->id && p->kind == PRINCIPAL_USER)
		return x->refusal = "you cannot delete yourself", LOY_ERULE;
	bool last;
	err = last_owner(tx, &x->u, &last);
	if (err != LOY_OK)
		return err;
	if (last)
		return x->refusal = "a business needs at least one owner", LOY_ERULE;
	err = store_user_delete(tx, p->business_id, x->id);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "user.delete",
				  arena_printf(tx->a, "user:%lld", (long long)x->id), x->req->ip);
	if (err == LOY_OK)
		api_no_content(x->res);
	return err;
}

void api_user_delete(struct http_request *req, struct http_response *res)
{
	struct user_ctx x = { .req = req, .res = res };

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &x.idem))
		return;
	struct api_write w = { .idem = &x.idem,
			       .business_id = api_principal(req)->business_id,
			       .op = user_delete_op,
			       .fail = user_failed,
			       .ctx = &x };
	api_write(req, res, &w);
}

/* ---- API keys ---- */

struct key_in {
	struct jval name, role;
};

static const struct jfield key_fields[] = {
	{ "name", J_STR, J_REQUIRED, 1, API_NAME_MAX, offsetof(struct key_in, name) },
	{ "role", J_STR, J_REQUIRED, 1, 16, offsetof(struct key_in, role) },
};

struct key_ctx {
	struct http_request *req;
	struct http_response *res;
	int64_t id;
	struct api_key k;
	const char *secret;
	struct api_key *items;
	int n;
};

static enum loy_err keys_list_tx(struct store_tx *tx, void *arg)
{
	struct key_ctx *x = arg;
	return store_apikey_list(tx, api_principal(x->req)->business_id, &x->items, &x->n);
}

void api_apikeys_list(struct http_request *req, struct http_response *res)
{
	struct key_ctx x = { .req = req };
	json_t *items;

	if (!api_read(req, res, keys_list_tx, &x))
		return;
	items = json_array();
	for (int i = 0; i < x.n; i++)
		json_array_append_new(items, api_render_apikey(&x.items[i]));
	api_json(res, 200, json_pack("{s:o}", "items", items));
}

static enum loy_err key_create_tx(struct store_tx *tx, void *arg)
{
	struct key_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	json_t *j;
	enum loy_err err;

	x->k.business_id = p->business_id;
	err = store_apikey_insert(tx, &x->k);
	if (err == LOY_OK)
		err = store_audit(tx, p->business_id, p->actor, "apikey.create",
				  arena_printf(tx->a, "apikey:%lld", (long long)x->k.id),
				  x->req->ip);
	if (err != LOY_OK)
		return err;
	j = api_render_apikey(&x->k);
	json_object_set_new(j, "key", json_string(x->secret));
	api_json(x->res, 201, j);
	return LOY_OK;
}

void api_apikeys_create(struct http_request *req, struct http_response *res)
{
	struct principal *p = api_principal(req);
	struct key_in in = { 0 };
	struct key_ctx x = { .req = req, .res = res };
	char *key = arena_alloc(&req->arena, 80);
	char *prefix = arena_alloc(&req->arena, 13);
	char *hash = arena_alloc(&req->arena, 65);
	json_t *doc = NULL;
	enum loy_err err;

	/* No Idempotency-Key here: replaying would mean storing the new key in clear. A retried
	 * create makes a second key; the first, never seen, can be revoked from the list. */
	if (!key || !prefix || !hash ||
	    !api_read_body(req, res, key_fields, NFIELDS(key_fields), &in, &doc))
		return;
	x.k.name = api_str(req, &in.name);
	if (parse_role(req, res, &in.role, &x.k.role)) {
		if (!may_manage(p, x.k.role)) {
			api_error(res, LOY_EFORBIDDEN, NULL,
				  "only an owner may create owner and admin keys");
		} else {
			api_apikey_generate(key, prefix, hash);
			x.k.prefix = prefix;
			x.k.key_hash = hash;
			x.secret = key;
			err = store_write(api_app(req)->st, &req->arena, key_create_tx, &x);
			if (err != LOY_OK)
				api_error(res, err, NULL, NULL);
		}
	}
	json_decref(doc);
}

/* Revoking a revoked key changes nothing and still answers 204. */
static enum loy_err key_delete_op(struct store_tx *tx, void *arg)
{
	struct key_ctx *x = arg;
	struct principal *p = api_principal(x->req);
	enum loy_err err = store_apikey_get(tx, p->business_id, x->id, &x->k);

	if (err == LOY_OK && !x->k.revoked_at) {
		err = store_apikey_revoke(tx, p->business_id, x->id);
		if (err == LOY_OK)
			err = store_audit(tx, p->business_id, p->actor, "apikey.revoke",
					  arena_printf(tx->a, "apikey:%lld", (long long)x->id),
					  x->req->ip);
	}
	if (err == LOY_OK)
		api_no_content(x->res);
	return err;
}

static void key_failed(struct http_response *res, enum loy_err err, void *ctx)
{
	api_error(res, err, NULL, err == LOY_ENOTFOUND ? "no such API key" : NULL);
}

/* The revocation is committed: this node stops honouring the key's tokens at once. */
static void key_deleted(struct http_request *req, enum loy_err err, void *ctx)
{
	const struct key_ctx *x = ctx;
	if (err == LOY_OK)
		keycache_forget(x->id);
}

void api_apikey_delete(struct http_request *req, struct http_response *res)
{
	struct key_ctx x = { .req = req, .res = res };
	struct api_idem idem;

	if (!api_param_id(req, res, 0, &x.id) || !api_idem_prepare(req, res, &idem))
		return;
	struct api_write w = { .idem = &idem,
			       .business_id = api_principal(req)->business_id,
			       .op = key_delete_op,
			       .fail = key_failed,
			       .done = key_deleted,
			       .ctx = &x };
	api_write(req, res, &w);
}
