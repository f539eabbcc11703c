/* Strings that carry their length: anything that came from the network is a view, never assumed
 * to be NUL-terminated. A view does not own its bytes. */
#ifndef LOY_BASE_STR_H
#define LOY_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct str {
	const char *p;
	size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })

static inline struct str str_from(const char *s)
{
	return (struct str){ s, s ? strlen(s) : 0 };
}

static inline bool str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool str_eq_cstr(struct str a, const char *b)
{
	return str_eq(a, str_from(b));
}

/* Parses a whole view as a decimal int64 (optional leading '-'); false on anything else,
 * including overflow, empty input and trailing bytes. */
bool str_to_i64(struct str s, int64_t *out);

/* True if every byte is a visible ASCII character (0x21..0x7e). */
bool str_is_visible_ascii(struct str s);

/* True if the view is valid UTF-8 without NUL or C0 control characters other than \t \n \r. */
bool str_is_clean_utf8(struct str s);

/* Number of Unicode code points in valid UTF-8. */
size_t str_utf8_len(struct str s);

#endif
