/* The pass signer behind signer.h.
 *
 * DESIGN. Wallet wants RFC 2315 SignedData over manifest.json: no content, the pass certificate and
 * the WWDR intermediate in `certificates`, one SignerInfo with the signed attributes contentType,
 * signingTime and messageDigest, RSA PKCS#1 v1.5 over SHA-256. For one certificate and key every
 * byte of that structure is the same from one pass to the next except three: the signing time, the
 * manifest's digest and the RSA signature, and each has a fixed length (a UTCTime is 13 characters
 * until 2049, SHA-256 is 32 bytes, an RSA signature is as long as the modulus). So signer_open
 * encodes the whole SignedData once, with zeroes in those three places, and a signature is: copy
 * the template, write the time, hash the manifest into it, hash the signed attributes, RSA-sign.
 *
 * That is the same DER PKCS7_sign(PKCS7_DETACHED | PKCS7_BINARY | PKCS7_NOSMIMECAP) produces
 * (both SETs, the certificates and the attributes, in DER order), without its
 * per-call work: building and freeing the ASN.1 tree, re-encoding both certificates, a BIO chain,
 * X509_check_private_key and an algorithm fetch on every call. On the development machine, one
 * core, PKCS7_sign reached 92 % of `openssl speed rsa2048` sign/s, CMS_sign 91 %, this path 99 %;
 * bench/sign.sh prints all three. The tests verify the output with `openssl cms -verify` and `openssl smime -verify`.
 *
 * Threads: the template, the certificates, the key and the prepared EVP_PKEY_CTX are written only
 * by signer_open and read by everyone after. Each signature works in its own copy of the context
 * (EVP_PKEY_CTX_dup takes a const context: it reads it and takes references, it changes nothing),
 * so no lock is taken and no algorithm is fetched per call. */
#include "crypto/signer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/timeutil.h"

#define UTCTIME_LEN 13 /* "YYMMDDHHMMSSZ" */
#define SHA256_LEN 32
#define SIGNED_ATTRS_MAX 128 /* the three attributes take 107 bytes */
#define EXPIRY_WARN_DAYS 30
#define DAY_MS (24 * 3600 * 1000LL)

struct signer {
	EVP_PKEY *key;
	X509 *cert;
	X509 *wwdr;
	EVP_MD *sha256;
	EVP_PKEY_CTX *sign_ctx; /* RSA PKCS#1 v1.5 with SHA-256, set up once; only duplicated */
	unsigned char *tmpl;	/* the SignedData with zeroes where the per-call values go */
	size_t tmpl_len;
	size_t time_at;	  /* offsets into tmpl: the UTCTime's 13 characters */
	size_t digest_at; /* the messageDigest's 32 bytes */
	size_t attrs_at;  /* the signed attributes, from their [0] tag */
	size_t attrs_len;
	size_t sig_at; /* the RSA signature */
	size_t sig_len;
	int64_t not_after_ms;
	atomic_bool expiry_logged;
	char pass_type_id[SIGNER_PASS_TYPE_ID_MAX + 1];
	char team_id[SIGNER_TEAM_ID_MAX + 1];
};

/* DER of the fixed parts: whole TLVs. */
static const unsigned char oid_signed_data[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
						 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const unsigned char oid_data[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					  0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const unsigned char oid_content_type[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
						  0xf7, 0x0d, 0x01, 0x09, 0x03 };
static const unsigned char oid_message_digest[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
						    0xf7, 0x0d, 0x01, 0x09, 0x04 };
static const unsigned char oid_signing_time[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
						  0xf7, 0x0d, 0x01, 0x09, 0x05 };
static const unsigned char alg_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00 };
static const unsigned char alg_rsa[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
static const unsigned char int_one[] = { 0x02, 0x01, 0x01 };

enum {
	TAG_INTEGER = 0x02,
	TAG_OCTET_STRING = 0x04,
	TAG_UTCTIME = 0x17,
	TAG_SEQUENCE = 0x30,
	TAG_SET = 0x31,
	TAG_CONTEXT_0 = 0xa0
};

/* ---- OpenSSL errors ------------------------------------------------------------------------- */

/* The reason of the latest OpenSSL error on this thread, and the thread's queue emptied (a stale
 * error would otherwise surface in an unrelated TLS call later). */
static const char *ossl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, n, "no detail from OpenSSL");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* ---- a DER writer that writes backwards ----------------------------------------------------
 * A value's length is known only after its contents are written; writing from the end of the
 * buffer towards its start lets each header be prepended once its contents are in place. Every
 * position is an index into p; the encoding so far is p[pos, cap). */
struct der {
	unsigned char *p;
	size_t pos;
	bool overflow;
};

/* Prepends n bytes (zeroes when b is NULL). */
static void der_put(struct der *d, const void *b, size_t n)
{
	if (d->overflow || n > d->pos) {
		d->overflow = true;
		return;
	}
	d->pos -= n;
	if (b)
		memcpy(d->p + d->pos, b, n);
	else
		memset(d->p + d->pos, 0, n);
}

/* Prepends the tag and length of the value written since the position end. */
static void der_wrap(struct der *d, unsigned char tag, size_t end)
{
	size_t len = end - d->pos, n = 0;
	unsigned char h[1 + 1 + sizeof(size_t)];
	unsigned char be[sizeof(size_t)];
	size_t nb = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (unsigned char)len;
	} else {
		for (size_t v = len; v; v >>= 8)
			be[nb++] = (unsigned char)(v & 0xff);
		h[n++] = (unsigned char)(0x80 | nb);
		while (nb)
			h[n++] = be[--nb];
	}
	der_put(d, h, n);
}

