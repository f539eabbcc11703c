/* Unit tests of src/base: integer parsing, UTF-8 checks, the arena and the bounded buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/timeutil.h"

static void test_str_to_i64(void **state)
{
	int64_t v;
	(void)state;
	assert_true(str_to_i64(str_from("0"), &v) && v == 0);
	assert_true(str_to_i64(str_from("-42"), &v) && v == -42);
	assert_true(str_to_i64(str_from("9223372036854775807"), &v) && v == INT64_MAX);
	assert_true(str_to_i64(str_from("-9223372036854775808"), &v) && v == INT64_MIN);
	assert_false(str_to_i64(str_from("9223372036854775808"), &v));
	assert_false(str_to_i64(str_from("-9223372036854775809"), &v));
	assert_false(str_to_i64(str_from(""), &v));
	assert_false(str_to_i64(str_from("-"), &v));
	assert_false(str_to_i64(str_from("12a"), &v));
	assert_false(str_to_i64(str_from(" 1"), &v));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(str_is_clean_utf8(str_from("Анна, кофе ☕")));
	assert_false(str_is_clean_utf8(str_from("a\x01"
						"b")));
	assert_false(str_is_clean_utf8(str_from("\xc0\xaf")));	   /* overlong '/' */
	assert_false(str_is_clean_utf8(str_from("\xed\xa0\x80"))); /* surrogate */
	assert_false(str_is_clean_utf8(str_from("\xe2\x82")));	   /* truncated */
	assert_false(str_is_clean_utf8((struct str){ "a\0b", 3 }));
	assert_int_equal(str_utf8_len(str_from("Анна")), 4);
}

static void test_arena(void **state)
{
	struct arena a;
	(void)state;
	arena_init(&a, 64 * 1024);
	for (int i = 0; i < 100; i++) {
		char *p = arena_printf(&a, "item %d", i);
		assert_non_null(p);
		assert_true(((uintptr_t)p & 15) == 0);
	}
	assert_null(arena_alloc(&a, 128 * 1024)); /* past the cap */
	arena_reset(&a);
	assert_int_equal(a.used_total, 0);
	assert_non_null(arena_alloc(&a, 60 * 1024));
	arena_free(&a);
}

static void test_buf_cap(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append_cstr(&b, "0123456789"), LOY_OK); /* N */
	assert_int_equal(buf_append_cstr(&b, "x"), LOY_ETOOBIG);     /* N+1 */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.p, "0123456789");
	buf_cleanup(&b);
}

static void test_dates(void **state)
{
	int y, m, d;
	char iso[32];
	(void)state;
	assert_true(time_parse_date("2000-02-29", 10, &y, &m, &d));
	assert_false(time_parse_date("1900-02-29", 10, &y, &m, &d));
	assert_false(time_parse_date("2024-13-01", 10, &y, &m, &d));
	assert_false(time_parse_date("2024-1-01", 9, &y, &m, &d));
	time_format_iso(1764102600123LL, iso, sizeof(iso));
	assert_string_equal(iso, "2025-11-25T20:30:00.123Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_to_i64), cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_arena),	   cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
