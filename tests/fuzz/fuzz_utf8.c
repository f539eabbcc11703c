/* Fuzz driver for the text primitives every piece of untrusted text goes through:
 * str_is_clean_utf8, str_utf8_len and str_to_i64 (src/base/str.h), search_fold
 * (src/core/search.h) and time_parse_date (src/base/timeutil.h). Properties, for any bytes:
 *   - none crashes or reads outside the view;
 *   - str_is_clean_utf8 agrees with an independent table-driven checker (fuzz.h), and on clean
 *     text str_utf8_len is the number of code points;
 *   - str_to_i64 accepts exactly -?[0-9]+ within int64 and gives strtoll's value;
 *   - search_fold writes at most outsz-1 bytes plus a NUL, and its output is a prefix of what a
 *     larger buffer gets; on clean input: the output is clean UTF-8 (no character split), without
 *     upper-case A-Z, А-Я or Ё, byte-for-byte as long as the input when it fits, and folding it
 *     again changes nothing;
 *   - time_parse_date accepts exactly the real dates "YYYY-MM-DD" of 1900..2100 (checked with
 *     timegm), and the fields it returns print back to the input. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/str.h"
#include "base/timeutil.h"
#include "core/search.h"
#include "fuzz.h"

static void check_clean(const uint8_t *data, size_t size)
{
	struct str s = { (const char *)data, size };
	size_t chars = 0;
	bool ref = fuzz_utf8_clean(data, size, &chars);

	FUZZ_CHECK(str_is_clean_utf8(s) == ref, "str_is_clean_utf8 disagrees with the reference");
	if (ref)
		FUZZ_CHECK(str_utf8_len(s) == chars,
			   "str_utf8_len is not the number of code points");
}

static void check_i64(const uint8_t *data, size_t size)
{
	int64_t got = 0;
	bool ok = str_to_i64((struct str){ (const char *)data, size }, &got);
	size_t i = size && data[0] == '-' ? 1 : 0;
	bool shape = size > i;
	char *copy;
	long long want;

	for (size_t k = i; k < size; k++)
		shape &= data[k] >= '0' && data[k] <= '9';
	if (!shape) {
		FUZZ_CHECK(!ok, "str_to_i64 accepts something that is not -?[0-9]+");
		return;
	}
	copy = malloc(size + 1);
	if (!copy)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	errno = 0;
	want = strtoll(copy, NULL, 10);
	free(copy);
	if (errno == ERANGE) {
		FUZZ_CHECK(!ok, "str_to_i64 accepts a number outside int64");
		return;
	}
	FUZZ_CHECK(ok, "str_to_i64 rejects a number within int64");
	FUZZ_CHECK(got == (int64_t)want, "str_to_i64 gives another value than strtoll");
}

/* True if the code point at p (well-formed) is a capital search_fold should have lowered. */
static bool is_capital(const unsigned char *p)
{
	if (p[0] >= 'A' && p[0] <= 'Z')
		return true;
	/* U+0401 Ё is D0 81; U+0410..U+042F А..Я are D0 90..D0 AF. */
	return p[0] == 0xd0 && (p[1] == 0x81 || (p[1] >= 0x90 && p[1] <= 0xaf));
}

static size_t seq_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Folds into a heap buffer of exactly outsz bytes, so that a write past it is a sanitizer report. */
static char *fold(const uint8_t *data, size_t size, size_t outsz, size_t *n)
{
	char *out = malloc(outsz);
	if (!out)
		return NULL;
	memset(out, 'x', outsz);
	*n = search_fold((struct str){ (const char *)data, size }, out, outsz);
	FUZZ_CHECK(*n <= outsz - 1, "search_fold wrote more than outsz-1 bytes");
	FUZZ_CHECK(out[*n] == '\0', "search_fold did not NUL-terminate");
	return out;
}

static void check_fold(const uint8_t *data, size_t size)
{
	bool clean = fuzz_utf8_clean(data, size, NULL);
	size_t n, n_small, n_again, small = size ? 1 + data[0] % (size + 1) : 1;
	char *out = fold(data, size, size + 1, &n);
	char *out_small = fold(data, size, small, &n_small);
	char *again = NULL;

	if (!out || !out_small)
		goto out;
	FUZZ_CHECK(n_small <= n && memcmp(out_small, out, n_small) == 0,
		   "a smaller buffer does not get a prefix of the output");
	if (!clean)
		goto out;
	FUZZ_CHECK(n == size, "folding clean text that fits changed its length");
	FUZZ_CHECK(fuzz_utf8_clean((const unsigned char *)out, n, NULL),
		   "folding clean text gave text that is not clean UTF-8");
	FUZZ_CHECK(fuzz_utf8_clean((const unsigned char *)out_small, n_small, NULL),
		   "truncated folding split a character");
	for (size_t i = 0; i < n; i += seq_len((unsigned char)out[i]))
		FUZZ_CHECK(!is_capital((const unsigned char *)out + i),
			   "a capital survived folding");
	again = fold((const uint8_t *)out, n, n + 1, &n_again);
	if (again)
		FUZZ_CHECK(n_again == n && memcmp(again, out, n) == 0, "folding is not idempotent");
out:
	free(again);
	free(out_small);
	free(out);
}

/* The reference: the shape by hand, the calendar by timegm's normalisation. */
static bool real_date(const uint8_t *s, size_t n)
{
	struct tm tm = { 0 };
	int v[3] = { 0, 0, 0 };
	time_t t;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (size_t i = 0, f = 0; i < n; i++) {
		if (i == 4 || i == 7) {
			f++;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return false;
		v[f] = v[f] * 10 + (s[i] - '0');
	}
	if (v[0] < 1900 || v[0] > 2100 || v[1] < 1 || v[1] > 12 || v[2] < 1)
		return false;
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	t = timegm(&tm);
	/* timegm moves 31 April to 1 May: a real date comes back unchanged. */
	return t != (time_t)-1 && tm.tm_mday == v[2] && tm.tm_mon == v[1] - 1;
}

static void check_date(const uint8_t *data, size_t size)
{
	int y = -1, m = -1, d = -1;
	char back[32];
	bool ok = time_parse_date((const char *)data, size, &y, &m, &d);

	FUZZ_CHECK(ok == real_date(data, size), "time_parse_date disagrees with timegm");
	if (!ok)
		return;
	snprintf(back, sizeof(back), "%04d-%02d-%02d", y, m, d);
	FUZZ_CHECK(strlen(back) == size && memcmp(back, data, size) == 0,
		   "the parsed fields do not print back to the input");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_clean(data, size);
	check_i64(data, size);
	check_fold(data, size);
	check_date(data, size);
	return 0;
}
