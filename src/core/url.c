/* URL checking (see url.h). */
#include "core/url.h"

#include <string.h>

bool url_valid(struct str s)
{
	size_t i, host_start, host_len = 0;

	if (s.len > URL_MAX || !str_is_visible_ascii(s))
		return false;
	if (s.len > 8 && memcmp(s.p, "https://", 8) == 0)
		i = 8;
	else if (s.len > 7 && memcmp(s.p, "http://", 7) == 0)
		i = 7;
	else
		return false;
	host_start = i;
	for (; i < s.len && s.p[i] != '/' && s.p[i] != '?' && s.p[i] != '#'; i++) {
		char c = s.p[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':';
		if (!ok)
			return false;
		host_len++;
	}
	return host_len > 0 && s.p[host_start] != '.' && s.p[host_start] != '-' &&
	       s.p[host_start] != ':';
}
