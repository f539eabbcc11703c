/* Fuzz driver for email_valid (src/core/email.h) and url_valid (src/core/url.h), the checks on
 * addresses and links a business or a customer submits. Properties, for any bytes:
 *   - neither crashes nor reads outside the view;
 *   - an accepted e-mail address is at most EMAIL_MAX bytes of visible ASCII with exactly one '@',
 *     a non-empty local part and a '.' in the domain;
 *   - an accepted URL is at most URL_MAX bytes, starts with "http://" or "https://", has a
 *     non-empty host, and contains no byte below 0x21 (nor above 0x7e): no space, no control
 *     character, nothing like "javascript:" can pass. */
#include <string.h>

#include "core/email.h"
#include "core/url.h"
#include "fuzz.h"

static bool visible_ascii(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	return true;
}

static void check_email(const uint8_t *data, size_t size)
{
	const uint8_t *at;
	size_t ats = 0;

	if (!email_valid((struct str){ (const char *)data, size }))
		return;
	FUZZ_CHECK(size <= EMAIL_MAX, "accepted e-mail longer than EMAIL_MAX");
	FUZZ_CHECK(visible_ascii(data, size), "accepted e-mail has a byte outside 0x21..0x7e");
	for (size_t i = 0; i < size; i++)
		ats += data[i] == '@';
	FUZZ_CHECK(ats == 1, "accepted e-mail does not have exactly one '@'");
	at = memchr(data, '@', size);
	FUZZ_CHECK(at != data, "accepted e-mail has an empty local part");
	FUZZ_CHECK(memchr(at, '.', size - (size_t)(at - data)) != NULL,
		   "accepted e-mail has no '.' in the domain");
}

static void check_url(const uint8_t *data, size_t size)
{
	size_t scheme;

	if (!url_valid((struct str){ (const char *)data, size }))
		return;
	FUZZ_CHECK(size <= URL_MAX, "accepted URL longer than URL_MAX");
	if (size >= 7 && memcmp(data, "http://", 7) == 0)
		scheme = 7;
	else if (size >= 8 && memcmp(data, "https://", 8) == 0)
		scheme = 8;
	else
		scheme = 0;
	FUZZ_CHECK(scheme != 0, "accepted URL does not start with http:// or https://");
	FUZZ_CHECK(size > scheme && data[scheme] != '/' && data[scheme] != '?' &&
			   data[scheme] != '#',
		   "accepted URL has an empty host");
	FUZZ_CHECK(visible_ascii(data, size), "accepted URL has a byte outside 0x21..0x7e");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_email(data, size);
	check_url(data, size);
	return 0;
}
