/* Fuzz driver for router_match and router_allowed (src/http/router.h) over the real route table
 * (api_routes in src/api/routes.c). The input is "METHOD path" (no space: the whole input is a
 * GET path); the path bytes are a view that ends exactly where the input does. Properties:
 *   - no crash, no read outside the path, no write past router_allowed's outsz (any outsz);
 *   - ROUTE_FOUND: a row of the table with this method; one capture per {...} of its pattern,
 *     each a non-empty view inside the path without '/', and the pattern with the captures put
 *     back is the path itself;
 *   - the Allow list agrees: it names the method after ROUTE_FOUND, is non-empty and does not
 *     name the method after ROUTE_NO_METHOD, and is empty after ROUTE_NO_PATH. */
#include <string.h>

#include "api/api.h"
#include "fuzz.h"

static void check_captures(const struct route *r, struct str path, const struct str *params,
			   int nparams)
{
	const char *p = r->pattern;
	size_t at = 0;
	int k = 0, braces = 0;

	for (const char *q = r->pattern; *q; q++)
		braces += *q == '{';
	FUZZ_CHECK(nparams == braces && nparams <= ROUTE_PARAMS_MAX,
		   "not one capture per {...} of the pattern");
	for (int i = 0; i < nparams; i++) {
		struct str v = params[i];
		FUZZ_CHECK(v.len > 0, "an empty capture");
		FUZZ_CHECK(v.p >= path.p && v.p + v.len <= path.p + path.len,
			   "a capture outside the path");
		FUZZ_CHECK(!memchr(v.p, '/', v.len), "a capture holds '/'");
	}
	/* Put the captures back into the pattern: it must give the path, byte for byte. */
	while (*p) {
		if (*p == '{') {
			FUZZ_CHECK(k < nparams && at + params[k].len <= path.len &&
					   params[k].p == path.p + at,
				   "a capture is not where its {...} is");
			at += params[k++].len;
			p = strchr(p, '}') + 1;
			continue;
		}
		FUZZ_CHECK(at < path.len && path.p[at] == *p,
			   "the path does not match the pattern");
		at++;
		p++;
	}
	FUZZ_CHECK(at == path.len, "the pattern does not cover the whole path");
}

/* True if the ", "-separated list names method. */
static bool allow_names(const char *list, const char *method)
{
	size_t mlen = strlen(method);

	for (const char *s = list; *s;) {
		const char *end = strstr(s, ", ");
		size_t n = end ? (size_t)(end - s) : strlen(s);
		if (n == mlen && memcmp(s, method, n) == 0)
			return true;
		s += n + (end ? 2 : 0);
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sp = memchr(data, ' ', size);
	size_t mlen = sp ? (size_t)(sp - data) : 3;
	char *method = malloc(mlen + 1);
	struct str path;
	const struct route *r = NULL;
	struct str params[ROUTE_PARAMS_MAX];
	int nparams = -1;
	enum route_match m;
	char allow[256];
	size_t small = size % 24;
	char *allow_small = malloc(small ? small : 1);

	if (!method || !allow_small)
		goto out;
	memcpy(method, sp ? (const void *)data : (const void *)"GET", mlen);
	method[mlen] = '\0';
	path = sp ? (struct str){ (const char *)sp + 1, size - mlen - 1 }
		  : (struct str){ (const char *)data, size };

	m = router_match(api_routes, api_nroutes, method, path, &r, params, &nparams);
	router_allowed(api_routes, api_nroutes, path, allow, sizeof(allow));
	FUZZ_CHECK(strnlen(allow, sizeof(allow)) < sizeof(allow), "Allow not NUL-terminated");
	switch (m) {
	case ROUTE_FOUND:
		FUZZ_CHECK(r >= api_routes && r < api_routes + api_nroutes,
			   "a route off the table");
		FUZZ_CHECK(strcmp(r->method, method) == 0, "a route of another method");
		check_captures(r, path, params, nparams);
		FUZZ_CHECK(allow_names(allow, method),
			   "Allow does not name the method that matched");
		break;
	case ROUTE_NO_METHOD:
		FUZZ_CHECK(allow[0] != '\0', "405 with an empty Allow");
		FUZZ_CHECK(!allow_names(allow, method), "405 but Allow names the method");
		break;
	case ROUTE_NO_PATH:
		FUZZ_CHECK(allow[0] == '\0', "404 but Allow names methods");
		break;
	default:
		FUZZ_CHECK(0, "router_match returned no route_match value");
	}

	/* Any outsz, on a buffer of exactly that size. */
	memset(allow_small, 'x', small ? small : 1);
	router_allowed(api_routes, api_nroutes, path, allow_small, small);
	if (small)
		FUZZ_CHECK(strnlen(allow_small, small) < small, "Allow overflows a small buffer");
out:
	free(allow_small);
	free(method);
	return 0;
}
