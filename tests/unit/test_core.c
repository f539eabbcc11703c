/* Unit tests of the domain rules in src/core: phones, card numbers, e-mail, loyalty arithmetic,
 * roles and search folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/card.h"
#include "core/email.h"
#include "core/loyalty.h"
#include "core/phone.h"
#include "core/roles.h"
#include "core/search.h"

static void assert_phone(const char *in, const char *want)
{
	char out[PHONE_E164_MAX];
	bool ok = phone_normalize(str_from(in), out);
	if (want) {
		assert_true(ok);
		assert_string_equal(out, want);
	} else {
		assert_false(ok);
	}
}

static void test_phone(void **state)
{
	(void)state;
	assert_phone("8 (912) 345-67-89", "+79123456789");
	assert_phone("+7 912 345 67 89", "+79123456789");
	assert_phone("89123456789", "+79123456789");
	assert_phone("79123456789", "+79123456789");
	assert_phone("9123456789", "+79123456789");
	assert_phone("+44 20 7946 0958", "+442079460958");
	assert_phone("+7 912 345 67 8", NULL); /* +7 needs 11 digits */
	assert_phone("912345", NULL);
	assert_phone("", NULL);
	assert_phone("+", NULL);
	assert_phone("++79123456789", NULL);
	assert_phone("+7912345678a", NULL);
	assert_phone("+0123456789", NULL);
	assert_phone("+123456789012345", "+123456789012345"); /* 15 digits: the longest E.164 */
	assert_phone("+1234567890123456", NULL);	      /* 16 digits */
	assert_phone("8912345678\x00", NULL);
}

static void test_card_number(void **state)
{
	char card[CARD_NUMBER_LEN + 1];
	(void)state;
	for (int i = 0; i < 1000; i++) {
		card_number_generate(card);
		assert_int_equal(strlen(card), CARD_NUMBER_LEN);
		assert_true(card[0] != '0');
		assert_true(card_number_valid(str_from(card)));
		/* Any single-digit change is caught by the check digit. */
		char bad[CARD_NUMBER_LEN + 1];
		memcpy(bad, card, sizeof(bad));
		bad[3] = (char)('0' + (bad[3] - '0' + 1) % 10);
		assert_false(card_number_valid(str_from(bad)));
	}
	assert_true(card_number_valid(str_from("123456782")));
	assert_false(card_number_valid(str_from("123456789")));
	assert_false(card_number_valid(str_from("12345678")));
	assert_false(card_number_valid(str_from("12345678a")));
}

static void test_email(void **state)
{
	(void)state;
	assert_true(email_valid(str_from("anna@example.com")));
	assert_true(email_valid(str_from("a.b+tag@mail.example.ru")));
	assert_false(email_valid(str_from("anna@example")));
	assert_false(email_valid(str_from("@example.com")));
	assert_false(email_valid(str_from("anna@@example.com")));
	assert_false(email_valid(str_from("anna@-example.com")));
	assert_false(email_valid(str_from("anna@example.com.")));
	assert_false(email_valid(str_from("an na@example.com")));
	assert_false(email_valid(str_from("anna@exa_mple.com")));
}

static void test_points(void **state)
{
	(void)state;
	/* 5 % back: 1 000 ₽ earns 50 points; 19.99 ₽ earns 0 (rounded down). */
	assert_int_equal(loyalty_points_for(100000, 500), 50);
	assert_int_equal(loyalty_points_for(1999, 500), 0);
	assert_int_equal(loyalty_points_for(2000, 500), 1);
	assert_int_equal(loyalty_points_for(100, 10000), 1);
	assert_int_equal(loyalty_points_for(LOYALTY_PURCHASE_MAX, LOYALTY_BP_MAX),
			 LOYALTY_PURCHASE_MAX / 100);
}

