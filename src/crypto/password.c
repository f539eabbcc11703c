/* argon2id through libsodium (see password.h). */
#include "crypto/password.h"

#include <sodium.h>

enum loy_err password_init(void)
{
	return sodium_init() < 0 ? LOY_EINTERNAL : LOY_OK;
}

enum loy_err password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
	_Static_assert(PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer too small");
	if (crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return LOY_ENOMEM;
	return LOY_OK;
}

bool password_verify(const char *hash, const char *pw, size_t len)
{
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}
