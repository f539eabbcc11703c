/* Kernel randomness (see rand.h). */
#include "base/rand.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

void rand_bytes(void *out, size_t n)
{
	unsigned char *p = out;
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		p += got;
		n -= (size_t)got;
	}
}

uint64_t rand_below(uint64_t bound)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t v;
	do
		rand_bytes(&v, sizeof(v));
	while (v >= limit);
	return v % bound;
}

void rand_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];
	size_t o = 0;
	while (n > 0) {
		size_t k = n < sizeof(b) ? n : sizeof(b);
		rand_bytes(b, k);
		for (size_t i = 0; i < k; i++) {
			out[o++] = hex[b[i] >> 4];
			out[o++] = hex[b[i] & 15];
		}
		n -= k;
	}
	out[o] = '\0';
}

void rand_token(char *out, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char b[96];
	size_t o = 0, bits = 0;
	uint32_t acc = 0;

	if (n > sizeof(b))
		n = sizeof(b);
	rand_bytes(b, n);
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | b[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}
