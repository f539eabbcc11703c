/* Builds a customer's store card as a signed .pkpass (see pass.h): input checks from one rule
 * table, pass.json through jansson, manifest.json, the signature from crypto/signer, and the zip
 * through libzip in memory. The one file that includes <zip.h>.
 *
 * Every build assembles the same bundle (pass.json, images, manifest.json), so the content hash
 * and the .pkpass can never disagree about what a pass carries: the hash is the SHA-256 of the
 * manifest, which lists the SHA-1 of every other file. */
#include "wallet/apple/pass.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "base/log.h"
#include "base/str.h"
#include "core/url.h"

/* ---- the fields: one table, so that a later issue can localise it ------------------------ */

enum field_id {
	F_BALANCE,
	F_NAME,
	F_TIER,
	F_CARD,
	F_NEWS,
	F_TERMS,
	F_PHONE,
	F_EMAIL,
	F_WEBSITE,
	F_ADDRESS,
	F_COUNT
};

struct field_def {
	const char *key; /* unique across the whole pass (Apple) */
	const char *label;
	const char *change; /* changeMessage, or NULL: must contain "%@" (Apple) */
};

static const struct field_def fields[F_COUNT] = {
	[F_BALANCE] = { "balance", "Баланс", "Баланс: %@" },
	[F_NAME] = { "name", "Имя", NULL },
	[F_TIER] = { "tier", "Уровень", "Уровень: %@" },
	[F_CARD] = { "card", "Номер карты", NULL },
	[F_NEWS] = { "news", "Новости", "%@" },
	[F_TERMS] = { "terms", "Условия программы", NULL },
	[F_PHONE] = { "phone", "Телефон", NULL },
	[F_EMAIL] = { "email", "Эл. почта", NULL },
	[F_WEBSITE] = { "website", "Сайт", NULL },
	[F_ADDRESS] = { "address", "Адрес", NULL },
};

/* A broken table would make passes Wallet mishandles silently (a change without a notice, a
 * field shadowing another): that is a bug in this file, so it aborts. Costs well under a
 * microsecond; run on every build rather than trusted to a test alone. */
static void fields_assert(void)
{
	for (int i = 0; i < F_COUNT; i++) {
		if (!fields[i].key || !fields[i].label ||
		    (fields[i].change && !strstr(fields[i].change, "%@")))
			abort();
		for (int j = i + 1; j < F_COUNT; j++)
			if (strcmp(fields[i].key, fields[j].key) == 0)
				abort();
	}
}

/* ---- input checks ------------------------------------------------------------------------- */

enum rule_kind {
	R_TEXT,	  /* UTF-8 without NUL or control characters other than \t \n \r */
	R_ASCII,  /* visible ASCII */
	R_SERIAL, /* letters, digits, '.', '_', '-' */
	R_ALNUM,  /* letters and digits */
	R_URL,	  /* an http(s) URL (core/url.h) */
	R_COLOR,  /* "#rrggbb" */
};

/* One string member of struct pass_input. min 0: optional (NULL or "" leave it out). */
struct rule {
	size_t off;
	enum rule_kind kind;
	size_t min, max;
	const char *why;
};

#define IN(m) offsetof(struct pass_input, m)

