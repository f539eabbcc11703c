/* Fuzz driver for the PassKit web service's input checks (src/api/passkit_input.h). The first
 * byte picks the function, the rest is the input (a view ending exactly where the input does;
 * a NUL-terminated copy for the Authorization header). Properties:
 *   - passkit_id_ok, passkit_link_ok, passkit_push_token_ok: true only for inputs of the allowed
 *     length and alphabet (checked here byte by byte, independently);
 *   - passkit_auth_parse: the token is a non-empty view inside the header, after a known scheme,
 *     of visible ASCII and at most PASSKIT_AUTH_TOKEN_MAX bytes;
 *   - passkit_tag_parse: true only for 1..18 decimal digits, with their value;
 *   - passkit_http_date_parse: a parsed date formats as an IMF-fixdate that parses back to the
 *     same second; any second (from the input's bytes) formats to 29 characters that parse back;
 *   - passkit_log_serial: the serial is inside the message, right after "serial number ", of
 *     1..64 identifier characters, not ending with '.'. */
#include <string.h>
#include <strings.h>

#include "api/passkit_input.h"
#include "fuzz.h"

static bool id_byte(unsigned char c, bool colon)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || (colon && c == ':');
}

static bool all(struct str s, bool (*ok)(unsigned char))
{
	for (size_t i = 0; i < s.len; i++)
		if (!ok((unsigned char)s.p[i]))
			return false;
	return true;
}

static bool id_plain(unsigned char c)
{
	return id_byte(c, false);
}
static bool id_colon(unsigned char c)
{
	return id_byte(c, true);
}
static bool b64url(unsigned char c)
{
	return id_byte(c, false) && c != '.';
}
static bool hexd(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static void check_date(struct str s)
{
	char out[PASSKIT_HTTP_DATE_SIZE];
	int64_t secs = 0, again = -1;
	const int64_t now = 1795000000; /* 2026 */

	if (!passkit_http_date_parse(s, now, &secs))
		return;
	FUZZ_CHECK(secs >= 0, "a date before 1970");
	passkit_http_date_format(secs, out);
	FUZZ_CHECK(strlen(out) == 29, "an IMF-fixdate is 29 characters");
	FUZZ_CHECK(passkit_http_date_parse(str_from(out), now, &again) && again == secs,
		   "a formatted date does not parse back");
}

static void check_secs(const uint8_t *data, size_t size)
{
	uint64_t v = 0;
	char out[PASSKIT_HTTP_DATE_SIZE];
	int64_t back = -1;

	for (size_t i = 0; i < size && i < 8; i++)
		v = v << 8 | data[i];
	v %= 253402300800ull; /* up to 9999-12-31 */
	passkit_http_date_format((int64_t)v, out);
	FUZZ_CHECK(strlen(out) == 29, "an IMF-fixdate is 29 characters");
	FUZZ_CHECK(passkit_http_date_parse(str_from(out), 1795000000, &back) && back == (int64_t)v,
		   "format then parse is not the identity");
}

static void check_auth(struct str s)
{
	char *h = malloc(s.len + 1);
	enum passkit_scheme scheme;
	struct str tok;

	if (!h)
		return;
	memcpy(h, s.p, s.len);
	h[s.len] = '\0';
	if (passkit_auth_parse(h, &scheme, &tok)) {
		size_t n = strlen(h);
		const char *name = scheme == PASSKIT_APPLE ? "ApplePass " : "AndroidPass ";
		FUZZ_CHECK(strncasecmp(h, name, strlen(name)) == 0, "a token without its scheme");
		FUZZ_CHECK(tok.p > h && tok.p + tok.len == h + n,
			   "the token is not the header's end");
		FUZZ_CHECK(tok.len > 0 && tok.len <= PASSKIT_AUTH_TOKEN_MAX, "token length");
		for (size_t i = 0; i < tok.len; i++)
			FUZZ_CHECK(tok.p[i] > 0x20 && tok.p[i] < 0x7f, "a token byte not visible");
	}
	free(h);
}

static void check_serial(struct str m)
{
	struct str s;
	static const char key[] = "serial number ";

	if (!passkit_log_serial(m, &s))
		return;
	FUZZ_CHECK(s.p >= m.p + strlen(key) && s.p + s.len <= m.p + m.len, "serial outside");
	FUZZ_CHECK(memcmp(s.p - strlen(key), key, strlen(key)) == 0, "not after serial number");
	FUZZ_CHECK(s.len >= 1 && s.len <= PASSKIT_SERIAL_MAX, "serial length");
	FUZZ_CHECK(all(s, id_plain) && s.p[s.len - 1] != '.', "serial characters");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str s;
	int64_t v = -1;

	if (size == 0)
		return 0;
	s = (struct str){ (const char *)data + 1, size - 1 };
	switch (data[0] % 8) {
	case 0: {
		static const size_t maxes[] = { PASSKIT_DEVICE_ID_MAX, PASSKIT_PASS_TYPE_MAX,
						PASSKIT_SERIAL_MAX, 1 };
		for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++)
			if (passkit_id_ok(s, maxes[i]))
				FUZZ_CHECK(s.len >= 1 && s.len <= maxes[i] && s.p[0] != '.' &&
						   all(s, id_plain),
					   "a bad identifier passed");
		break;
	}
	case 1:
		check_auth(s);
		break;
	case 2:
		if (passkit_push_token_ok(PASSKIT_APPLE, s))
			FUZZ_CHECK(s.len == 64 && all(s, hexd), "a bad APNs token passed");
		if (passkit_push_token_ok(PASSKIT_ANDROID, s))
			FUZZ_CHECK(s.len >= 1 && s.len <= PASSKIT_ANDROID_TOKEN_MAX &&
					   all(s, id_colon),
				   "a bad Android token passed");
		break;
	case 3:
		if (passkit_link_ok(s))
			FUZZ_CHECK(s.len >= PASSKIT_LINK_MIN && s.len <= PASSKIT_LINK_MAX &&
					   all(s, b64url),
				   "a bad link passed");
		break;
	case 4:
		if (passkit_tag_parse(s, &v)) {
			int64_t want = 0;
			FUZZ_CHECK(s.len >= 1 && s.len <= PASSKIT_TAG_DIGITS_MAX && all(s, digit),
				   "a bad tag passed");
			for (size_t i = 0; i < s.len; i++)
				want = want * 10 + (s.p[i] - '0');
			FUZZ_CHECK(v == want, "the tag's value");
		}
		break;
	case 5:
		check_date(s);
		break;
	case 6:
		check_secs(data + 1, size - 1);
		break;
	default:
		check_serial(s);
		break;
	}
	return 0;
}
