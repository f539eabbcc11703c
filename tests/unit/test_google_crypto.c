/* The Google Wallet cryptography: the service account (crypto/google_sa) and the save/delete
 * callbacks (crypto/google_callback).
 *
 * JWTs are checked from the outside: split at the dots, decoded with OpenSSL's own base64 (not
 * ours), the signature verified with OpenSSL against the public half of a key made here. Key files
 * are written in a temporary directory from an RSA key made with OpenSSL, then spoiled one way at
 * a time. Callbacks are signed by tests/fakes/google_callback_sign.js, node:crypto's ECDSA — an
 * implementation that is not ours — and then tampered with one way at a time.
 *
 * The callback tests need node; without it they are not run and the test reports itself skipped
 * (exit 77) after the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/google_callback.h"
#include "crypto/google_sa.h"
#include "support.h"

#define EMAIL "loy-wallet@loy-test-123456.iam.gserviceaccount.com"
#define KEY_ID "0f3d2c1b4a5968778695a4b3c2d1e0f9a8b7c6d5" /* 40 hex, like Google's */
#define TOKEN_URI "https://oauth2.googleapis.com/token"
#define ISSUER "3388000000022212345"
#define NOW_S 1780000000LL
#define NOW_MS (NOW_S * 1000)
#define DAY_MS (86400 * 1000LL)

static char dir[64];
static char signer_js[512];
static EVP_PKEY *rsa_key;    /* the service account's key */
static struct google_sa *sa; /* loaded from dir/sa.json */

/* ---- helpers ------------------------------------------------------------------------------- */

static char *pem_of(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

/* Google's key file for key pem, as a JSON object (the caller's reference). */
static json_t *key_file(const char *pem)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
			 "service_account", "project_id", "loy-test-123456", "private_key_id",
			 KEY_ID, "private_key", pem, "client_email", EMAIL, "client_id",
			 "104000000000000000001", "auth_uri",
			 "https://accounts.google.com/o/oauth2/auth", "token_uri", TOKEN_URI,
			 "auth_provider_x509_cert_url",
			 "https://www.googleapis.com/oauth2/v1/certs", "universe_domain",
			 "googleapis.com");
}

static const char *write_json(const char *name, json_t *j)
{
	const char *path = in(dir, name);

	assert_int_equal(json_dump_file(j, path, JSON_INDENT(2)), 0);
	return path;
}

/* base64url without padding → bytes, with OpenSSL's decoder (standard alphabet, padded). */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *out_len)
{
	char *std = malloc(len + 4);
	unsigned char *out = malloc(len + 4);
	size_t n = len;
	int got;

	assert_non_null(std);
	assert_non_null(out);
	for (size_t i = 0; i < len; i++) {
		assert_true(s[i] != '=' && s[i] != '+' && s[i] != '/');
		std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	assert_int_not_equal(len % 4, 1);
	while (n % 4)
		std[n++] = '=';
	got = EVP_DecodeBlock(out, (unsigned char *)std, (int)n);
	assert_true(got >= 0);
	*out_len = (size_t)got - (n - len); /* EVP_DecodeBlock counts padding as zero bytes */
	free(std);
	return out;
}

struct jwt_parts {
	char *header, *claims; /* decoded, NUL-terminated */
	size_t claims_len;
	unsigned char *sig;
	size_t sig_len;
	size_t signed_len; /* header.claims */
};

static void jwt_split(const char *jwt, struct jwt_parts *p)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	size_t n;

	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	p->header = (char *)b64url_decode(jwt, (size_t)(d1 - jwt), &n);
	p->header[n] = '\0';
	p->claims = (char *)b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &p->claims_len);
	p->claims[p->claims_len] = '\0';
	p->sig = b64url_decode(d2 + 1, strlen(d2 + 1), &p->sig_len);
	p->signed_len = (size_t)(d2 - jwt);
}

static void jwt_free(struct jwt_parts *p)
{
	free(p->header);
	free(p->claims);
	free(p->sig);
}

