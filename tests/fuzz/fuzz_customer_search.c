/* Fuzz driver for customer_search_pattern (src/api/customer_input.h), which turns the free text of
 * GET /api/v1/customers?q=... into a LIKE pattern (with ESCAPE '!'). The input is the query as the
 * handler sees it: a C string, so its bytes up to the first NUL. Properties:
 *   - no crash, no read or write outside the buffers, nothing left to free but the arena;
 *   - the pattern starts and ends with '%', and inside them every '%', '_' and '!' is escaped with
 *     '!' — the customer's text can never widen the search with a wildcard of its own. */
#include <string.h>

#include "api/customer_input.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *query = malloc(size + 1);
	struct arena a;
	const char *pat;
	size_t n;

	if (!query)
		return 0;
	memcpy(query, data, size);
	query[size] = '\0';
	arena_init(&a, 1u << 20);

	pat = customer_search_pattern(&a, query);
	FUZZ_CHECK(pat != NULL, "no pattern (the arena has room)");
	n = strlen(pat);
	FUZZ_CHECK(n >= 2 && pat[0] == '%' && pat[n - 1] == '%', "not wrapped in '%'");
	for (size_t i = 1; i < n - 1; i++) {
		char c = pat[i];
		if (c == '!') {
			FUZZ_CHECK(i + 1 < n - 1 && (pat[i + 1] == '%' || pat[i + 1] == '_' ||
						     pat[i + 1] == '!'),
				   "'!' escapes nothing (or the closing '%')");
			i++;
			continue;
		}
		FUZZ_CHECK(c != '%' && c != '_', "an unescaped wildcard inside the pattern");
	}

	arena_free(&a);
	free(query);
	return 0;
}
