/* Cryptographically strong randomness from the kernel (getrandom), for tokens, card numbers and
 * jitter. Never fails silently: a failure aborts, because continuing with weak randomness is worse. */
#ifndef LOY_BASE_RAND_H
#define LOY_BASE_RAND_H

#include <stddef.h>
#include <stdint.h>

void rand_bytes(void *out, size_t n);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint64_t rand_below(uint64_t bound);
/* Writes n random bytes as 2n lowercase hex characters plus NUL into out (size >= 2n+1). */
void rand_hex(char *out, size_t n);
/* Writes a URL-safe base64 token of n random bytes (no padding) plus NUL; out size >= 4n/3+2. */
void rand_token(char *out, size_t n);

#endif
