/* Unit tests of the .pkpass builder (wallet/apple/pass) and the pass images (wallet/apple/images).
 * Development certificates are made at run time in a temporary directory (crypto/devcerts), a
 * signer is opened on them, and passes are built and then taken apart as Wallet would: unzip, the
 * manifest's SHA-1s against sha1sum, the signature through openssl cms and smime against the
 * development root, pass.json through jansson against Apple's rules (apple-wallet.md 1a), the PNGs
 * through libpng. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "crypto/devcerts.h"
#include "crypto/signer.h"
#include "support.h"
#include "wallet/apple/images.h"
#include "wallet/apple/pass.h"

static char dir[64];
static struct signer *signer;
static struct pass_images images; /* the defaults, drawn once */

static const char card_no[] = "123456782";

/* ---- helpers ------------------------------------------------------------------------------- */

/* in, run, output_of, write_bytes and quiet_report come from support.c. */

static const struct pass_location moscow[] = {
	{ 55755826, 37617300, "Кофейня на Тверской рядом" },
	{ -33868800, 151209300, NULL },
	{ 0, -1, "" },
};

/* Everything a pass shows, every optional part given. */
static struct pass_input sample(void)
{
	return (struct pass_input){
		.pass_type_id = "pass.dev.loy.demo",
		.team_id = "LOYDEV0001",
		.serial = "c-42.x_Y",
		.auth_token = "0123456789abcdefABCDEF",
		.web_service_url = "https://loy.example.ru/wallet/",
		.organization = "Кофейня «Зерно»",
		.description = "Карта лояльности кофейни «Зерно»",
		.logo_text = "Зерно",
		.background_color = "#1f2937",
		.foreground_color = "#FFFFFF",
		.label_color = "#d1d5db",
		.terms_text = "1 балл за каждые 100 ₽.",
		.terms_url = "https://zerno.example.ru/terms",
		.images = &images,
		.phone = "+7 495 123-45-67",
		.email = "hello@zerno.example.ru",
		.website = "https://zerno.example.ru",
		.address = "Москва, Тверская, 1",
		.news = "Новый сезонный раф!",
		.locations = moscow,
		.nlocations = 3,
		.customer_name = "Анна Петрова",
		.card_number = card_no,
		.balance = 1250,
		.tier = "Золото",
		.updated_at = 1735689600000, /* 2025-01-01 00:00 UTC */
	};
}

static json_t *build_json(const struct pass_input *p)
{
	char *text = NULL;
	size_t len = 0;
	json_t *j;

	assert_int_equal(pass_build_json(p, &text, &len), LOY_OK);
	assert_int_equal(strlen(text), len);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	free(text);
	return j;
}

/* Builds in's pass into base/name.pkpass and unpacks it into base/name/. */
static void build_and_unzip(const struct pass_input *p, const char *name)
{
	unsigned char *zip = NULL;
	size_t len = 0;
	char file[200], sub[200];

	assert_int_equal(pass_build_pkpass(signer, p, &zip, &len, NULL), LOY_OK);
	snprintf(file, sizeof(file), "%s/%s.pkpass", dir, name);
	snprintf(sub, sizeof(sub), "%s/%s", dir, name);
	write_bytes(file, zip, len);
	free(zip);
	assert_int_equal(run("rm -rf %s && unzip -o -q %s -d %s", sub, file, sub), 0);
}

/* Every field object of the storeCard's five arrays, in one array (borrowed references). */
static json_t *all_fields(json_t *pass)
{
	static const char *const sections[] = { "headerFields", "primaryFields", "secondaryFields",
						"auxiliaryFields", "backFields" };
	json_t *card = json_object_get(pass, "storeCard"), *all = json_array();
	size_t i;
	json_t *f;

	assert_true(json_is_object(card));
	for (size_t s = 0; s < 5; s++)
		json_array_foreach(json_object_get(card, sections[s]), i, f)
			json_array_append(all, f);
	return all;
}

static json_t *field_by_key(json_t *pass, const char *key)
{
	json_t *all = all_fields(pass), *f, *found = NULL;
	size_t i;

	json_array_foreach(all, i, f) if (strcmp(json_string_value(json_object_get(f, "key")),
						 key) == 0) found = f;
	json_decref(all);
	return found;
}

static const char *section_of(json_t *pass, const char *section, size_t i)
{
	json_t *arr = json_object_get(json_object_get(pass, "storeCard"), section);
	return json_string_value(json_object_get(json_array_get(arr, i), "key"));
}

/* Width and height of a PNG decoded in full by libpng's simplified API. */
static bool png_decode(const void *data, size_t len, unsigned *w, unsigned *h)
{
	png_image img;
	void *px;
	bool ok;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, data, len))
		return false;
	img.format = PNG_FORMAT_RGBA;
	px = malloc(PNG_IMAGE_SIZE(img));
	ok = px && png_image_finish_read(&img, NULL, px, 0, NULL);
	free(px);
	png_image_free(&img);
	*w = img.width;
	*h = img.height;
	return ok;
}

