/* Unit tests of the Google Wallet resource builders (wallet/google/objects). Every body is read
 * back through jansson and checked field by field against Google's rules
 * (../shared/specs/google-wallet.md §2.2–§2.6): the exact set of keys of each object, the ids'
 * alphabet, LocalizedString and Image shapes, the barcode, the balance's int32 form, coordinates
 * written exactly, links with schemes, text module ids without dots, PATCH bodies with absolute
 * values and notifyPreference only when asked, the addMessage body; limits at N and N+1; Russian
 * texts; determinism of bytes and hashes.
 *
 * The sample bodies are also kept as golden files in tests/fakes/google-samples/ (the same bytes,
 * checked here), which tests/fakes/google_objects_schema.test.js validates against the
 * walletobjects v1 schema derived from Google's own client library. After an intended change of
 * what the builders write: LOY_UPDATE_GOLDEN=1 ./test_google_objects rewrites them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "crypto/digest.h"
#include "support.h"
#include "wallet/google/objects.h"

static const struct gw_location places[] = {
	{ 55755826, 37617300 },	  /* Moscow */
	{ -33868800, 151209300 }, /* Sydney */
	{ 0, 0 },
	{ 90000000, -180000000 },
	{ -90000000, 180000000 },
	{ 50, -179999999 }, /* 0.00005: within 6 m of the equator */
};

/* A class with every optional part given. */
static struct gw_class_input class_sample(void)
{
	return (struct gw_class_input){
		.issuer_id = "3388000000012345678",
		.class_suffix = "b12-t3",
		.issuer_name = "Кофейня «Зерно»",
		.program_name = "Зерно Клуб",
		.logo_uri = "https://loy.example.ru/w/google/logo/12.png",
		.hero_uri = "https://loy.example.ru/w/google/hero/12.png",
		.hex_background = "#1f2937",
		.homepage_uri = "https://zerno.example.ru",
		.phone = "+7 (495) 123-45-67",
		.email = "hello@zerno.example.ru",
		.terms_uri = "https://zerno.example.ru/terms",
		.terms_text =
			"1 балл за каждые 100 ₽.\nБаллы сгорают через год.",
		.locations = places,
		.nlocations = sizeof(places) / sizeof(places[0]),
		.callback_url = "https://loy.example.ru/google/callback",
		.country_code = "RU",
	};
}

/* Only what a class requires. */
static struct gw_class_input class_minimal(void)
{
	return (struct gw_class_input){
		.issuer_id = "3388000000012345678",
		.class_suffix = "b1-t1",
		.issuer_name = "Зерно",
		.program_name = "Зерно",
		.logo_uri = "http://127.0.0.1:8080/w/google/logo/1.png",
	};
}

static struct gw_object_input object_sample(void)
{
	return (struct gw_object_input){
		.issuer_id = "3388000000012345678",
		.object_suffix = "c42",
		.class_suffix = "b12-t3",
		.account_id = "123456782",
		.account_name = "Анна Петрова",
		.balance = 1250,
		.points_label = "Баллы",
		.tier = "Золото",
		.active = true,
	};
}

static struct gw_object_input object_minimal(void)
{
	return (struct gw_object_input){
		.issuer_id = "1",
		.object_suffix = "c1",
		.class_suffix = "b1-t1",
		.account_id = "A1",
	};
}

/* ---- helpers --------------------------------------------------------------------------------- */

static json_t *parse(char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);

	if (!j)
		fail_msg("not JSON: %s in %s", e.text, text);
	free(text);
	return j;
}

static json_t *class_doc(const struct gw_class_input *in, const char *status)
{
	char *text = NULL;
	const char *why = "unset";

	assert_int_equal(gw_class_json(in, status, &text, &why), LOY_OK);
	assert_null(why);
	return parse(text);
}

static json_t *object_doc(const struct gw_object_input *in)
{
	char *text = NULL;
	const char *why = "unset";

	assert_int_equal(gw_object_json(in, &text, &why), LOY_OK);
	assert_null(why);
	return parse(text);
}

static json_t *patch_doc(const struct gw_object_input *in, bool notify)
{
	char *text = NULL;
	const char *why = "unset";

	assert_int_equal(gw_object_patch_json(in, notify, &text, &why), LOY_OK);
	assert_null(why);
	return parse(text);
}

/* j is an object whose keys are exactly those listed (NULL-terminated), in that order. */
static void keys_are(json_t *j, const char *const *keys)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	assert_true(json_is_object(j));
	json_object_foreach(j, k, v)
	{
		if (!keys[n])
			fail_msg("unexpected key %s", k);
		if (strcmp(k, keys[n]) != 0)
			fail_msg("key %zu is %s, expected %s", n, k, keys[n]);
		n++;
	}
	if (keys[n])
		fail_msg("missing key %s", keys[n]);
}

#define KEYS(j, ...) keys_are((j), (const char *const[]){ __VA_ARGS__, NULL })

static const char *sget(json_t *j, const char *path)
{
	char buf[200], *save = NULL, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part; part = strtok_r(NULL, ".", &save))
		j = json_object_get(j, part);
	if (!json_is_string(j))
		fail_msg("%s is not a string", path);
	return json_string_value(j);
}

static void str_is(json_t *j, const char *path, const char *want)
{
	assert_string_equal(sget(j, path), want);
}

/* A LocalizedString holding only its default value, in Russian. */
static void localized_is(json_t *ls, const char *want)
{
	KEYS(ls, "defaultValue");
	KEYS(json_object_get(ls, "defaultValue"), "language", "value");
	str_is(ls, "defaultValue.language", "ru-RU");
	str_is(ls, "defaultValue.value", want);
}

static void image_is(json_t *img, const char *uri, const char *description)
{
	KEYS(img, "sourceUri", "contentDescription");
	KEYS(json_object_get(img, "sourceUri"), "uri");
	str_is(img, "sourceUri.uri", uri);
	localized_is(json_object_get(img, "contentDescription"), description);
}

