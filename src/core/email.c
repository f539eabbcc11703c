/* E-mail checking (see email.h). */
#include "core/email.h"

#include <string.h>

static bool local_char_ok(char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"(),:;<>@[\\]", c);
}

static bool label_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

bool email_valid(struct str s)
{
	const char *at = s.len ? memchr(s.p, '@', s.len) : NULL;
	size_t local_len, label_len = 0, dots = 0;

	if (!at || s.len > EMAIL_MAX)
		return false;
	local_len = (size_t)(at - s.p);
	if (local_len == 0 || local_len > 64)
		return false;
	for (size_t i = 0; i < local_len; i++)
		if (!local_char_ok(s.p[i]))
			return false;
	for (const char *p = at + 1; p < s.p + s.len; p++) {
		if (*p == '.') {
			if (label_len == 0 || p[-1] == '-')
				return false;
			dots++;
			label_len = 0;
		} else if (label_char_ok(*p)) {
			if (label_len == 0 && *p == '-')
				return false;
			if (++label_len > 63)
				return false;
		} else {
			return false;
		}
	}
	return dots > 0 && label_len > 0 && s.p[s.len - 1] != '-';
}