/* A w x h PNG (8-bit RGBA, or 16-bit when deep) written by libpng; *len bytes, the caller frees. */
static unsigned char *make_png(unsigned w, unsigned h, bool deep, size_t *len)
{
	png_image img;
	png_alloc_size_t size = 0;
	size_t stride = (size_t)w * 4 * (deep ? 2 : 1);
	unsigned char *px = calloc(h, stride), *out;

	assert_non_null(px);
	for (size_t i = 0; i < h * stride; i++)
		px[i] = (unsigned char)(i * 7);
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = deep ? PNG_FORMAT_LINEAR_RGB_ALPHA : PNG_FORMAT_RGBA;
	assert_true(png_image_write_to_memory(&img, NULL, &size, 0, px, 0, NULL));
	out = malloc(size);
	assert_non_null(out);
	assert_true(png_image_write_to_memory(&img, out, &size, 0, px, 0, NULL));
	free(px);
	*len = size;
	return out;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* png with a private ancillary chunk ("loYp", which readers skip) inserted before IEND so that
 * the whole file is total bytes; the caller frees. */
static unsigned char *pad_png(const unsigned char *png, size_t len, size_t total)
{
	size_t data = total - len - 12, at = len - 12; /* IEND is the last 12 bytes */
	unsigned char *out = malloc(total);

	assert_true(total >= len + 12);
	assert_non_null(out);
	memcpy(out, png, at);
	put32(out + at, (uint32_t)data);
	memcpy(out + at + 4, "loYp", 4);
	memset(out + at + 8, 'x', data);
	put32(out + at + 8 + data, crc32_of(out + at + 4, data + 4));
	memcpy(out + at + 12 + data, png + at, 12);
	return out;
}

static int setup(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	const char *tmp = getenv("TMPDIR");
	struct pass_rgb bg, fg, label;

	(void)state;
	log_set_level(LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/loy-pkpass-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || devcerts_create(dir, &o, quiet_report, NULL) != LOY_OK)
		return -1;
	if (signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL, in(dir, "wwdr.pem"),
			    &signer) != LOY_OK)
		return -1;
	if (!pass_color_parse("#1f2937", &bg) || !pass_color_parse("#ffffff", &fg) ||
	    !pass_color_parse("#d1d5db", &label))
		return -1;
	return pass_png_defaults(&images, bg, fg, label) == LOY_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pass_png_release(&images);
	signer_close(signer);
	return run("rm -rf %s", dir);
}

/* ---- the bundle ------------------------------------------------------------------------------ */

/* A time as zipinfo -T shows a zip entry's: local time, "20250101.000000". */
static const char *zip_time_of(int64_t ms)
{
	static char out[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, sizeof(out), "%Y%m%d.%H%M%S", &tm);
	return out;
}

static void test_bundle_files(void **state)
{
	struct pass_input p = sample();
	char out[4096];

	(void)state;
	build_and_unzip(&p, "a");
	/* exactly these files, in this order: no directories, no .DS_Store */
	output_of(out, sizeof(out), "zipinfo -1 %s", in(dir, "a.pkpass"));
	assert_string_equal(out, "pass.json\nicon.png\nicon@2x.png\nicon@3x.png\nlogo.png\n"
				 "logo@2x.png\nlogo@3x.png\nstrip.png\nstrip@2x.png\nstrip@3x.png\n"
				 "manifest.json\nsignature\n");
	output_of(out, sizeof(out), "cd %s && find . | LC_ALL=C sort | tr '\\n' ' '", in(dir, "a"));
	assert_string_equal(out,
			    ". ./icon.png ./icon@2x.png ./icon@3x.png ./logo.png ./logo@2x.png "
			    "./logo@3x.png ./manifest.json ./pass.json ./signature ./strip.png "
			    "./strip@2x.png ./strip@3x.png ");
	/* every file stored, its time updated_at (zip times are local) */
	output_of(out, sizeof(out), "zipinfo -T %s | grep -c ' stor %s '", in(dir, "a.pkpass"),
		  zip_time_of(p.updated_at));
	assert_string_equal(out, "12\n");
	assert_int_equal(run("unzip -tq %s", in(dir, "a.pkpass")), 0);
}

static void test_manifest_matches_files(void **state)
{
	struct pass_input p = sample();
	json_t *m, *v;
	const char *name;
	char out[256];
	size_t n;

	(void)state;
	build_and_unzip(&p, "m");
	m = json_load_file(in(dir, "m/manifest.json"), 0, NULL);
	assert_true(json_is_object(m));
	/* every file but manifest.json and signature, with its SHA-1 as sha1sum computes it */
	assert_int_equal(json_object_size(m), 10);
	assert_null(json_object_get(m, "manifest.json"));
	assert_null(json_object_get(m, "signature"));
	json_object_foreach(m, name, v)
	{
		output_of(out, sizeof(out), "sha1sum %s/m/%s", dir, name);
		assert_int_equal(strlen(json_string_value(v)), 40);
		assert_memory_equal(out, json_string_value(v), 40);
	}
	output_of(out, sizeof(out), "ls -A %s/m | wc -l", dir);
	n = strtoul(out, NULL, 10);
	assert_int_equal(n, json_object_size(m) + 2);
	json_decref(m);
}