/* Whether sig is an RS256 signature of data by the test key, by OpenSSL. */
static bool rs256_ok(const void *data, size_t len, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, rsa_key) == 1 &&
		  EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Splits jwt, checks its header and signature; the claims parsed (the caller's reference). */
static json_t *jwt_check(const char *jwt)
{
	struct jwt_parts p;
	json_t *claims;

	jwt_split(jwt, &p);
	assert_string_equal(p.header, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" KEY_ID "\"}");
	assert_int_equal(p.sig_len, 256);
	assert_true(rs256_ok(jwt, p.signed_len, p.sig, p.sig_len));
	claims = json_loads(p.claims, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(claims);
	jwt_free(&p);
	return claims;
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR"), *why = NULL;
	json_t *kf;
	char *pem;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/loy-gcrypto-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	rsa_key = EVP_RSA_gen(2048);
	if (!rsa_key)
		return -1;
	pem = pem_of(rsa_key);
	kf = key_file(pem);
	write_json("sa.json", kf);
	json_decref(kf);
	free(pem);
	if (google_sa_load(in(dir, "sa.json"), &sa, &why) != LOY_OK) {
		fprintf(stderr, "setup: %s\n", why);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	google_sa_close(sa);
	EVP_PKEY_free(rsa_key);
	return run("rm -rf %s", dir);
}

/* ---- JWTs ---------------------------------------------------------------------------------- */

static void test_sa_fields(void **state)
{
	(void)state;
	assert_string_equal(google_sa_email(sa), EMAIL);
	assert_string_equal(google_sa_key_id(sa), KEY_ID);
	assert_string_equal(google_sa_token_uri(sa), TOKEN_URI);
	google_sa_close(NULL);
}

static void test_sign_jwt(void **state)
{
	/* claims of every length modulo 3, so that each padding case of base64url is met */
	static const char *const claims[] = { "{}", "{\"a\":1}", "{\"ab\":1}", "{\"abc\":1}",
					      "{\"x\":\"\xc3\xa9t\xc3\xa9 \\\"q\\\"\"}" };
	char *jwt = NULL, *again = NULL;
	struct jwt_parts p;

	(void)state;
	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		assert_int_equal(google_sa_sign_jwt(sa, claims[i], &jwt), LOY_OK);
		jwt_split(jwt, &p);
		assert_string_equal(p.header,
				    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" KEY_ID "\"}");
		assert_int_equal(p.claims_len, strlen(claims[i]));
		assert_memory_equal(p.claims, claims[i], p.claims_len);
		assert_int_equal(p.sig_len, 256);
		assert_true(rs256_ok(jwt, p.signed_len, p.sig, p.sig_len));
		/* the signature covers the header and the claims: one byte changed fails */
		jwt[p.signed_len - 2] ^= 1;
		assert_false(rs256_ok(jwt, p.signed_len, p.sig, p.sig_len));
		jwt[p.signed_len - 2] ^= 1;
		/* PKCS#1 v1.5 is deterministic */
		assert_int_equal(google_sa_sign_jwt(sa, claims[i], &again), LOY_OK);
		assert_string_equal(again, jwt);
		assert_null(strpbrk(jwt, "=+/ \n"));
		jwt_free(&p);
		free(jwt);
		free(again);
	}
	jwt = NULL;
	assert_int_equal(google_sa_sign_jwt(sa, NULL, &jwt), LOY_EINVALID);
	assert_null(jwt);
}

static void test_assertion_claims(void **state)
{
	char *jwt = NULL;
	json_t *c;

	(void)state;
	assert_int_equal(google_sa_assertion(sa, NOW_S, &jwt), LOY_OK);
	c = jwt_check(jwt);
	assert_int_equal(json_object_size(c), 5);
	assert_string_equal(json_string_value(json_object_get(c, "iss")), EMAIL);
	assert_string_equal(json_string_value(json_object_get(c, "scope")),
			    "https://www.googleapis.com/auth/wallet_object.issuer");
	assert_string_equal(json_string_value(json_object_get(c, "aud")), TOKEN_URI);
	assert_true(json_is_integer(json_object_get(c, "iat")));
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), NOW_S);
	assert_true(json_is_integer(json_object_get(c, "exp")));
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW_S + 3600);
	json_decref(c);
	free(jwt);
}

static void test_assertion_aud_is_token_uri(void **state)
{
	struct google_sa *local = NULL;
	const char *why = NULL;
	char *jwt = NULL, *pem = pem_of(rsa_key);
	json_t *kf = key_file(pem), *c;

	(void)state;
	json_object_set_new(kf, "token_uri", json_string("http://127.0.0.1:8931/token"));
	assert_int_equal(google_sa_load(write_json("local.json", kf), &local, &why), LOY_OK);
	assert_string_equal(google_sa_token_uri(local), "http://127.0.0.1:8931/token");
	assert_int_equal(google_sa_assertion(local, NOW_S, &jwt), LOY_OK);
	c = jwt_check(jwt);
	assert_string_equal(json_string_value(json_object_get(c, "aud")),
			    "http://127.0.0.1:8931/token");
	json_decref(c);
	json_decref(kf);
	free(jwt);
	free(pem);
	google_sa_close(local);
}

static void test_save_jwt_claims_and_size(void **state)
{
	const char *origins[] = { "https://loy.example.com", "https://www.loy.example.com" };
	char *jwt = NULL;
	json_t *c, *objs;
	size_t len;

	(void)state;
	/* A plain link (origins []) for realistic ids: spec 2.7 measured 734 characters with a
	 * header without "kid"; ours carries the 40-character kid, 54 characters more. */
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, ISSUER ".cust-1f3a9c2e7b5d4a60",
					    ISSUER ".tmpl-3-gold-card", NULL, 0, &jwt),
			 LOY_OK);
	len = strlen(jwt);
	print_message("save JWT, plain link: %zu characters\n", len);
	assert_in_range(len, 700, 820);
	free(jwt);
	/* with the origins of the registration page's button */
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, ISSUER ".cust-1f3a9c2e7b5d4a60",
					    ISSUER ".tmpl-3-gold-card", origins, 2, &jwt),
			 LOY_OK);
	len = strlen(jwt);
	print_message("save JWT, two origins: %zu characters\n", len);
	assert_in_range(len, 780, 900);
	c = jwt_check(jwt);
	assert_int_equal(json_object_size(c), 6);
	assert_string_equal(json_string_value(json_object_get(c, "iss")), EMAIL);
	assert_string_equal(json_string_value(json_object_get(c, "aud")), "google");
	assert_string_equal(json_string_value(json_object_get(c, "typ")), "savetowallet");
	assert_true(json_is_integer(json_object_get(c, "iat")));
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), NOW_S);
	assert_null(json_object_get(c, "exp"));
	assert_int_equal(json_array_size(json_object_get(c, "origins")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "origins"), 1)),
			    "https://www.loy.example.com");
	assert_int_equal(json_object_size(json_object_get(c, "payload")), 1);
	objs = json_object_get(json_object_get(c, "payload"), "loyaltyObjects");
	assert_int_equal(json_array_size(objs), 1);
	assert_int_equal(json_object_size(json_array_get(objs, 0)), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 0), "id")),
			    ISSUER ".cust-1f3a9c2e7b5d4a60");
	assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 0), "classId")),
			    ISSUER ".tmpl-3-gold-card");
	json_decref(c);
	free(jwt);

	/* a plain link: no origins, an empty list */
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, ISSUER ".c", ISSUER ".t", NULL, 0, &jwt),
			 LOY_OK);
	c = jwt_check(jwt);
	assert_true(json_is_array(json_object_get(c, "origins")));
	assert_int_equal(json_array_size(json_object_get(c, "origins")), 0);
	json_decref(c);
	free(jwt);
}

