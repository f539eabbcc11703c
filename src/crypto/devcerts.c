/* Development certificates behind devcerts.h. The certificates are shaped like Apple's so that the
 * code path is the one real certificates take: the pass certificate carries what a real one carries
 * (subject UID=<pass type id>, CN=Pass Type ID: <id>, OU=<team>, O=<org>; key usage
 * digitalSignature; extended key usage TLS client authentication plus Apple's Passbook signing
 * purpose 1.2.840.113635.100.4.14; Apple's marker extension 1.2.840.113635.100.6.1.16 holding the
 * pass type id, which iOS's pass-signer policy checks) and the intermediate is named like WWDR G4.
 * The keys written here are for development only and are never committed: tests make their own. */
#include "crypto/devcerts.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/rand.h"

#define DEVCERTS_RSA_BITS 2048
#define DAY_S (24L * 3600)

enum kind { K_CA, K_WWDR, K_PASS, K_LOCALHOST, K_COUNT };

/* Extensions as openssl.cnf would spell them: name, value, ..., NULL. */
static const char *const ca_ext[] = { "basicConstraints",
				      "critical,CA:TRUE",
				      "keyUsage",
				      "critical,keyCertSign,cRLSign",
				      "subjectKeyIdentifier",
				      "hash",
				      NULL };
static const char *const wwdr_ext[] = { "basicConstraints",
					"critical,CA:TRUE,pathlen:0",
					"keyUsage",
					"critical,keyCertSign,cRLSign",
					"subjectKeyIdentifier",
					"hash",
					"authorityKeyIdentifier",
					"keyid",
					NULL };
static const char *const pass_ext[] = { "basicConstraints",
					"critical,CA:FALSE",
					"keyUsage",
					"critical,digitalSignature",
					"extendedKeyUsage",
					"clientAuth,1.2.840.113635.100.4.14",
					"subjectKeyIdentifier",
					"hash",
					"authorityKeyIdentifier",
					"keyid",
					"1.2.840.113635.100.6.3.2", /* as Apple's carry: NULL */
					"ASN1:NULL",
					NULL };
static const char *const localhost_ext[] = { "basicConstraints",
					     "critical,CA:FALSE",
					     "keyUsage",
					     "critical,digitalSignature,keyEncipherment",
					     "extendedKeyUsage",
					     "serverAuth",
					     "subjectAltName",
					     "DNS:localhost,IP:127.0.0.1,IP:::1",
					     "subjectKeyIdentifier",
					     "hash",
					     "authorityKeyIdentifier",
					     "keyid",
					     NULL };

static const struct kind_row {
	const char *name; /* files <name>.key and <name>.pem */
	int issuer;	  /* kind that signs it; itself for the root */
	long days;	  /* validity; 0: the options' pass_days */
	const char *const *ext;
} kinds[K_COUNT] = {
	[K_CA] = { "ca", K_CA, 3650, ca_ext },
	[K_WWDR] = { "wwdr", K_CA, 3650, wwdr_ext },
	[K_PASS] = { "pass", K_WWDR, 0, pass_ext },
	[K_LOCALHOST] = { "localhost", K_CA, 825, localhost_ext },
};

struct pair {
	EVP_PKEY *key;
	X509 *cert;
	bool fresh; /* made in this run: what it issues is made again too */
};

struct run {
	const char *dir;
	const struct devcerts_options *o;
	devcerts_report_fn *report;
	void *arg;
	struct pair p[K_COUNT];
};