static const struct rule rules[] = {
	{ IN(pass_type_id), R_ASCII, 1, SIGNER_PASS_TYPE_ID_MAX,
	  "passTypeIdentifier must be 1..255 visible ASCII characters" },
	{ IN(team_id), R_ASCII, 1, SIGNER_TEAM_ID_MAX,
	  "teamIdentifier must be 1..32 visible ASCII characters" },
	{ IN(serial), R_SERIAL, 1, PASS_SERIAL_MAX,
	  "serialNumber must be 1..64 letters, digits, '.', '_' or '-'" },
	{ IN(auth_token), R_ASCII, PASS_AUTH_TOKEN_MIN, PASS_AUTH_TOKEN_MAX,
	  "authenticationToken must be 16..128 visible ASCII characters" },
	{ IN(organization), R_TEXT, 1, PASS_LINE_MAX, "organizationName is required (UTF-8)" },
	{ IN(description), R_TEXT, 1, PASS_TEXT_MAX, "description is required (UTF-8)" },
	{ IN(logo_text), R_TEXT, 0, PASS_LINE_MAX, "logoText is too long or not UTF-8" },
	{ IN(background_color), R_COLOR, 7, 7, "backgroundColor must be #rrggbb" },
	{ IN(foreground_color), R_COLOR, 7, 7, "foregroundColor must be #rrggbb" },
	{ IN(label_color), R_COLOR, 7, 7, "labelColor must be #rrggbb" },
	{ IN(terms_text), R_TEXT, 0, PASS_TEXT_MAX, "the terms are too long or not UTF-8" },
	{ IN(terms_url), R_URL, 0, PASS_URL_MAX, "termsUrl must be an http(s) URL" },
	{ IN(phone), R_TEXT, 0, PASS_LINE_MAX, "the phone is too long or not UTF-8" },
	{ IN(email), R_TEXT, 0, PASS_LINE_MAX, "the e-mail is too long or not UTF-8" },
	{ IN(website), R_URL, 0, PASS_URL_MAX, "the website must be an http(s) URL" },
	{ IN(address), R_TEXT, 0, PASS_LINE_MAX, "the address is too long or not UTF-8" },
	{ IN(news), R_TEXT, 0, PASS_TEXT_MAX, "the news is too long or not UTF-8" },
	{ IN(customer_name), R_TEXT, 0, PASS_LINE_MAX, "the name is too long or not UTF-8" },
	{ IN(card_number), R_ALNUM, 1, PASS_CARD_NUMBER_MAX,
	  "the card number must be 1..32 letters or digits" },
	{ IN(tier), R_TEXT, 0, PASS_LINE_MAX, "the tier is too long or not UTF-8" },
};

static bool chars_ok(struct str s, enum rule_kind kind)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (!alnum && (kind == R_ALNUM || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static bool rule_ok(const struct rule *r, const char *v)
{
	struct str s = str_from(v);
	struct pass_rgb rgb;

	if (s.len == 0)
		return r->min == 0;
	if (s.len < r->min || s.len > r->max)
		return false;
	switch (r->kind) {
	case R_TEXT:
		return str_is_clean_utf8(s);
	case R_ASCII:
		return str_is_visible_ascii(s);
	case R_SERIAL:
	case R_ALNUM:
		return chars_ok(s, r->kind);
	case R_URL:
		return url_valid(s);
	case R_COLOR:
		return pass_color_parse(v, &rgb);
	}
	return false;
}

/* webServiceURL without its trailing slashes: devices append "/v1/...", and "//v1" is not ours. */
static struct str service_url(const char *url)
{
	struct str s = str_from(url);

	while (s.len && s.p[s.len - 1] == '/')
		s.len--;
	return s;
}

static bool service_url_ok(const char *url)
{
	struct str s = service_url(url);

	return url && s.len <= PASS_URL_MAX && url_valid(s) && !memchr(s.p, '?', s.len) &&
	       !memchr(s.p, '#', s.len);
}

static const char *locations_why(const struct pass_input *in)
{
	size_t n = in->nlocations < PASS_LOCATIONS_MAX ? in->nlocations : PASS_LOCATIONS_MAX;

	if (n && !in->locations)
		return "locations is NULL but nlocations is not 0";
	for (size_t i = 0; i < n; i++) {
		const struct pass_location *l = &in->locations[i];
		struct rule text = { 0, R_TEXT, 0, PASS_TEXT_MAX, NULL };
		if (l->latitude_e6 < -PASS_LATITUDE_MAX || l->latitude_e6 > PASS_LATITUDE_MAX ||
		    l->longitude_e6 < -PASS_LONGITUDE_MAX || l->longitude_e6 > PASS_LONGITUDE_MAX)
			return "a location's latitude or longitude is out of range";
		if (!rule_ok(&text, l->relevant_text))
			return "a location's relevantText is too long or not UTF-8";
	}
	return NULL;
}

enum loy_err pass_input_check(const struct pass_input *in, const char **why)
{
	const char *bad = NULL;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && !bad; i++) {
		const char *v = *(const char *const *)((const char *)in + rules[i].off);
		if (!rule_ok(&rules[i], v))
			bad = rules[i].why;
	}
	if (!bad && !service_url_ok(in->web_service_url))
		bad = "webServiceURL must be an http(s) URL without query or fragment";
	if (!bad)
		bad = locations_why(in);
	if (!bad && (!in->images || !in->images->png[PASS_PNG_ICON].len))
		bad = "icon.png is required";
	*why = bad;
	return bad ? LOY_EINVALID : LOY_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool pass_color_parse(const char *hex, struct pass_rgb *out)
{
	int v[6];

	if (!hex || hex[0] != '#' || strlen(hex) != 7)
		return false;
	for (int i = 0; i < 6; i++)
		if ((v[i] = hexval(hex[i + 1])) < 0)
			return false;
	out->r = (uint8_t)(v[0] << 4 | v[1]);
	out->g = (uint8_t)(v[2] << 4 | v[3]);
	out->b = (uint8_t)(v[4] << 4 | v[5]);
	return true;
}

/* ---- pass.json ---------------------------------------------------------------------------- */

/* Collects allocation failures, so that building reads as a list of keys. Every string put in
 * pass.json is either ours or checked as UTF-8 by pass_input_check, so jansson's own checks
 * (the _nocheck variants skip them) would only repeat that work on every build. */
struct jb {
	bool ok;
};

static void put(struct jb *b, json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new_nocheck(obj, key, v) != 0)
		b->ok = false;
}

static void push(struct jb *b, json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v) != 0)
		b->ok = false;
}

