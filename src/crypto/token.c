/* JWT issue and verification with libjwt (see token.h). The algorithm is pinned to HS256 on both
 * sides: a token claiming any other algorithm ("none" included) is rejected.
 *
 * A POS sends the same token with every request for its 15 minutes; verifying it costs base64, a
 * JSON parse and an HMAC each time. Tokens that verified are remembered (the exact string and its
 * claims) in a small direct-mapped table, so a repeat costs a hash and a compare; expiry is still
 * checked on every use. */
#include "crypto/token.h"

#include <jwt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_KEY_MAX 256
#define TOKEN_MAX_LEN 2048

#define TOKEN_CACHE_SLOTS 256
#define TOKEN_CACHE_LEN 600 /* longer tokens are verified every time */

static unsigned char token_key[TOKEN_KEY_MAX];
static size_t token_key_len;

struct verified {
	char token[TOKEN_CACHE_LEN];
	size_t len;
	struct token_claims claims;
};

static struct verified verified_tokens[TOKEN_CACHE_SLOTS];
static pthread_mutex_t verified_lock = PTHREAD_MUTEX_INITIALIZER;

static struct verified *verified_slot(const char *token, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)token[i]) * 1099511628211ULL;
	return &verified_tokens[h % TOKEN_CACHE_SLOTS];
}

static bool verified_get(const char *token, size_t len, struct token_claims *out)
{
	struct verified *v = verified_slot(token, len);
	bool hit;

	pthread_mutex_lock(&verified_lock);
	hit = v->len == len && memcmp(v->token, token, len) == 0;
	if (hit)
		*out = v->claims;
	pthread_mutex_unlock(&verified_lock);
	return hit && out->expires_at > (int64_t)time(NULL);
}

static void verified_put(const char *token, size_t len, const struct token_claims *c)
{
	struct verified *v = verified_slot(token, len);

	if (len >= TOKEN_CACHE_LEN)
		return;
	pthread_mutex_lock(&verified_lock);
	memcpy(v->token, token, len);
	v->len = len;
	v->claims = *c;
	pthread_mutex_unlock(&verified_lock);
}

enum loy_err token_init(const unsigned char *key, size_t len)
{
	if (len < 32 || len > TOKEN_KEY_MAX)
		return LOY_EINVALID;
	memcpy(token_key, key, len);
	token_key_len = len;
	return LOY_OK;
}

void token_shutdown(void)
{
	memset(token_key, 0, sizeof(token_key));
	token_key_len = 0;
	pthread_mutex_lock(&verified_lock);
	memset(verified_tokens, 0, sizeof(verified_tokens));
	pthread_mutex_unlock(&verified_lock);
}

enum loy_err token_issue(const struct token_claims *c, int64_t ttl, char **out)
{
	jwt_t *jwt = NULL;
	enum loy_err err = LOY_EINTERNAL;
	time_t now = time(NULL);
	char *s;

	if (jwt_new(&jwt) != 0)
		return LOY_ENOMEM;
	if (jwt_add_grant(jwt, "iss", "loy") || jwt_add_grant_int(jwt, "sub", (long)c->key_id) ||
	    jwt_add_grant_int(jwt, "bid", (long)c->business_id) ||
	    jwt_add_grant(jwt, "role", c->role) || jwt_add_grant_int(jwt, "iat", (long)now) ||
	    jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, token_key, (int)token_key_len))
		goto out;
	s = jwt_encode_str(jwt);
	if (!s)
		goto out;
	*out = s;
	err = LOY_OK;
out:
	jwt_free(jwt);
	return err;
}

enum loy_err token_verify(const char *token, struct token_claims *out)
{
	jwt_t *jwt = NULL;
	enum loy_err err = LOY_EUNAUTH;
	const char *role, *iss;
	long exp;

	size_t len = strlen(token);

	if (len > TOKEN_MAX_LEN)
		return LOY_EUNAUTH;
	if (verified_get(token, len, out))
		return LOY_OK;
	if (jwt_decode(&jwt, token, token_key, (int)token_key_len) != 0 || !jwt)
		return LOY_EUNAUTH;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	iss = jwt_get_grant(jwt, "iss");
	role = jwt_get_grant(jwt, "role");
	exp = jwt_get_grant_int(jwt, "exp");
	if (!iss || strcmp(iss, "loy") != 0 || !role || strlen(role) >= sizeof(out->role))
		goto out;
	if (exp <= 0 || exp <= (long)time(NULL))
		goto out;
	out->key_id = jwt_get_grant_int(jwt, "sub");
	out->business_id = jwt_get_grant_int(jwt, "bid");
	out->expires_at = exp;
	memcpy(out->role, role, strlen(role) + 1);
	if (out->key_id <= 0 || out->business_id <= 0)
		goto out;
	verified_put(token, len, out);
	err = LOY_OK;
out:
	jwt_free(jwt);
	return err;
}