static void test_signature_verifies(void **state)
{
	struct pass_input p = sample();
	char out[16384];
	FILE *f;

	(void)state;
	build_and_unzip(&p, "s");
	assert_int_equal(run("openssl cms -verify -binary -inform DER -in %s/s/signature -content "
			     "%s/s/manifest.json -CAfile %s -purpose any -out /dev/null",
			     dir, dir, in(dir, "ca.pem")),
			 0);
	assert_int_equal(run("openssl smime -verify -binary -inform DER -in %s/s/signature "
			     "-content %s/s/manifest.json -CAfile %s -purpose any -out /dev/null",
			     dir, dir, in(dir, "ca.pem")),
			 0);
	/* the pass certificate and the WWDR stand-in travel in it; it is detached */
	output_of(out, sizeof(out),
		  "openssl pkcs7 -inform DER -in %s/s/signature -print_certs -noout", dir);
	assert_non_null(strstr(out, "subject=UID = pass.dev.loy.demo"));
	assert_non_null(strstr(out, "OU = G4"));
	output_of(out, sizeof(out), "openssl cms -cmsout -print -inform DER -in %s/s/signature",
		  dir);
	assert_non_null(strstr(out, "eContent: <ABSENT>"));
	assert_non_null(strstr(out, "signingTime"));
	/* a changed manifest no longer verifies */
	f = fopen(in(dir, "s/manifest.json"), "ab");
	assert_non_null(f);
	assert_int_equal(fputc(' ', f), ' ');
	assert_int_equal(fclose(f), 0);
	assert_int_not_equal(
		run("openssl cms -verify -binary -inform DER -in %s/s/signature "
		    "-content %s/s/manifest.json -CAfile %s -purpose any -out /dev/null",
		    dir, dir, in(dir, "ca.pem")),
		0);
}

/* ---- pass.json --------------------------------------------------------------------------- */

static void test_json_required_keys(void **state)
{
	struct pass_input p = sample();
	json_t *j, *bc;

	(void)state;
	build_and_unzip(&p, "j");
	j = json_load_file(in(dir, "j/pass.json"), 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "formatVersion")), 1);
	assert_true(json_is_integer(json_object_get(j, "formatVersion")));
	assert_string_equal(json_string_value(json_object_get(j, "passTypeIdentifier")),
			    signer_pass_type_id(signer));
	assert_string_equal(json_string_value(json_object_get(j, "teamIdentifier")),
			    signer_team_id(signer));
	assert_string_equal(json_string_value(json_object_get(j, "serialNumber")), "c-42.x_Y");
	assert_string_equal(json_string_value(json_object_get(j, "organizationName")),
			    "Кофейня «Зерно»");
	assert_non_null(json_string_value(json_object_get(j, "description")));
	assert_string_equal(json_string_value(json_object_get(j, "logoText")), "Зерно");
	assert_true(json_is_object(json_object_get(j, "storeCard")));
	/* exactly one style key */
	assert_null(json_object_get(j, "generic"));
	assert_null(json_object_get(j, "coupon"));
	assert_null(json_object_get(j, "boardingPass"));
	assert_null(json_object_get(j, "eventTicket"));
	/* the web service: no trailing slash; the token as given, >= 16 */
	assert_string_equal(json_string_value(json_object_get(j, "webServiceURL")),
			    "https://loy.example.ru/wallet");
	assert_true(strlen(json_string_value(json_object_get(j, "authenticationToken"))) >= 16);
	/* colours as CSS rgb() */
	assert_string_equal(json_string_value(json_object_get(j, "backgroundColor")),
			    "rgb(31, 41, 55)");
	assert_string_equal(json_string_value(json_object_get(j, "foregroundColor")),
			    "rgb(255, 255, 255)");
	assert_string_equal(json_string_value(json_object_get(j, "labelColor")),
			    "rgb(209, 213, 219)");
	/* one QR code with the card number; no deprecated singular barcode */
	bc = json_object_get(j, "barcodes");
	assert_int_equal(json_array_size(bc), 1);
	bc = json_array_get(bc, 0);
	assert_string_equal(json_string_value(json_object_get(bc, "format")), "PKBarcodeFormatQR");
	assert_string_equal(json_string_value(json_object_get(bc, "message")), card_no);
	assert_string_equal(json_string_value(json_object_get(bc, "messageEncoding")),
			    "iso-8859-1");
	assert_string_equal(json_string_value(json_object_get(bc, "altText")), "123 456 782");
	assert_null(json_object_get(j, "barcode"));
	assert_null(json_object_get(j, "voided"));
	json_decref(j);
}

static void test_json_fields(void **state)
{
	struct pass_input p = sample();
	json_t *j = build_json(&p), *all = all_fields(j), *f, *bal;
	size_t i, k;

	(void)state;
	/* keys unique across the whole pass; every changeMessage has %@ */
	json_array_foreach(all, i, f)
	{
		const char *key = json_string_value(json_object_get(f, "key"));
		json_t *cm = json_object_get(f, "changeMessage");
		assert_non_null(key);
		assert_non_null(json_object_get(f, "value"));
		assert_non_null(json_string_value(json_object_get(f, "label")));
		if (cm)
			assert_non_null(strstr(json_string_value(cm), "%@"));
		for (k = i + 1; k < json_array_size(all); k++)
			assert_string_not_equal(key, json_string_value(json_object_get(
							     json_array_get(all, k), "key")));
	}
	assert_int_equal(json_array_size(all), 10);
	/* the layout */
	assert_string_equal(section_of(j, "primaryFields", 0), "balance");
	assert_string_equal(section_of(j, "secondaryFields", 0), "name");
	assert_string_equal(section_of(j, "secondaryFields", 1), "tier");
	assert_string_equal(section_of(j, "auxiliaryFields", 0), "card");
	assert_string_equal(section_of(j, "backFields", 0), "news");
	/* balance: a number, with its change message */
	bal = field_by_key(j, "balance");
	assert_true(json_is_integer(json_object_get(bal, "value")));
	assert_int_equal(json_integer_value(json_object_get(bal, "value")), 1250);
	assert_string_equal(json_string_value(json_object_get(bal, "label")), "Баланс");
	assert_string_equal(json_string_value(json_object_get(bal, "changeMessage")), "Баланс: %@");
	assert_string_equal(
		json_string_value(json_object_get(field_by_key(j, "tier"), "changeMessage")),
		"Уровень: %@");
	assert_string_equal(
		json_string_value(json_object_get(field_by_key(j, "news"), "changeMessage")), "%@");
	assert_string_equal(
		json_string_value(json_object_get(field_by_key(j, "terms"), "value")),
		"1 балл за каждые 100 ₽.\nhttps://zerno.example.ru/terms");
	assert_string_equal(json_string_value(json_object_get(field_by_key(j, "card"), "value")),
			    "123 456 782");
	json_decref(all);
	json_decref(j);
}