static bool given(const char *s)
{
	return s && *s;
}

static json_t *field(struct jb *b, enum field_id id, json_t *value)
{
	const struct field_def *f = &fields[id];
	json_t *o = json_object();

	put(b, o, "key", json_string_nocheck(f->key));
	put(b, o, "label", json_string_nocheck(f->label));
	put(b, o, "value", value);
	if (f->change)
		put(b, o, "changeMessage", json_string_nocheck(f->change));
	return o;
}

/* Appends a text field to arr when the text is given. */
static void text_field(struct jb *b, json_t *arr, enum field_id id, const char *text)
{
	if (given(text))
		push(b, arr, field(b, id, json_string_nocheck(text)));
}

static json_t *rgb(const char *hex)
{
	struct pass_rgb c = { 0, 0, 0 };
	char out[24];

	pass_color_parse(hex, &c);
	snprintf(out, sizeof(out), "rgb(%u, %u, %u)", c.r, c.g, c.b);
	return json_string_nocheck(out);
}

/* The card number as read aloud: groups of three ("123 456 789"), or of four when the length is
 * a multiple of four and not of three (like bank cards). */
static json_t *grouped(const char *card)
{
	char out[PASS_CARD_NUMBER_MAX * 2];
	size_t n = strlen(card), g = (n % 3 && n % 4 == 0) ? 4 : 3, o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i && i % g == 0)
			out[o++] = ' ';
		out[o++] = card[i];
	}
	out[o] = '\0';
	return json_string_nocheck(out);
}

static json_t *barcodes(struct jb *b, const struct pass_input *in)
{
	json_t *arr = json_array(), *qr = json_object();

	put(b, qr, "format", json_string_nocheck("PKBarcodeFormatQR"));
	put(b, qr, "message", json_string_nocheck(in->card_number));
	put(b, qr, "messageEncoding", json_string_nocheck("iso-8859-1"));
	put(b, qr, "altText", grouped(in->card_number));
	push(b, arr, qr);
	return arr;
}

/* Micro-degrees as a JSON number. The double nearest to e6 / 10^6 printed with 9 significant
 * digits (pass_build_json dumps reals so) is exactly that decimal: it has at most 9 significant
 * digits (3 before the point, 6 after) and a double carries 15, so the rounding can never land on
 * another decimal. The integers are the data; the double is only the printing. */
static json_t *degrees(int32_t e6)
{
	return json_real((double)e6 / 1e6);
}

static json_t *locations(struct jb *b, const struct pass_input *in)
{
	size_t n = in->nlocations < PASS_LOCATIONS_MAX ? in->nlocations : PASS_LOCATIONS_MAX;
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct pass_location *l = &in->locations[i];
		json_t *o = json_object();
		put(b, o, "latitude", degrees(l->latitude_e6));
		put(b, o, "longitude", degrees(l->longitude_e6));
		if (given(l->relevant_text))
			put(b, o, "relevantText", json_string_nocheck(l->relevant_text));
		push(b, arr, o);
	}
	return arr;
}

