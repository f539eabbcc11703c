/* Staff passwords: argon2id (libsodium, "interactive" limits) in the self-describing $argon2id$
 * string form. Hashing costs tens of milliseconds and memory by design: never call it while holding
 * a lock or inside a database write. */
#ifndef LOY_CRYPTO_PASSWORD_H
#define LOY_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define PASSWORD_HASH_MAX 128
#define PASSWORD_MIN 8
#define PASSWORD_MAX 256

/* Must be called once before any other function here (initialises libsodium). */
enum loy_err password_init(void);
enum loy_err password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
bool password_verify(const char *hash, const char *pw, size_t len);

#endif
