/* Verification of Google Wallet's ECv2SigningOnly callbacks (see google_callback.h).
 *
 * The envelope is read first only for its shape: four strings and a list of signatures, each
 * signature decoded from base64. The keys document gives the usable root keys. Then, for each
 * sender id, the chain is checked from the root down: an intermediate signature against the root
 * keys, then — and only then — the signed key is parsed and its expiry checked, then the message
 * signature against that key, and only once it verified is the message parsed. This is Tink's
 * PaymentMethodTokenRecipient for ECv2SigningOnly, which Google's documentation points to.
 *
 * Every signature is ECDSA P-256 with SHA-256 in DER; OpenSSL's verifier refuses a DER encoding
 * that is not the canonical one, so a signature cannot be varied into another accepted form. */
#include "crypto/google_callback.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "crypto/b64.h"

#define WHY_MAX 320
#define SIG_B64_MAX 256 /* an ECDSA P-256 DER signature is at most 72 bytes: 96 in base64 */
#define KEY_B64_MAX 340 /* a P-256 SubjectPublicKeyInfo is 91 bytes: 124 in base64 */
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static _Thread_local char verify_why[WHY_MAX];

static enum loy_err fail(const char **why, enum loy_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum loy_err fail(const char **why, enum loy_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(verify_why, sizeof(verify_why), fmt, ap);
	va_end(ap);
	*why = verify_why;
	return err;
}

struct sig {
	unsigned char der[SIG_B64_MAX / 4 * 3 + 1];
	size_t len;
};

struct envelope {
	struct str signed_key;
	struct str signed_message;
	struct sig inter[GOOGLE_CALLBACK_SIGNATURES_MAX];
	size_t ninter;
	struct sig msg;
};

struct roots {
	EVP_PKEY *key[GOOGLE_CALLBACK_ROOT_KEYS_MAX];
	size_t n;
};

/* ---- small readers ------------------------------------------------------------------------- */

static bool string_of(json_t *v, struct str *out)
{
	if (!json_is_string(v))
		return false;
	*out = (struct str){ json_string_value(v), json_string_length(v) };
	return true;
}

static bool sig_decode(json_t *v, struct sig *s)
{
	struct str b;

	return string_of(v, &b) && b.len > 0 && b.len <= SIG_B64_MAX &&
	       b64_decode(b.p, b.len, s->der, &s->len) && s->len > 0;
}

/* Milliseconds since the epoch, as a JSON integer or a string of decimal digits. */
static bool millis_of(json_t *v, int64_t *out)
{
	struct str s;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return *out >= 0;
	}
	return string_of(v, &s) && s.len > 0 && s.p[0] >= '0' && s.p[0] <= '9' &&
	       str_to_i64(s, out);
}

/* An ECDSA P-256 public key from base64 of its SubjectPublicKeyInfo DER, or NULL. */
static EVP_PKEY *p256_key(json_t *v)
{
	unsigned char der[KEY_B64_MAX / 4 * 3 + 1];
	const unsigned char *p = der;
	char group[32];
	EVP_PKEY *k = NULL;
	struct str b;
	size_t n;

	if (!string_of(v, &b) || b.len > KEY_B64_MAX || !b64_decode(b.p, b.len, der, &n))
		return NULL;
	k = d2i_PUBKEY(NULL, &p, (long)n);
	if (k && (p != der + n || !EVP_PKEY_is_a(k, "EC") ||
		  !EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) ||
		  strcmp(group, "prime256v1") != 0)) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	ERR_clear_error();
	return k;
}