static void test_save_jwt_limit(void **state)
{
	char id[1200];
	char *jwt = NULL;
	size_t last_ok = 0, n;
	enum loy_err err = LOY_OK;

	(void)state;
	/* The object id grows a character at a time until the JWT would pass 1800 characters. With
	 * a 40-character kid, some id makes it exactly 1800 (N) and the next one 1801 (N+1). */
	memcpy(id, ISSUER ".", sizeof(ISSUER));
	for (n = sizeof(ISSUER); n < sizeof(id) - 1; n++) {
		id[n] = 'a' + (char)(n % 26);
		id[n + 1] = '\0';
		jwt = NULL;
		err = google_sa_save_jwt(sa, NOW_S, id, ISSUER ".t", NULL, 0, &jwt);
		if (err != LOY_OK)
			break;
		last_ok = strlen(jwt);
		assert_true(last_ok <= GOOGLE_SA_SAVE_JWT_MAX);
		free(jwt);
	}
	assert_int_equal(err, LOY_ETOOBIG);
	assert_null(jwt);
	assert_int_equal(last_ok, 1800);
	/* and the same id signs as a free-form JWT, which has no limit: it is 1801 long */
	{
		char claims[1600];

		snprintf(claims, sizeof(claims),
			 "{\"iss\":\"%s\",\"aud\":\"google\",\"typ\":\"savetowallet\",\"iat\":%lld,"
			 "\"origins\":[],\"payload\":{\"loyaltyObjects\":[{\"id\":\"%s\","
			 "\"classId\":\"%s\"}]}}",
			 EMAIL, NOW_S, id, ISSUER ".t");
		assert_int_equal(google_sa_sign_jwt(sa, claims, &jwt), LOY_OK);
		assert_int_equal(strlen(jwt), 1801);
		free(jwt);
	}
	/* an origins list can push it over as well */
	{
		const char *origins[40];

		for (int i = 0; i < 40; i++)
			origins[i] = "https://a-long-origin-name.loy.example.com";
		jwt = NULL;
		assert_int_equal(google_sa_save_jwt(sa, NOW_S, ISSUER ".c", ISSUER ".t", origins,
						    40, &jwt),
				 LOY_ETOOBIG);
		assert_null(jwt);
	}
}

static void test_save_jwt_bad_input(void **state)
{
	const char *origins[] = { "https://a.example", NULL };
	char *jwt = NULL;

	(void)state;
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, NULL, ISSUER ".t", NULL, 0, &jwt),
			 LOY_EINVALID);
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, ISSUER ".c", NULL, NULL, 0, &jwt),
			 LOY_EINVALID);
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, ISSUER ".c", ISSUER ".t", origins, 2, &jwt),
			 LOY_EINVALID);
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, ISSUER ".c", ISSUER ".t", NULL, 1, &jwt),
			 LOY_EINVALID);
	assert_int_equal(google_sa_save_jwt(sa, NOW_S, "\xff\xfe", ISSUER ".t", NULL, 0, &jwt),
			 LOY_EINVALID);
	assert_null(jwt);
}

#define THREADS 4
#define SIGNS 20

static void *sign_many(void *arg)
{
	intptr_t t = (intptr_t)arg, good = 0;

	for (int i = 0; i < SIGNS; i++) {
		char claims[64], *jwt = NULL;
		struct jwt_parts p;

		snprintf(claims, sizeof(claims), "{\"thread\":%d,\"i\":%d}", (int)t, i);
		if (google_sa_sign_jwt(sa, claims, &jwt) != LOY_OK)
			continue;
		jwt_split(jwt, &p);
		good += strcmp(p.claims, claims) == 0 &&
			rs256_ok(jwt, p.signed_len, p.sig, p.sig_len);
		jwt_free(&p);
		free(jwt);
	}
	return (void *)good;
}

static void test_sign_threads(void **state)
{
	pthread_t t[THREADS];
	intptr_t total = 0;

	(void)state;
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sign_many, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		void *good;

		pthread_join(t[i], &good);
		total += (intptr_t)good;
	}
	assert_int_equal(total, THREADS * SIGNS);
}

/* ---- key files ----------------------------------------------------------------------------- */

/* Loads path, expecting LOY_EINVALID with a why naming the file and saying `says`, and never
 * quoting a key. */
static void refused(const char *path, const char *says)
{
	struct google_sa *got = (struct google_sa *)&got;
	const char *why = NULL;

	assert_int_equal(google_sa_load(path, &got, &why), LOY_EINVALID);
	assert_null(got);
	assert_non_null(why);
	if (!strstr(why, path) || !strstr(why, says))
		fail_msg("why \"%s\" should name %s and say \"%s\"", why, path, says);
	assert_null(strstr(why, "MII"));   /* no base64 of a key */
	assert_null(strstr(why, "BEGIN")); /* no PEM */
}

