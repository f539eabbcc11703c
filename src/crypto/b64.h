/* Base64 for the JWTs and signatures of the Google Wallet modules: base64url without padding out
 * (RFC 7515 §2, what every JWT part is), and a strict decoder for the standard alphabet (RFC 4648
 * §4) in, which is how Google writes the keys and signatures of its callbacks. */
#ifndef LOY_CRYPTO_B64_H
#define LOY_CRYPTO_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Characters b64url_encode writes for n bytes, not counting the NUL. */
#define B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Writes n bytes as base64url without padding plus a NUL into out, which has room for
 * B64URL_LEN(n) + 1 characters; returns the characters written, NUL not counted. */
size_t b64url_encode(const void *data, size_t n, char *out);

/* Decodes standard base64 (A-Z a-z 0-9 + /), with its '=' padding or without, into out, which has
 * room for len * 3 / 4 + 1 bytes; *out_len is the byte count. False for any other character,
 * padding in the wrong place, a length that is 1 modulo 4, or set bits past the data (so that
 * each byte string has exactly one accepted encoding). */
bool b64_decode(const char *s, size_t len, unsigned char *out, size_t *out_len);

#endif