/* Prepends one attribute SEQUENCE { type, SET { value } } whose value is a hole of n bytes under
 * the given tag, or the fixed TLV value when n is 0; returns the hole's position. */
static size_t der_attribute(struct der *d, const unsigned char *type, size_t type_len,
			    unsigned char tag, size_t n, const unsigned char *value,
			    size_t value_len)
{
	size_t end = d->pos, set_end, hole = 0;

	set_end = d->pos;
	if (n) {
		der_put(d, NULL, n);
		hole = d->pos;
		der_wrap(d, tag, set_end);
	} else {
		der_put(d, value, value_len);
	}
	der_wrap(d, TAG_SET, set_end);
	der_put(d, type, type_len);
	der_wrap(d, TAG_SEQUENCE, end);
	return hole;
}

/* Whether encoding a sorts after encoding b in a DER SET OF (X.690 11.6: as octet strings, the
 * shorter padded with zeroes at its end). */
static bool der_after(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);

	if (c != 0)
		return c > 0;
	for (size_t i = n; i < alen; i++)
		if (a[i] != 0)
			return true;
	return false;
}

struct der_parts {
	unsigned char *cert, *wwdr, *issuer, *serial;
	int cert_len, wwdr_len, issuer_len, serial_len;
};

/* Encodes the SignedData template for s (its key, certificates) into s->tmpl and the offsets. */
static enum loy_err template_build(struct signer *s, const struct der_parts *pt)
{
	size_t cap = (size_t)pt->cert_len + (size_t)pt->wwdr_len + (size_t)pt->issuer_len +
		     (size_t)pt->serial_len + s->sig_len + 512;
	struct der d = { .p = malloc(cap), .pos = cap };
	size_t e_all, e_explicit, e_sd, e_sis, e_si, e, attrs_end;
	size_t time_hole, digest_hole, sig_hole, attrs_pos;
	bool later = der_after(pt->cert, (size_t)pt->cert_len, pt->wwdr, (size_t)pt->wwdr_len);