static void test_json_optional_parts(void **state)
{
	struct pass_input p = sample();
	json_t *j;

	(void)state;
	/* a blocked customer's pass is voided */
	p.voided = true;
	j = build_json(&p);
	assert_true(json_is_true(json_object_get(j, "voided")));
	json_decref(j);

	/* nothing optional: no tier, news, contacts, terms, logoText, locations */
	p = sample();
	p.tier = NULL, p.news = "", p.phone = p.email = p.website = p.address = NULL;
	p.terms_text = NULL, p.terms_url = NULL, p.logo_text = NULL, p.nlocations = 0;
	j = build_json(&p);
	assert_null(field_by_key(j, "tier"));
	assert_null(field_by_key(j, "news"));
	assert_null(field_by_key(j, "terms"));
	assert_null(field_by_key(j, "phone"));
	assert_null(json_object_get(j, "logoText"));
	assert_null(json_object_get(j, "locations"));
	assert_non_null(field_by_key(j, "balance"));
	json_decref(j);

	/* the terms link alone */
	p.terms_url = "https://zerno.example.ru/terms";
	j = build_json(&p);
	assert_string_equal(json_string_value(json_object_get(field_by_key(j, "terms"), "value")),
			    "https://zerno.example.ru/terms");
	json_decref(j);

	/* the template hides the balance and the QR code */
	p = sample();
	p.hide_balance = true, p.hide_barcode = true;
	j = build_json(&p);
	assert_null(field_by_key(j, "balance"));
	assert_string_equal(section_of(j, "primaryFields", 0), "name");
	assert_null(json_object_get(j, "barcodes"));
	assert_non_null(field_by_key(j, "card"));
	json_decref(j);
}

/* pass.json is written by pass.c's own JSON writer: every text comes back through jansson exactly
 * as given, whatever it holds. */
static void test_json_escaping(void **state)
{
	static const char *const texts[] = {
		"\"quoted\" \\back\\slash\\",
		"tab\tnew\nline\r\nend",
		"</script><!--",
		"ёжик 🦔 «ёлка» — ∑",
		"\\u0000 is not a NUL",
		"/slash/",
		"\\",
		"\"",
	};
	struct pass_location l[1] = { { 1, 2, NULL } };
	struct pass_input p = sample();
	char text[64];
	const char *why = NULL;
	uint32_t x = 7;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]) + 200; i++) {
		const char *t = texts[i % (sizeof(texts) / sizeof(texts[0]))];
		if (i >= sizeof(texts) / sizeof(texts[0])) { /* random printable ASCII, \t \n \r */
			size_t n = 1 + i % 60;
			for (size_t k = 0; k < n; k++) {
				x = x * 1103515245u + 12345u;
				text[k] = (char)((x >> 16) % 98 + 29);
				text[k] = text[k] < 32 ? "\t\n\r"[text[k] % 3] : text[k];
			}
			text[n] = '\0';
			t = text;
		}
		p.customer_name = p.news = p.organization = p.logo_text = t;
		l[0].relevant_text = t;
		p.locations = l, p.nlocations = 1;
		j = build_json(&p);
		assert_string_equal(
			json_string_value(json_object_get(field_by_key(j, "name"), "value")), t);
		assert_string_equal(
			json_string_value(json_object_get(field_by_key(j, "news"), "value")), t);
		assert_string_equal(json_string_value(json_object_get(j, "organizationName")), t);
		assert_string_equal(json_string_value(json_object_get(j, "logoText")), t);
		assert_string_equal(json_string_value(json_object_get(
					    json_array_get(json_object_get(j, "locations"), 0),
					    "relevantText")),
				    t);
		json_decref(j);
	}
	/* a control character other than \t \n \r never gets in */
	p.news = "bell\a";
	assert_int_equal(pass_input_check(&p, &why), LOY_EINVALID);
	assert_non_null(strstr(why, "news"));
}

/* The value of a JSON number token as an exact count of millionths; false unless exact. */
static bool micro_of(const char *tok, int64_t *out)
{
	int64_t mant = 0;
	int scale = 0, exp10 = 0, sign = 1;
	const char *s = tok;
	bool frac = false;

	if (*s == '-')
		sign = -1, s++;
	for (; (*s >= '0' && *s <= '9') || *s == '.'; s++) {
		if (*s == '.') {
			frac = true;
			continue;
		}
		mant = mant * 10 + (*s - '0');
		scale += frac;
	}
	if (*s == 'e' || *s == 'E')
		exp10 = (int)strtol(s + 1, NULL, 10);
	exp10 += 6 - scale; /* millionths = mant * 10^exp10 */
	for (; exp10 > 0; exp10--)
		mant *= 10;
	for (; exp10 < 0; exp10++) {
		if (mant % 10)
			return false;
		mant /= 10;
	}
	*out = sign * mant;
	return true;
}