/* count copies of s (a NUL-terminated UTF-8 unit), as a malloc'd string. */
static char *repeat(const char *s, size_t count)
{
	size_t n = strlen(s);
	char *out = malloc(n * count + 1);

	assert_non_null(out);
	for (size_t i = 0; i < count; i++)
		memcpy(out + i * n, s, n);
	out[n * count] = '\0';
	return out;
}

static void class_refused(const struct gw_class_input *in, const char *why_has)
{
	char *text = NULL, hash[GW_HASH_LEN + 1];
	const char *why = NULL;

	assert_int_equal(gw_class_json(in, "UNDER_REVIEW", &text, &why), LOY_EINVALID);
	assert_null(text);
	assert_non_null(why);
	if (!strstr(why, why_has))
		fail_msg("why \"%s\" does not name \"%s\"", why, why_has);
	assert_int_equal(gw_class_check(in, &why), LOY_EINVALID);
	assert_int_equal(gw_class_hash(in, hash), LOY_EINVALID);
}

static void class_accepted(const struct gw_class_input *in)
{
	json_decref(class_doc(in, "UNDER_REVIEW"));
}

static void object_refused(const struct gw_object_input *in, const char *why_has)
{
	char *text = NULL, hash[GW_HASH_LEN + 1];
	const char *why = NULL;

	assert_int_equal(gw_object_json(in, &text, &why), LOY_EINVALID);
	assert_null(text);
	assert_non_null(why);
	if (!strstr(why, why_has))
		fail_msg("why \"%s\" does not name \"%s\"", why, why_has);
	why = NULL;
	assert_int_equal(gw_object_patch_json(in, true, &text, &why), LOY_EINVALID);
	assert_null(text);
	assert_non_null(why);
	assert_int_equal(gw_object_hash(in, hash), LOY_EINVALID);
}

static void object_accepted(const struct gw_object_input *in)
{
	json_decref(object_doc(in));
	json_decref(patch_doc(in, false));
}

/* ---- loyaltyClass ------------------------------------------------------------------------------ */

static void test_class_fields(void **state)
{
	struct gw_class_input in = class_sample();
	json_t *c = class_doc(&in, "UNDER_REVIEW"), *uris, *mods, *locs;

	KEYS(c, "id", "issuerName", "programName", "programLogo", "heroImage", "hexBackgroundColor",
	     "accountIdLabel", "accountNameLabel", "multipleDevicesAndHoldersAllowedStatus",
	     "linksModuleData", "textModulesData", "merchantLocations", "callbackOptions",
	     "countryCode", "reviewStatus");
	str_is(c, "id", "3388000000012345678.b12-t3");
	str_is(c, "issuerName", "Кофейня «Зерно»");
	str_is(c, "programName", "Зерно Клуб");
	image_is(json_object_get(c, "programLogo"), in.logo_uri, "Зерно Клуб");
	image_is(json_object_get(c, "heroImage"), in.hero_uri, "Зерно Клуб");
	str_is(c, "hexBackgroundColor", "#1f2937");
	str_is(c, "accountIdLabel", "Номер карты");
	str_is(c, "accountNameLabel", "Имя");
	str_is(c, "multipleDevicesAndHoldersAllowedStatus", "ONE_USER_ALL_DEVICES");
	str_is(c, "callbackOptions.url", "https://loy.example.ru/google/callback");
	KEYS(json_object_get(c, "callbackOptions"), "url");
	str_is(c, "countryCode", "RU");
	str_is(c, "reviewStatus", "UNDER_REVIEW");

	KEYS(json_object_get(c, "linksModuleData"), "uris");
	uris = json_object_get(json_object_get(c, "linksModuleData"), "uris");
	assert_int_equal(json_array_size(uris), 4);
	static const char *const want[4][3] = {
		{ "https://zerno.example.ru", "Сайт", "website" },
		{ "tel:+74951234567", "Телефон", "phone" },
		{ "mailto:hello@zerno.example.ru", "Эл. почта", "email" },
		{ "https://zerno.example.ru/terms", "Условия программы", "terms" },
	};
	for (size_t i = 0; i < 4; i++) {
		json_t *u = json_array_get(uris, i);
		KEYS(u, "uri", "description", "id");
		str_is(u, "uri", want[i][0]);
		str_is(u, "description", want[i][1]);
		str_is(u, "id", want[i][2]);
	}

	mods = json_object_get(c, "textModulesData");
	assert_int_equal(json_array_size(mods), 1);
	KEYS(json_array_get(mods, 0), "id", "header", "body");
	str_is(json_array_get(mods, 0), "id", "terms");
	str_is(json_array_get(mods, 0), "header", "Условия программы");
	str_is(json_array_get(mods, 0), "body", in.terms_text);

	locs = json_object_get(c, "merchantLocations");
	assert_int_equal(json_array_size(locs), in.nlocations);
	for (size_t i = 0; i < in.nlocations; i++) {
		json_t *l = json_array_get(locs, i);
		KEYS(l, "latitude", "longitude");
		assert_true(json_is_real(json_object_get(l, "latitude")));
		assert_true(json_real_value(json_object_get(l, "latitude")) ==
			    (double)places[i].latitude_e6 / 1e6);
		assert_true(json_real_value(json_object_get(l, "longitude")) ==
			    (double)places[i].longitude_e6 / 1e6);
	}
	json_decref(c);
}

