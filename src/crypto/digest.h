/* Digests and comparisons that must not leak timing. */
#ifndef LOY_CRYPTO_DIGEST_H
#define LOY_CRYPTO_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define SHA256_HEX_LEN 64

/* Writes the SHA-256 of data as 64 lowercase hex characters plus NUL into out. */
void digest_sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
/* Constant-time equality of two byte strings (time depends only on the lengths). */
bool digest_equal(const void *a, size_t alen, const void *b, size_t blen);

#define SHA1_HEX_LEN 40

/* Writes the SHA-1 of data as 40 lowercase hex characters plus NUL into out. For what formats
 * demand it (a .pkpass manifest.json), never for anything that must resist collisions. */
void digest_sha1_hex(const void *data, size_t len, char out[SHA1_HEX_LEN + 1]);

#endif
