/* Builds Google Wallet loyaltyClass, loyaltyObject, PATCH and addMessage bodies (see objects.h):
 * input checks from one rule table per resource, the labels from one table, the JSON through
 * jansson. Every rule cites the spec section (../shared/specs/google-wallet.md) it comes from.
 *
 * Deterministic output: jansson keeps members in insertion order, each builder inserts them in a
 * fixed order, and numbers are written the same way every time, so the same input gives the same
 * bytes and the content hashes (SHA-256 of those bytes) can decide what to send again. */
#include "wallet/google/objects.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/timeutil.h"
#include "core/email.h"
#include "core/phone.h"

/* LocalizedString.defaultValue.language (spec §2.3): the labels are Russian, and so are the
 * texts businesses write. */
#define GW_LANGUAGE "ru-RU"

/* Coordinates are written with 9 significant digits: a micro-degree value has at most 3 + 6
 * (179.999999), and a double carries 15, so "%.9g" of the double nearest to e6 / 10^6 gives back
 * that decimal exactly: 55755826 is written 55.755826, never 55.755825999999999 (jansson's default
 * of 17 digits). Below 0.0001 degrees (within 11 m of the equator or the prime meridian) "%g"
 * switches to an exponent, 0.00005 being written 5e-5: the same number, valid JSON. No other
 * number in these documents is a real. */
#define GW_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(9))

/* ---- the labels: one table, so that a later issue can localise it --------------------------- */

enum label_id {
	L_POINTS,
	L_TIER,
	L_ACCOUNT_ID,
	L_ACCOUNT_NAME,
	L_WEBSITE,
	L_PHONE,
	L_EMAIL,
	L_TERMS_URL,
	L_TERMS_TEXT,
	L_COUNT
};

/* id: the Uri.id / TextModuleData.id where the label names a link or a text module. A text
 * module's id may hold only letters, digits, '_' and '-': no dots, which separate the parts of a
 * field path in template overrides (spec §2.3). Uri ids are unique within the links module.
 * Google's recommended lengths (spec §2.3, S8), all kept: loyaltyPoints label 9 characters,
 * accountIdLabel and accountNameLabel 15, a Uri's description 20, a text module's header 35. */
static const struct label {
	const char *id;
	const char *text;
} labels[L_COUNT] = {
	[L_POINTS] = { NULL, "Баллы" },
	[L_TIER] = { NULL, "Уровень" },
	[L_ACCOUNT_ID] = { NULL, "Номер карты" },
	[L_ACCOUNT_NAME] = { NULL, "Имя" },
	[L_WEBSITE] = { "website", "Сайт" },
	[L_PHONE] = { "phone", "Телефон" },
	[L_EMAIL] = { "email", "Эл. почта" },
	[L_TERMS_URL] = { "terms", "Условия программы" },
	[L_TERMS_TEXT] = { "terms", "Условия программы" },
};

/* ---- input checks ---------------------------------------------------------------------------- */

enum rule_kind {
	R_TEXT,	   /* UTF-8 without NUL or control characters other than \t \n \r */
	R_DIGITS,  /* an issuer id */
	R_ID,	   /* an id suffix or message id: letters, digits, '.', '_', '-' (spec §2.2) */
	R_ALNUM,   /* the card number: letters and digits */
	R_URL,	   /* an http(s) URL (core/url.h): Google wants a scheme (spec §2.3) */
	R_COLOR,   /* "#rrggbb" or "#rgb" (spec §2.3, hexBackgroundColor) */
	R_COUNTRY, /* two capital letters */
	R_PHONE,   /* a phone number phone_normalize reads */
	R_EMAIL,   /* an e-mail address (core/email.h) */
};

/* One string member of an input struct. min 0: optional (NULL or "" leave it out); the kinds
 * check exact lengths (a colour, a country code) themselves. */
struct rule {
	size_t off;
	enum rule_kind kind;
	size_t min, max;
	const char *why;
};

#define CL(m) offsetof(struct gw_class_input, m)
#define OB(m) offsetof(struct gw_object_input, m)

#define WHY_ISSUER "issuerId must be 1..20 digits"
#define WHY_CLASS_SUFFIX "the class id's suffix must be 1..100 letters, digits, '.', '_' or '-'"