static void test_class_minimal(void **state)
{
	struct gw_class_input in = class_minimal();
	json_t *c = class_doc(&in, "DRAFT");

	KEYS(c, "id", "issuerName", "programName", "programLogo", "accountIdLabel",
	     "accountNameLabel", "multipleDevicesAndHoldersAllowedStatus", "reviewStatus");
	str_is(c, "id", "3388000000012345678.b1-t1");
	image_is(json_object_get(c, "programLogo"), in.logo_uri, "Зерно");
	str_is(c, "reviewStatus", "DRAFT");
	json_decref(c);

	/* "" is "not given", like NULL */
	in.hero_uri = in.hex_background = in.homepage_uri = in.phone = in.email = "";
	in.terms_uri = in.terms_text = in.callback_url = in.country_code = "";
	c = class_doc(&in, "DRAFT");
	assert_int_equal(json_object_size(c), 8);
	json_decref(c);

	/* one link alone is a links module of one */
	in.email = "a@b.ru";
	c = class_doc(&in, "DRAFT");
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(c, "linksModuleData"), "uris")), 1);
	str_is(json_array_get(json_object_get(json_object_get(c, "linksModuleData"), "uris"), 0),
	       "uri", "mailto:a@b.ru");
	json_decref(c);
}

/* Only DRAFT and UNDER_REVIEW may be sent; APPROVED and REJECTED are the platform's (§2.3). */
static void test_class_review_status(void **state)
{
	struct gw_class_input in = class_minimal();
	static const char *const bad[] = { "APPROVED", "REJECTED", "draft", "underReview", "" };
	char *text = NULL;
	const char *why = NULL;

	class_accepted(&in);
	json_decref(class_doc(&in, "DRAFT"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(gw_class_json(&in, bad[i], &text, &why), LOY_EINVALID);
		assert_null(text);
		assert_string_equal(why, "reviewStatus must be DRAFT or UNDER_REVIEW");
	}
	assert_int_equal(gw_class_json(&in, NULL, &text, &why), LOY_EINVALID);
	assert_null(text);
}

static void test_class_required(void **state)
{
	struct gw_class_input in;

	in = class_minimal(), in.issuer_name = NULL;
	class_refused(&in, "issuerName is required");
	in = class_minimal(), in.issuer_name = "";
	class_refused(&in, "issuerName is required");
	in = class_minimal(), in.program_name = NULL;
	class_refused(&in, "programName is required");
	in = class_minimal(), in.logo_uri = NULL;
	class_refused(&in, "programLogo is required");
	in = class_minimal(), in.issuer_id = NULL;
	class_refused(&in, "issuerId");
	in = class_minimal(), in.class_suffix = "";
	class_refused(&in, "class id");
}

/* Names and texts: UTF-8 without control characters, Loy's caps in bytes (N and N+1), never cut
 * at Google's 20-character recommendation. */
static void test_class_text_limits(void **state)
{
	struct gw_class_input in = class_minimal();
	char *at = repeat("Я", GW_LINE_MAX / 2), *over = repeat("Я", GW_LINE_MAX / 2), *long_terms;
	json_t *c;

	in.issuer_name = at;
	in.program_name = at;
	c = class_doc(&in, "DRAFT");
	str_is(c, "issuerName", at); /* 400 characters: sent whole, Google shows an ellipsis */
	str_is(c, "programName", at);
	json_decref(c);
	over = realloc(over, GW_LINE_MAX + 2);
	assert_non_null(over);
	memcpy(over + GW_LINE_MAX, "x", 2);
	in.program_name = over;
	class_refused(&in, "programName");
	in = class_minimal(), in.issuer_name = over;
	class_refused(&in, "issuerName");

	long_terms = repeat("б", GW_TEXT_MAX / 2);
	in = class_minimal(), in.terms_text = long_terms;
	class_accepted(&in);
	long_terms = realloc(long_terms, GW_TEXT_MAX + 2);
	assert_non_null(long_terms);
	memcpy(long_terms + GW_TEXT_MAX, ".", 2);
	in.terms_text = long_terms;
	class_refused(&in, "terms");

	in = class_minimal(), in.issuer_name = "Кофейня\x01";
	class_refused(&in, "issuerName");
	in = class_minimal(), in.program_name = "\xd0"; /* a broken UTF-8 sequence */
	class_refused(&in, "programName");
	in = class_minimal(), in.terms_text = "строка\nещё\tи\r";
	class_accepted(&in);
	free(at);
	free(over);
	free(long_terms);
}

static void test_class_ids(void **state)
{
	struct gw_class_input in = class_minimal();
	char *suffix = repeat("a", GW_ID_SUFFIX_MAX), *digits = repeat("9", GW_ISSUER_ID_MAX);
	static const char *const bad_suffix[] = { "b1 t1", "b1/t1", "b1+t1", "кириллица", "b1:t1" };

	in.class_suffix = suffix;
	in.issuer_id = digits;
	class_accepted(&in);
	in.class_suffix = "A.b_c-9";
	class_accepted(&in);
	for (size_t i = 0; i < sizeof(bad_suffix) / sizeof(bad_suffix[0]); i++) {
		in.class_suffix = bad_suffix[i];
		class_refused(&in, "class id's suffix");
	}
	suffix = realloc(suffix, GW_ID_SUFFIX_MAX + 2);
	assert_non_null(suffix);
	memcpy(suffix + GW_ID_SUFFIX_MAX, "a", 2);
	in.class_suffix = suffix;
	class_refused(&in, "class id's suffix");
	in.class_suffix = "b1";
	digits = realloc(digits, GW_ISSUER_ID_MAX + 2);
	assert_non_null(digits);
	memcpy(digits + GW_ISSUER_ID_MAX, "9", 2);
	in.issuer_id = digits;
	class_refused(&in, "issuerId");
	in.issuer_id = "338800000001234567a";
	class_refused(&in, "issuerId");
	in.issuer_id = "-1";
	class_refused(&in, "issuerId");
	free(suffix);
	free(digits);
}

static void test_class_links_and_options(void **state)
{
	struct gw_class_input in;
	static const char *const good_colors[] = { "#1f2937", "#FFFFFF", "#fc0", "#ABC" };
	static const char *const bad_colors[] = { "1f2937", "#1f293", "#1f29377",
						  "#ggg",   "#12",    "rgb(1,2,3)" };
	static const char *const bad_urls[] = { "javascript:alert(1)", "ftp://x.ru/a", "zerno.ru",
						"https://", "https://a b.ru" };

	for (size_t i = 0; i < sizeof(good_colors) / sizeof(good_colors[0]); i++) {
		in = class_minimal(), in.hex_background = good_colors[i];
		class_accepted(&in);
	}
	for (size_t i = 0; i < sizeof(bad_colors) / sizeof(bad_colors[0]); i++) {
		in = class_minimal(), in.hex_background = bad_colors[i];
		class_refused(&in, "hexBackgroundColor");
	}
	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		in = class_minimal(), in.logo_uri = bad_urls[i];
		class_refused(&in, "programLogo");
		in = class_minimal(), in.hero_uri = bad_urls[i];
		class_refused(&in, "heroImage");
		in = class_minimal(), in.homepage_uri = bad_urls[i];
		class_refused(&in, "website");
		in = class_minimal(), in.terms_uri = bad_urls[i];
		class_refused(&in, "terms link");
		in = class_minimal(), in.callback_url = bad_urls[i];
		class_refused(&in, "callbackOptions.url");
	}
	in = class_minimal(), in.phone = "звоните";
	class_refused(&in, "phone");
	in = class_minimal(), in.phone = "+7 495 123-45-67 доб. 2";
	class_refused(&in, "phone");
	in = class_minimal(), in.email = "hello at zerno.ru";
	class_refused(&in, "e-mail");
	in = class_minimal(), in.email = "a@b.ru?subject=x";
	class_refused(&in, "e-mail");
	in = class_minimal(), in.country_code = "ru";
	class_refused(&in, "countryCode");
	in = class_minimal(), in.country_code = "RUS";
	class_refused(&in, "countryCode");
	in = class_minimal(), in.country_code = "R";
	class_refused(&in, "countryCode");

	/* Russian numbers in every usual spelling become one E.164 tel: URI */
	static const char *const phones[] = { "8 (912) 345-67-89", "+7 912 345 67 89",
					      "89123456789", "+79123456789" };
	for (size_t i = 0; i < sizeof(phones) / sizeof(phones[0]); i++) {
		json_t *c;
		in = class_minimal(), in.phone = phones[i];
		c = class_doc(&in, "DRAFT");
		str_is(json_array_get(
			       json_object_get(json_object_get(c, "linksModuleData"), "uris"), 0),
		       "uri", "tel:+79123456789");
		json_decref(c);
	}
}