/* Coordinates are written exactly from their integers, whatever the value. */
static void test_locations_exact(void **state)
{
	struct pass_location l[64];
	struct pass_input p = sample();
	char *text = NULL, *at;
	size_t len, n = 0;
	uint32_t x = 12345;
	static const int32_t edges[] = { 0,	     1,		-1,	  10,	     99,
					 100,	     123456,	999999,	  1000000,   -1000001,
					 90000000,   -90000000, 89999999, 100000000, 179999999,
					 -180000000, 180000000, 37617300, 55755826 };

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		l[n++] = (struct pass_location){ edges[i] % 90000001, edges[i], NULL };
	while (n < 64) {
		x = x * 1103515245u + 12345u;
		l[n++] = (struct pass_location){ (int32_t)(x % 180000001u) - 90000000,
						 (int32_t)(x % 360000001u) - 180000000, NULL };
	}
	p.locations = l;
	for (size_t base = 0; base < 64; base += PASS_LOCATIONS_MAX) {
		p.locations = l + base;
		p.nlocations = base + PASS_LOCATIONS_MAX <= 64 ? PASS_LOCATIONS_MAX : 64 - base;
		assert_int_equal(pass_build_json(&p, &text, &len), LOY_OK);
		at = text;
		for (size_t i = 0; i < p.nlocations; i++) {
			int64_t lat, lon;
			at = strstr(at, "\"latitude\":");
			assert_non_null(at);
			assert_true(micro_of(at + 11, &lat));
			at = strstr(at, "\"longitude\":");
			assert_non_null(at);
			assert_true(micro_of(at + 12, &lon));
			assert_int_equal(lat, p.locations[i].latitude_e6);
			assert_int_equal(lon, p.locations[i].longitude_e6);
		}
		free(text);
	}
	/* as a reader sees them */
	p = sample();
	assert_int_equal(pass_build_json(&p, &text, &len), LOY_OK);
	assert_non_null(strstr(text, "{\"latitude\":55.755826,\"longitude\":37.6173,"
				     "\"relevantText\":\"Кофейня на Тверской рядом\"}"));
	assert_non_null(strstr(text, "{\"latitude\":-33.8688,\"longitude\":151.2093}"));
	free(text);
}

/* Apple allows 10 locations: the first 10 are kept and the rest dropped (pass.h says why). */
static void test_locations_limit(void **state)
{
	struct pass_location l[PASS_LOCATIONS_MAX + 1];
	struct pass_input p = sample();
	json_t *j, *locs;
	char h10[PASS_CONTENT_HASH_LEN + 1], h11[PASS_CONTENT_HASH_LEN + 1];

	(void)state;
	for (int i = 0; i <= PASS_LOCATIONS_MAX; i++)
		l[i] = (struct pass_location){ 55000000 + i, 37000000 + i, "рядом" };
	p.locations = l;
	p.nlocations = PASS_LOCATIONS_MAX; /* N */
	j = build_json(&p);
	assert_int_equal(json_array_size(json_object_get(j, "locations")), PASS_LOCATIONS_MAX);
	json_decref(j);
	assert_int_equal(pass_content_hash(&p, h10), LOY_OK);
	p.nlocations = PASS_LOCATIONS_MAX + 1; /* N + 1 */
	j = build_json(&p);
	locs = json_object_get(j, "locations");
	assert_int_equal(json_array_size(locs), PASS_LOCATIONS_MAX);
	assert_true(json_real_value(json_object_get(json_array_get(locs, 9), "latitude")) ==
		    55.000009);
	json_decref(j);
	/* the dropped one is not part of what the pass shows */
	assert_int_equal(pass_content_hash(&p, h11), LOY_OK);
	assert_string_equal(h10, h11);
	/* an out-of-range coordinate is refused among the kept ones, not looked at among the
	 * dropped ones */
	l[3].latitude_e6 = PASS_LATITUDE_MAX + 1;
	assert_int_equal(pass_content_hash(&p, h11), LOY_EINVALID);
	l[3].latitude_e6 = PASS_LATITUDE_MAX;
	l[3].longitude_e6 = -PASS_LONGITUDE_MAX - 1;
	assert_int_equal(pass_content_hash(&p, h11), LOY_EINVALID);
	l[3].longitude_e6 = -PASS_LONGITUDE_MAX;
	l[PASS_LOCATIONS_MAX].latitude_e6 = PASS_LATITUDE_MAX + 1;
	assert_int_equal(pass_content_hash(&p, h11), LOY_OK);
}

/* ---- input checks ------------------------------------------------------------------------ */

static void expect_refused(const struct pass_input *p, const char *because)
{
	const char *why = NULL;
	char *text = NULL;
	size_t len;

	assert_int_equal(pass_input_check(p, &why), LOY_EINVALID);
	assert_non_null(why);
	if (because && !strstr(why, because))
		fail_msg("refused for \"%s\", expected \"%s\"", why, because);
	assert_int_equal(pass_build_json(p, &text, &len), LOY_EINVALID);
	assert_null(text);
}

