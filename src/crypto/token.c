/* JWT issue and verification with libjwt (see token.h). The algorithm is pinned to HS256 on both
 * sides: a token claiming any other algorithm ("none" included) is rejected. */
#include "crypto/token.h"

#include <jwt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_KEY_MAX 256
#define TOKEN_MAX_LEN 2048

static unsigned char token_key[TOKEN_KEY_MAX];
static size_t token_key_len;

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

	if (strlen(token) > TOKEN_MAX_LEN)
		return LOY_EUNAUTH;
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
	err = LOY_OK;
out:
	jwt_free(jwt);
	return err;
}