/* Coordinates as numbers written exactly from micro-degrees; at most 10 locations, the rest
 * dropped; out of range refused. */
static void test_class_locations(void **state)
{
	struct gw_class_input in = class_minimal();
	struct gw_location many[GW_LOCATIONS_MAX + 1];
	char *text = NULL;
	const char *why = NULL;
	json_t *c;

	in.locations = places;
	in.nlocations = sizeof(places) / sizeof(places[0]);
	assert_int_equal(gw_class_json(&in, "DRAFT", &text, &why), LOY_OK);
	assert_non_null(strstr(text, "{\"latitude\":55.755826,\"longitude\":37.6173}"));
	assert_non_null(strstr(text, "{\"latitude\":-33.8688,\"longitude\":151.2093}"));
	assert_non_null(strstr(text, "{\"latitude\":0.0,\"longitude\":0.0}"));
	assert_non_null(strstr(text, "{\"latitude\":90.0,\"longitude\":-180.0}"));
	assert_non_null(strstr(text, "{\"latitude\":-90.0,\"longitude\":180.0}"));
	assert_non_null(strstr(text, "{\"latitude\":5e-5,\"longitude\":-179.999999}"));
	assert_null(strstr(text, "99999999"));
	json_decref(parse(text));

	for (int i = 0; i <= GW_LOCATIONS_MAX; i++)
		many[i] = (struct gw_location){ 55000000 + i, 37000000 - i };
	in.locations = many;
	in.nlocations = GW_LOCATIONS_MAX;
	c = class_doc(&in, "DRAFT");
	assert_int_equal(json_array_size(json_object_get(c, "merchantLocations")), 10);
	json_decref(c);
	in.nlocations = GW_LOCATIONS_MAX + 1;
	c = class_doc(&in, "DRAFT");
	assert_int_equal(json_array_size(json_object_get(c, "merchantLocations")), 10);
	assert_true(json_real_value(json_object_get(
			    json_array_get(json_object_get(c, "merchantLocations"), 9),
			    "latitude")) == 55.000009);
	json_decref(c);
	/* the 11th is never looked at, even when out of range */
	many[GW_LOCATIONS_MAX].latitude_e6 = GW_LATITUDE_MAX + 1;
	class_accepted(&in);

	static const struct gw_location bad[] = { { GW_LATITUDE_MAX + 1, 0 },
						  { -GW_LATITUDE_MAX - 1, 0 },
						  { 0, GW_LONGITUDE_MAX + 1 },
						  { 0, -GW_LONGITUDE_MAX - 1 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in.locations = &bad[i];
		in.nlocations = 1;
		class_refused(&in, "latitude or longitude");
	}
	in.locations = NULL;
	in.nlocations = 1;
	class_refused(&in, "locations is NULL");
	in.nlocations = 0;
	c = class_doc(&in, "DRAFT");
	assert_null(json_object_get(c, "merchantLocations"));
	json_decref(c);
}

/* The labels keep to Google's recommended lengths (§2.3), and text module ids have no dots. */
static void test_labels_recommended_lengths(void **state)
{
	struct gw_class_input ci = class_sample();
	struct gw_object_input oi = object_sample();
	json_t *c = class_doc(&ci, "DRAFT"), *o, *u, *m;
	size_t i;

	oi.points_label = NULL;
	o = object_doc(&oi);
	str_is(o, "loyaltyPoints.label", "Баллы");
	assert_true(str_utf8_len(str_from(sget(o, "loyaltyPoints.label"))) <= 9);
	assert_true(str_utf8_len(str_from(sget(o, "secondaryLoyaltyPoints.label"))) <= 9);
	assert_true(str_utf8_len(str_from(sget(c, "accountIdLabel"))) <= 15);
	assert_true(str_utf8_len(str_from(sget(c, "accountNameLabel"))) <= 15);
	json_array_foreach(json_object_get(json_object_get(c, "linksModuleData"), "uris"), i, u)
	{
		assert_true(str_utf8_len(str_from(sget(u, "description"))) <= 20);
	}
	json_array_foreach(json_object_get(c, "textModulesData"), i, m)
	{
		const char *id = sget(m, "id");
		assert_true(str_utf8_len(str_from(sget(m, "header"))) <= 35);
		assert_true(strlen(id) > 0 &&
			    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				       "qrstuvwxyz0123456789_-") == strlen(id));
	}
	json_decref(c);
	json_decref(o);
}