static void test_key_file_refusals(void **state)
{
	static const char *const required[] = { "type", "client_email", "private_key",
						"private_key_id", "token_uri" };
	char *pem = pem_of(rsa_key), name[64];
	json_t *kf;

	(void)state;
	refused(in(dir, "missing.json"), "cannot read");
	refused(dir, "cannot read"); /* a directory */
	write_bytes(in(dir, "garbage.json"), "garbage{", 8);
	refused(in(dir, "garbage.json"), "not JSON");
	write_bytes(in(dir, "empty.json"), "", 0);
	refused(in(dir, "empty.json"), "not JSON");
	write_bytes(in(dir, "array.json"), "[1]", 3);
	refused(in(dir, "array.json"), "not a JSON object");
	/* a PEM pasted with raw newlines is not JSON, and jansson's "near '...'" would quote it */
	{
		char raw[4096];
		int n = snprintf(raw, sizeof(raw),
				 "{\"type\":\"service_account\",\"private_key\":\"%s\"}", pem);

		write_bytes(in(dir, "raw.json"), raw, (size_t)n);
		refused(in(dir, "raw.json"), "not JSON");
	}
	/* over the size cap, though valid JSON */
	{
		size_t big = GOOGLE_SA_FILE_MAX + 1;
		char *b = malloc(big);

		memset(b, ' ', big);
		b[0] = '{';
		b[big - 1] = '}';
		write_bytes(in(dir, "big.json"), b, big);
		free(b);
		refused(in(dir, "big.json"), "larger than");
	}

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		kf = key_file(pem);
		json_object_del(kf, required[i]);
		snprintf(name, sizeof(name), "no-%s.json", required[i]);
		refused(write_json(name, kf), required[i]);
		json_object_set_new(kf, required[i], json_integer(7)); /* not a string */
		snprintf(name, sizeof(name), "int-%s.json", required[i]);
		refused(write_json(name, kf), required[i]);
		json_object_set_new(kf, required[i], json_string("")); /* empty */
		snprintf(name, sizeof(name), "empty-%s.json", required[i]);
		refused(write_json(name, kf), required[i]);
		json_decref(kf);
	}

	kf = key_file(pem);
	json_object_set_new(kf, "type", json_string("authorized_user"));
	refused(write_json("user.json", kf), "\"type\" is not \"service_account\"");
	json_object_set_new(kf, "type", json_string("service_account"));
	json_object_set_new(kf, "token_uri", json_string("ftp://example.com/token"));
	refused(write_json("ftp.json", kf), "token_uri");
	json_object_set_new(kf, "token_uri", json_string("https:///token"));
	refused(write_json("nohost.json", kf), "token_uri");
	json_object_set_new(kf, "token_uri", json_string(TOKEN_URI));
	json_object_set_new(kf, "client_email", json_string("not-an-address"));
	refused(write_json("email.json", kf), "client_email");
	json_object_set_new(kf, "client_email", json_string(EMAIL));
	json_object_set_new(kf, "private_key_id", json_string("has space"));
	refused(write_json("kid.json", kf), "private_key_id");
	json_decref(kf);

	/* duplicate members are refused rather than one of them silently chosen */
	{
		char dup[4096];
		char *text;

		kf = key_file(pem);
		text = json_dumps(kf, JSON_COMPACT);
		snprintf(dup, sizeof(dup), "{\"type\":\"authorized_user\",%s", text + 1);
		write_bytes(in(dir, "dup.json"), dup, strlen(dup));
		refused(in(dir, "dup.json"), "not JSON");
		free(text);
		json_decref(kf);
	}
	free(pem);
}

static void test_key_refusals(void **state)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *small = EVP_RSA_gen(1024);
	char *ec_pem = pem_of(ec), *small_pem = pem_of(small), *enc_pem;
	json_t *kf;
	BIO *b;
	long n;
	char *p;

	(void)state;
	kf = key_file(ec_pem);
	refused(write_json("ec.json", kf), "is an EC key; Google service accounts sign with RSA");
	json_decref(kf);

	kf = key_file(small_pem);
	refused(write_json("small.json", kf), "RSA of 1024 bits; at least 2048");
	json_decref(kf);

	/* PEM armour around base64 of "not a key at all" (the armour is split so that no scanner
	 * takes this fixture for a committed key) */
	kf = key_file("-----BEGIN PRIVATE"
		      " KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE"
		      " KEY-----\n");
	refused(write_json("garbage-pem.json", kf), "not an unencrypted PEM private key");
	json_decref(kf);

	kf = key_file("hello");
	refused(write_json("not-pem.json", kf), "not an unencrypted PEM private key");
	json_decref(kf);

	/* an encrypted PKCS#8 key is refused, never prompted for */
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, rsa_key, EVP_aes_256_cbc(), "pw", 2, NULL,
						       NULL),
			 1);
	n = BIO_get_mem_data(b, &p);
	enc_pem = strndup(p, (size_t)n);
	BIO_free(b);
	assert_non_null(strstr(enc_pem, "ENCRYPTED"));
	kf = key_file(enc_pem);
	refused(write_json("encrypted.json", kf), "not an unencrypted PEM private key");
	json_decref(kf);

	/* a public key where the private one belongs */
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, rsa_key), 1);
	n = BIO_get_mem_data(b, &p);
	free(enc_pem);
	enc_pem = strndup(p, (size_t)n);
	BIO_free(b);
	kf = key_file(enc_pem);
	refused(write_json("public.json", kf), "not an unencrypted PEM private key");
	json_decref(kf);

	free(enc_pem);
	free(ec_pem);
	free(small_pem);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(small);
}