/* Required fields of a LoyaltyClass (spec §2.3): id (issuer_id + class_suffix), issuerName,
 * programName, programLogo; reviewStatus is checked by gw_class_json. */
static const struct rule class_rules[] = {
	{ CL(issuer_id), R_DIGITS, 1, GW_ISSUER_ID_MAX, WHY_ISSUER },
	{ CL(class_suffix), R_ID, 1, GW_ID_SUFFIX_MAX, WHY_CLASS_SUFFIX },
	{ CL(issuer_name), R_TEXT, 1, GW_LINE_MAX,
	  "issuerName is required: 1..800 bytes of UTF-8 without control characters" },
	{ CL(program_name), R_TEXT, 1, GW_LINE_MAX,
	  "programName is required: 1..800 bytes of UTF-8 without control characters" },
	{ CL(logo_uri), R_URL, 1, GW_URL_MAX,
	  "programLogo is required: an http(s) URL of up to 500 bytes" },
	{ CL(hero_uri), R_URL, 0, GW_URL_MAX,
	  "heroImage must be an http(s) URL of up to 500 bytes" },
	{ CL(hex_background), R_COLOR, 0, 7, "hexBackgroundColor must be #rrggbb or #rgb" },
	{ CL(homepage_uri), R_URL, 0, GW_URL_MAX,
	  "the website must be an http(s) URL of up to 500 bytes" },
	{ CL(phone), R_PHONE, 0, GW_LINE_MAX,
	  "the phone is not a phone number a tel: link can carry" },
	{ CL(email), R_EMAIL, 0, EMAIL_MAX,
	  "the e-mail is not an address a mailto: link can carry" },
	{ CL(terms_uri), R_URL, 0, GW_URL_MAX,
	  "the terms link must be an http(s) URL of up to 500 bytes" },
	{ CL(terms_text), R_TEXT, 0, GW_TEXT_MAX,
	  "the terms must be up to 8000 bytes of UTF-8 without control characters" },
	{ CL(callback_url), R_URL, 0, GW_URL_MAX,
	  "callbackOptions.url must be an http(s) URL of up to 500 bytes" },
	{ CL(country_code), R_COUNTRY, 0, 2,
	  "countryCode must be two capital letters (ISO 3166-1 alpha-2)" },
};

/* Required fields of a LoyaltyObject (spec §2.3): id, classId (issuer_id and the suffixes);
 * state comes from a bool and is always valid. */
static const struct rule object_rules[] = {
	{ OB(issuer_id), R_DIGITS, 1, GW_ISSUER_ID_MAX, WHY_ISSUER },
	{ OB(object_suffix), R_ID, 1, GW_ID_SUFFIX_MAX,
	  "the object id's suffix must be 1..100 letters, digits, '.', '_' or '-'" },
	{ OB(class_suffix), R_ID, 1, GW_ID_SUFFIX_MAX, WHY_CLASS_SUFFIX },
	{ OB(account_id), R_ALNUM, 1, GW_ACCOUNT_ID_MAX,
	  "accountId (the card number) must be 1..32 letters or digits" },
	{ OB(account_name), R_TEXT, 0, GW_LINE_MAX,
	  "accountName must be up to 800 bytes of UTF-8 without control characters" },
	{ OB(points_label), R_TEXT, 0, GW_LINE_MAX,
	  "the points label must be up to 800 bytes of UTF-8 without control characters" },
	{ OB(tier), R_TEXT, 0, GW_LINE_MAX,
	  "the tier must be up to 800 bytes of UTF-8 without control characters" },
};