/* ---- loyaltyObject ----------------------------------------------------------------------------- */

static void test_object_fields(void **state)
{
	struct gw_object_input in = object_sample();
	json_t *o = object_doc(&in), *bal;

	KEYS(o, "id", "classId", "state", "accountId", "accountName", "loyaltyPoints",
	     "secondaryLoyaltyPoints", "barcode");
	str_is(o, "id", "3388000000012345678.c42");
	str_is(o, "classId", "3388000000012345678.b12-t3");
	str_is(o, "state", "ACTIVE");
	str_is(o, "accountId", "123456782");
	str_is(o, "accountName", "Анна Петрова");
	KEYS(json_object_get(o, "loyaltyPoints"), "label", "balance");
	str_is(o, "loyaltyPoints.label", "Баллы");
	bal = json_object_get(json_object_get(o, "loyaltyPoints"), "balance");
	KEYS(bal, "int"); /* exactly one form (§2.3) */
	assert_true(json_is_integer(json_object_get(bal, "int")));
	assert_int_equal(json_integer_value(json_object_get(bal, "int")), 1250);
	KEYS(json_object_get(o, "secondaryLoyaltyPoints"), "label", "balance");
	str_is(o, "secondaryLoyaltyPoints.label", "Уровень");
	KEYS(json_object_get(json_object_get(o, "secondaryLoyaltyPoints"), "balance"), "string");
	str_is(o, "secondaryLoyaltyPoints.balance.string", "Золото");
	KEYS(json_object_get(o, "barcode"), "type", "value", "alternateText");
	str_is(o, "barcode.type", "QR_CODE");
	str_is(o, "barcode.value", "123456782");
	str_is(o, "barcode.alternateText", "123 456 782");
	json_decref(o);

	in.active = false;
	in.points_label = "Бонусы";
	in.account_id = "1234567890123456";
	o = object_doc(&in);
	str_is(o, "state", "INACTIVE");
	str_is(o, "loyaltyPoints.label", "Бонусы");
	str_is(o, "barcode.alternateText", "1234 5678 9012 3456");
	json_decref(o);
}

static void test_object_minimal(void **state)
{
	struct gw_object_input in = object_minimal();
	json_t *o = object_doc(&in);

	KEYS(o, "id", "classId", "state", "accountId", "loyaltyPoints", "barcode");
	str_is(o, "id", "1.c1");
	str_is(o, "classId", "1.b1-t1");
	str_is(o, "state", "INACTIVE");
	str_is(o, "loyaltyPoints.label", "Баллы");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(o, "loyaltyPoints"), "balance"), "int")),
		0);
	str_is(o, "barcode.alternateText", "A1");
	json_decref(o);
	in.account_name = in.tier = in.points_label = "";
	o = object_doc(&in);
	KEYS(o, "id", "classId", "state", "accountId", "loyaltyPoints", "barcode");
	json_decref(o);
}

/* loyaltyPoints.balance.int is an int32 (§2.3): N and N+1 at both ends. */
static void test_object_balance_range(void **state)
{
	struct gw_object_input in = object_minimal();
	json_t *o;

	in.balance = INT32_MAX;
	o = object_doc(&in);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(o, "loyaltyPoints"), "balance"), "int")),
		INT32_MAX);
	json_decref(o);
	in.balance = INT32_MIN;
	object_accepted(&in);
	in.balance = -1;
	object_accepted(&in);
	in.balance = (int64_t)INT32_MAX + 1;
	object_refused(&in, "int32");
	in.balance = (int64_t)INT32_MIN - 1;
	object_refused(&in, "int32");
	in.balance = INT64_MAX;
	object_refused(&in, "int32");
}

static void test_object_refusals(void **state)
{
	struct gw_object_input in;
	char *card = repeat("7", GW_ACCOUNT_ID_MAX), *name = repeat("ж", GW_LINE_MAX / 2);

	in = object_minimal(), in.account_id = card;
	object_accepted(&in);
	card = realloc(card, GW_ACCOUNT_ID_MAX + 2);
	assert_non_null(card);
	memcpy(card + GW_ACCOUNT_ID_MAX, "7", 2);
	in.account_id = card;
	object_refused(&in, "accountId");
	in = object_minimal(), in.account_id = NULL;
	object_refused(&in, "accountId");
	in = object_minimal(), in.account_id = "12-34";
	object_refused(&in, "accountId");
	in = object_minimal(), in.account_id = "１２３"; /* full-width digits */
	object_refused(&in, "accountId");
	in = object_minimal(), in.object_suffix = "c 1";
	object_refused(&in, "object id's suffix");
	in = object_minimal(), in.object_suffix = NULL;
	object_refused(&in, "object id's suffix");
	in = object_minimal(), in.class_suffix = "b1#t1";
	object_refused(&in, "class id's suffix");
	in = object_minimal(), in.issuer_id = "";
	object_refused(&in, "issuerId");

	in = object_minimal(), in.account_name = name, in.tier = name, in.points_label = name;
	object_accepted(&in);
	name = realloc(name, GW_LINE_MAX + 2);
	assert_non_null(name);
	memcpy(name + GW_LINE_MAX, "ж" + 1, 2); /* a lone continuation byte, one too many */
	in = object_minimal(), in.account_name = name;
	object_refused(&in, "accountName");
	memcpy(name + GW_LINE_MAX, "z", 2);
	in = object_minimal(), in.tier = name;
	object_refused(&in, "tier");
	in = object_minimal(), in.points_label = name;
	object_refused(&in, "points label");
	in = object_minimal(), in.account_name = "Анна\x1b[31m";
	object_refused(&in, "accountName");
	free(card);
	free(name);
}

