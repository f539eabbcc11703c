/* Fuzz driver for the percent-decoder of paths and query strings, unescape() in
 * src/http/server.c, which libmicrohttpd calls on every request line.
 *
 * unescape() is static, and it should stay so: it is an implementation detail of the server, not
 * an API. Like h2o's tests, this driver therefore #includes the .c file to reach it; the driver then
 * defines every external symbol of server.c itself, so the linker never takes server.o out of
 * loy_core and nothing is defined twice.
 *
 * The input is the string MHD would hand over: its bytes up to the first NUL. Properties:
 *   - no crash, no read or write outside the string;
 *   - the result is NUL-terminated at exactly the returned length: no NUL before it (a decoded
 *     NUL would silently cut the path), and the length is at most the input's;
 *   - "%00" is never decoded: every "%00" of the input is still in the output;
 *   - a string without '%' comes back unchanged. */
#include "../../src/http/server.c"

#include "fuzz.h"

static size_t count_pct00(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i + 3 <= n; i++)
		c += memcmp(s + i, "%00", 3) == 0;
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *orig = malloc(size + 1);
	size_t in_len, out_len;

	if (!s || !orig)
		goto out;
	memcpy(s, data, size);
	s[size] = '\0';
	in_len = strlen(s);
	memcpy(orig, s, in_len + 1);

	out_len = unescape(NULL, NULL, s);
	FUZZ_CHECK(out_len <= in_len, "decoding made the string longer");
	FUZZ_CHECK(strlen(s) == out_len, "a NUL before the returned length, or none at it");
	FUZZ_CHECK(count_pct00(s, out_len) >= count_pct00(orig, in_len), "%00 was decoded");
	if (!memchr(orig, '%', in_len))
		FUZZ_CHECK(out_len == in_len && memcmp(s, orig, in_len) == 0,
			   "a string without '%' changed");
out:
	free(orig);
	free(s);
	return 0;
}
