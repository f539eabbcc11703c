/* Builds a customer's store card as a signed .pkpass (see pass.h): input checks from one rule
 * table, pass.json and manifest.json through a small JSON writer, the signature from
 * crypto/signer, and the zip through libzip in memory. The one file that includes <zip.h>.
 *
 * Every build assembles the same bundle (pass.json, images, manifest.json), so the content hash
 * and the .pkpass can never disagree about what a pass carries: the hash is the SHA-256 of the
 * manifest, which lists the SHA-1 of every other file. */
#include "wallet/apple/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "base/buf.h"
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

/* pass.json and manifest.json are written straight into a buffer by the small writer below.
 * jansson did it first, and its dump alone took 17 µs of a 320 µs pass (5 %: a per-code-point
 * escaping loop behind a callback), which with libzip's 20 µs left no room for issue 3's aim of
 * 90 % of the RSA limit; with this writer pass.json, input checks included, takes about 4 µs.
 * The output is plain RFC 8259 JSON, and the tests read every byte of it back through jansson.
 * Every string written is ours or checked as UTF-8 by pass_input_check, so escaping is all that
 * is left to do. */

/* Far above what the input limits allow (about 110 KB of text, 6 bytes for each escaped one). */
#define PASS_JSON_MAX (1024 * 1024)
#define JW_DEPTH 6 /* pass.json nests 4 deep */

struct jw {
	struct buf out;
	enum loy_err err; /* the first failure; later writes do nothing */
	int depth;
	bool more[JW_DEPTH]; /* something was written at this depth: the next needs a comma */
};

static void jw_raw(struct jw *w, const char *p, size_t n)
{
	if (w->err == LOY_OK)
		w->err = buf_append(&w->out, p, n);
}

/* s (n bytes), escaped for inside a JSON string: '"', '\' and control characters. */
static void jw_esc(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s, *end = s + n;

	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char e[6] = { '\\', (char)c, '0', '0', hex[c >> 4], hex[c & 15] };
		size_t elen = 2;
		jw_raw(w, run, (size_t)(s - run));
		run = s + 1;
		if (c == '\n' || c == '\r' || c == '\t')
			e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		else if (c < 0x20)
			e[1] = 'u', elen = 6;
		jw_raw(w, e, elen);
	}
	jw_raw(w, run, (size_t)(s - run));
}

static void jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_raw(w, "\"", 1);
	jw_esc(w, s, n);
	jw_raw(w, "\"", 1);
}

static void jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, strlen(s));
}

/* Before a member or an array item: the comma, unless it is the first. */
static void jw_next(struct jw *w)
{
	if (w->more[w->depth])
		jw_raw(w, ",", 1);
	w->more[w->depth] = true;
}

static void jw_open(struct jw *w, char c)
{
	jw_raw(w, &c, 1);
	if (++w->depth >= JW_DEPTH)
		abort(); /* a bug in this file: JW_DEPTH is pass.json's depth */
	w->more[w->depth] = false;
}

static void jw_close(struct jw *w, char c)
{
	jw_raw(w, &c, 1);
	w->depth--;
}

static void jw_key(struct jw *w, const char *key)
{
	jw_next(w);
	jw_str(w, key);
	jw_raw(w, ":", 1);
}