static json_t *balance_field(struct jb *b, const struct pass_input *in)
{
	json_t *f = field(b, F_BALANCE, json_integer((json_int_t)in->balance));

	put(b, f, "numberStyle", json_string_nocheck("PKNumberStyleDecimal"));
	return f;
}

static json_t *back_fields(struct jb *b, const struct pass_input *in)
{
	json_t *back = json_array();
	const char *terms = in->terms_text;
	char *both = NULL;

	if (given(in->terms_text) && given(in->terms_url)) {
		size_t n = strlen(in->terms_text) + strlen(in->terms_url) + 2;
		both = malloc(n);
		if (both)
			snprintf(both, n, "%s\n%s", in->terms_text, in->terms_url);
		else
			b->ok = false;
		terms = both;
	} else if (given(in->terms_url)) {
		terms = in->terms_url;
	}
	text_field(b, back, F_NEWS, in->news);
	text_field(b, back, F_TERMS, terms);
	text_field(b, back, F_PHONE, in->phone);
	text_field(b, back, F_EMAIL, in->email);
	text_field(b, back, F_WEBSITE, in->website);
	text_field(b, back, F_ADDRESS, in->address);
	free(both);
	return back;
}

static json_t *store_card(struct jb *b, const struct pass_input *in)
{
	json_t *card = json_object(), *primary = json_array(), *secondary = json_array();
	json_t *aux = json_array();

	if (in->hide_balance)
		text_field(b, primary, F_NAME, in->customer_name);
	else {
		push(b, primary, balance_field(b, in));
		text_field(b, secondary, F_NAME, in->customer_name);
	}
	text_field(b, secondary, F_TIER, in->tier);
	push(b, aux, field(b, F_CARD, grouped(in->card_number)));
	put(b, card, "primaryFields", primary);
	put(b, card, "secondaryFields", secondary);
	put(b, card, "auxiliaryFields", aux);
	put(b, card, "backFields", back_fields(b, in));
	return card;
}

static json_t *pass_object(struct jb *b, const struct pass_input *in)
{
	json_t *p = json_object();
	struct str url = service_url(in->web_service_url);

	put(b, p, "formatVersion", json_integer(1));
	put(b, p, "passTypeIdentifier", json_string_nocheck(in->pass_type_id));
	put(b, p, "serialNumber", json_string_nocheck(in->serial));
	put(b, p, "teamIdentifier", json_string_nocheck(in->team_id));
	put(b, p, "webServiceURL", json_stringn_nocheck(url.p, url.len));
	put(b, p, "authenticationToken", json_string_nocheck(in->auth_token));
	put(b, p, "organizationName", json_string_nocheck(in->organization));
	put(b, p, "description", json_string_nocheck(in->description));
	if (given(in->logo_text))
		put(b, p, "logoText", json_string_nocheck(in->logo_text));
	put(b, p, "foregroundColor", rgb(in->foreground_color));
	put(b, p, "backgroundColor", rgb(in->background_color));
	put(b, p, "labelColor", rgb(in->label_color));
	/* Only `barcodes`: the singular `barcode` is deprecated (apple-wallet.md 1a). */
	if (!in->hide_barcode)
		put(b, p, "barcodes", barcodes(b, in));
	if (in->nlocations)
		put(b, p, "locations", locations(b, in));
	if (in->voided)
		put(b, p, "voided", json_true());
	put(b, p, "storeCard", store_card(b, in));
	return p;
}

static enum loy_err checked(const struct pass_input *in)
{
	const char *why = NULL;

	fields_assert();
	if (pass_input_check(in, &why) == LOY_OK)
		return LOY_OK;
	log_warn("pass: refused to build: %s", why);
	return LOY_EINVALID;
}

/* pass.json for an input already checked. */
static enum loy_err json_text(const struct pass_input *in, char **json, size_t *len)
{
	struct jb b = { true };
	json_t *root = pass_object(&b, in);
	char *text = b.ok ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;