const char *devcerts_check_options(const struct devcerts_options *o)
{
	static const char alnum[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static const char ptid_chars[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
	size_t n;

	n = o->pass_type_id ? strlen(o->pass_type_id) : 0;
	if (n <= 5 || n > DEVCERTS_PASS_TYPE_ID_MAX || strncmp(o->pass_type_id, "pass.", 5) != 0 ||
	    strspn(o->pass_type_id, ptid_chars) != n)
		return "the pass type id must start with \"pass.\" and hold up to 50 letters, digits, "
		       "dots and dashes";
	n = o->team_id ? strlen(o->team_id) : 0;
	if (n == 0 || n > DEVCERTS_TEAM_ID_MAX || strspn(o->team_id, alnum) != n)
		return "the team id must be 1 to 16 letters and digits";
	n = o->org ? strlen(o->org) : 0;
	if (n == 0 || n > DEVCERTS_ORG_MAX)
		return "the organisation must be 1 to 48 bytes";
	for (const char *p = o->org; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "the organisation must not hold control characters";
	if (o->pass_days == 0)
		return "the pass certificate's validity in days must not be 0";
	return NULL;
}

/* ---- files --------------------------------------------------------------------------------- */

static bool path_of(const struct run *r, const char *name, const char *ext, char *out, size_t n)
{
	int w = snprintf(out, n, "%s/%s%s", r->dir, name, ext);
	if (w < 0 || (size_t)w >= n) {
		log_error("devcerts: the path %s/%s%s is too long", r->dir, name, ext);
		return false;
	}
	return true;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static enum loy_err mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p)) {
		log_error("devcerts: bad directory name");
		return LOY_EIO;
	}
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			log_error("devcerts: cannot create the directory %s: %s", p,
				  strerror(errno));
			return LOY_EIO;
		}
		p[i] = i < n ? '/' : '\0';
	}
	return LOY_OK;
}

typedef bool emit_fn(FILE *f, const void *obj);

static bool emit_key(FILE *f, const void *obj)
{
	return PEM_write_PrivateKey(f, (EVP_PKEY *)obj, NULL, NULL, 0, NULL, NULL) == 1;
}

static bool emit_cert(FILE *f, const void *obj)
{
	return PEM_write_X509(f, (X509 *)obj) == 1;
}

static bool emit_p12(FILE *f, const void *obj)
{
	return i2d_PKCS12_fp(f, (PKCS12 *)obj) == 1;
}

/* Writes path through a temporary file in the same directory, created with mode, then renamed. */
static enum loy_err write_file(const char *path, mode_t mode, emit_fn *emit, const void *obj)
{
	char tmp[PATH_MAX];
	int fd, w = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	FILE *f;
	bool ok;

	if (w < 0 || (size_t)w >= sizeof(tmp))
		return LOY_EIO;
	fd = mkstemp(tmp); /* mode 0600 until told otherwise */
	if (fd < 0) {
		log_error("devcerts: cannot create %s: %s", tmp, strerror(errno));
		return LOY_EIO;
	}
	f = fchmod(fd, mode) == 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		close(fd);
		unlink(tmp);
		log_error("devcerts: cannot write %s: %s", tmp, strerror(errno));
		return LOY_EIO;
	}
	ok = emit(f, obj);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		ERR_clear_error();
		log_error("devcerts: cannot write %s", path);
		return LOY_EIO;
	}
	return LOY_OK;
}

static enum loy_err load_pair(const char *key_path, const char *cert_path, struct pair *p)
{
	BIO *b = BIO_new_file(key_path, "rb");

	if (b)
		p->key = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
	BIO_free(b);
	b = BIO_new_file(cert_path, "rb");
	if (b)
		p->cert = PEM_read_bio_X509(b, NULL, NULL, (void *)"");
	BIO_free(b);
	ERR_clear_error();
	if (!p->key || !p->cert) {
		log_error("devcerts: cannot read %s", p->key ? cert_path : key_path);
		return LOY_EIO;
	}
	if (X509_check_private_key(p->cert, p->key) != 1) {
		ERR_clear_error();
		log_error("devcerts: %s does not match %s; use --force to make new ones", cert_path,
			  key_path);
		return LOY_EINVALID;
	}
	return LOY_OK;
}

/* ---- certificates -------------------------------------------------------------------------- */

static bool name_add(X509_NAME *n, int nid, const char *value)
{
	return X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8, (const unsigned char *)value, -1,
					  -1, 0) == 1;
}