static void jw_kstr(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

/* key and a number, or true, already in JSON form. */
static void jw_kraw(struct jw *w, const char *key, const char *raw)
{
	jw_key(w, key);
	jw_raw(w, raw, strlen(raw));
}

static bool given(const char *s)
{
	return s && *s;
}

/* A field object up to its value: the value and field_end follow. */
static void field_begin(struct jw *w, enum field_id id)
{
	jw_next(w);
	jw_open(w, '{');
	jw_kstr(w, "key", fields[id].key);
	jw_kstr(w, "label", fields[id].label);
	jw_key(w, "value");
}

static void field_end(struct jw *w, enum field_id id)
{
	if (fields[id].change)
		jw_kstr(w, "changeMessage", fields[id].change);
	jw_close(w, '}');
}

/* A text field, when the text is given; a second text, when given too, on a line of its own. */
static void text_field(struct jw *w, enum field_id id, const char *text, const char *more)
{
	if (!given(text))
		return;
	field_begin(w, id);
	jw_raw(w, "\"", 1);
	jw_esc(w, text, strlen(text));
	if (given(more)) {
		jw_raw(w, "\\n", 2);
		jw_esc(w, more, strlen(more));
	}
	jw_raw(w, "\"", 1);
	field_end(w, id);
}

static void jw_rgb(struct jw *w, const char *key, const char *hex)
{
	struct pass_rgb c = { 0, 0, 0 };
	char out[24];

	pass_color_parse(hex, &c);
	snprintf(out, sizeof(out), "rgb(%u, %u, %u)", c.r, c.g, c.b);
	jw_kstr(w, key, out);
}

/* The card number as read aloud: groups of three ("123 456 789"), or of four when the length is
 * a multiple of four and not of three (like bank cards). out holds PASS_CARD_NUMBER_MAX * 2. */
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

static void barcodes(struct jw *w, const struct pass_input *in)
{
	char alt[PASS_CARD_NUMBER_MAX * 2];

	jw_key(w, "barcodes");
	jw_open(w, '[');
	jw_next(w);
	jw_open(w, '{');
	jw_kstr(w, "format", "PKBarcodeFormatQR");
	jw_kstr(w, "message", in->card_number);
	jw_kstr(w, "messageEncoding", "iso-8859-1");
	jw_kstr(w, "altText", grouped(in->card_number, alt));
	jw_close(w, '}');
	jw_close(w, ']');
}

/* Micro-degrees as a JSON number, written from the integer: 55755826 is 55.755826, 37617300 is
 * 37.6173, 0 is 0.0. No floating point on the way, so the number is exactly the stored one. */
static void jw_degrees(struct jw *w, const char *key, int32_t e6)
{
	int64_t v = e6 < 0 ? -(int64_t)e6 : e6, frac = v % 1000000;
	int digits = 6;
	char n[48];

	while (digits > 1 && frac % 10 == 0)
		frac /= 10, digits--;
	snprintf(n, sizeof(n), "%s%lld.%0*lld", e6 < 0 ? "-" : "", (long long)(v / 1000000), digits,
		 (long long)frac);
	jw_kraw(w, key, n);
}

static void locations(struct jw *w, const struct pass_input *in)
{
	size_t n = in->nlocations < PASS_LOCATIONS_MAX ? in->nlocations : PASS_LOCATIONS_MAX;

	jw_key(w, "locations");
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++) {
		const struct pass_location *l = &in->locations[i];
		jw_next(w);
		jw_open(w, '{');
		jw_degrees(w, "latitude", l->latitude_e6);
		jw_degrees(w, "longitude", l->longitude_e6);
		if (given(l->relevant_text))
			jw_kstr(w, "relevantText", l->relevant_text);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void balance_field(struct jw *w, const struct pass_input *in)
{
	char n[24];

	field_begin(w, F_BALANCE);
	snprintf(n, sizeof(n), "%lld", (long long)in->balance);
	jw_raw(w, n, strlen(n));
	jw_kstr(w, "numberStyle", "PKNumberStyleDecimal");
	field_end(w, F_BALANCE);
}

static void back_fields(struct jw *w, const struct pass_input *in)
{
	jw_key(w, "backFields");
	jw_open(w, '[');
	text_field(w, F_NEWS, in->news, NULL);
	if (given(in->terms_text))
		text_field(w, F_TERMS, in->terms_text, in->terms_url);
	else
		text_field(w, F_TERMS, in->terms_url, NULL);
	text_field(w, F_PHONE, in->phone, NULL);
	text_field(w, F_EMAIL, in->email, NULL);
	text_field(w, F_WEBSITE, in->website, NULL);
	text_field(w, F_ADDRESS, in->address, NULL);
	jw_close(w, ']');
}

static void store_card(struct jw *w, const struct pass_input *in)
{
	char card[PASS_CARD_NUMBER_MAX * 2];

	jw_key(w, "storeCard");
	jw_open(w, '{');
	jw_key(w, "primaryFields");
	jw_open(w, '[');
	if (in->hide_balance)
		text_field(w, F_NAME, in->customer_name, NULL);
	else
		balance_field(w, in);
	jw_close(w, ']');
	jw_key(w, "secondaryFields");
	jw_open(w, '[');
	if (!in->hide_balance)
		text_field(w, F_NAME, in->customer_name, NULL);
	text_field(w, F_TIER, in->tier, NULL);
	jw_close(w, ']');
	jw_key(w, "auxiliaryFields");
	jw_open(w, '[');
	text_field(w, F_CARD, grouped(in->card_number, card), NULL);
	jw_close(w, ']');
	back_fields(w, in);
	jw_close(w, '}');
}

static void pass_object(struct jw *w, const struct pass_input *in)
{
	struct str url = service_url(in->web_service_url);

	jw_open(w, '{');
	jw_kraw(w, "formatVersion", "1");
	jw_kstr(w, "passTypeIdentifier", in->pass_type_id);
	jw_kstr(w, "serialNumber", in->serial);
	jw_kstr(w, "teamIdentifier", in->team_id);
	jw_key(w, "webServiceURL");
	jw_strn(w, url.p, url.len);
	jw_kstr(w, "authenticationToken", in->auth_token);
	jw_kstr(w, "organizationName", in->organization);
	jw_kstr(w, "description", in->description);
	if (given(in->logo_text))
		jw_kstr(w, "logoText", in->logo_text);
	jw_rgb(w, "foregroundColor", in->foreground_color);
	jw_rgb(w, "backgroundColor", in->background_color);
	jw_rgb(w, "labelColor", in->label_color);
	/* Only `barcodes`: the singular `barcode` is deprecated (apple-wallet.md 1a). */
	if (!in->hide_barcode)
		barcodes(w, in);
	if (in->nlocations)
		locations(w, in);
	if (in->voided)
		jw_kraw(w, "voided", "true");
	store_card(w, in);
	jw_close(w, '}');
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

/* Hands the writer's text out (malloc'd, NUL-terminated) or frees it on failure. */
static enum loy_err jw_finish(struct jw *w, char **text, size_t *len)
{
	if (w->err != LOY_OK) {
		buf_cleanup(&w->out);
		return w->err;
	}
	*text = buf_detach(&w->out, len);
	return LOY_OK;
}

/* pass.json for an input already checked. */
static enum loy_err json_text(const struct pass_input *in, char **json, size_t *len)
{
	struct jw w = { .err = LOY_OK };

	buf_init(&w.out, PASS_JSON_MAX);
	pass_object(&w, in);
	return jw_finish(&w, json, len);
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
	struct jw w = { .err = LOY_OK };
	size_t len;

	buf_init(&w.out, PASS_JSON_MAX);
	jw_open(&w, '{');
	for (int i = 0; i < b->n; i++)
		jw_kstr(&w, b->f[i].name, b->f[i].sha1);
	jw_close(&w, '}');
	return jw_finish(&w, &b->manifest, &len);
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
