/* Staff sign-in (sessions), sign-out, "who am I", and the exchange of an API key for a short-lived
 * access token. Session tokens and API keys are stored only as SHA-256 hashes: they are long random
 * strings, so a fast hash is enough and a database leak yields nothing usable. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/timeutil.h"
#include "crypto/digest.h"
#include "crypto/password.h"
#include "crypto/token.h"

#define SESSION_TOKEN_BYTES 32
#define CSRF_TOKEN_BYTES 24
#define APIKEY_PREFIX "loy_"
#define APIKEY_ID_LEN 12
#define APIKEY_SECRET_BYTES 24

/* An argon2id hash of a random password, verified when the e-mail is unknown so that the answer
 * takes as long as for a real account. */
static const char *dummy_hash(void)
{
	static char hash[PASSWORD_HASH_MAX];
	static int ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		char pw[33];
		rand_hex(pw, 16);
		if (password_hash(pw, strlen(pw), hash) == LOY_OK)
			__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return hash;
}

struct login {
	struct jval email, password;
};

static const struct jfield login_fields[] = {
	{ "email", J_STR, J_REQUIRED, 1, 254, offsetof(struct login, email) },
	{ "password", J_STR, J_REQUIRED, 1, PASSWORD_MAX, offsetof(struct login, password) },
};

struct login_ctx {
	const char *email;
	struct user user;
	struct session session;
	struct business business;
	const char *ip;
	bool found;
};

static enum loy_err login_find(struct store_tx *tx, void *arg)
{
	struct login_ctx *l = arg;
	enum loy_err err = store_user_by_email(tx, l->email, &l->user);
	l->found = err == LOY_OK;
	return err == LOY_ENOTFOUND ? LOY_OK : err;
}

static enum loy_err login_commit(struct store_tx *tx, void *arg)
{
	struct login_ctx *l = arg;
	enum loy_err err = store_session_insert(tx, &l->session);
	if (err == LOY_OK)
		err = store_user_touch_login(tx, l->user.id);
	if (err == LOY_OK)
		err = store_audit(tx, l->user.business_id,
				  arena_printf(tx->a, "user:%lld", (long long)l->user.id), "login",
				  NULL, l->ip);
	return err;
}

static bool rate_ok(struct http_request *req, struct http_response *res, const char *purpose,
		    int64_t per_minute)
{
	char key[96];
	int retry = 0;

	snprintf(key, sizeof(key), "%s:%s", purpose, req->ip);
	if (ratelimit_take(api_app(req)->rl, key, per_minute, &retry))
		return true;
	http_set_header(res, "Retry-After", arena_printf(&req->arena, "%d", retry));
	api_error(res, LOY_ERATE, NULL, "too many attempts; try again later");
	return false;
}

