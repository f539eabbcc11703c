/* Short-lived access tokens for API clients: JWTs signed HS256 with the install's secret key, whose
 * claims name the API key, the business and the role. This module holds the key; callers never see it. */
#ifndef LOY_CRYPTO_TOKEN_H
#define LOY_CRYPTO_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct token_claims {
	int64_t key_id;
	int64_t business_id;
	char role[16];
	int64_t expires_at; /* seconds since the epoch */
};

/* Sets the signing key (raw bytes); a copy is kept. */
enum loy_err token_init(const unsigned char *key, size_t len);
void token_shutdown(void);
/* Issues a token valid for ttl seconds; *out is malloc'd, the caller frees it. */
enum loy_err token_issue(const struct token_claims *c, int64_t ttl, char **out);
/* Verifies signature, algorithm and expiry: LOY_EUNAUTH on any failure. */
enum loy_err token_verify(const char *token, struct token_claims *out);

#endif
