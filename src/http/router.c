/* Route matching (see router.h): a linear scan over a table of a few dozen rows, comparing segment
 * by segment; fast enough that a trie would only add code. */
#include "http/router.h"

#include <string.h>

static bool match_pattern(const char *pattern, struct str path, struct str *params, int *nparams)
{
	const char *p = pattern;
	size_t i = 0;
	int np = 0;

	while (*p && i <= path.len) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t start = i;
			while (i < path.len && path.p[i] != '/')
				i++;
			if (i == start || np >= ROUTE_PARAMS_MAX || !close)
				return false;
			params[np++] = (struct str){ path.p + start, i - start };
			p = close + 1;
			continue;
		}
		if (i >= path.len || path.p[i] != *p)
			return false;
		p++;
		i++;
	}
	if (*p != '\0' || i != path.len)
		return false;
	*nparams = np;
	return true;
}

enum route_match router_match(const struct route *routes, size_t n, const char *method,
			      struct str path, const struct route **out, struct str *params,
			      int *nparams)
{
	enum route_match result = ROUTE_NO_PATH;

	for (size_t r = 0; r < n; r++) {
		struct str tmp[ROUTE_PARAMS_MAX];
		int ntmp = 0;
		if (!match_pattern(routes[r].pattern, path, tmp, &ntmp))
			continue;
		if (strcmp(routes[r].method, method) != 0) {
			result = ROUTE_NO_METHOD;
			continue;
		}
		*out = &routes[r];
		memcpy(params, tmp, sizeof(tmp[0]) * (size_t)ntmp);
		*nparams = ntmp;
		return ROUTE_FOUND;
	}
	return result;
}

void router_allowed(const struct route *routes, size_t n, struct str path, char *out, size_t outsz)
{
	size_t used = 0;

	if (outsz)
		out[0] = '\0';
	for (size_t r = 0; r < n; r++) {
		struct str tmp[ROUTE_PARAMS_MAX];
		int ntmp = 0;
		size_t mlen = strlen(routes[r].method);
		if (!match_pattern(routes[r].pattern, path, tmp, &ntmp))
			continue;
		if (used + mlen + 3 > outsz)
			break;
		if (used) {
			memcpy(out + used, ", ", 2);
			used += 2;
		}
		memcpy(out + used, routes[r].method, mlen + 1);
		used += mlen;
	}
}