/* ---- the PATCH --------------------------------------------------------------------------------- */

static void test_patch(void **state)
{
	struct gw_object_input in = object_sample();
	json_t *p = patch_doc(&in, false);

	/* everything the object shows, absolute values, no id (the path carries it) */
	KEYS(p, "classId", "state", "accountId", "accountName", "loyaltyPoints",
	     "secondaryLoyaltyPoints", "barcode");
	str_is(p, "classId", "3388000000012345678.b12-t3");
	str_is(p, "state", "ACTIVE");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(p, "loyaltyPoints"), "balance"), "int")),
		1250);
	str_is(p, "secondaryLoyaltyPoints.balance.string", "Золото");
	str_is(p, "barcode.value", "123456782");
	json_decref(p);

	p = patch_doc(&in, true);
	KEYS(p, "classId", "state", "accountId", "accountName", "loyaltyPoints",
	     "secondaryLoyaltyPoints", "barcode", "notifyPreference");
	str_is(p, "notifyPreference", "NOTIFY_ON_UPDATE");
	json_decref(p);

	/* a name or tier the card no longer shows is cleared with null, not left out */
	in.account_name = NULL;
	in.tier = "";
	in.active = false;
	p = patch_doc(&in, false);
	KEYS(p, "classId", "state", "accountId", "accountName", "loyaltyPoints",
	     "secondaryLoyaltyPoints", "barcode");
	assert_true(json_is_null(json_object_get(p, "accountName")));
	assert_true(json_is_null(json_object_get(p, "secondaryLoyaltyPoints")));
	str_is(p, "state", "INACTIVE");
	json_decref(p);
}

/* The patch carries the same values as the object, member for member. */
static void test_patch_matches_object(void **state)
{
	struct gw_object_input in = object_sample();
	json_t *o = object_doc(&in), *p = patch_doc(&in, true);

	assert_int_equal(json_object_del(o, "id"), 0);
	assert_int_equal(json_object_del(p, "notifyPreference"), 0);
	assert_true(json_equal(o, p));
	json_decref(o);
	json_decref(p);
}

/* ---- hashes and determinism -------------------------------------------------------------------- */

static char *object_text(const struct gw_object_input *in)
{
	char *text = NULL;
	const char *why;

	assert_int_equal(gw_object_json(in, &text, &why), LOY_OK);
	return text;
}

static void object_hash_differs(const struct gw_object_input *a, const struct gw_object_input *b)
{
	char ha[GW_HASH_LEN + 1], hb[GW_HASH_LEN + 1];

	assert_int_equal(gw_object_hash(a, ha), LOY_OK);
	assert_int_equal(gw_object_hash(b, hb), LOY_OK);
	assert_string_not_equal(ha, hb);
}

static void class_hash_differs(const struct gw_class_input *a, const struct gw_class_input *b)
{
	char ha[GW_HASH_LEN + 1], hb[GW_HASH_LEN + 1];

	assert_int_equal(gw_class_hash(a, ha), LOY_OK);
	assert_int_equal(gw_class_hash(b, hb), LOY_OK);
	assert_string_not_equal(ha, hb);
}

static void test_object_hash(void **state)
{
	struct gw_object_input a = object_sample(), b = object_sample();
	char h1[GW_HASH_LEN + 1], h2[GW_HASH_LEN + 1], want[GW_HASH_LEN + 1];
	char *t1 = object_text(&a), *t2 = object_text(&b);

	/* same input, same bytes and hash; the hash is the SHA-256 of the object's JSON */
	assert_string_equal(t1, t2);
	assert_int_equal(gw_object_hash(&a, h1), LOY_OK);
	assert_int_equal(gw_object_hash(&b, h2), LOY_OK);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), GW_HASH_LEN);
	digest_sha256_hex(t1, strlen(t1), want);
	assert_string_equal(h1, want);
	free(t1);
	free(t2);

	b.balance = 1251;
	object_hash_differs(&a, &b);
	b = object_sample(), b.tier = "Серебро";
	object_hash_differs(&a, &b);
	b = object_sample(), b.tier = NULL;
	object_hash_differs(&a, &b);
	b = object_sample(), b.active = false;
	object_hash_differs(&a, &b);
	b = object_sample(), b.account_name = "Анна Сидорова";
	object_hash_differs(&a, &b);
	b = object_sample(), b.class_suffix = "b12-t4";
	object_hash_differs(&a, &b);
	b = object_sample(), b.points_label = "Бонусы";
	object_hash_differs(&a, &b);
	/* the default label is the label */
	b = object_sample(), b.points_label = NULL;
	assert_int_equal(gw_object_hash(&b, h2), LOY_OK);
	assert_string_equal(h1, h2);
}