static void test_traditional_rsa_pem_accepted(void **state)
{
	struct google_sa *other = NULL;
	const char *why = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	json_t *kf;
	char *pem, *p, *jwt = NULL;
	long n;

	(void)state;
	assert_int_equal(
		PEM_write_bio_PrivateKey_traditional(b, rsa_key, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &p);
	pem = strndup(p, (size_t)n);
	BIO_free(b);
	assert_non_null(strstr(pem, "-----BEGIN RSA ")); /* PKCS#1 armour */
	kf = key_file(pem);
	assert_int_equal(google_sa_load(write_json("pkcs1.json", kf), &other, &why), LOY_OK);
	assert_int_equal(google_sa_assertion(other, NOW_S, &jwt), LOY_OK);
	json_decref(jwt_check(jwt));
	free(jwt);
	google_sa_close(other);
	json_decref(kf);
	free(pem);
}

/* ---- callbacks ----------------------------------------------------------------------------- */

static json_t *signed_set; /* {"keys": {name: keysJson}, "bodies": {name: body}} from node */

static const char *body_of(const char *name)
{
	const char *s =
		json_string_value(json_object_get(json_object_get(signed_set, "bodies"), name));

	if (!s)
		fail_msg("the signer made no body %s", name);
	return s;
}

static const char *keys_of(const char *name)
{
	const char *s =
		json_string_value(json_object_get(json_object_get(signed_set, "keys"), name));

	if (!s)
		fail_msg("the signer made no keys %s", name);
	return s;
}

/* The callbacks the tests use, signed by node: one spec, one run. */
static int callbacks_setup(void **state)
{
	json_t *base = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "root", "main", "classId",
				 ISSUER ".tmpl-3", "objectId", ISSUER ".cust-42", "eventType",
				 "save", "expTimeMillis", (json_int_t)(NOW_MS + 60000),
				 "intermediateExpiration", (json_int_t)(NOW_MS + DAY_MS));
	json_t *roots = json_pack("{s:{s:I}, s:{s:I}, s:{s:I}, s:{s:I, s:s}}", "main",
				  "keyExpiration", (json_int_t)(NOW_MS + 365 * DAY_MS), "other",
				  "keyExpiration", (json_int_t)(NOW_MS + 365 * DAY_MS), "old",
				  "keyExpiration", (json_int_t)(NOW_MS), "v1", "keyExpiration",
				  (json_int_t)(NOW_MS + 365 * DAY_MS), "protocolVersion", "ECv1");
	json_t *cbs = json_object(), *spec;
	static char out[512 * 1024];
	struct {
		const char *name, *key;
		json_t *value;
	} variants[] = {
		{ "save", "nonce", json_string("nonce-save-1") },
		{ "del", "eventType", json_string("del") },
		{ "wallet_sender", "senderId", json_string("GoogleWalletPasses") },
		{ "unknown_sender", "senderId", json_string("SomebodyElse") },
		{ "old_root", "root", json_string("old") },
		{ "other_root", "root", json_string("other") },
		{ "v1_root", "root", json_string("v1") },
		{ "inter_expired", "intermediateExpiration", json_integer(NOW_MS) },
		{ "msg_expired", "expTimeMillis", json_integer(NOW_MS) },
		{ "proto_ecv2", "protocolVersion", json_string("ECv2") },
		{ "bad_event", "eventType", json_string("update") },
		{ "bad_class", "classId", json_string(ISSUER ".a b") },
		{ "long_object", "objectId", NULL },
		{ "bad_nonce", "nonce", json_string("tab\there") },
		{ "no_nonce", "message",
		  json_pack("{s:s, s:s, s:s, s:I}", "classId", ISSUER ".t", "objectId", ISSUER ".c",
			    "eventType", "save", "expTimeMillis", (json_int_t)(NOW_MS + 60000)) },
		{ "no_exp", "message",
		  json_pack("{s:s, s:s, s:s, s:s}", "classId", ISSUER ".t", "objectId", ISSUER ".c",
			    "eventType", "save", "nonce", "n") },
		{ "exp_string", "message",
		  json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "classId", ISSUER ".t", "objectId",
			    ISSUER ".c", "eventType", "save", "nonce", "n-str", "expTimeMillis",
			    "1780000060000", "count", 1) },
		{ "exp_float", "message",
		  json_pack("{s:s, s:s, s:s, s:s, s:f}", "classId", ISSUER ".t", "objectId",
			    ISSUER ".c", "eventType", "save", "nonce", "n", "expTimeMillis",
			    1780000060000.5) },
		{ "msg_not_json", "signedMessage", json_string("hello") },
	};
	char objid[300];

	(void)state;
	memset(objid, 'o', sizeof(objid) - 1);
	objid[sizeof(objid) - 1] = '\0';
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		json_t *cb = json_deep_copy(base);

		json_object_set_new(cb, "nonce", json_string(variants[i].name));
		json_object_set_new(cb, variants[i].key,
				    variants[i].value ? variants[i].value : json_string(objid));
		json_object_set_new(cbs, variants[i].name, cb);
	}
	spec = json_pack("{s:s, s:o, s:o}", "issuerId", ISSUER, "roots", roots, "callbacks", cbs);
	write_json("spec.json", spec);
	json_decref(spec);
	json_decref(base);
	output_of(out, sizeof(out), "node %s %s", signer_js, in(dir, "spec.json"));
	signed_set = json_loads(out, 0, NULL);
	if (!signed_set) {
		fprintf(stderr, "callbacks_setup: node %s printed no JSON\n", signer_js);
		return -1;
	}
	return 0;
}

static int callbacks_teardown(void **state)
{
	(void)state;
	json_decref(signed_set);
	return 0;
}

/* Verifies body for ISSUER at NOW_MS with keys; checks the error and that why says `says`. */
static void expect_body(const char *body, size_t len, const char *keys, const char *issuer,
			int64_t now, enum loy_err want, const char *says)
{
	struct google_callback cb;
	const char *why = NULL;
	enum loy_err got;

	memset(&cb, 0x5a, sizeof(cb));
	got = google_callback_verify(body, len, keys, issuer, now, &cb, &why);
	if (got != want)
		fail_msg("expected %s, got %s (%s)", err_name(want), err_name(got),
			 why ? why : "no why");
	if (want == LOY_OK)
		return;
	assert_non_null(why);
	if (!strstr(why, says))
		fail_msg("why \"%s\" should say \"%s\"", why, says);
	for (size_t i = 0; i < sizeof(cb); i++) /* nothing half-filled */
		assert_int_equal(((unsigned char *)&cb)[i], 0);
}

