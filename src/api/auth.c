/* Who is calling: a bearer token issued for an API key, or a staff session cookie. Sessions carry a
 * CSRF token that unsafe methods must echo in X-CSRF-Token (SameSite=Strict is the first line, this
 * the second). A token's API key is checked on every request (through a one-second cache, see
 * keycache.h), so revoking a key takes effect at once rather than when its tokens expire. */
#include <string.h>

#include "api/api.h"
#include "api/keycache.h"
#include "crypto/digest.h"
#include "crypto/token.h"

#define BEARER "Bearer "

struct key_lookup {
	int64_t business_id, key_id;
	struct api_key key;
};

static enum loy_err lookup_key(struct store_tx *tx, void *arg)
{
	struct key_lookup *k = arg;
	return store_apikey_get(tx, k->business_id, k->key_id, &k->key);
}

struct session_lookup {
	char hash[SHA256_HEX_LEN + 1];
	struct session s;
	struct user u;
};

static enum loy_err lookup_session(struct store_tx *tx, void *arg)
{
	struct session_lookup *l = arg;
	return store_session_get(tx, l->hash, &l->s, &l->u);
}

static bool is_unsafe(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

static enum loy_err auth_bearer(struct http_request *req, const char *token, struct principal *p,
				const char **message)
{
	struct token_claims claims;
	struct keycache_entry e;
	enum loy_err err;

	if (token_verify(token, &claims) != LOY_OK) {
		*message = "invalid or expired access token";
		return LOY_EUNAUTH;
	}
	if (!keycache_get(claims.key_id, &e)) {
		struct key_lookup k = { .business_id = claims.business_id,
					.key_id = claims.key_id };
		err = store_read(api_app(req)->st, &req->arena, lookup_key, &k);
		if (err != LOY_OK && err != LOY_ENOTFOUND)
			return err;
		e = (struct keycache_entry){ .key_id = claims.key_id,
					     .business_id = k.key.business_id,
					     .role = k.key.role,
					     .revoked = err == LOY_ENOTFOUND || k.key.revoked_at };
		keycache_put(&e);
	}
	if (e.revoked || e.business_id != claims.business_id) {
		*message = "the API key behind this token was revoked";
		return LOY_EUNAUTH;
	}
	p->kind = PRINCIPAL_APIKEY;
	p->id = e.key_id;
	p->business_id = e.business_id;
	p->role = e.role; /* the key's current role, not the one frozen in the token */
	p->actor = arena_printf(&req->arena, "apikey:%lld", (long long)e.key_id);
	p->channel = "api";
	return p->actor ? LOY_OK : LOY_ENOMEM;
}

static enum loy_err auth_session(struct http_request *req, const char *cookie, struct principal *p,
				 const char **message)
{
	struct session_lookup l;
	enum loy_err err;

	if (strlen(cookie) > 128) {
		*message = "invalid session";
		return LOY_EUNAUTH;
	}
	digest_sha256_hex(cookie, strlen(cookie), l.hash);
	err = store_read(api_app(req)->st, &req->arena, lookup_session, &l);
	if (err == LOY_ENOTFOUND) {
		*message = "session expired or signed out";
		return LOY_EUNAUTH;
	}
	if (err != LOY_OK)
		return err;
	if (is_unsafe(req->method)) {
		const char *csrf = http_header(req, "X-CSRF-Token");
		if (!csrf ||
		    !digest_equal(csrf, strlen(csrf), l.s.csrf_token, strlen(l.s.csrf_token))) {
			*message = "missing or wrong X-CSRF-Token";
			return LOY_EFORBIDDEN;
		}
	}
	p->kind = PRINCIPAL_USER;
	p->id = l.u.id;
	p->business_id = l.u.business_id;
	p->role = l.u.role;
	p->csrf = l.s.csrf_token;
	p->actor = arena_printf(&req->arena, "user:%lld", (long long)l.u.id);
	p->channel = "admin";
	return p->actor ? LOY_OK : LOY_ENOMEM;
}

enum loy_err api_authenticate(struct http_request *req, const char **message)
{
	struct principal *p = arena_zalloc(&req->arena, sizeof(*p));
	const char *authz = http_header(req, "Authorization");
	const char *cookie = http_cookie(req, "loy_session");
	enum loy_err err;

	if (!p)
		return LOY_ENOMEM;
	if (authz) {
		if (strncmp(authz, BEARER, strlen(BEARER)) != 0) {
			*message = "Authorization must be a Bearer token";
			return LOY_EUNAUTH;
		}
		err = auth_bearer(req, authz + strlen(BEARER), p, message);
	} else if (cookie) {
		err = auth_session(req, cookie, p, message);
	} else {
		*message = "sign in or send an access token";
		return LOY_EUNAUTH;
	}
	if (err == LOY_OK)
		req->auth = p;
	return err;
}
