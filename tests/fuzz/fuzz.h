/* Shared by the fuzz drivers: the libFuzzer entry point's prototype, the one way a driver reports a
 * broken property (a message, then abort(), which libFuzzer and the replay runner both treat as a
 * crash), and a reference UTF-8 checker written independently of src/base/str.c so that the drivers
 * test the code against something other than itself. */
#ifndef LOY_TESTS_FUZZ_H
#define LOY_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called by libFuzzer (or by replay_main.c) once per input; the bytes are not NUL-terminated and
 * the buffer ends exactly at data + size, so an over-read is a sanitizer report. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what)                                                                   \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz: property violated at %s:%d: %s (%s)\n", __FILE__, \
				__LINE__, what, #cond);                                          \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* Well-formed UTF-8 by the Unicode standard's table of byte ranges (Table 3-7), not by decoding
 * and range-checking as str.c does. Counts code points into *chars (may be NULL). */
static inline bool fuzz_utf8_wellformed(const unsigned char *p, size_t n, size_t *chars)
{
	size_t i = 0, count = 0;

	while (i < n) {
		unsigned char c = p[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t len;

		if (c <= 0x7f)
			len = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c == 0xe0)
			len = 3, lo = 0xa0;
		else if (c == 0xed)
			len = 3, hi = 0x9f;
		else if (c >= 0xe1 && c <= 0xef)
			len = 3;
		else if (c == 0xf0)
			len = 4, lo = 0x90;
		else if (c == 0xf4)
			len = 4, hi = 0x8f;
		else if (c >= 0xf1 && c <= 0xf3)
			len = 4;
		else
			return false;
		if (n - i < len)
			return false;
		/* The second byte has the narrowed range; any further ones are plain 80..BF. */
		if (len > 1 && (p[i + 1] < lo || p[i + 1] > hi))
			return false;
		for (size_t k = 2; k < len; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return false;
		i += len;
		count++;
	}
	if (chars)
		*chars = count;
	return true;
}

/* The project's "clean" text: well-formed, and no C0 control other than \t \n \r, and no DEL.
 * (Control characters are all single bytes, so a byte scan finds them.) */
static inline bool fuzz_utf8_clean(const unsigned char *p, size_t n, size_t *chars)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
			return false;
	return fuzz_utf8_wellformed(p, n, chars);
}

#endif