static void expect(const char *body, const char *keys, enum loy_err want, const char *says)
{
	expect_body(body, strlen(body), keys, ISSUER, NOW_MS, want, says);
}

/* body with one member replaced (value NULL: removed); at is NULL for the top level or
 * "intermediateSigningKey". Returns malloc'd JSON. */
static char *edited(const char *body, const char *at, const char *key, json_t *value)
{
	json_t *j = json_loads(body, 0, NULL), *o = at ? json_object_get(j, at) : j;
	char *s;

	assert_non_null(o);
	if (value)
		json_object_set_new(o, key, value);
	else
		json_object_del(o, key);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* A base64 string with the character at i changed to another base64 character. */
static json_t *flipped(const char *b64, size_t i)
{
	char *s = strdup(b64);
	json_t *j;

	s[i] = s[i] == 'A' ? 'B' : 'A';
	j = json_string(s);
	free(s);
	return j;
}

static const char *member_of(const char *body, const char *at, const char *key, char *out,
			     size_t cap)
{
	json_t *j = json_loads(body, 0, NULL), *o = at ? json_object_get(j, at) : j, *v;

	v = json_object_get(o, key);
	if (json_is_array(v))
		v = json_array_get(v, 0);
	snprintf(out, cap, "%s", json_string_value(v));
	json_decref(j);
	return out;
}

static void test_callback_save_and_del(void **state)
{
	struct google_callback cb;
	const char *why = "unset";
	const char *body = body_of("save");

	(void)state;
	assert_int_equal(google_callback_verify(body, strlen(body), keys_of("main"), ISSUER, NOW_MS,
						&cb, &why),
			 LOY_OK);
	assert_string_equal(cb.class_id, ISSUER ".tmpl-3");
	assert_string_equal(cb.object_id, ISSUER ".cust-42");
	assert_string_equal(cb.event_type, "save");
	assert_string_equal(cb.nonce, "nonce-save-1");
	assert_int_equal(cb.exp_ms, NOW_MS + 60000);

	body = body_of("del");
	assert_int_equal(google_callback_verify(body, strlen(body), keys_of("main"), ISSUER, NOW_MS,
						&cb, &why),
			 LOY_OK);
	assert_string_equal(cb.event_type, "del");
	assert_string_equal(cb.nonce, "del");

	/* the newer docs' sender id is accepted too */
	body = body_of("wallet_sender");
	assert_int_equal(google_callback_verify(body, strlen(body), keys_of("main"), ISSUER, NOW_MS,
						&cb, &why),
			 LOY_OK);
	assert_string_equal(cb.nonce, "wallet_sender");

	/* extra members are ignored; expTimeMillis may be a decimal string */
	body = body_of("exp_string");
	assert_int_equal(google_callback_verify(body, strlen(body), keys_of("main"), ISSUER, NOW_MS,
						&cb, &why),
			 LOY_OK);
	assert_int_equal(cb.exp_ms, 1780000060000LL);
	assert_string_equal(cb.nonce, "n-str");
}

static void test_callback_expiry_boundaries(void **state)
{
	const char *save = body_of("save");

	(void)state;
	/* the message: valid until the millisecond before expTimeMillis (N), not at it (N+1) */
	expect_body(save, strlen(save), keys_of("main"), ISSUER, NOW_MS + 60000 - 1, LOY_OK, NULL);
	expect_body(save, strlen(save), keys_of("main"), ISSUER, NOW_MS + 60000, LOY_EUNAUTH,
		    "expired");
	expect(body_of("msg_expired"), keys_of("main"), LOY_EUNAUTH, "callback expired");
	expect(body_of("inter_expired"), keys_of("main"), LOY_EUNAUTH,
	       "intermediate signing key expired");
	/* the root key "old" expires at NOW_MS: no longer usable then, usable just before */
	expect(body_of("old_root"), keys_of("old"), LOY_EUNAUTH, "none of the 1 keys");
	expect_body(body_of("old_root"), strlen(body_of("old_root")), keys_of("old"), ISSUER,
		    NOW_MS - 1, LOY_OK, NULL);
}

static void test_callback_roots(void **state)
{
	char doc[2048];
	json_t *a = json_loads(keys_of("main"), 0, NULL),
	       *b = json_loads(keys_of("other"), 0, NULL);
	char *both;

	(void)state;
	/* signed by a root the keys document does not list */
	expect(body_of("other_root"), keys_of("main"), LOY_EUNAUTH,
	       "no intermediate key signature");
	/* a document listing both (Google lists the current and next) */
	json_array_extend(json_object_get(a, "keys"), json_object_get(b, "keys"));
	both = json_dumps(a, JSON_COMPACT);
	expect(body_of("other_root"), both, LOY_OK, NULL);
	expect(body_of("save"), both, LOY_OK, NULL);
	/* keyExpiration as a JSON number is read too */
	json_object_set_new(json_array_get(json_object_get(b, "keys"), 0), "keyExpiration",
			    json_integer(NOW_MS + DAY_MS));
	free(both);
	both = json_dumps(b, JSON_COMPACT);
	expect(body_of("other_root"), both, LOY_OK, NULL);
	/* a root of another protocol is not used */
	expect(body_of("v1_root"), keys_of("v1"), LOY_EUNAUTH, "none of the 1 keys");
	/* keys documents that are none */
	expect(body_of("save"), "{\"keys\":[]}", LOY_EUNAUTH, "none of the 0 keys");
	expect(body_of("save"), "not json", LOY_EINVALID, "root keys document");
	expect(body_of("save"), "{\"keys\":{}}", LOY_EINVALID, "root keys document");
	expect_body(body_of("save"), strlen(body_of("save")), NULL, ISSUER, NOW_MS, LOY_EINVALID,
		    "root keys document");
	/* a key that is not P-256: the RSA service-account key's SPKI */
	{
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(rsa_key, &der);
		char b64[1024];

		EVP_EncodeBlock((unsigned char *)b64, der, n);
		OPENSSL_free(der);
		snprintf(doc, sizeof(doc),
			 "{\"keys\":[{\"keyValue\":\"%s\",\"protocolVersion\":\"ECv2SigningOnly\","
			 "\"keyExpiration\":\"9999999999999\"}]}",
			 b64);
		expect(body_of("save"), doc, LOY_EUNAUTH, "none of the 1 keys");
	}
	free(both);
	json_decref(a);
	json_decref(b);
}

static void test_callback_tampering(void **state)
{
	const char *save = body_of("save"), *del = body_of("del");
	char sig[512], isig[512], text[2048], *bad;

	(void)state;
	member_of(save, NULL, "signature", sig, sizeof(sig));
	member_of(save, "intermediateSigningKey", "signatures", isig, sizeof(isig));

	/* one byte of the message changed */
	member_of(save, NULL, "signedMessage", text, sizeof(text));
	*strstr(text, "cust-42") = 'k';
	bad = edited(save, NULL, "signedMessage", json_string(text));
	expect(bad, keys_of("main"), LOY_EUNAUTH, "message signature does not verify");
	free(bad);

	/* the message signature changed */
	bad = edited(save, NULL, "signature", flipped(sig, 20));
	expect(bad, keys_of("main"), LOY_EUNAUTH, "message signature does not verify");
	free(bad);

	/* the intermediate key's signature changed */
	bad = edited(save, "intermediateSigningKey", "signatures",
		     json_pack("[o]", flipped(isig, 20)));
	expect(bad, keys_of("main"), LOY_EUNAUTH, "no intermediate key signature");
	free(bad);

	/* the signed key changed (its expiry pushed further) */
	member_of(save, "intermediateSigningKey", "signedKey", text, sizeof(text));
	assert_int_equal(strstr(text, "keyExpiration\":\"1")[16], '1');
	strstr(text, "keyExpiration\":\"1")[16] = '9';
	bad = edited(save, "intermediateSigningKey", "signedKey", json_string(text));
	expect(bad, keys_of("main"), LOY_EUNAUTH, "no intermediate key signature");
	free(bad);

	/* a good signature and a bad one: one verifying is enough */
	bad = edited(save, "intermediateSigningKey", "signatures",
		     json_pack("[o, s]", flipped(isig, 20), isig));
	expect(bad, keys_of("main"), LOY_OK, NULL);
	free(bad);

	/* the message of one callback with the signature of another */
	member_of(del, NULL, "signedMessage", text, sizeof(text));
	bad = edited(save, NULL, "signedMessage", json_string(text));
	expect(bad, keys_of("main"), LOY_EUNAUTH, "message signature does not verify");
	free(bad);

	/* for another issuer */
	expect_body(save, strlen(save), keys_of("main"), "3388000000099999999", NOW_MS, LOY_EUNAUTH,
		    "is the issuer id right?");
	/* signed for a sender id that is neither of Google's */
	expect(body_of("unknown_sender"), keys_of("main"), LOY_EUNAUTH,
	       "no intermediate key signature");
}

static void test_callback_protocol(void **state)
{
	char *bad;

	(void)state;
	/* signed consistently, but for another protocol */
	expect(body_of("proto_ecv2"), keys_of("main"), LOY_EUNAUTH,
	       "protocolVersion is not ECv2SigningOnly");
	/* the label changed on a good body */
	bad = edited(body_of("save"), NULL, "protocolVersion", json_string("ECv1"));
	expect(bad, keys_of("main"), LOY_EUNAUTH, "protocolVersion is not ECv2SigningOnly");
	free(bad);
}

static void test_callback_malformed(void **state)
{
	const char *save = body_of("save");
	char sig[512];
	char *bad;
	static const struct {
		const char *at, *key, *says;
	} removals[] = {
		{ NULL, "protocolVersion", "no protocolVersion" },
		{ NULL, "signature", "signature is missing" },
		{ NULL, "signedMessage", "no signedMessage" },
		{ NULL, "intermediateSigningKey", "no intermediateSigningKey.signedKey" },
		{ "intermediateSigningKey", "signedKey", "no intermediateSigningKey.signedKey" },
		{ "intermediateSigningKey", "signatures", "signatures is not a list" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(removals) / sizeof(removals[0]); i++) {
		bad = edited(save, removals[i].at, removals[i].key, NULL);
		expect(bad, keys_of("main"), LOY_EINVALID, removals[i].says);
		free(bad);
	}
	/* bad base64 */
	member_of(save, NULL, "signature", sig, sizeof(sig));
	sig[10] = '!';
	bad = edited(save, NULL, "signature", json_string(sig));
	expect(bad, keys_of("main"), LOY_EINVALID, "not a base64 signature");
	free(bad);
	bad = edited(save, "intermediateSigningKey", "signatures", json_pack("[s]", "@@@@"));
	expect(bad, keys_of("main"), LOY_EINVALID, "signatures[0] is not a base64 signature");
	free(bad);
	bad = edited(save, "intermediateSigningKey", "signatures", json_pack("[s]", ""));
	expect(bad, keys_of("main"), LOY_EINVALID, "signatures[0] is not a base64 signature");
	free(bad);
	bad = edited(save, NULL, "signature", json_integer(5));
	expect(bad, keys_of("main"), LOY_EINVALID, "signature is missing");
	free(bad);
	/* an empty list, and one over the cap (N is fine: the good signature last of 8) */
	bad = edited(save, "intermediateSigningKey", "signatures", json_array());
	expect(bad, keys_of("main"), LOY_EINVALID, "signatures is not a list of 1 to 8");
	free(bad);
	{
		char isig[512];
		json_t *list = json_array();

		member_of(save, "intermediateSigningKey", "signatures", isig, sizeof(isig));
		for (int i = 0; i < GOOGLE_CALLBACK_SIGNATURES_MAX - 1; i++)
			json_array_append_new(list, flipped(isig, 20));
		json_array_append_new(list, json_string(isig));
		bad = edited(save, "intermediateSigningKey", "signatures", json_incref(list));
		expect(bad, keys_of("main"), LOY_OK, NULL);
		free(bad);
		json_array_append_new(list, json_string(isig));
		bad = edited(save, "intermediateSigningKey", "signatures", list);
		expect(bad, keys_of("main"), LOY_EINVALID, "signatures is not a list of 1 to 8");
		free(bad);
	}
	/* not JSON, not an object, cut short, too long, duplicate members */
	expect("not json", keys_of("main"), LOY_EINVALID, "not a JSON object");
	expect("[]", keys_of("main"), LOY_EINVALID, "not a JSON object");
	expect("", keys_of("main"), LOY_EINVALID, "not a JSON object");
	expect_body(save, strlen(save) - 1, keys_of("main"), ISSUER, NOW_MS, LOY_EINVALID,
		    "not a JSON object");
	{
		size_t n = GOOGLE_CALLBACK_BODY_MAX + 1;
		char *big = malloc(n + 1);

		memset(big, ' ', n);
		memcpy(big, save, strlen(save));
		big[n] = '\0';
		expect_body(big, n - 1, keys_of("main"), ISSUER, NOW_MS, LOY_OK, NULL); /* N */
		expect_body(big, n, keys_of("main"), ISSUER, NOW_MS, LOY_EINVALID,
			    "over 65536 bytes"); /* N + 1 */
		free(big);
	}
	{
		char dup[4096];

		snprintf(dup, sizeof(dup), "{\"signedMessage\":\"{}\",%s", save + 1);
		expect(dup, keys_of("main"), LOY_EINVALID, "not a JSON object");
	}
	expect_body(save, strlen(save), keys_of("main"), "", NOW_MS, LOY_EINVALID, "issuer id");
	expect_body(NULL, 0, keys_of("main"), ISSUER, NOW_MS, LOY_EINVALID, "missing");
}

static void test_callback_message_fields(void **state)
{
	(void)state;
	/* signed correctly by Google's chain, but not a message Loy can use */
	expect(body_of("no_nonce"), keys_of("main"), LOY_EINVALID, "nonce");
	expect(body_of("bad_nonce"), keys_of("main"), LOY_EINVALID, "nonce");
	expect(body_of("no_exp"), keys_of("main"), LOY_EINVALID, "expTimeMillis");
	expect(body_of("exp_float"), keys_of("main"), LOY_EINVALID, "expTimeMillis");
	expect(body_of("bad_event"), keys_of("main"), LOY_EINVALID, "eventType");
	expect(body_of("bad_class"), keys_of("main"), LOY_EINVALID, "classId");
	expect(body_of("long_object"), keys_of("main"), LOY_EINVALID, "objectId");
	expect(body_of("msg_not_json"), keys_of("main"), LOY_EINVALID,
	       "signedMessage is not a JSON object");
}

int main(void)
{
	const struct CMUnitTest sa_tests[] = {
		cmocka_unit_test(test_sa_fields),
		cmocka_unit_test(test_sign_jwt),
		cmocka_unit_test(test_assertion_claims),
		cmocka_unit_test(test_assertion_aud_is_token_uri),
		cmocka_unit_test(test_save_jwt_claims_and_size),
		cmocka_unit_test(test_save_jwt_limit),
		cmocka_unit_test(test_save_jwt_bad_input),
		cmocka_unit_test(test_sign_threads),
		cmocka_unit_test(test_key_file_refusals),
		cmocka_unit_test(test_key_refusals),
		cmocka_unit_test(test_traditional_rsa_pem_accepted),
	};
	const struct CMUnitTest callback_tests[] = {
		cmocka_unit_test(test_callback_save_and_del),
		cmocka_unit_test(test_callback_expiry_boundaries),
		cmocka_unit_test(test_callback_roots),
		cmocka_unit_test(test_callback_tampering),
		cmocka_unit_test(test_callback_protocol),
		cmocka_unit_test(test_callback_malformed),
		cmocka_unit_test(test_callback_message_fields),
	};
	const char *unit = strstr(__FILE__, "/unit/test_google_crypto.c");
	int failed;

	if (unit)
		snprintf(signer_js, sizeof(signer_js), "%.*s/fakes/google_callback_sign.js",
			 (int)(unit - __FILE__), __FILE__);
	else
		snprintf(signer_js, sizeof(signer_js), "tests/fakes/google_callback_sign.js");
	if (setup(NULL) != 0) {
		fprintf(stderr, "test_google_crypto: cannot set up in %s\n", dir);
		return 1;
	}
	failed = cmocka_run_group_tests_name("google_sa", sa_tests, NULL, NULL);
	if (system("node --version >/dev/null 2>&1") != 0) {
		printf("test_google_crypto: SKIPPED the callback tests: node is not installed (make "
		       "test installs it); they verify bodies signed by "
		       "tests/fakes/google_callback_sign.js\n");
		teardown(NULL);
		return failed ? failed : 77;
	}
	failed += cmocka_run_group_tests_name("google_callback", callback_tests, callbacks_setup,
					      callbacks_teardown);
	teardown(NULL);
	return failed;
}