	if (!d.p)
		return LOY_ENOMEM;
	e_all = d.pos;
	e_explicit = d.pos;
	e_sd = d.pos;
	/* signerInfos SET { SignerInfo } */
	e_sis = d.pos;
	e_si = d.pos;
	e = d.pos;
	der_put(&d, NULL, s->sig_len); /* encryptedDigest */
	sig_hole = d.pos;
	der_wrap(&d, TAG_OCTET_STRING, e);
	der_put(&d, alg_rsa, sizeof(alg_rsa)); /* digestEncryptionAlgorithm */
	/* authenticatedAttributes [0] IMPLICIT SET, in DER order (by encoded length here) */
	attrs_end = d.pos;
	digest_hole = der_attribute(&d, oid_message_digest, sizeof(oid_message_digest),
				    TAG_OCTET_STRING, SHA256_LEN, NULL, 0);
	time_hole = der_attribute(&d, oid_signing_time, sizeof(oid_signing_time), TAG_UTCTIME,
				  UTCTIME_LEN, NULL, 0);
	der_attribute(&d, oid_content_type, sizeof(oid_content_type), 0, 0, oid_data,
		      sizeof(oid_data));
	der_wrap(&d, TAG_CONTEXT_0, attrs_end);
	attrs_pos = d.pos;
	der_put(&d, alg_sha256, sizeof(alg_sha256)); /* digestAlgorithm */
	e = d.pos;				     /* issuerAndSerialNumber */
	der_put(&d, pt->serial, (size_t)pt->serial_len);
	der_put(&d, pt->issuer, (size_t)pt->issuer_len);
	der_wrap(&d, TAG_SEQUENCE, e);
	der_put(&d, int_one, sizeof(int_one)); /* version */
	der_wrap(&d, TAG_SEQUENCE, e_si);
	der_wrap(&d, TAG_SET, e_sis);
	/* certificates [0] IMPLICIT SET OF, in DER order (as OpenSSL writes it) */
	e = d.pos;
	der_put(&d, later ? pt->cert : pt->wwdr, (size_t)(later ? pt->cert_len : pt->wwdr_len));
	der_put(&d, later ? pt->wwdr : pt->cert, (size_t)(later ? pt->wwdr_len : pt->cert_len));
	der_wrap(&d, TAG_CONTEXT_0, e);
	e = d.pos; /* contentInfo: data, content absent (detached) */
	der_put(&d, oid_data, sizeof(oid_data));
	der_wrap(&d, TAG_SEQUENCE, e);
	e = d.pos; /* digestAlgorithms */
	der_put(&d, alg_sha256, sizeof(alg_sha256));
	der_wrap(&d, TAG_SET, e);
	der_put(&d, int_one, sizeof(int_one)); /* version */
	der_wrap(&d, TAG_SEQUENCE, e_sd);
	der_wrap(&d, TAG_CONTEXT_0, e_explicit);
	der_put(&d, oid_signed_data, sizeof(oid_signed_data));
	der_wrap(&d, TAG_SEQUENCE, e_all);

	if (d.overflow || attrs_end - attrs_pos > SIGNED_ATTRS_MAX) {
		free(d.p);
		log_error("signer: the signature template does not fit (internal error)");
		return LOY_EINTERNAL;
	}
	s->tmpl_len = cap - d.pos;
	s->time_at = time_hole - d.pos;
	s->digest_at = digest_hole - d.pos;
	s->attrs_at = attrs_pos - d.pos;
	s->attrs_len = attrs_end - attrs_pos;
	s->sig_at = sig_hole - d.pos;
	memmove(d.p, d.p + d.pos, s->tmpl_len);
	s->tmpl = d.p;
	return LOY_OK;
}

/* ---- reading certificates and keys --------------------------------------------------------- */

/* A password callback that never prompts: the configured password or failure. */
static int password_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	(void)rwflag;
	if (!pw)
		return -1;
	n = strlen(pw);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

/* Reads the first certificate of a PEM file, or a DER one (Apple's downloads are DER .cer). */
static X509 *cert_read(const char *what, const char *path)
{
	char why[256];
	X509 *x = NULL;
	BIO *b = BIO_new_file(path, "rb");

	if (!b) {
		log_error("signer: cannot read the %s %s: %s", what, path,
			  ossl_reason(why, sizeof(why)));
		return NULL;
	}
	x = PEM_read_bio_X509(b, NULL, password_cb, NULL);
	if (!x) {
		ERR_clear_error();
		(void)BIO_reset(b);
		x = d2i_X509_bio(b, NULL);
	}
	if (!x)
		log_error("signer: %s is not a certificate (PEM or DER) for the %s: %s", path, what,
			  ossl_reason(why, sizeof(why)));
	BIO_free(b);
	return x;
}

static EVP_PKEY *key_read(const char *path, const char *password)
{
	char why[256];
	EVP_PKEY *k = NULL;
	BIO *b = BIO_new_file(path, "rb");

	if (!b) {
		log_error("signer: cannot read the pass key %s: %s", path,
			  ossl_reason(why, sizeof(why)));
		return NULL;
	}
	k = PEM_read_bio_PrivateKey(b, NULL, password_cb, (void *)password);
	if (!k)
		log_error("signer: cannot load the private key %s (%s): %s", path,
			  password ? "wrong password or not a PEM key"
				   : "not a PEM key, or encrypted and no password given",
			  ossl_reason(why, sizeof(why)));
	BIO_free(b);
	return k;
}