	json_decref(root);
	if (!text)
		return LOY_ENOMEM;
	*json = text;
	*len = strlen(text);
	return LOY_OK;
}

enum loy_err pass_build_json(const struct pass_input *in, char **json, size_t *len)
{
	enum loy_err err = checked(in);

	return err != LOY_OK ? err : json_text(in, json, len);
}

/* ---- the bundle --------------------------------------------------------------------------- */

struct file {
	const char *name;
	const void *data;
	size_t len;
	char sha1[SHA1_HEX_LEN + 1];
};

/* pass.json and the images, then manifest.json and signature: the order in the zip. */
struct bundle {
	struct file f[PASS_PNG_SLOTS + 3];
	int n;
	char *json, *manifest;
	unsigned char *signature;
};

static void bundle_free(struct bundle *b)
{
	free(b->json);
	free(b->manifest);
	free(b->signature);
}

/* Lists a file for the zip. sha1: NULL for a file outside the manifest (manifest.json,
 * signature); "" to compute it; else the image's own, computed once per template. */
static void add_file(struct bundle *b, const char *name, const void *data, size_t len,
		     const char *sha1)
{
	struct file *f = &b->f[b->n++];

	f->name = name;
	f->data = data;
	f->len = len;
	if (sha1 && sha1[0])
		memcpy(f->sha1, sha1, sizeof(f->sha1));
	else if (sha1)
		digest_sha1_hex(data, len, f->sha1);
}

static enum loy_err manifest_text(struct bundle *b)
{
	json_t *m = json_object();
	struct jb jb = { true };

	for (int i = 0; i < b->n; i++)
		put(&jb, m, b->f[i].name, json_string_nocheck(b->f[i].sha1));
	b->manifest = jb.ok ? json_dumps(m, JSON_COMPACT) : NULL;
	json_decref(m);
	return b->manifest ? LOY_OK : LOY_ENOMEM;
}

/* Checks in, writes pass.json, lists the images and writes manifest.json. */
static enum loy_err assemble(const struct pass_input *in, struct bundle *b)
{
	size_t len;
	enum loy_err err = checked(in);

	memset(b, 0, sizeof(*b));
	if (err == LOY_OK)
		err = json_text(in, &b->json, &len);
	if (err != LOY_OK)
		return err;
	add_file(b, "pass.json", b->json, len, "");
	for (int s = 0; s < PASS_PNG_SLOTS; s++) {
		const struct pass_png *p = &in->images->png[s];
		if (p->len)
			add_file(b, pass_png_spec(s)->file, p->data, p->len, p->sha1);
	}
	return manifest_text(b);
}

enum loy_err pass_content_hash(const struct pass_input *in, char out[PASS_CONTENT_HASH_LEN + 1])
{
	struct bundle b;
	enum loy_err err = assemble(in, &b);

	if (err == LOY_OK)
		digest_sha256_hex(b.manifest, strlen(b.manifest), out);
	bundle_free(&b);
	return err;
}

/* ---- the zip ------------------------------------------------------------------------------ */

/* updated_at as the files' time in the zip, within what the zip format holds (1980..2107: a day
 * inside either end, whatever the time zone). Set as a time_t, which libzip turns into the DOS
 * date and time in the host's local time zone with localtime_r, as zip tools do;
 * zip_file_set_dostime would go through mktime, which stats /etc/localtime on every call (a
 * tenth of a build's time). */
static time_t zip_time(int64_t updated_at)
{
	int64_t secs = updated_at / 1000;

	if (secs < 315619200) /* 1980-01-02 */
		secs = 315619200;
	if (secs > 4354819200) /* 2107-12-31 */
		secs = 4354819200;
	return (time_t)secs;
}

/* Every file is stored, not deflated: the PNGs are compressed already, the signature hardly
 * compresses, and deflating the JSON saves a few hundred bytes of a 40 KB pass for about a seventh
 * of a build's time (measured with bench/pkpass.sh). Wallet reads stored entries: they are all
 * passkit-generator writes (its zip library, do-not-zip, never compresses). */