static bool given(const char *s)
{
	return s && *s;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Every byte of s passes ok. */
static bool all(struct str s, bool (*ok)(char))
{
	for (size_t i = 0; i < s.len; i++)
		if (!ok(s.p[i]))
			return false;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_id_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool color_ok(struct str s)
{
	return s.p[0] == '#' && (s.len == 4 || s.len == 7) &&
	       all((struct str){ s.p + 1, s.len - 1 }, is_hex);
}

static bool rule_ok(const struct rule *r, const char *v)
{
	struct str s = str_from(v);
	char e164[PHONE_E164_MAX];

	if (s.len == 0)
		return r->min == 0;
	if (s.len < r->min || s.len > r->max)
		return false;
	switch (r->kind) {
	case R_TEXT:
		return str_is_clean_utf8(s);
	case R_DIGITS:
		return all(s, is_digit);
	case R_ID:
		return all(s, is_id_char);
	case R_ALNUM:
		return all(s, is_alnum);
	case R_URL:
		return url_valid(s);
	case R_COLOR:
		return color_ok(s);
	case R_COUNTRY:
		return s.len == 2 && all(s, is_upper);
	case R_PHONE:
		return phone_normalize(s, e164);
	case R_EMAIL:
		return email_valid(s);
	}
	return false;
}

/* The first rule of n that base (an input struct) breaks, or NULL. */
static const char *rules_why(const void *base, const struct rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = *(const char *const *)((const char *)base + rules[i].off);
		if (!rule_ok(&rules[i], v))
			return rules[i].why;
	}
	return NULL;
}

static size_t locations_used(const struct gw_class_input *in)
{
	return in->nlocations < GW_LOCATIONS_MAX ? in->nlocations : GW_LOCATIONS_MAX;
}

/* MerchantLocation: latitude -90..90, longitude -180..180, "values outside these bounds will be
 * rejected" (S8). */
static const char *locations_why(const struct gw_class_input *in)
{
	size_t n = locations_used(in);

	if (n && !in->locations)
		return "locations is NULL but nlocations is not 0";
	for (size_t i = 0; i < n; i++) {
		const struct gw_location *l = &in->locations[i];
		if (l->latitude_e6 < -GW_LATITUDE_MAX || l->latitude_e6 > GW_LATITUDE_MAX ||
		    l->longitude_e6 < -GW_LONGITUDE_MAX || l->longitude_e6 > GW_LONGITUDE_MAX)
			return "a merchant location's latitude or longitude is out of range";
	}
	return NULL;
}

static enum loy_err verdict(const char *bad, const char **why)
{
	if (why)
		*why = bad;
	return bad ? LOY_EINVALID : LOY_OK;
}

enum loy_err gw_class_check(const struct gw_class_input *in, const char **why)
{
	const char *bad = rules_why(in, class_rules, sizeof(class_rules) / sizeof(class_rules[0]));

	return verdict(bad ? bad : locations_why(in), why);
}

enum loy_err gw_object_check(const struct gw_object_input *in, const char **why)
{
	const char *bad =
		rules_why(in, object_rules, sizeof(object_rules) / sizeof(object_rules[0]));

	if (!bad && (in->balance < INT32_MIN || in->balance > INT32_MAX))
		bad = "the balance does not fit loyaltyPoints.balance.int, an int32";
	return verdict(bad, why);
}

bool gw_id(const char *issuer_id, const char *suffix, char *out, size_t cap)
{
	static const struct rule issuer = { 0, R_DIGITS, 1, GW_ISSUER_ID_MAX, NULL };
	static const struct rule tail = { 0, R_ID, 1, GW_ID_SUFFIX_MAX, NULL };
	size_t ilen = issuer_id ? strlen(issuer_id) : 0, slen = suffix ? strlen(suffix) : 0;

	if (!rule_ok(&issuer, issuer_id) || !rule_ok(&tail, suffix) || ilen + 1 + slen + 1 > cap)
		return false;
	memcpy(out, issuer_id, ilen);
	out[ilen] = '.';
	memcpy(out + ilen + 1, suffix, slen + 1);
	return true;
}

/* ---- building JSON --------------------------------------------------------------------------- */

/* A builder's state: the first allocation failure makes every later step a no-op, so the code
 * reads as the document it writes and checks once at the end. */
struct jb {
	bool oom;
};

/* Sets obj[key] = v, taking v's reference: json_object_set_new frees v when it fails, and so does
 * put when obj is NULL (an earlier allocation failed). */
static void put(struct jb *b, json_t *obj, const char *key, json_t *v)
{
	if (!obj)
		json_decref(v);
	if (!obj || json_object_set_new(obj, key, v) != 0)
		b->oom = true;
}

/* Appends v to arr, taking v's reference, as put. */
static void add(struct jb *b, json_t *arr, json_t *v)
{
	if (!arr)
		json_decref(v);
	if (!arr || json_array_append_new(arr, v) != 0)
		b->oom = true;
}

static void put_str(struct jb *b, json_t *obj, const char *key, const char *s)
{
	put(b, obj, key, json_string(s));
}

/* A LocalizedString with only its default value (spec §2.3). */
static json_t *localized(struct jb *b, const char *text)
{
	json_t *ls = json_object(), *tr = json_object();

	put_str(b, tr, "language", GW_LANGUAGE);
	put_str(b, tr, "value", text);
	put(b, ls, "defaultValue", tr);
	return ls;
}

/* An Image: exactly one of sourceUri and privateImageId, "requests setting both or neither will be
 * rejected" (spec §2.3); the description is read out by screen readers. */
static json_t *image(struct jb *b, const char *uri, const char *description)
{
	json_t *img = json_object(), *src = json_object();

	put_str(b, src, "uri", uri);
	put(b, img, "sourceUri", src);
	put(b, img, "contentDescription", localized(b, description));
	return img;
}

/* Micro-degrees as a double: k / 10^6 is correctly rounded by IEEE division, so it is the double
 * nearest to the decimal, which GW_DUMP_FLAGS then writes back exactly. */
static json_t *degrees(int32_t e6)
{
	return json_real((double)e6 / 1e6);
}

static void merchant_locations(struct jb *b, json_t *cls, const struct gw_class_input *in)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < locations_used(in); i++) {
		json_t *loc = json_object();
		put(b, loc, "latitude", degrees(in->locations[i].latitude_e6));
		put(b, loc, "longitude", degrees(in->locations[i].longitude_e6));
		add(b, arr, loc);
	}
	put(b, cls, "merchantLocations", arr);
}

