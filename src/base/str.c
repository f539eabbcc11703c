/* Small, allocation-free helpers over length-carrying strings. */
#include "base/str.h"

bool str_to_i64(struct str s, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0;
	uint64_t limit = (uint64_t)INT64_MAX;

	if (s.len == 0)
		return false;
	if (s.p[0] == '-') {
		neg = true;
		limit += 1;
		i = 1;
		if (s.len == 1)
			return false;
	}
	for (; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return false;
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

bool str_is_visible_ascii(struct str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

/* Returns the length of the UTF-8 sequence at p (1..4) or 0 if it is malformed, overlong,
 * a surrogate or beyond U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t left, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

bool str_is_clean_utf8(struct str s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0;

	while (i < s.len) {
		uint32_t cp;
		size_t n = utf8_seq(p + i, s.len - i, &cp);
		if (n == 0)
			return false;
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f)
			return false;
		i += n;
	}
	return true;
}

size_t str_utf8_len(struct str s)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		if (((unsigned char)s.p[i] & 0xc0) != 0x80)
			n++;
	return n;
}