void api_login(struct http_request *req, struct http_response *res)
{
	struct app *app = api_app(req);
	struct login in = { 0 };
	struct login_ctx l = { 0 };
	char token[64], csrf[64], lower[256];
	char hash[SHA256_HEX_LEN + 1];
	json_t *doc = NULL;
	bool ok;
	enum loy_err err;

	if (!rate_ok(req, res, "login", app->conf->login_rate))
		return;
	if (!api_read_body(req, res, login_fields, 2, &in, &doc))
		return;
	/* E-mail addresses are matched case-insensitively: they are stored lower-cased. */
	snprintf(lower, sizeof(lower), "%.*s", (int)in.email.len, in.email.s);
	for (char *c = lower; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	l.email = lower;
	l.ip = req->ip;
	err = store_read(app->st, &req->arena, login_find, &l);
	if (err != LOY_OK) {
		json_decref(doc);
		api_error(res, err, NULL, NULL);
		return;
	}
	ok = password_verify(l.found ? l.user.password_hash : dummy_hash(), in.password.s,
			     in.password.len);
	json_decref(doc);
	if (!l.found || !ok || l.user.disabled) {
		api_error(res, LOY_EUNAUTH, NULL, "wrong e-mail or password");
		return;
	}
	rand_token(token, SESSION_TOKEN_BYTES);
	rand_token(csrf, CSRF_TOKEN_BYTES);
	digest_sha256_hex(token, strlen(token), hash);
	l.session = (struct session){ .token_hash = hash,
				      .user_id = l.user.id,
				      .business_id = l.user.business_id,
				      .csrf_token = csrf,
				      .created_at = 0,
				      .expires_at = 0 };
	l.session.created_at = time_now_ms();
	l.session.expires_at = l.session.created_at + app->conf->session_ttl * 1000;
	err = store_write(app->st, &req->arena, login_commit, &l);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	http_set_header(
		res, "Set-Cookie",
		arena_printf(&req->arena,
			     "loy_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
			     token, (long long)app->conf->session_ttl,
			     app->secure_cookies ? "; Secure" : ""));
	api_json(res, 200,
		 json_pack("{s:o,s:s}", "user", api_render_user(&l.user), "csrfToken", csrf));
}

static enum loy_err logout_commit(struct store_tx *tx, void *arg)
{
	return store_session_delete(tx, arg);
}

void api_logout(struct http_request *req, struct http_response *res)
{
	const char *cookie = http_cookie(req, "loy_session");
	char hash[SHA256_HEX_LEN + 1];

	if (cookie) {
		digest_sha256_hex(cookie, strlen(cookie), hash);
		enum loy_err err = store_write(api_app(req)->st, &req->arena, logout_commit, hash);
		if (err != LOY_OK) {
			api_error(res, err, NULL, NULL);
			return;
		}
	}
	http_set_header(res, "Set-Cookie",
			"loy_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	api_no_content(res);
}

struct me_ctx {
	struct principal *p;
	struct user user;
	struct business business;
};

static enum loy_err me_read(struct store_tx *tx, void *arg)
{
	struct me_ctx *m = arg;
	enum loy_err err = store_business_get(tx, m->p->business_id, &m->business);
	if (err == LOY_OK)
		err = store_user_get(tx, m->p->business_id, m->p->id, &m->user);
	return err;
}

void api_me(struct http_request *req, struct http_response *res)
{
	struct me_ctx m = { .p = api_principal(req) };
	enum loy_err err;

	/* A staff endpoint: API clients know their key, and have no user or CSRF token. */
	if (m.p->kind != PRINCIPAL_USER) {
		api_error(res, LOY_EUNAUTH, NULL, "/auth/me needs a staff session");
		return;
	}
	err = store_read(api_app(req)->st, &req->arena, me_read, &m);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	api_json(res, 200,
		 json_pack("{s:o,s:{s:I,s:s,s:s},s:s}", "user", api_render_user(&m.user),
			   "business", "id", (json_int_t)m.business.id, "name", m.business.name,
			   "slug", m.business.slug, "csrfToken", m.p->csrf));
}

/* ---- API keys → access tokens ---- */

struct token_in {
	struct jval api_key;
};

static const struct jfield token_fields[] = {
	{ "apiKey", J_STR, J_REQUIRED, 1, 128, offsetof(struct token_in, api_key) },
};

struct token_ctx {
	char prefix[APIKEY_ID_LEN + 1];
	struct api_key key;
};

static enum loy_err token_find(struct store_tx *tx, void *arg)
{
	struct token_ctx *t = arg;
	return store_apikey_by_prefix(tx, t->prefix, &t->key);
}

static enum loy_err token_touch(struct store_tx *tx, void *arg)
{
	struct token_ctx *t = arg;
	return store_apikey_touch(tx, t->key.id);
}

/* Splits "loy_<id>_<secret>" and copies the id; false for anything else. */
static bool apikey_prefix(const char *key, size_t len, char out[APIKEY_ID_LEN + 1])
{
	size_t plen = strlen(APIKEY_PREFIX);
	if (len < plen + APIKEY_ID_LEN + 2 || memcmp(key, APIKEY_PREFIX, plen) != 0 ||
	    key[plen + APIKEY_ID_LEN] != '_')
		return false;
	memcpy(out, key + plen, APIKEY_ID_LEN);
	out[APIKEY_ID_LEN] = '\0';
	return true;
}

void api_token(struct http_request *req, struct http_response *res)
{
	struct app *app = api_app(req);
	struct token_in in = { 0 };
	struct token_ctx t;
	struct token_claims claims = { 0 };
	char hash[SHA256_HEX_LEN + 1];
	json_t *doc = NULL;
	char *jwt = NULL;
	enum loy_err err;

	if (!api_read_body(req, res, token_fields, 1, &in, &doc))
		return;
	if (!apikey_prefix(in.api_key.s, in.api_key.len, t.prefix)) {
		json_decref(doc);
		api_error(res, LOY_EUNAUTH, NULL, "invalid API key");
		return;
	}
	digest_sha256_hex(in.api_key.s, in.api_key.len, hash);
	json_decref(doc);
	err = store_read(app->st, &req->arena, token_find, &t);
	if (err == LOY_ENOTFOUND ||
	    (err == LOY_OK && (t.key.revoked_at || !digest_equal(hash, strlen(hash), t.key.key_hash,
								 strlen(t.key.key_hash))))) {
		api_error(res, LOY_EUNAUTH, NULL, "invalid API key");
		return;
	}
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	/* "Last used" is when a token was last issued: tokens live minutes, so this is close enough
	 * and costs one write per token instead of one per request. */
	err = store_write(app->st, &req->arena, token_touch, &t);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	claims.key_id = t.key.id;
	claims.business_id = t.key.business_id;
	snprintf(claims.role, sizeof(claims.role), "%s", role_name(t.key.role));
	err = token_issue(&claims, app->conf->token_ttl, &jwt);
	if (err != LOY_OK) {
		api_error(res, err, NULL, NULL);
		return;
	}
	api_json(res, 200,
		 json_pack("{s:s,s:s,s:I}", "accessToken", jwt, "tokenType", "Bearer", "expiresIn",
			   (json_int_t)app->conf->token_ttl));
	free(jwt);
}

/* Used by the CLI and the API-keys endpoint: a new random key and its stored parts. */
void api_apikey_generate(char key[80], char prefix[APIKEY_ID_LEN + 1],
			 char hash[SHA256_HEX_LEN + 1])
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char secret[48];

	for (int i = 0; i < APIKEY_ID_LEN; i++)
		prefix[i] = alnum[rand_below(sizeof(alnum) - 1)];
	prefix[APIKEY_ID_LEN] = '\0';
	rand_token(secret, APIKEY_SECRET_BYTES);
	snprintf(key, 80, APIKEY_PREFIX "%s_%s", prefix, secret);
	digest_sha256_hex(key, strlen(key), hash);
}