static bool ecdsa_verifies(EVP_PKEY *key, const struct sig *s, const unsigned char *data,
			   size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
		  EVP_DigestVerify(ctx, s->der, s->len, data, len) == 1;

	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* lv(parts[0]) lv(parts[1]) ...: each part's length as uint32 little-endian, then its bytes;
 * malloc'd, or NULL when memory runs out. */
static unsigned char *lv_join(const struct str *parts, size_t n, size_t *out_len)
{
	size_t total = 0, at = 0;
	unsigned char *p;

	for (size_t i = 0; i < n; i++)
		total += 4 + parts[i].len;
	p = malloc(total ? total : 1);
	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t len = (uint32_t)parts[i].len;

		for (int b = 0; b < 4; b++)
			p[at++] = (unsigned char)(len >> (8 * b));
		memcpy(p + at, parts[i].p, parts[i].len);
		at += parts[i].len;
	}
	*out_len = total;
	return p;
}

/* ---- the envelope and the keys document ---------------------------------------------------- */

static enum loy_err envelope_read(json_t *root, struct envelope *e, const char **why)
{
	json_t *inter = json_object_get(root, "intermediateSigningKey");
	json_t *sigs = json_object_get(inter, "signatures");
	struct str proto;
	json_t *v;
	size_t i;

	if (!string_of(json_object_get(root, "protocolVersion"), &proto))
		return fail(why, LOY_EINVALID, "the Google callback has no protocolVersion");
	if (!str_eq_cstr(proto, GOOGLE_CALLBACK_PROTOCOL))
		return fail(
			why, LOY_EUNAUTH,
			"the Google callback's protocolVersion is not " GOOGLE_CALLBACK_PROTOCOL);
	if (!json_is_object(inter) ||
	    !string_of(json_object_get(inter, "signedKey"), &e->signed_key))
		return fail(why, LOY_EINVALID,
			    "the Google callback has no intermediateSigningKey.signedKey string");
	if (!json_is_array(sigs) || json_array_size(sigs) == 0 ||
	    json_array_size(sigs) > GOOGLE_CALLBACK_SIGNATURES_MAX)
		return fail(
			why, LOY_EINVALID,
			"the Google callback's intermediateSigningKey.signatures is not a list of "
			"1 to %d signatures",
			GOOGLE_CALLBACK_SIGNATURES_MAX);
	json_array_foreach(sigs, i, v) if (!sig_decode(v, &e->inter[i])) return fail(
		why, LOY_EINVALID,
		"the Google callback's intermediateSigningKey.signatures[%zu] is "
		"not a base64 signature",
		i);
	e->ninter = json_array_size(sigs);
	if (!string_of(json_object_get(root, "signedMessage"), &e->signed_message))
		return fail(why, LOY_EINVALID, "the Google callback has no signedMessage string");
	if (!sig_decode(json_object_get(root, "signature"), &e->msg))
		return fail(why, LOY_EINVALID,
			    "the Google callback's signature is missing or not a base64 signature");
	return LOY_OK;
}

static void roots_free(struct roots *r)
{
	for (size_t i = 0; i < r->n; i++)
		EVP_PKEY_free(r->key[i]);
	r->n = 0;
}

/* The usable root keys: of the protocol, unexpired at now_ms, P-256. */
static enum loy_err roots_read(const char *keys_json, int64_t now_ms, struct roots *r,
			       const char **why)
{
	json_t *doc = keys_json ? json_loads(keys_json, JSON_REJECT_DUPLICATES, NULL) : NULL;
	json_t *keys = json_object_get(doc, "keys"), *k;
	struct str proto;
	int64_t exp;
	size_t i;

	if (!json_is_array(keys)) {
		json_decref(doc);
		return fail(why, LOY_EINVALID,
			    "the Google root keys document is not {\"keys\":[...]}");
	}
	json_array_foreach(keys, i, k)
	{
		if (r->n == GOOGLE_CALLBACK_ROOT_KEYS_MAX)
			break;
		if (!string_of(json_object_get(k, "protocolVersion"), &proto) ||
		    !str_eq_cstr(proto, GOOGLE_CALLBACK_PROTOCOL) ||
		    !millis_of(json_object_get(k, "keyExpiration"), &exp) || exp <= now_ms)
			continue;
		r->key[r->n] = p256_key(json_object_get(k, "keyValue"));
		if (r->key[r->n])
			r->n++;
	}
	i = json_array_size(keys);
	json_decref(doc);
	if (r->n == 0)
		return fail(why, LOY_EUNAUTH,
			    "none of the %zu keys of the Google root keys document is an unexpired "
			    "P-256 " GOOGLE_CALLBACK_PROTOCOL " key",
			    i);
	return LOY_OK;
}