static bool add_entry(zip_t *za, const struct file *f, time_t mtime)
{
	zip_source_t *src = zip_source_buffer(za, f->data, f->len, 0);
	zip_int64_t i = src ? zip_file_add(za, f->name, src, ZIP_FL_ENC_UTF_8) : -1;

	if (i < 0) {
		zip_source_free(src);
		return false;
	}
	return zip_set_file_compression(za, (zip_uint64_t)i, ZIP_CM_STORE, 0) == 0 &&
	       zip_file_set_mtime(za, (zip_uint64_t)i, mtime, 0) == 0;
}

/* Reads the whole archive that src holds into a malloc'd buffer. */
static enum loy_err zip_read_back(zip_source_t *src, unsigned char **out, size_t *out_len)
{
	zip_stat_t st;
	unsigned char *p = NULL;
	enum loy_err err = LOY_EINTERNAL;

	if (zip_source_open(src) != 0)
		return LOY_EINTERNAL;
	if (zip_source_stat(src, &st) == 0 && (st.valid & ZIP_STAT_SIZE) && st.size > 0) {
		p = malloc(st.size);
		err = p ? LOY_OK : LOY_ENOMEM;
	}
	if (err == LOY_OK && zip_source_read(src, p, st.size) != (zip_int64_t)st.size)
		err = LOY_EINTERNAL;
	zip_source_close(src);
	if (err != LOY_OK) {
		free(p);
		return err;
	}
	*out = p;
	*out_len = st.size;
	return LOY_OK;
}

static enum loy_err zip_bundle(const struct bundle *b, int64_t updated_at, unsigned char **out,
			       size_t *out_len)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;
	time_t mtime = zip_time(updated_at);
	enum loy_err err = LOY_EINTERNAL;
	bool ok = true;

	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	za = src ? zip_open_from_source(src, ZIP_CREATE | ZIP_TRUNCATE, &ze) : NULL;
	if (!za) {
		zip_source_free(src);
		zip_error_fini(&ze);
		return LOY_EINTERNAL;
	}
	zip_source_keep(src); /* zip_close would free it; the archive is read from it after */
	for (int i = 0; i < b->n && ok; i++)
		ok = add_entry(za, &b->f[i], mtime);
	if (!ok)
		zip_discard(za);
	else if (zip_close(za) != 0)
		zip_discard(za);
	else
		err = zip_read_back(src, out, out_len);
	zip_source_free(src);
	zip_error_fini(&ze);
	return err;
}

/* ---- the .pkpass -------------------------------------------------------------------------- */

static enum loy_err same_signer(const struct signer *s, const struct pass_input *in)
{
	if (strcmp(in->pass_type_id, signer_pass_type_id(s)) == 0 &&
	    strcmp(in->team_id, signer_team_id(s)) == 0)
		return LOY_OK;
	log_warn("pass: refused to build: passTypeIdentifier and teamIdentifier must be the "
		 "signing certificate's (%s, %s)",
		 signer_pass_type_id(s), signer_team_id(s));
	return LOY_EINVALID;
}

static enum loy_err sign(struct signer *s, struct bundle *b)
{
	size_t cap = signer_signature_len(s), len = 0;
	size_t mlen = strlen(b->manifest);
	enum loy_err err;

	b->signature = malloc(cap);
	if (!b->signature)
		return LOY_ENOMEM;
	err = signer_sign_manifest(s, b->manifest, mlen, b->signature, cap, &len);
	if (err != LOY_OK)
		return err;
	add_file(b, "manifest.json", b->manifest, mlen, NULL);
	add_file(b, "signature", b->signature, len, NULL);
	return LOY_OK;
}

enum loy_err pass_build_pkpass(struct signer *s, const struct pass_input *in, unsigned char **out,
			       size_t *out_len, char content_hash[PASS_CONTENT_HASH_LEN + 1])
{
	struct bundle b;
	enum loy_err err = assemble(in, &b);

	if (err == LOY_OK)
		err = same_signer(s, in);
	if (err == LOY_OK && content_hash)
		digest_sha256_hex(b.manifest, strlen(b.manifest), content_hash);
	if (err == LOY_OK)
		err = sign(s, &b);
	if (err == LOY_OK)
		err = zip_bundle(&b, in->updated_at, out, out_len);
	bundle_free(&b);
	return err;
}
