/* Base64 encode (url alphabet, no padding) and strict decode (standard alphabet); see b64.h. */
#include "crypto/b64.h"

#include <stdint.h>

static const char url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64url_encode(const void *data, size_t n, char *out)
{
	const unsigned char *p = data;
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = url_alphabet[v >> 18];
		out[o++] = url_alphabet[(v >> 12) & 63];
		out[o++] = url_alphabet[(v >> 6) & 63];
		out[o++] = url_alphabet[v & 63];
	}
	if (n - i == 1) {
		out[o++] = url_alphabet[p[i] >> 2];
		out[o++] = url_alphabet[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];

		out[o++] = url_alphabet[v >> 10];
		out[o++] = url_alphabet[(v >> 4) & 63];
		out[o++] = url_alphabet[(v & 15) << 2];
	}
	out[o] = '\0';
	return o;
}

/* The value of a standard-alphabet character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool b64_decode(const char *s, size_t len, unsigned char *out, size_t *out_len)
{
	uint32_t acc = 0;
	size_t o = 0, bits = 0;

	if (len % 4 == 0 && len >= 2 && s[len - 1] == '=')
		len -= s[len - 2] == '=' ? 2 : 1;
	if (len % 4 == 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0)
			return false;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits && (acc & ((1u << bits) - 1)) != 0)
		return false;
	*out_len = o;
	return true;
}