static void test_class_hash(void **state)
{
	struct gw_class_input a = class_sample(), b = class_sample();
	struct gw_location moved[sizeof(places) / sizeof(places[0])];
	char h1[GW_HASH_LEN + 1], h2[GW_HASH_LEN + 1];
	char *t1 = NULL, *t2 = NULL;
	const char *why;

	assert_int_equal(gw_class_json(&a, "UNDER_REVIEW", &t1, &why), LOY_OK);
	assert_int_equal(gw_class_json(&b, "UNDER_REVIEW", &t2, &why), LOY_OK);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	assert_int_equal(gw_class_hash(&a, h1), LOY_OK);
	assert_int_equal(gw_class_hash(&b, h2), LOY_OK);
	assert_string_equal(h1, h2);

	b.logo_uri = "https://loy.example.ru/w/google/logo/12.png?v=2";
	class_hash_differs(&a, &b);
	b = class_sample(), b.hex_background = "#1f2938";
	class_hash_differs(&a, &b);
	b = class_sample(), b.issuer_name = "Кофейня «Зерно» ";
	class_hash_differs(&a, &b);
	b = class_sample(), b.terms_text = NULL;
	class_hash_differs(&a, &b);
	memcpy(moved, places, sizeof(moved));
	moved[0].latitude_e6++;
	b = class_sample(), b.locations = moved;
	class_hash_differs(&a, &b);
	b = class_sample(), b.nlocations = 1;
	class_hash_differs(&a, &b);
	/* the 11th location and beyond are not sent, so they are not in the hash */
	struct gw_location many[12];
	for (int i = 0; i < 12; i++)
		many[i] = (struct gw_location){ i, i };
	a = class_sample(), a.locations = many, a.nlocations = 10;
	b = class_sample(), b.locations = many, b.nlocations = 12;
	assert_int_equal(gw_class_hash(&a, h1), LOY_OK);
	assert_int_equal(gw_class_hash(&b, h2), LOY_OK);
	assert_string_equal(h1, h2);
}

/* ---- ids --------------------------------------------------------------------------------------- */

static void test_gw_id(void **state)
{
	char out[GW_ID_MAX + 1], *suffix = repeat("z", GW_ID_SUFFIX_MAX),
				 *issuer = repeat("1", GW_ISSUER_ID_MAX);

	assert_true(gw_id("3388000000012345678", "c-42.x_Y", out, sizeof(out)));
	assert_string_equal(out, "3388000000012345678.c-42.x_Y");
	/* the longest id fits GW_ID_MAX + 1 bytes exactly */
	assert_true(gw_id(issuer, suffix, out, sizeof(out)));
	assert_int_equal(strlen(out), GW_ID_MAX);
	memcpy(out, "untouched", 10);
	assert_false(gw_id(issuer, suffix, out, sizeof(out) - 1));
	assert_string_equal(out, "untouched");
	/* cap: "1.a" needs 4 */
	assert_true(gw_id("1", "a", out, 4));
	assert_false(gw_id("1", "a", out, 3));
	suffix = realloc(suffix, GW_ID_SUFFIX_MAX + 2);
	assert_non_null(suffix);
	memcpy(suffix + GW_ID_SUFFIX_MAX, "z", 2);
	assert_false(gw_id("1", suffix, out, sizeof(out)));
	assert_false(gw_id("1", "", out, sizeof(out)));
	assert_false(gw_id("1", NULL, out, sizeof(out)));
	assert_false(gw_id("", "a", out, sizeof(out)));
	assert_false(gw_id(NULL, "a", out, sizeof(out)));
	assert_false(gw_id("12a", "a", out, sizeof(out)));
	assert_false(gw_id("1", "a/b", out, sizeof(out)));
	assert_false(gw_id("1", "a b", out, sizeof(out)));
	assert_false(gw_id("1", "a%2e", out, sizeof(out)));
	free(suffix);
	free(issuer);
}

/* ---- addMessage -------------------------------------------------------------------------------- */

static const int64_t t0 = 1764115200000; /* 2025-11-26T00:00:00.000Z */
static const int64_t day = 86400000;

static void test_message(void **state)
{
	char *text = NULL;
	const char *why = "unset";
	json_t *m, *msg;

	assert_int_equal(gw_message_json("promo-2026-05", "Новый сезонный раф",
					 "Скидка 20 % до воскресенья.\nЖдём вас!", true, t0,
					 t0 + 7 * day, &text, &why),
			 LOY_OK);
	assert_null(why);
	m = parse(text);
	KEYS(m, "message");
	msg = json_object_get(m, "message");
	KEYS(msg, "id", "header", "body", "messageType", "displayInterval");
	str_is(msg, "id", "promo-2026-05");
	str_is(msg, "header", "Новый сезонный раф");
	str_is(msg, "body", "Скидка 20 % до воскресенья.\nЖдём вас!");
	str_is(msg, "messageType", "TEXT_AND_NOTIFY");
	KEYS(json_object_get(msg, "displayInterval"), "start", "end");
	KEYS(json_object_get(json_object_get(msg, "displayInterval"), "start"), "date");
	str_is(msg, "displayInterval.start.date", "2025-11-26T00:00:00.000Z");
	str_is(msg, "displayInterval.end.date", "2025-12-03T00:00:00.000Z");
	json_decref(m);

	assert_int_equal(gw_message_json("m1", "H", "B", false, 0, 1, &text, &why), LOY_OK);
	m = parse(text);
	str_is(m, "message.messageType", "TEXT");
	str_is(m, "message.displayInterval.start.date", "1970-01-01T00:00:00.000Z");
	str_is(m, "message.displayInterval.end.date", "1970-01-01T00:00:00.001Z");
	json_decref(m);
	assert_int_equal(gw_message_json("m1", "H", "B", false, t0, GW_TIME_MAX, &text, &why),
			 LOY_OK);
	m = parse(text);
	str_is(m, "message.displayInterval.end.date", "9999-12-31T23:59:59.999Z");
	json_decref(m);
}

static void message_refused(const char *id, const char *header, const char *body, int64_t start,
			    int64_t end, const char *why_has)
{
	char *text = NULL;
	const char *why = NULL;

	assert_int_equal(gw_message_json(id, header, body, true, start, end, &text, &why),
			 LOY_EINVALID);
	assert_null(text);
	assert_non_null(why);
	if (!strstr(why, why_has))
		fail_msg("why \"%s\" does not name \"%s\"", why, why_has);
}