static X509_NAME *subject_of(enum kind k, const struct devcerts_options *o)
{
	X509_NAME *n = X509_NAME_new();
	char cn[96];
	bool ok = n != NULL;

	switch (k) {
	case K_CA:
		snprintf(cn, sizeof(cn), "%s Root CA", o->org);
		ok = ok && name_add(n, NID_commonName, cn) &&
		     name_add(n, NID_organizationName, o->org);
		break;
	case K_WWDR: /* Apple's: CN=Apple Worldwide Developer Relations Certification Authority, OU=G4 */
		snprintf(cn, sizeof(cn), "%s WWDR CA", o->org);
		ok = ok && name_add(n, NID_commonName, cn) &&
		     name_add(n, NID_organizationalUnitName, "G4") &&
		     name_add(n, NID_organizationName, o->org);
		break;
	case K_PASS:
		snprintf(cn, sizeof(cn), "Pass Type ID: %s", o->pass_type_id);
		ok = ok && name_add(n, NID_userId, o->pass_type_id) &&
		     name_add(n, NID_commonName, cn) &&
		     name_add(n, NID_organizationalUnitName, o->team_id) &&
		     name_add(n, NID_organizationName, o->org);
		break;
	default:
		ok = ok && name_add(n, NID_commonName, "localhost") &&
		     name_add(n, NID_organizationName, o->org);
		break;
	}
	if (!ok) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

static bool add_ext(X509 *x, X509V3_CTX *ctx, const char *name, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf(NULL, ctx, name, value);
	bool ok = e && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok;
}

/* A certificate for key with subject, signed by issuer's pair (NULL: self-signed), valid from
 * `from` to `to` seconds from now. */
static X509 *cert_make(enum kind k, EVP_PKEY *key, const X509_NAME *subject,
		       const struct pair *issuer, long from, long to, const char *pass_type_id)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	uint64_t serial;
	char marker[DEVCERTS_PASS_TYPE_ID_MAX + 32];
	bool ok;

	if (!x)
		return NULL;
	rand_bytes(&serial, sizeof(serial));
	serial = (serial >> 1) | 1; /* positive and non-zero */
	ok = X509_set_version(x, X509_VERSION_3) &&
	     ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) &&
	     X509_set_subject_name(x, subject) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : subject) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), from) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), to) && X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer->cert : x, x, NULL, NULL, 0);
	for (const char *const *e = kinds[k].ext; ok && *e; e += 2)
		ok = add_ext(x, &ctx, e[0], e[1]);
	if (ok && k == K_PASS) {
		snprintf(marker, sizeof(marker), "ASN1:UTF8String:%s", pass_type_id);
		ok = add_ext(x, &ctx, "1.2.840.113635.100.6.1.16", marker);
	}
	ok = ok && X509_sign(x, issuer ? issuer->key : key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Whether a kept pass certificate carries the subject the options ask for. */
static bool same_subject(X509 *x, enum kind k, const struct devcerts_options *o)
{
	X509_NAME *want = subject_of(k, o);
	bool same = want && X509_NAME_cmp(want, X509_get_subject_name(x)) == 0;

	X509_NAME_free(want);
	return same;
}

/* Keeps <name>.key and <name>.pem when both exist (and nothing above was made again), else makes
 * and writes them. */
static enum loy_err keep_or_make(struct run *r, enum kind k)
{
	const struct kind_row *row = &kinds[k];
	struct pair *p = &r->p[k];
	const struct pair *issuer = row->issuer == (int)k ? NULL : &r->p[row->issuer];
	char key_path[PATH_MAX], cert_path[PATH_MAX];
	long days = row->days ? row->days : r->o->pass_days;
	bool have_key, have_cert;
	X509_NAME *subject;
	enum loy_err err;

	if (!path_of(r, row->name, ".key", key_path, sizeof(key_path)) ||
	    !path_of(r, row->name, ".pem", cert_path, sizeof(cert_path)))
		return LOY_EIO;
	have_key = exists(key_path);
	have_cert = exists(cert_path);
	if (!r->o->force && !(issuer && issuer->fresh)) {
		if (have_key && have_cert) {
			enum devcerts_action a = DEVCERTS_KEPT;
			err = load_pair(key_path, cert_path, p);
			if (err != LOY_OK)
				return err;
			if (!same_subject(p->cert, k, r->o))
				a = DEVCERTS_KEPT_DIFFERENT;
			r->report(key_path, DEVCERTS_KEPT, r->arg);
			r->report(cert_path, a, r->arg);
			return LOY_OK;
		}
		if (have_key || have_cert) {
			log_error("devcerts: %s exists without %s; remove it or use --force",
				  have_key ? key_path : cert_path, have_key ? cert_path : key_path);
			return LOY_EINVALID;
		}
	}
	subject = subject_of(k, r->o);
	p->key = EVP_RSA_gen(DEVCERTS_RSA_BITS);
	if (subject && p->key)
		p->cert = days > 0 ? cert_make(k, p->key, subject, issuer, -3600, days * DAY_S,
					       r->o->pass_type_id)
				   : cert_make(k, p->key, subject, issuer, (days - 1) * DAY_S,
					       days * DAY_S, r->o->pass_type_id);
	X509_NAME_free(subject);
	if (!p->cert) {
		ERR_clear_error();
		log_error("devcerts: OpenSSL could not make %s", cert_path);
		return LOY_EINTERNAL;
	}
	p->fresh = true;
	err = write_file(key_path, 0600, emit_key, p->key);
	if (err == LOY_OK)
		r->report(key_path, DEVCERTS_WROTE, r->arg);
	if (err == LOY_OK)
		err = write_file(cert_path, 0644, emit_cert, p->cert);
	if (err == LOY_OK)
		r->report(cert_path, DEVCERTS_WROTE, r->arg);
	return err;
}

/* pass.p12: the pass certificate, its key and the intermediate, for the .p12 configuration. */
static enum loy_err keep_or_make_p12(struct run *r)
{
	char path[PATH_MAX];
	STACK_OF(X509) * chain;
	PKCS12 *p12 = NULL;
	enum loy_err err = LOY_EINTERNAL;

	if (!path_of(r, "pass", ".p12", path, sizeof(path)))
		return LOY_EIO;
	if (!r->o->force && !r->p[K_PASS].fresh && exists(path)) {
		r->report(path, DEVCERTS_KEPT, r->arg);
		return LOY_OK;
	}
	chain = sk_X509_new_null();
	if (chain && sk_X509_push(chain, r->p[K_WWDR].cert))
		p12 = PKCS12_create(r->o->p12_password, "Loy development pass certificate",
				    r->p[K_PASS].key, r->p[K_PASS].cert, chain, 0, 0, 0, 0, 0);
	sk_X509_free(chain);
	if (p12)
		err = write_file(path, 0600, emit_p12, p12);
	else
		log_error("devcerts: OpenSSL could not make %s", path);
	PKCS12_free(p12);
	ERR_clear_error();
	if (err == LOY_OK)
		r->report(path, DEVCERTS_WROTE, r->arg);
	return err;
}

enum loy_err devcerts_create(const char *dir, const struct devcerts_options *o,
			     devcerts_report_fn *report, void *arg)
{
	struct run r = { .dir = dir, .o = o, .report = report, .arg = arg };
	const char *why = devcerts_check_options(o);
	enum loy_err err;

	if (why) {
		log_error("devcerts: %s", why);
		return LOY_EINVALID;
	}
	err = mkdir_p(dir);
	for (int k = 0; err == LOY_OK && k < K_COUNT; k++) {
		err = keep_or_make(&r, (enum kind)k);
		if (err == LOY_OK && k == K_PASS)
			err = keep_or_make_p12(&r);
	}
	for (int k = 0; k < K_COUNT; k++) {
		EVP_PKEY_free(r.p[k].key);
		X509_free(r.p[k].cert);
	}
	return err;
}