static void link(struct jb *b, json_t *uris, enum label_id l, const char *scheme, const char *v)
{
	json_t *u = json_object();
	json_t *text = json_pack("s+", scheme, v);

	put(b, u, "uri", text);
	put_str(b, u, "description", labels[l].text);
	put_str(b, u, "id", labels[l].id);
	add(b, uris, u);
}

/* The links module: every URI with its scheme (spec §2.3: https:, tel:, mailto:). The phone goes
 * out in E.164, the one form a tel: URI takes without escaping. */
static void links(struct jb *b, json_t *cls, const struct gw_class_input *in)
{
	json_t *mod, *uris;
	char e164[PHONE_E164_MAX];

	if (!given(in->homepage_uri) && !given(in->phone) && !given(in->email) &&
	    !given(in->terms_uri))
		return;
	mod = json_object();
	uris = json_array();
	if (given(in->homepage_uri))
		link(b, uris, L_WEBSITE, "", in->homepage_uri);
	if (given(in->phone) && phone_normalize(str_from(in->phone), e164))
		link(b, uris, L_PHONE, "tel:", e164);
	if (given(in->email))
		link(b, uris, L_EMAIL, "mailto:", in->email);
	if (given(in->terms_uri))
		link(b, uris, L_TERMS_URL, "", in->terms_uri);
	put(b, mod, "uris", uris);
	put(b, cls, "linksModuleData", mod);
}

static void text_modules(struct jb *b, json_t *cls, const struct gw_class_input *in)
{
	json_t *arr, *mod;

	if (!given(in->terms_text))
		return;
	arr = json_array();
	mod = json_object();
	put_str(b, mod, "id", labels[L_TERMS_TEXT].id);
	put_str(b, mod, "header", labels[L_TERMS_TEXT].text);
	put_str(b, mod, "body", in->terms_text);
	add(b, arr, mod);
	put(b, cls, "textModulesData", arr);
}

/* The class without reviewStatus, for an input already checked. */
static json_t *class_doc(struct jb *b, const struct gw_class_input *in)
{
	json_t *cls = json_object();
	char id[GW_ID_MAX + 1];

	gw_id(in->issuer_id, in->class_suffix, id, sizeof(id));
	put_str(b, cls, "id", id);
	put_str(b, cls, "issuerName", in->issuer_name);
	put_str(b, cls, "programName", in->program_name);
	put(b, cls, "programLogo", image(b, in->logo_uri, in->program_name));
	if (given(in->hero_uri))
		put(b, cls, "heroImage", image(b, in->hero_uri, in->program_name));
	if (given(in->hex_background))
		put_str(b, cls, "hexBackgroundColor", in->hex_background);
	put_str(b, cls, "accountIdLabel", labels[L_ACCOUNT_ID].text);
	put_str(b, cls, "accountNameLabel", labels[L_ACCOUNT_NAME].text);
	/* A card is one customer's: it may follow them to all their devices, but a forwarded save
	 * link must not put it in a second person's wallet (spec §2.3). */
	put_str(b, cls, "multipleDevicesAndHoldersAllowedStatus", "ONE_USER_ALL_DEVICES");
	links(b, cls, in);
	text_modules(b, cls, in);
	if (locations_used(in))
		merchant_locations(b, cls, in);
	if (given(in->callback_url)) {
		json_t *cb = json_object();
		put_str(b, cb, "url", in->callback_url);
		put(b, cls, "callbackOptions", cb);
	}
	if (given(in->country_code))
		put_str(b, cls, "countryCode", in->country_code);
	return cls;
}