static void message_accepted(const char *id, const char *header, const char *body)
{
	char *text = NULL;
	const char *why = NULL;

	assert_int_equal(gw_message_json(id, header, body, true, t0, t0 + day, &text, &why),
			 LOY_OK);
	json_decref(parse(text));
}

static void test_message_limits(void **state)
{
	char *id = repeat("m", GW_MESSAGE_ID_MAX), *header = repeat("Ё", GW_LINE_MAX / 2),
	     *body = repeat("ё", GW_TEXT_MAX / 2);

	message_accepted(id, header, body);
	id = realloc(id, GW_MESSAGE_ID_MAX + 2);
	header = realloc(header, GW_LINE_MAX + 2);
	body = realloc(body, GW_TEXT_MAX + 2);
	assert_true(id && header && body);
	memcpy(id + GW_MESSAGE_ID_MAX, "m", 2);
	memcpy(header + GW_LINE_MAX, "!", 2);
	memcpy(body + GW_TEXT_MAX, "!", 2);
	message_refused(id, "H", "B", t0, t0 + day, "message id");
	message_refused("m1", header, "B", t0, t0 + day, "header");
	message_refused("m1", "H", body, t0, t0 + day, "body");
	message_refused(NULL, "H", "B", t0, t0 + day, "message id");
	message_refused("", "H", "B", t0, t0 + day, "message id");
	message_refused("m 1", "H", "B", t0, t0 + day, "message id");
	message_refused("m1", NULL, "B", t0, t0 + day, "header");
	message_refused("m1", "", "B", t0, t0 + day, "header");
	message_refused("m1", "H", "", t0, t0 + day, "body");
	message_refused("m1", "H\x07", "B", t0, t0 + day, "header");
	message_refused("m1", "H", "\xff\xfe", t0, t0 + day, "body");
	message_refused("m1", "H", "B", t0, t0, "display interval");
	message_refused("m1", "H", "B", t0, t0 - 1, "display interval");
	message_refused("m1", "H", "B", -1, t0, "display interval");
	message_refused("m1", "H", "B", t0, GW_TIME_MAX + 1, "display interval");
	free(id);
	free(header);
	free(body);
}

/* Quotes, backslashes and control characters a text may hold are escaped and read back whole. */
static void test_escaping(void **state)
{
	struct gw_object_input in = object_minimal();
	const char *name = "Анна \"Ж\" \\ Петрова\t/";
	json_t *o;

	in.account_name = name;
	o = object_doc(&in);
	str_is(o, "accountName", name);
	json_decref(o);
}

/* ---- golden samples (validated against Google's schema by tests/fakes) --------------------------- */

/* tests/fakes/google-samples/<name>: __FILE__ is this file's absolute path under CMake. */
static const char *sample_path(const char *name)
{
	static char path[4096];
	char here[4096];

	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../fakes/google-samples/%s", dirname(here), name);
	return path;
}

static void golden(const char *name, char *text)
{
	const char *path = sample_path(name);
	size_t len = strlen(text);
	char *want = NULL;
	long size;
	FILE *f;

	if (getenv("LOY_UPDATE_GOLDEN")) {
		write_bytes(path, text, len);
		free(text);
		return;
	}
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s is missing: LOY_UPDATE_GOLDEN=1 writes it", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	want = malloc((size_t)size + 1);
	assert_non_null(want);
	assert_int_equal(fread(want, 1, (size_t)size, f), (size_t)size);
	want[size] = '\0';
	fclose(f);
	if (strcmp(want, text) != 0)
		fail_msg("%s differs from what the builder writes now:\n%s\n(after an intended "
			 "change: LOY_UPDATE_GOLDEN=1 ./test_google_objects)",
			 path, text);
	free(want);
	free(text);
}

static void test_golden_samples(void **state)
{
	struct gw_class_input ci = class_sample(), cm = class_minimal();
	struct gw_object_input oi = object_sample(), om = object_minimal();
	char *text = NULL;
	const char *why;

	assert_int_equal(gw_class_json(&ci, "UNDER_REVIEW", &text, &why), LOY_OK);
	golden("class-full.json", text);
	assert_int_equal(gw_class_json(&cm, "DRAFT", &text, &why), LOY_OK);
	golden("class-minimal.json", text);
	assert_int_equal(gw_object_json(&oi, &text, &why), LOY_OK);
	golden("object-full.json", text);
	assert_int_equal(gw_object_json(&om, &text, &why), LOY_OK);
	golden("object-minimal.json", text);
	assert_int_equal(gw_object_patch_json(&oi, true, &text, &why), LOY_OK);
	golden("patch-notify.json", text);
	assert_int_equal(gw_object_patch_json(&om, false, &text, &why), LOY_OK);
	golden("patch-clear.json", text);
	assert_int_equal(gw_message_json("promo-2026-05", "Новый сезонный раф",
					 "Скидка 20 % до воскресенья.", true, t0, t0 + 7 * day,
					 &text, &why),
			 LOY_OK);
	golden("message-notify.json", text);
	assert_int_equal(gw_message_json("m1", "Новости", "Тихое сообщение.", false, t0, t0 + day,
					 &text, &why),
			 LOY_OK);
	golden("message-text.json", text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_fields),
		cmocka_unit_test(test_class_minimal),
		cmocka_unit_test(test_class_review_status),
		cmocka_unit_test(test_class_required),
		cmocka_unit_test(test_class_text_limits),
		cmocka_unit_test(test_class_ids),
		cmocka_unit_test(test_class_links_and_options),
		cmocka_unit_test(test_class_locations),
		cmocka_unit_test(test_labels_recommended_lengths),
		cmocka_unit_test(test_object_fields),
		cmocka_unit_test(test_object_minimal),
		cmocka_unit_test(test_object_balance_range),
		cmocka_unit_test(test_object_refusals),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_patch_matches_object),
		cmocka_unit_test(test_object_hash),
		cmocka_unit_test(test_class_hash),
		cmocka_unit_test(test_gw_id),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_message_limits),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_golden_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