static void expect_ok(const struct pass_input *p)
{
	const char *why = "unset";

	if (pass_input_check(p, &why) != LOY_OK)
		fail_msg("refused: %s", why);
	assert_null(why);
}

static void test_input_refusals(void **state)
{
	char token[PASS_AUTH_TOKEN_MAX + 2], serial[PASS_SERIAL_MAX + 2];
	struct pass_images none = { 0 };
	struct pass_input p = sample();

	(void)state;
	expect_ok(&p);
	/* the authentication token: 16..128 (N and N+1 both ends) */
	memset(token, 'k', sizeof(token));
	token[PASS_AUTH_TOKEN_MIN] = '\0';
	p.auth_token = token;
	expect_ok(&p);
	token[PASS_AUTH_TOKEN_MIN - 1] = '\0';
	expect_refused(&p, "authenticationToken");
	memset(token, 'k', sizeof(token));
	token[PASS_AUTH_TOKEN_MAX] = '\0';
	expect_ok(&p);
	token[PASS_AUTH_TOKEN_MAX] = 'k', token[PASS_AUTH_TOKEN_MAX + 1] = '\0';
	expect_refused(&p, "authenticationToken");
	p.auth_token = "0123456789 abcdef"; /* a space cannot travel in the header */
	expect_refused(&p, "authenticationToken");
	p.auth_token = NULL;
	expect_refused(&p, "authenticationToken");

	/* the serial number: 64 of [A-Za-z0-9._-] */
	p = sample();
	memset(serial, 'S', sizeof(serial));
	serial[PASS_SERIAL_MAX] = '\0';
	p.serial = serial;
	expect_ok(&p);
	serial[PASS_SERIAL_MAX] = 'S', serial[PASS_SERIAL_MAX + 1] = '\0';
	expect_refused(&p, "serialNumber");
	p.serial = "../etc";
	expect_refused(&p, "serialNumber");
	p.serial = "";
	expect_refused(&p, "serialNumber");

	/* webServiceURL: http(s), no query or fragment; trailing slashes stripped */
	p = sample();
	p.web_service_url = "http://127.0.0.1:8080";
	expect_ok(&p);
	p.web_service_url = "https://loy.example.ru/wallet///";
	expect_ok(&p);
	p.web_service_url = "https://loy.example.ru/wallet?x=1";
	expect_refused(&p, "webServiceURL");
	p.web_service_url = "ftp://loy.example.ru";
	expect_refused(&p, "webServiceURL");
	p.web_service_url = "https:///";
	expect_refused(&p, "webServiceURL");
	p.web_service_url = NULL;
	expect_refused(&p, "webServiceURL");

	/* colours */
	p = sample();
	p.background_color = "#12345g";
	expect_refused(&p, "backgroundColor");
	p.background_color = "rgb(1, 2, 3)";
	expect_refused(&p, "backgroundColor");
	p = sample();
	p.label_color = NULL;
	expect_refused(&p, "labelColor");

	/* required texts, UTF-8, links */
	p = sample();
	p.organization = "";
	expect_refused(&p, "organizationName");
	p = sample();
	p.description = NULL;
	expect_refused(&p, "description");
	p = sample();
	p.customer_name = "\xd0"; /* half a Cyrillic letter */
	expect_refused(&p, "name");
	p = sample();
	p.terms_url = "javascript:alert(1)";
	expect_refused(&p, "termsUrl");
	p = sample();
	p.card_number = "1234 5678";
	expect_refused(&p, "card number");
	p.card_number = NULL;
	expect_refused(&p, "card number");

	/* icon.png is required */
	p = sample();
	p.images = &none;
	expect_refused(&p, "icon.png");
	p.images = NULL;
	expect_refused(&p, "icon.png");
	p = sample();
	p.nlocations = 2, p.locations = NULL;
	expect_refused(&p, "locations");
}

/* The pass type and team must be the signing certificate's (Apple's "common problems"). */
static void test_signer_mismatch(void **state)
{
	struct pass_input p = sample();
	unsigned char *zip = (unsigned char *)"untouched";
	size_t len = 0;

	(void)state;
	p.team_id = "OTHERTEAM1";
	assert_int_equal(pass_build_pkpass(signer, &p, &zip, &len, NULL), LOY_EINVALID);
	assert_string_equal((char *)zip, "untouched");
	p = sample();
	p.pass_type_id = "pass.dev.loy.other";
	assert_int_equal(pass_build_pkpass(signer, &p, &zip, &len, NULL), LOY_EINVALID);
	/* invalid input is refused before the signer is asked */
	p = sample();
	p.auth_token = "short";
	assert_int_equal(pass_build_pkpass(signer, &p, &zip, &len, NULL), LOY_EINVALID);
	assert_int_equal(len, 0);
}

/* ---- content hash ------------------------------------------------------------------------ */