/* The card number as read aloud, as the Apple pass shows it: groups of three ("123 456 789"), or of
 * four when the length is a multiple of four and not of three. out holds GW_ACCOUNT_ID_MAX * 2. */
static const char *grouped(const char *card, char *out)
{
	size_t n = strlen(card), g = (n % 3 && n % 4 == 0) ? 4 : 3, o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i && i % g == 0)
			out[o++] = ' ';
		out[o++] = card[i];
	}
	out[o] = '\0';
	return out;
}

/* LoyaltyPoints: a label and a balance with exactly one of string, int, double, money (spec
 * §2.3). */
static json_t *points(struct jb *b, const char *label, const char *form, json_t *value)
{
	json_t *p = json_object(), *bal = json_object();

	put_str(b, p, "label", label);
	put(b, bal, form, value);
	put(b, p, "balance", bal);
	return p;
}

/* Everything the object shows but its id, in the order both the object and its PATCH carry it.
 * clear: an absent name or tier is written as null (a PATCH must clear it), else left out. */
static void object_fields(struct jb *b, json_t *obj, const struct gw_object_input *in, bool clear)
{
	char class_id[GW_ID_MAX + 1], alt[GW_ACCOUNT_ID_MAX * 2];
	json_t *bc = json_object();

	gw_id(in->issuer_id, in->class_suffix, class_id, sizeof(class_id));
	put_str(b, obj, "classId", class_id);
	put_str(b, obj, "state", in->active ? "ACTIVE" : "INACTIVE");
	put_str(b, obj, "accountId", in->account_id);
	if (given(in->account_name))
		put_str(b, obj, "accountName", in->account_name);
	else if (clear)
		put(b, obj, "accountName", json_null());
	put(b, obj, "loyaltyPoints",
	    points(b, given(in->points_label) ? in->points_label : labels[L_POINTS].text, "int",
		   json_integer(in->balance)));
	if (given(in->tier))
		put(b, obj, "secondaryLoyaltyPoints",
		    points(b, labels[L_TIER].text, "string", json_string(in->tier)));
	else if (clear)
		put(b, obj, "secondaryLoyaltyPoints", json_null());
	put_str(b, bc, "type", "QR_CODE");
	put_str(b, bc, "value", in->account_id);
	put_str(b, bc, "alternateText", grouped(in->account_id, alt));
	put(b, obj, "barcode", bc);
}

static json_t *object_doc(struct jb *b, const struct gw_object_input *in)
{
	json_t *obj = json_object();
	char id[GW_ID_MAX + 1];

	gw_id(in->issuer_id, in->object_suffix, id, sizeof(id));
	put_str(b, obj, "id", id);
	object_fields(b, obj, in, false);
	return obj;
}

/* Dumps doc (whose reference it takes) into *json, or frees it after a failed build. */
static enum loy_err finish(struct jb *b, json_t *doc, char **json)
{
	char *text = !b->oom && doc ? json_dumps(doc, GW_DUMP_FLAGS) : NULL;

	json_decref(doc);
	if (!text)
		return LOY_ENOMEM;
	*json = text;
	return LOY_OK;
}

static enum loy_err hash_of(struct jb *b, json_t *doc, char out[GW_HASH_LEN + 1])
{
	char *text = NULL;
	enum loy_err err = finish(b, doc, &text);

	if (err == LOY_OK)
		digest_sha256_hex(text, strlen(text), out);
	free(text);
	return err;
}

/* ---- the builders ---------------------------------------------------------------------------- */