static void test_purchase_plan(void **state)
{
	struct loyalty_settings s = { .points_per_ruble_bp = 500, .minimum_redemption = 10 };
	struct purchase_plan p;
	(void)state;

	assert_int_equal(loyalty_plan_purchase(&s, 0, 100000, 0, &p), LOY_OK);
	assert_int_equal(p.earn, 50);
	assert_int_equal(p.paid, 100000);
	/* Redeem 100 points = 100 ₽ off, earn on the 900 ₽ paid. */
	assert_int_equal(loyalty_plan_purchase(&s, 150, 100000, 100, &p), LOY_OK);
	assert_int_equal(p.redeem, 100);
	assert_int_equal(p.paid, 90000);
	assert_int_equal(p.earn, 45);
	assert_int_equal(loyalty_plan_purchase(&s, 50, 100000, 100, &p), LOY_EBALANCE);
	assert_int_equal(loyalty_plan_purchase(&s, 50, 100000, 5, &p), LOY_ERULE);
	assert_int_equal(loyalty_plan_purchase(&s, 5000, 100000, 1001, &p), LOY_ERULE);
	assert_int_equal(loyalty_plan_purchase(&s, 50, 0, 0, &p), LOY_EINVALID);
	assert_int_equal(loyalty_plan_purchase(&s, 50, LOYALTY_PURCHASE_MAX + 1, 0, &p),
			 LOY_EINVALID);
	assert_int_equal(loyalty_plan_purchase(&s, 50, 100, -1, &p), LOY_EINVALID);
}

static void test_ledger_rules(void **state)
{
	int64_t d;
	enum ledger_type t;
	(void)state;

	assert_int_equal(ledger_delta(LEDGER_CREDIT, 10, &d), LOY_OK);
	assert_int_equal(d, 10);
	assert_int_equal(ledger_delta(LEDGER_DEBIT, 10, &d), LOY_OK);
	assert_int_equal(d, -10);
	assert_int_equal(ledger_delta(LEDGER_ADJUSTMENT, -7, &d), LOY_OK);
	assert_int_equal(d, -7);
	assert_int_equal(ledger_delta(LEDGER_CREDIT, 0, &d), LOY_EINVALID);
	assert_int_equal(ledger_delta(LEDGER_DEBIT, -5, &d), LOY_EINVALID);
	assert_int_equal(ledger_delta(LEDGER_ADJUSTMENT, 0, &d), LOY_EINVALID);
	assert_int_equal(ledger_delta(LEDGER_CREDIT, LOYALTY_AMOUNT_MAX + 1, &d), LOY_EINVALID);
	assert_int_equal(ledger_delta(LEDGER_CREDIT, LOYALTY_AMOUNT_MAX, &d), LOY_OK);
	assert_int_equal(ledger_check(10, -10), LOY_OK);
	assert_int_equal(ledger_check(10, -11), LOY_EBALANCE);
	assert_int_equal(ledger_check(INT64_MAX - 1, 2), LOY_ERULE);
	assert_int_equal(ledger_type_parse("debit", 1, &t), LOY_OK);
	assert_int_equal(t, LEDGER_DEBIT);
	assert_int_equal(ledger_type_parse("welcome", 1, &t), LOY_EINVALID);
	assert_int_equal(ledger_type_parse("welcome", 0, &t), LOY_OK);
}

static void test_roles(void **state)
{
	enum role r;
	(void)state;
	assert_int_equal(role_parse("cashier", &r), LOY_OK);
	assert_true(role_allows(r, ROLE_VIEWER));
	assert_true(role_allows(r, ROLE_CASHIER));
	assert_false(role_allows(r, ROLE_ADMIN));
	assert_int_equal(role_parse("root", &r), LOY_EINVALID);
	assert_int_equal(role_parse("none", &r), LOY_EINVALID);
	assert_string_equal(role_name(ROLE_OWNER), "owner");
}

static void test_search_fold(void **state)
{
	char out[64];
	(void)state;
	search_fold(str_from("Анна ЁЛКИНА Bob"), out, sizeof(out));
	assert_string_equal(out, "анна ёлкина bob");
	search_fold(str_from("ПРЯЖА"), out, sizeof(out));
	assert_string_equal(out, "пряжа");
	/* Truncation never splits a character. */
	search_fold(str_from("ЯЯЯ"), out, 4);
	assert_string_equal(out, "я");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone),	      cmocka_unit_test(test_card_number),
		cmocka_unit_test(test_email),	      cmocka_unit_test(test_points),
		cmocka_unit_test(test_purchase_plan), cmocka_unit_test(test_ledger_rules),
		cmocka_unit_test(test_roles),	      cmocka_unit_test(test_search_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