static void test_content_hash(void **state)
{
	struct pass_input p = sample();
	char a[PASS_CONTENT_HASH_LEN + 1], b[PASS_CONTENT_HASH_LEN + 1];
	char built[PASS_CONTENT_HASH_LEN + 1];
	struct pass_images other = images;
	unsigned char *zip = NULL;
	size_t len;

	(void)state;
	assert_int_equal(pass_content_hash(&p, a), LOY_OK);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	/* the same input twice, and a build, give the same hash */
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_equal(a, b);
	assert_int_equal(pass_build_pkpass(signer, &p, &zip, &len, built), LOY_OK);
	free(zip);
	assert_string_equal(a, built);
	/* updated_at is not shown */
	p.updated_at += 86400000;
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_equal(a, b);
	/* the balance is */
	p = sample();
	p.balance++;
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_not_equal(a, b);
	/* so are news, the blocked state, the colours and the images */
	p = sample();
	p.news = "Другая новость";
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_not_equal(a, b);
	p = sample();
	p.voided = true;
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_not_equal(a, b);
	p = sample();
	p.label_color = "#d1d5dc";
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_not_equal(a, b);
	p = sample();
	other.png[PASS_PNG_STRIP_3X].len = 0;
	p.images = &other;
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_not_equal(a, b);
	/* an image whose sha1 was not computed hashes the same once computed */
	other = images;
	other.png[PASS_PNG_LOGO].sha1[0] = '\0';
	assert_int_equal(pass_content_hash(&p, b), LOY_OK);
	assert_string_equal(a, b);
	/* invalid input: refused */
	p.serial = "";
	assert_int_equal(pass_content_hash(&p, b), LOY_EINVALID);
}

static void test_deterministic(void **state)
{
	struct pass_input p = sample();
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2;

	(void)state;
	assert_int_equal(pass_build_json(&p, &t1, &l1), LOY_OK);
	assert_int_equal(pass_build_json(&p, &t2, &l2), LOY_OK);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
	/* two builds differ only in their signatures */
	build_and_unzip(&p, "d1");
	build_and_unzip(&p, "d2");
	assert_int_equal(run("cd %s && cmp d1/pass.json d2/pass.json && cmp d1/manifest.json "
			     "d2/manifest.json && cmp d1/strip@3x.png d2/strip@3x.png",
			     dir),
			 0);
}

/* ---- images ------------------------------------------------------------------------------ */

static void test_default_images(void **state)
{
	static const unsigned want[PASS_PNG_SLOTS][2] = {
		{ 29, 29 },   { 58, 58 },   { 87, 87 },	  { 50, 50 },	 { 100, 100 },
		{ 150, 150 }, { 375, 144 }, { 750, 288 }, { 1125, 432 },
	};
	struct pass_images again = { 0 }, partial = { 0 };
	struct pass_rgb bg = { 31, 41, 55 }, fg = { 255, 255, 255 }, label = { 209, 213, 219 };
	size_t total = 0;
	char sha1[SHA1_HEX_LEN + 1];

	(void)state;
	for (int s = 0; s < PASS_PNG_SLOTS; s++) {
		const struct pass_png *png = &images.png[s];
		unsigned w = 0, h = 0;
		const char *why = NULL;
		assert_true(png->len > 0);
		assert_true(png_decode(png->data, png->len, &w, &h));
		assert_int_equal(w, want[s][0]);
		assert_int_equal(h, want[s][1]);
		assert_true(w <= pass_png_spec(s)->width && h <= pass_png_spec(s)->height);
		assert_int_equal(pass_png_check(png->data, png->len, s, &why), LOY_OK);
		digest_sha1_hex(png->data, png->len, sha1);
		assert_string_equal(png->sha1, sha1);
		total += png->len;
	}
	/* plain shapes compress to little: the whole set is a small part of every pass */
	assert_true(total < 24 * 1024);
	/* the same colours draw the same bytes */
	assert_int_equal(pass_png_defaults(&again, bg, fg, label), LOY_OK);
	for (int s = 0; s < PASS_PNG_SLOTS; s++)
		assert_string_equal(again.png[s].sha1, images.png[s].sha1);
	assert_int_equal(pass_png_defaults(&again, bg, fg, label), LOY_EINVALID); /* once only */
	pass_png_release(&again);
	assert_null(again.owned);
	assert_int_equal(again.png[0].len, 0);
	/* a template's own logo is kept; only the kinds it lacks are drawn */
	partial.png[PASS_PNG_LOGO_2X] = images.png[PASS_PNG_ICON_3X];
	partial.png[PASS_PNG_LOGO_2X].sha1[0] = '\0';
	assert_int_equal(pass_png_defaults(&partial, fg, bg, label), LOY_OK);
	assert_ptr_equal(partial.png[PASS_PNG_LOGO_2X].data, images.png[PASS_PNG_ICON_3X].data);
	assert_int_equal(partial.png[PASS_PNG_LOGO].len, 0);
	assert_int_equal(partial.png[PASS_PNG_LOGO_3X].len, 0);
	assert_true(partial.png[PASS_PNG_ICON].len > 0);
	assert_string_not_equal(partial.png[PASS_PNG_ICON].sha1, images.png[PASS_PNG_ICON].sha1);
	assert_string_equal(partial.png[PASS_PNG_LOGO_2X].sha1, "");
	pass_png_digest(&partial);
	assert_string_equal(partial.png[PASS_PNG_LOGO_2X].sha1, images.png[PASS_PNG_ICON_3X].sha1);
	pass_png_release(&partial);
}

static void expect_png(const void *buf, size_t len, enum pass_png_slot slot, enum loy_err err)
{
	const char *why = NULL;
	enum loy_err got = pass_png_check(buf, len, slot, &why);

	if (got != err)
		fail_msg("pass_png_check: %s (%s), expected %s", err_name(got), why ? why : "-",
			 err_name(err));
	if (err != LOY_OK)
		assert_non_null(why);
}