enum loy_err gw_class_json(const struct gw_class_input *in, const char *review_status, char **json,
			   const char **why)
{
	struct jb b = { false };
	json_t *cls;
	enum loy_err err = gw_class_check(in, why);

	if (err != LOY_OK)
		return err;
	/* APPROVED and REJECTED are the platform's to set (spec §2.3). */
	if (!review_status ||
	    (strcmp(review_status, "DRAFT") != 0 && strcmp(review_status, "UNDER_REVIEW") != 0))
		return verdict("reviewStatus must be DRAFT or UNDER_REVIEW", why);
	cls = class_doc(&b, in);
	put_str(&b, cls, "reviewStatus", review_status);
	return finish(&b, cls, json);
}

enum loy_err gw_class_hash(const struct gw_class_input *in, char out[GW_HASH_LEN + 1])
{
	struct jb b = { false };
	enum loy_err err = gw_class_check(in, NULL);

	return err != LOY_OK ? err : hash_of(&b, class_doc(&b, in), out);
}

enum loy_err gw_object_json(const struct gw_object_input *in, char **json, const char **why)
{
	struct jb b = { false };
	enum loy_err err = gw_object_check(in, why);

	return err != LOY_OK ? err : finish(&b, object_doc(&b, in), json);
}

enum loy_err gw_object_hash(const struct gw_object_input *in, char out[GW_HASH_LEN + 1])
{
	struct jb b = { false };
	enum loy_err err = gw_object_check(in, NULL);

	return err != LOY_OK ? err : hash_of(&b, object_doc(&b, in), out);
}

enum loy_err gw_object_patch_json(const struct gw_object_input *in, bool notify, char **json,
				  const char **why)
{
	struct jb b = { false };
	json_t *patch;
	enum loy_err err = gw_object_check(in, why);

	if (err != LOY_OK)
		return err;
	patch = json_object();
	object_fields(&b, patch, in, true);
	/* Ephemeral: it must ride on each PATCH that should notify (spec §2.6). */
	if (notify)
		put_str(&b, patch, "notifyPreference", "NOTIFY_ON_UPDATE");
	return finish(&b, patch, json);
}

static const char *message_why(const char *message_id, const char *header, const char *body,
			       int64_t start_ms, int64_t end_ms)
{
	static const struct rule id = { 0, R_ID, 1, GW_MESSAGE_ID_MAX, NULL };
	static const struct rule line = { 0, R_TEXT, 1, GW_LINE_MAX, NULL };
	static const struct rule text = { 0, R_TEXT, 1, GW_TEXT_MAX, NULL };

	if (!rule_ok(&id, message_id))
		return "the message id must be 1..100 letters, digits, '.', '_' or '-'";
	if (!rule_ok(&line, header))
		return "the message header is required: 1..800 bytes of UTF-8 without control "
		       "characters";
	if (!rule_ok(&text, body))
		return "the message body is required: 1..8000 bytes of UTF-8 without control "
		       "characters";
	if (start_ms < 0 || end_ms <= start_ms || end_ms > GW_TIME_MAX)
		return "the message's display interval must start at or after 1970 and end after it "
		       "starts, by 9999";
	return NULL;
}

static json_t *date_time(struct jb *b, int64_t ms)
{
	json_t *dt = json_object();
	char iso[32];

	time_format_iso(ms, iso, sizeof(iso));
	put_str(b, dt, "date", iso);
	return dt;
}

enum loy_err gw_message_json(const char *message_id, const char *header, const char *body,
			     bool notify, int64_t start_ms, int64_t end_ms, char **json,
			     const char **why)
{
	struct jb b = { false };
	json_t *req, *msg, *interval;
	const char *bad = message_why(message_id, header, body, start_ms, end_ms);

	if (bad)
		return verdict(bad, why);
	verdict(NULL, why);
	req = json_object();
	msg = json_object();
	interval = json_object();
	put_str(&b, msg, "id", message_id);
	put_str(&b, msg, "header", header);
	put_str(&b, msg, "body", body);
	/* TEXT_AND_NOTIFY pushes, within Google's 3 per card per 24 h; TEXT is silent (spec §2.6). */
	put_str(&b, msg, "messageType", notify ? "TEXT_AND_NOTIFY" : "TEXT");
	put(&b, interval, "start", date_time(&b, start_ms));
	put(&b, interval, "end", date_time(&b, end_ms));
	put(&b, msg, "displayInterval", interval);
	put(&b, req, "message", msg);
	return finish(&b, req, json);
}