/* ---- the chain ----------------------------------------------------------------------------- */

/* The intermediate key of a signedKey whose signature verified: P-256, unexpired. */
static enum loy_err intermediate_read(struct str signed_key, int64_t now_ms, EVP_PKEY **out,
				      const char **why)
{
	json_t *k = json_loadb(signed_key.p, signed_key.len, JSON_REJECT_DUPLICATES, NULL);
	enum loy_err err = LOY_OK;
	int64_t exp;

	if (!json_is_object(k) || !millis_of(json_object_get(k, "keyExpiration"), &exp))
		err = fail(why, LOY_EINVALID,
			   "the Google callback's signed intermediate key has no keyExpiration");
	else if (exp <= now_ms)
		err = fail(why, LOY_EUNAUTH,
			   "the Google callback's intermediate signing key expired at %lld ms",
			   (long long)exp);
	else if (!(*out = p256_key(json_object_get(k, "keyValue"))))
		err = fail(why, LOY_EINVALID,
			   "the Google callback's signed intermediate key is not a P-256 key");
	json_decref(k);
	return err;
}

enum stage {
	NO_INTERMEDIATE, /* no intermediate signature verified with a root key */
	NO_MESSAGE,	 /* the intermediate did; the message signature did not */
	FINAL		 /* verified, or an error no other sender id can change */
};

/* Checks the chain for one sender id. LOY_OK when it verifies; otherwise *stage tells whether
 * another sender id may still succeed (why is set only at FINAL). */
static enum loy_err chain_verify(const struct envelope *e, const struct roots *r,
				 const char *sender, const char *issuer_id, int64_t now_ms,
				 enum stage *stage, const char **why)
{
	struct str parts[4] = { str_from(sender), STR_LIT(GOOGLE_CALLBACK_PROTOCOL),
				e->signed_key };
	EVP_PKEY *inter = NULL;
	unsigned char *data;
	enum loy_err err;
	bool ok = false;
	size_t len;

	*stage = FINAL;
	data = lv_join(parts, 3, &len);
	if (!data)
		return fail(why, LOY_ENOMEM, "out of memory verifying a Google callback");
	for (size_t i = 0; i < e->ninter && !ok; i++)
		for (size_t j = 0; j < r->n && !ok; j++)
			ok = ecdsa_verifies(r->key[j], &e->inter[i], data, len);
	free(data);
	if (!ok) {
		*stage = NO_INTERMEDIATE;
		return LOY_EUNAUTH;
	}
	err = intermediate_read(e->signed_key, now_ms, &inter, why);
	if (err != LOY_OK)
		return err;
	parts[1] = str_from(issuer_id);
	parts[2] = STR_LIT(GOOGLE_CALLBACK_PROTOCOL);
	parts[3] = e->signed_message;
	data = lv_join(parts, 4, &len);
	if (!data) {
		EVP_PKEY_free(inter);
		return fail(why, LOY_ENOMEM, "out of memory verifying a Google callback");
	}
	ok = ecdsa_verifies(inter, &e->msg, data, len);
	free(data);
	EVP_PKEY_free(inter);
	if (!ok) {
		*stage = NO_MESSAGE;
		return LOY_EUNAUTH;
	}
	return LOY_OK;
}

/* ---- the message --------------------------------------------------------------------------- */

/* Copies a string member of 1..cap-1 bytes made only of the allowed characters (NULL: printable
 * ASCII) into out. */
static bool field_copy(json_t *m, const char *name, const char *allowed, char *out, size_t cap)
{
	struct str s;

	if (!string_of(json_object_get(m, name), &s) || s.len == 0 || s.len >= cap)
		return false;
	if (allowed ? strspn(s.p, allowed) != s.len : !str_is_visible_ascii(s))
		return false;
	memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	return true;
}