static int64_t asn1_time_ms(const ASN1_TIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

/* Copies the subject's entry nid into out when present, short enough and made of allowed
 * characters (these values go into pass.json and the apns-topic header). */
static bool subject_value(X509 *x, int nid, const char *allowed, char *out, size_t outsz)
{
	const X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	int n;
	bool ok;

	if (i < 0)
		return false;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	ok = n > 0 && (size_t)n < outsz && strspn((const char *)utf8, allowed) == (size_t)n;
	if (ok)
		memcpy(out, utf8, (size_t)n + 1);
	OPENSSL_free(utf8);
	ERR_clear_error();
	return ok;
}

/* ---- opening ------------------------------------------------------------------------------- */

static enum loy_err check_validity(const char *what, X509 *x)
{
	char until[32];
	int64_t now = time_now_ms(), nb = asn1_time_ms(X509_get0_notBefore(x)),
		na = asn1_time_ms(X509_get0_notAfter(x));

	if (now >= na) {
		time_format_iso(na, until, sizeof(until));
		log_error(
			"signer: the %s expired on %s; renew it (Apple refuses passes signed with an "
			"expired certificate)",
			what, until);
		return LOY_EINVALID;
	}
	if (now < nb) {
		time_format_iso(nb, until, sizeof(until));
		log_error("signer: the %s is not valid before %s (is the clock right?)", what,
			  until);
		return LOY_EINVALID;
	}
	return LOY_OK;
}

static enum loy_err check_pair(struct signer *s)
{
	char why[256], issuer[256];

	if (!EVP_PKEY_is_a(s->key, "RSA")) {
		log_error(
			"signer: the pass key is %s; Apple's pass certificates are RSA and this signer "
			"signs with RSA only",
			EVP_PKEY_get0_type_name(s->key));
		return LOY_EINVALID;
	}
	if (X509_check_private_key(s->cert, s->key) != 1) {
		log_error("signer: the private key does not match the pass certificate (%s)",
			  ossl_reason(why, sizeof(why)));
		return LOY_EINVALID;
	}
	if (X509_check_issued(s->wwdr, s->cert) != X509_V_OK ||
	    X509_verify(s->cert, X509_get0_pubkey(s->wwdr)) != 1) {
		X509_NAME_oneline(X509_get_issuer_name(s->cert), issuer, sizeof(issuer));
		ERR_clear_error();
		log_error("signer: the WWDR certificate did not issue the pass certificate, whose "
			  "issuer is %s (current pass certificates need Apple's WWDR G4)",
			  issuer);
		return LOY_EINVALID;
	}
	if (check_validity("pass certificate", s->cert) != LOY_OK ||
	    check_validity("WWDR certificate", s->wwdr) != LOY_OK)
		return LOY_EINVALID;
	if (!subject_value(s->cert, NID_userId,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_",
			   s->pass_type_id, sizeof(s->pass_type_id)) ||
	    !subject_value(s->cert, NID_organizationalUnitName,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
			   s->team_id, sizeof(s->team_id))) {
		log_error(
			"signer: the certificate's subject has no usable UID (pass type identifier) "
			"and OU (team identifier); is it a Pass Type ID certificate?");
		return LOY_EINVALID;
	}
	return LOY_OK;
}

static enum loy_err prepare_signing(struct signer *s)
{
	struct der_parts pt = { 0 };
	enum loy_err err = LOY_EINTERNAL;
	char why[256];

	s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	s->sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, s->key, NULL);
	if (!s->sha256 || !s->sign_ctx || EVP_PKEY_sign_init(s->sign_ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(s->sign_ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(s->sign_ctx, s->sha256) <= 0) {
		log_error("signer: cannot set up RSA signing: %s", ossl_reason(why, sizeof(why)));
		return LOY_EINTERNAL;
	}
	s->sig_len = (size_t)EVP_PKEY_get_size(s->key);
	pt.cert_len = i2d_X509(s->cert, &pt.cert);
	pt.wwdr_len = i2d_X509(s->wwdr, &pt.wwdr);
	pt.issuer_len = i2d_X509_NAME(X509_get_issuer_name(s->cert), &pt.issuer);
	pt.serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(s->cert), &pt.serial);
	if (pt.cert_len <= 0 || pt.wwdr_len <= 0 || pt.issuer_len <= 0 || pt.serial_len <= 0)
		log_error("signer: cannot encode the certificates: %s",
			  ossl_reason(why, sizeof(why)));
	else
		err = template_build(s, &pt);
	OPENSSL_free(pt.cert);
	OPENSSL_free(pt.wwdr);
	OPENSSL_free(pt.issuer);
	OPENSSL_free(pt.serial);
	return err;
}

/* Takes ownership of key and cert (either may be NULL after a failed read) and finishes opening. */
static enum loy_err signer_finish(EVP_PKEY *key, X509 *cert, const char *wwdr_path,
				  struct signer **out)
{
	struct signer *s = calloc(1, sizeof(*s));
	enum loy_err err = LOY_EINVALID;
	int64_t days;

	*out = NULL;
	if (!s) {
		EVP_PKEY_free(key);
		X509_free(cert);
		return LOY_ENOMEM;
	}
	s->key = key;
	s->cert = cert;
	if (!key || !cert)
		goto out;
	s->wwdr = cert_read("WWDR certificate", wwdr_path);
	if (!s->wwdr)
		goto out;
	err = check_pair(s);
	if (err != LOY_OK)
		goto out;
	err = prepare_signing(s);
	if (err != LOY_OK)
		goto out;
	s->not_after_ms = asn1_time_ms(X509_get0_notAfter(s->cert));
	atomic_init(&s->expiry_logged, false);
	days = (s->not_after_ms - time_now_ms()) / DAY_MS;
	if (days < EXPIRY_WARN_DAYS)
		log_warn("signer: the pass certificate for %s expires in %lld days; renew it",
			 s->pass_type_id, (long long)days);
	*out = s;
	return LOY_OK;
out:
	signer_close(s);
	return err;
}

enum loy_err signer_open_pem(const char *cert_pem_path, const char *key_pem_path,
			     const char *key_password, const char *wwdr_pem_path,
			     struct signer **out)
{
	X509 *cert = cert_read("pass certificate", cert_pem_path);
	EVP_PKEY *key = cert ? key_read(key_pem_path, key_password) : NULL;

	return signer_finish(key, cert, wwdr_pem_path, out);
}

static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;
static OSSL_PROVIDER *legacy_default, *legacy_legacy;

static void legacy_unload(void)
{
	OSSL_PROVIDER_unload(legacy_legacy);
	OSSL_PROVIDER_unload(legacy_default);
}

/* RC2-40, which older Keychain exports use, lives in OpenSSL 3's legacy provider. Loading any
 * provider explicitly stops the default one from loading implicitly, so both are loaded. Once per
 * process; they are unloaded at exit, before OpenSSL's own clean-up (atexit runs in reverse). */
static void legacy_load(void)
{
	char why[256];

	legacy_default = OSSL_PROVIDER_load(NULL, "default");
	legacy_legacy = legacy_default ? OSSL_PROVIDER_load(NULL, "legacy") : NULL;
	if (legacy_legacy)
		log_info("signer: loaded OpenSSL's legacy provider to read an old .p12 bundle");
	else
		log_warn("signer: cannot load OpenSSL's legacy provider: %s",
			 ossl_reason(why, sizeof(why)));
	atexit(legacy_unload);
}

static bool p12_mac_ok(PKCS12 *p12, const char *password)
{
	if (!PKCS12_mac_present(p12))
		return true;
	if (password && *password)
		return PKCS12_verify_mac(p12, password, -1) == 1;
	return PKCS12_verify_mac(p12, NULL, 0) == 1 || PKCS12_verify_mac(p12, "", 0) == 1;
}

enum loy_err signer_open_p12(const char *p12_path, const char *password, const char *wwdr_pem_path,
			     struct signer **out)
{
	char why[256];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	PKCS12 *p12 = NULL;
	BIO *b = BIO_new_file(p12_path, "rb");

	if (b)
		p12 = d2i_PKCS12_bio(b, NULL);
	BIO_free(b);
	if (!p12) {
		log_error("signer: cannot read the .p12 bundle %s: %s", p12_path,
			  ossl_reason(why, sizeof(why)));
		*out = NULL;
		return LOY_EINVALID;
	}
	if (!p12_mac_ok(p12, password)) {
		ERR_clear_error();
		log_error("signer: wrong password for the .p12 bundle %s", p12_path);
		PKCS12_free(p12);
		*out = NULL;
		return LOY_EINVALID;
	}
	if (!PKCS12_parse(p12, password, &key, &cert, NULL)) {
		ERR_clear_error();
		pthread_once(&legacy_once, legacy_load);
		if (!legacy_legacy || !PKCS12_parse(p12, password, &key, &cert, NULL)) {
			log_error("signer: cannot unpack the .p12 bundle %s: %s", p12_path,
				  ossl_reason(why, sizeof(why)));
			key = NULL;
			cert = NULL;
		}
	}
	PKCS12_free(p12);
	if ((key == NULL) != (cert == NULL)) {
		log_error("signer: the .p12 bundle %s lacks its %s", p12_path,
			  key ? "certificate" : "private key");
		EVP_PKEY_free(key);
		X509_free(cert);
		key = NULL;
		cert = NULL;
	}
	return signer_finish(key, cert, wwdr_pem_path, out);
}

void signer_close(struct signer *s)
{
	if (!s)
		return;
	EVP_PKEY_CTX_free(s->sign_ctx);
	EVP_MD_free(s->sha256);
	EVP_PKEY_free(s->key); /* OpenSSL clears the key material as it frees it */
	X509_free(s->cert);
	X509_free(s->wwdr);
	free(s->tmpl);
	free(s);
}

size_t signer_signature_len(const struct signer *s)
{
	return s->tmpl_len;
}

/* Writes the UTCTime "YYMMDDHHMMSSZ" of t into out (13 bytes, no NUL). UTCTime covers 1950-2049;
 * RFC 5652 wants GeneralizedTime after that, which changes the template's length. */
static bool utctime(time_t t, unsigned char *out)
{
	struct tm tm;
	int v[6];

	if (!gmtime_r(&t, &tm) || tm.tm_year < 50 || tm.tm_year >= 150)
		return false;
	v[0] = tm.tm_year % 100, v[1] = tm.tm_mon + 1, v[2] = tm.tm_mday;
	v[3] = tm.tm_hour, v[4] = tm.tm_min, v[5] = tm.tm_sec;
	for (int i = 0; i < 6; i++) {
		out[2 * i] = (unsigned char)('0' + v[i] / 10 % 10);
		out[2 * i + 1] = (unsigned char)('0' + v[i] % 10);
	}
	out[12] = 'Z';
	return true;
}

enum loy_err signer_sign_manifest(struct signer *s, const void *manifest, size_t len,
				  unsigned char *der, size_t cap, size_t *der_len)
{
	unsigned char attrs[SIGNED_ATTRS_MAX], md[SHA256_LEN];
	int64_t now = time_now_ms();
	EVP_PKEY_CTX *ctx;
	size_t sig_len = s->sig_len;
	char why[256];
	int ok;

	if (cap < s->tmpl_len)
		return LOY_ETOOBIG;
	if (now >= s->not_after_ms) {
		if (!atomic_exchange(&s->expiry_logged, true))
			log_error(
				"signer: the pass certificate for %s has expired; passes cannot be "
				"signed until it is renewed",
				s->pass_type_id);
		return LOY_EUNAVAILABLE;
	}
	memcpy(der, s->tmpl, s->tmpl_len);
	if (!utctime((time_t)(now / 1000), der + s->time_at)) {
		log_error("signer: the clock is outside 1950-2049, which a UTCTime cannot carry");
		return LOY_EINTERNAL;
	}
	/* The signature covers the DER of the attributes as a SET, not as the [0] they travel in. */
	if (!EVP_Digest(manifest, len, der + s->digest_at, NULL, s->sha256, NULL))
		goto ossl;
	memcpy(attrs, der + s->attrs_at, s->attrs_len);
	attrs[0] = TAG_SET;
	if (!EVP_Digest(attrs, s->attrs_len, md, NULL, s->sha256, NULL))
		goto ossl;
	ctx = EVP_PKEY_CTX_dup(s->sign_ctx);
	if (!ctx)
		goto ossl;
	ok = EVP_PKEY_sign(ctx, der + s->sig_at, &sig_len, md, sizeof(md)) > 0 &&
	     sig_len == s->sig_len;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		goto ossl;
	*der_len = s->tmpl_len;
	return LOY_OK;
ossl:
	log_error("signer: signing failed: %s", ossl_reason(why, sizeof(why)));
	return LOY_EINTERNAL;
}

const char *signer_pass_type_id(const struct signer *s)
{
	return s->pass_type_id;
}

const char *signer_team_id(const struct signer *s)
{
	return s->team_id;
}

int64_t signer_not_after(const struct signer *s)
{
	return s->not_after_ms;
}

enum loy_err signer_tls_client_setup(const struct signer *s, void *ssl_ctx)
{
	SSL_CTX *ctx = ssl_ctx;
	char why[256];

	if (SSL_CTX_use_certificate(ctx, s->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, s->key) != 1 ||
	    SSL_CTX_add1_chain_cert(ctx, s->wwdr) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		log_error("signer: cannot install the pass certificate for TLS: %s",
			  ossl_reason(why, sizeof(why)));
		return LOY_EINTERNAL;
	}
	return LOY_OK;
}