static void test_png_check(void **state)
{
	const struct pass_png *icon = &images.png[PASS_PNG_ICON];
	size_t max = pass_png_spec(PASS_PNG_ICON)->max_bytes, len;
	unsigned char *png, *bad;

	(void)state;
	expect_png(icon->data, icon->len, PASS_PNG_ICON, LOY_OK);
	expect_png(icon->data, icon->len, PASS_PNG_STRIP_3X, LOY_OK); /* smaller is fine */
	/* truncated anywhere: the end, mid-IDAT, the signature alone, nothing */
	expect_png(icon->data, icon->len - 1, PASS_PNG_ICON, LOY_EMEDIA);
	expect_png(icon->data, icon->len - 12, PASS_PNG_ICON, LOY_EMEDIA); /* no IEND */
	expect_png(icon->data, icon->len / 2, PASS_PNG_ICON, LOY_EMEDIA);
	expect_png(icon->data, 8, PASS_PNG_ICON, LOY_EMEDIA);
	expect_png(icon->data, 0, PASS_PNG_ICON, LOY_EMEDIA);
	/* wrong magic, a damaged byte (CRC), something after IEND */
	bad = malloc(icon->len + 1);
	assert_non_null(bad);
	memcpy(bad, icon->data, icon->len);
	bad[1] = 'Q';
	expect_png(bad, icon->len, PASS_PNG_ICON, LOY_EMEDIA);
	memcpy(bad, icon->data, icon->len);
	bad[icon->len / 2] ^= 0x40;
	expect_png(bad, icon->len, PASS_PNG_ICON, LOY_EMEDIA);
	memcpy(bad, icon->data, icon->len);
	bad[icon->len] = '\n';
	expect_png(bad, icon->len + 1, PASS_PNG_ICON, LOY_EMEDIA);
	free(bad);
	expect_png("GIF89a\x01\x00\x01\x00\x00\x00\x00", 13, PASS_PNG_ICON, LOY_EMEDIA);

	/* bytes: exactly the slot's cap is accepted, one more is not (N, N+1) */
	bad = pad_png(icon->data, icon->len, max);
	expect_png(bad, max, PASS_PNG_ICON, LOY_OK);
	free(bad);
	bad = pad_png(icon->data, icon->len, max + 1);
	expect_png(bad, max + 1, PASS_PNG_ICON, LOY_ETOOBIG);
	free(bad);

	/* pixels: the slot's allotted size is accepted, a pixel more either way is not */
	png = make_png(29, 29, false, &len);
	expect_png(png, len, PASS_PNG_ICON, LOY_OK);
	free(png);
	png = make_png(30, 29, false, &len);
	expect_png(png, len, PASS_PNG_ICON, LOY_EINVALID);
	free(png);
	png = make_png(29, 30, false, &len);
	expect_png(png, len, PASS_PNG_ICON, LOY_EINVALID);
	expect_png(png, len, PASS_PNG_ICON_2X, LOY_OK);
	free(png);
	png = make_png(1125, 432, false, &len);
	expect_png(png, len, PASS_PNG_STRIP_3X, LOY_OK);
	expect_png(png, len, PASS_PNG_STRIP_2X,
		   len > pass_png_spec(PASS_PNG_STRIP_2X)->max_bytes ? LOY_ETOOBIG : LOY_EINVALID);
	free(png);
	png = make_png(1126, 10, false, &len);
	expect_png(png, len, PASS_PNG_STRIP_3X, LOY_EINVALID);
	free(png);
	png = make_png(480, 150, true, &len); /* 16 bits per channel */
	expect_png(png, len, PASS_PNG_LOGO_3X, LOY_OK);
	free(png);
	png = make_png(160, 51, false, &len);
	expect_png(png, len, PASS_PNG_LOGO, LOY_EINVALID);
	free(png);
}

/* ---- threads ----------------------------------------------------------------------------- */

#define THREADS 4
#define BUILDS_PER_THREAD 10

struct worker {
	char want[PASS_CONTENT_HASH_LEN + 1];
	int good;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct pass_input p = sample();

	for (int i = 0; i < BUILDS_PER_THREAD; i++) {
		char got[PASS_CONTENT_HASH_LEN + 1];
		unsigned char *zip = NULL;
		size_t len;
		if (pass_build_pkpass(signer, &p, &zip, &len, got) == LOY_OK &&
		    strcmp(got, w->want) == 0 && len > 1000)
			w->good++;
		free(zip);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct pass_input p = sample();
	struct worker w[THREADS];
	pthread_t t[THREADS];
	char want[PASS_CONTENT_HASH_LEN + 1];

	(void)state;
	assert_int_equal(pass_content_hash(&p, want), LOY_OK);
	for (int i = 0; i < THREADS; i++) {
		memcpy(w[i].want, want, sizeof(want));
		w[i].good = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].good, BUILDS_PER_THREAD);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_files),
		cmocka_unit_test(test_manifest_matches_files),
		cmocka_unit_test(test_signature_verifies),
		cmocka_unit_test(test_json_required_keys),
		cmocka_unit_test(test_json_fields),
		cmocka_unit_test(test_json_optional_parts),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_locations_exact),
		cmocka_unit_test(test_locations_limit),
		cmocka_unit_test(test_input_refusals),
		cmocka_unit_test(test_signer_mismatch),
		cmocka_unit_test(test_content_hash),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_default_images),
		cmocka_unit_test(test_png_check),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