static enum loy_err message_read(struct str text, int64_t now_ms, struct google_callback *out,
				 const char **why)
{
	json_t *m = json_loadb(text.p, text.len, JSON_REJECT_DUPLICATES, NULL);
	enum loy_err err = LOY_EINVALID;

	if (!json_is_object(m))
		fail(why, err, "the Google callback's signedMessage is not a JSON object");
	else if (!field_copy(m, "classId", ID_CHARS, out->class_id, sizeof(out->class_id)))
		fail(why, err, "the Google callback's classId is missing or not a Wallet id");
	else if (!field_copy(m, "objectId", ID_CHARS, out->object_id, sizeof(out->object_id)))
		fail(why, err, "the Google callback's objectId is missing or not a Wallet id");
	else if (!field_copy(m, "eventType", NULL, out->event_type, sizeof(out->event_type)) ||
		 (strcmp(out->event_type, "save") != 0 && strcmp(out->event_type, "del") != 0))
		fail(why, err, "the Google callback's eventType is not \"save\" or \"del\"");
	else if (!field_copy(m, "nonce", NULL, out->nonce, sizeof(out->nonce)))
		fail(why, err, "the Google callback's nonce is missing or not printable ASCII");
	else if (!millis_of(json_object_get(m, "expTimeMillis"), &out->exp_ms))
		fail(why, err, "the Google callback's expTimeMillis is missing or not a number");
	else if (out->exp_ms <= now_ms)
		err = fail(why, LOY_EUNAUTH, "the Google callback expired at %lld ms",
			   (long long)out->exp_ms);
	else
		err = LOY_OK;
	json_decref(m);
	return err;
}

/* ---- all together -------------------------------------------------------------------------- */

enum loy_err google_callback_verify(const char *body, size_t len, const char *keys_json,
				    const char *issuer_id, int64_t now_ms,
				    struct google_callback *out, const char **why)
{
	static const char *const senders[] = { GOOGLE_CALLBACK_SENDER, GOOGLE_CALLBACK_SENDER_NEW };
	struct envelope e = { 0 };
	struct roots r = { 0 };
	enum stage stage, furthest = NO_INTERMEDIATE;
	json_t *root = NULL;
	enum loy_err err;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!issuer_id || !*issuer_id)
		return fail(why, LOY_EINVALID, "no issuer id to verify a Google callback for");
	if (!body || len > GOOGLE_CALLBACK_BODY_MAX)
		return fail(why, LOY_EINVALID,
			    "the Google callback body is missing or over %d bytes",
			    GOOGLE_CALLBACK_BODY_MAX);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		err = fail(why, LOY_EINVALID, "the Google callback body is not a JSON object");
	else
		err = envelope_read(root, &e, why);
	if (err == LOY_OK)
		err = roots_read(keys_json, now_ms, &r, why);
	for (size_t i = 0; err == LOY_OK && i < sizeof(senders) / sizeof(senders[0]); i++) {
		err = chain_verify(&e, &r, senders[i], issuer_id, now_ms, &stage, why);
		if (err == LOY_OK || stage == FINAL)
			break;
		if (stage > furthest)
			furthest = stage;
		if (i + 1 < sizeof(senders) / sizeof(senders[0]))
			err = LOY_OK;
		else if (furthest == NO_MESSAGE)
			fail(why, err,
			     "the Google callback's message signature does not verify with its "
			     "intermediate key for issuer %.40s (is the issuer id right?)",
			     issuer_id);
		else
			fail(why, err,
			     "no intermediate key signature of the Google callback verifies with a "
			     "root key of the keys document");
	}
	if (err == LOY_OK)
		err = message_read(e.signed_message, now_ms, out, why);
	roots_free(&r);
	json_decref(root);
	if (err != LOY_OK)
		memset(out, 0, sizeof(*out));
	return err;
}
