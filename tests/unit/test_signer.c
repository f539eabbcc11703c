/* Unit tests of the pass signer (crypto/signer) and the development certificates
 * (crypto/devcerts). Certificates and keys are made at run time in a temporary directory; no key
 * is ever committed. Signatures are checked by the openssl command line as a pass verifier would
 * (cms -verify and smime -verify against the development root), and, for the many signatures of
 * the threads test, in-process through OpenSSL's CMS_verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "crypto/devcerts.h"
#include "crypto/signer.h"
#include "support.h"

#define SIG_MAX 16384
#define THREADS 8
#define SIGNS_PER_THREAD 50

static char dir[64];	     /* the development set: pass.p12 has the password "s3cret" */
static char expired_dir[80]; /* a set whose pass certificate expired yesterday */

static const char manifest[] = "{\"icon.png\":\"0296b01347b3173e98438a003b0e88986340b2d8\","
			       "\"pass.json\":\"3d5b8b3b9f1f3a4ce4ea7cd33a3ef8a1b1e1b2a5\"}";

/* ---- helpers ------------------------------------------------------------------------------- */

/* in, run, output_of, write_bytes and quiet_report come from support.c. */

/* Signs the test manifest with s and writes manifest.json and sig.der into base. */
static void sign_to_files(struct signer *s, const char *base)
{
	unsigned char der[SIG_MAX];
	size_t len = 0;

	assert_int_equal(signer_sign_manifest(s, manifest, strlen(manifest), der, sizeof(der),
					      &len),
			 LOY_OK);
	assert_int_equal(len, signer_signature_len(s));
	write_bytes(in(base, "manifest.json"), manifest, strlen(manifest));
	write_bytes(in(base, "sig.der"), der, len);
}

static int cms_verify_cli(const char *base, const char *content)
{
	return run("openssl cms -verify -binary -inform DER -in %s -content %s -CAfile %s "
		   "-purpose any -out /dev/null",
		   in(base, "sig.der"), content, in(dir, "ca.pem"));
}

static int setup(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	const char *tmp = getenv("TMPDIR");

	(void)state;
	log_set_level(LOG_ERROR);
	snprintf(dir, sizeof(dir), "%s/loy-signer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(expired_dir, sizeof(expired_dir), "%s/expired", dir);
	o.p12_password = "s3cret";
	if (devcerts_create(dir, &o, quiet_report, NULL) != LOY_OK)
		return -1;
	o = DEVCERTS_OPTIONS_DEFAULT;
	o.pass_days = -1;
	return devcerts_create(expired_dir, &o, quiet_report, NULL) == LOY_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return run("rm -rf %s", dir);
}

/* ---- development certificates ------------------------------------------------------------- */

static void test_devcerts_options(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	char id[64];

	(void)state;
	assert_null(devcerts_check_options(&o));
	o.pass_type_id = "com.example.loy"; /* not "pass." */
	assert_non_null(devcerts_check_options(&o));
	o.pass_type_id = "pass.a b";
	assert_non_null(devcerts_check_options(&o));
	memset(id, 'x', sizeof(id));
	memcpy(id, "pass.", 5);
	id[DEVCERTS_PASS_TYPE_ID_MAX] = '\0'; /* N */
	o.pass_type_id = id;
	assert_null(devcerts_check_options(&o));
	id[DEVCERTS_PASS_TYPE_ID_MAX] = 'x'; /* N + 1 */
	id[DEVCERTS_PASS_TYPE_ID_MAX + 1] = '\0';
	assert_non_null(devcerts_check_options(&o));
	o = DEVCERTS_OPTIONS_DEFAULT;
	o.team_id = "ABC-1";
	assert_non_null(devcerts_check_options(&o));
	o.team_id = "ABCDEFGHIJ123456"; /* 16 */
	assert_null(devcerts_check_options(&o));
	o.team_id = "ABCDEFGHIJ1234567"; /* 17 */
	assert_non_null(devcerts_check_options(&o));
	o = DEVCERTS_OPTIONS_DEFAULT;
	o.org = "123456789012345678901234567890123456789012345678"; /* 48 */
	assert_null(devcerts_check_options(&o));
	o.org = "1234567890123456789012345678901234567890123456789"; /* 49 */
	assert_non_null(devcerts_check_options(&o));
	o.org = "a\nb";
	assert_non_null(devcerts_check_options(&o));
	o = DEVCERTS_OPTIONS_DEFAULT;
	o.pass_days = 0;
	assert_non_null(devcerts_check_options(&o));
	assert_int_equal(devcerts_create(expired_dir, &o, quiet_report, NULL), LOY_EINVALID);
}

static void test_devcerts_files(void **state)
{
	static const char *const keys[] = { "ca.key", "wwdr.key", "pass.key", "localhost.key",
					    "pass.p12" };
	static const char *const certs[] = { "ca.pem", "wwdr.pem", "pass.pem", "localhost.pem" };
	char out[4096];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(stat(in(dir, keys[i]), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
		assert_int_equal(stat(in(dir, certs[i]), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0644);
	}
	/* the chains: pass and localhost lead to the root; the TLS purposes fit their use */
	assert_int_equal(run("openssl verify -CAfile %s -untrusted %s -purpose sslclient %s",
			     in(dir, "ca.pem"), in(dir, "wwdr.pem"), in(dir, "pass.pem")),
			 0);
	assert_int_equal(run("openssl verify -CAfile %s -purpose sslserver %s", in(dir, "ca.pem"),
			     in(dir, "localhost.pem")),
			 0);
	/* the pass certificate is shaped like Apple's */
	output_of(out, sizeof(out), "openssl x509 -in %s -noout -subject -ext extendedKeyUsage",
		  in(dir, "pass.pem"));
	assert_non_null(strstr(out,
			       "UID = pass.dev.loy.demo, CN = Pass Type ID: pass.dev.loy.demo, "
			       "OU = LOYDEV0001, O = Loy Development"));
	assert_non_null(strstr(out, "TLS Web Client Authentication, 1.2.840.113635.100.4.14"));
	output_of(out, sizeof(out), "openssl x509 -in %s -noout -text", in(dir, "pass.pem"));
	assert_non_null(strstr(out, "1.2.840.113635.100.6.1.16"));
	/* the expired set's pass.p12 has no password */
	assert_int_equal(
		run("openssl pkcs12 -in %s -passin pass: -noout", in(expired_dir, "pass.p12")), 0);
	assert_int_not_equal(run("openssl pkcs12 -in %s -passin pass: -noout", in(dir, "pass.p12")),
			     0);
}

struct tally {
	int wrote, kept, different;
};

static void count_report(const char *path, enum devcerts_action action, void *arg)
{
	struct tally *t = arg;

	(void)path;
	t->wrote += action == DEVCERTS_WROTE;
	t->kept += action == DEVCERTS_KEPT;
	t->different += action == DEVCERTS_KEPT_DIFFERENT;
}

static void test_devcerts_idempotent(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	struct tally t = { 0 };
	char before[4096], after[4096];

	(void)state;
	o.pass_days = -1;
	output_of(before, sizeof(before), "cat %s", in(expired_dir, "pass.pem"));
	assert_int_equal(devcerts_create(expired_dir, &o, count_report, &t), LOY_OK);
	assert_int_equal(t.kept, 9);
	assert_int_equal(t.wrote, 0);
	output_of(after, sizeof(after), "cat %s", in(expired_dir, "pass.pem"));
	assert_string_equal(before, after);

	/* other options: kept, and said so */
	memset(&t, 0, sizeof(t));
	o.pass_type_id = "pass.other.id";
	assert_int_equal(devcerts_create(expired_dir, &o, count_report, &t), LOY_OK);
	assert_int_equal(t.different, 1);
	assert_int_equal(t.kept, 8);

	/* a certificate without its key is not silently replaced */
	o = DEVCERTS_OPTIONS_DEFAULT;
	o.pass_days = -1;
	assert_int_equal(unlink(in(expired_dir, "localhost.key")), 0);
	assert_int_equal(devcerts_create(expired_dir, &o, count_report, &t), LOY_EINVALID);
	assert_int_equal(unlink(in(expired_dir, "localhost.pem")), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(devcerts_create(expired_dir, &o, count_report, &t), LOY_OK);
	assert_int_equal(t.wrote, 2);
	assert_int_equal(t.kept, 7);

	/* --force makes everything again */
	memset(&t, 0, sizeof(t));
	o.force = true;
	assert_int_equal(devcerts_create(expired_dir, &o, count_report, &t), LOY_OK);
	assert_int_equal(t.wrote, 9);
	output_of(after, sizeof(after), "cat %s", in(expired_dir, "pass.pem"));
	assert_string_not_equal(before, after);
}

/* ---- signing ------------------------------------------------------------------------------ */

static void test_sign_pem_verifies(void **state)
{
	struct signer *s = NULL;
	unsigned char der[SIG_MAX];
	char out[16384];
	size_t len = 0;
	int64_t now = time_now_ms();

	(void)state;
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	assert_string_equal(signer_pass_type_id(s), "pass.dev.loy.demo");
	assert_string_equal(signer_team_id(s), "LOYDEV0001");
	assert_true(signer_not_after(s) > now + 364 * 86400000LL);
	assert_true(signer_not_after(s) < now + 366 * 86400000LL);

	sign_to_files(s, dir);
	assert_int_equal(cms_verify_cli(dir, in(dir, "manifest.json")), 0);
	assert_int_equal(run("openssl smime -verify -binary -inform DER -in %s -content %s "
			     "-CAfile %s -purpose any -out /dev/null",
			     in(dir, "sig.der"), in(dir, "manifest.json"), in(dir, "ca.pem")),
			 0);
	/* both certificates travel in the signature, the root does not */
	output_of(out, sizeof(out), "openssl pkcs7 -inform DER -in %s -print_certs -noout",
		  in(dir, "sig.der"));
	assert_non_null(strstr(out, "subject=UID = pass.dev.loy.demo"));
	assert_non_null(strstr(out, "subject=CN = Loy Development WWDR CA, OU = G4"));
	assert_null(strstr(out, "subject=CN = Loy Development Root CA"));
	/* detached, SHA-256, with signingTime */
	output_of(out, sizeof(out), "openssl cms -cmsout -print -inform DER -in %s",
		  in(dir, "sig.der"));
	assert_non_null(strstr(out, "eContent: <ABSENT>"));
	assert_non_null(strstr(out, "signingTime"));
	assert_non_null(strstr(out, "messageDigest"));
	assert_non_null(strstr(out, "algorithm: sha256"));
	assert_null(strstr(out, "SMIMECapabilities"));

	assert_int_equal(signer_sign_manifest(s, manifest, strlen(manifest), der,
					      signer_signature_len(s) - 1, &len),
			 LOY_ETOOBIG);
	signer_close(s);
}

static void test_sign_time_is_now(void **state)
{
	struct signer *s = NULL;
	char out[16384], want[16];
	time_t t = time(NULL);
	struct tm tm;

	(void)state;
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	sign_to_files(s, dir);
	signer_close(s);
	/* the UTCTime carries the date and hour of now (a minute boundary could fall between) */
	gmtime_r(&t, &tm);
	strftime(want, sizeof(want), "%y%m%d%H", &tm);
	output_of(out, sizeof(out), "openssl asn1parse -inform DER -in %s | grep UTCTIME | tail -1",
		  in(dir, "sig.der"));
	assert_non_null(strstr(out, want));
}

/* The signer's DER is byte for byte what `openssl smime -sign` writes for the same inputs whenever
 * both sign within the same second (RSA PKCS#1 v1.5 is deterministic). */
static void test_matches_openssl_smime(void **state)
{
	struct signer *s = NULL;
	bool same = false;

	(void)state;
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	for (int i = 0; i < 5 && !same; i++) {
		sign_to_files(s, dir);
		assert_int_equal(run("openssl smime -sign -binary -nosmimecap -md sha256 -in %s "
				     "-signer %s -inkey %s -certfile %s -outform DER -out %s",
				     in(dir, "manifest.json"), in(dir, "pass.pem"),
				     in(dir, "pass.key"), in(dir, "wwdr.pem"), in(dir, "ref.der")),
				 0);
		same = run("cmp -s %s %s", in(dir, "sig.der"), in(dir, "ref.der")) == 0;
	}
	signer_close(s);
	assert_true(same);
}

static void test_tampered_manifest_fails(void **state)
{
	static const char tampered[] =
		"{\"icon.png\":\"0296b01347b3173e98438a003b0e88986340b2d8\","
		"\"pass.json\":\"3d5b8b3b9f1f3a4ce4ea7cd33a3ef8a1b1e1b2a6\"}";
	struct signer *s = NULL;

	(void)state;
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	sign_to_files(s, dir);
	signer_close(s);
	write_bytes(in(dir, "tampered.json"), tampered, strlen(tampered));
	assert_int_equal(cms_verify_cli(dir, in(dir, "manifest.json")), 0);
	assert_int_not_equal(cms_verify_cli(dir, in(dir, "tampered.json")), 0);
	/* and a root that is not ours is not trusted */
	assert_int_not_equal(run("openssl cms -verify -binary -inform DER -in %s -content %s "
				 "-CAfile %s -purpose any -out /dev/null",
				 in(dir, "sig.der"), in(dir, "manifest.json"),
				 in(dir, "localhost.pem")),
			     0);
}

static void test_sign_p12(void **state)
{
	struct signer *s = NULL;

	(void)state;
	assert_int_equal(signer_open_p12(in(dir, "pass.p12"), "s3cret", in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	assert_string_equal(signer_pass_type_id(s), "pass.dev.loy.demo");
	sign_to_files(s, dir);
	assert_int_equal(cms_verify_cli(dir, in(dir, "manifest.json")), 0);
	signer_close(s);

	s = (struct signer *)1;
	assert_int_equal(signer_open_p12(in(dir, "pass.p12"), "wrong", in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	assert_null(s);
	assert_int_equal(signer_open_p12(in(dir, "pass.p12"), NULL, in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	assert_int_equal(signer_open_p12(in(dir, "pass.pem"), "s3cret", in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);

	/* a bundle without a password, and an old RC2-40 one as older Keychain Access exports */
	assert_int_equal(run("openssl pkcs12 -export -in %s -inkey %s -passout pass: -out %s",
			     in(dir, "pass.pem"), in(dir, "pass.key"), in(dir, "nopw.p12")),
			 0);
	assert_int_equal(signer_open_p12(in(dir, "nopw.p12"), NULL, in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	signer_close(s);
	assert_int_equal(signer_open_p12(in(dir, "nopw.p12"), "", in(dir, "wwdr.pem"), &s), LOY_OK);
	signer_close(s);
	assert_int_equal(run("openssl pkcs12 -export -legacy -in %s -inkey %s -passout pass:old "
			     "-out %s",
			     in(dir, "pass.pem"), in(dir, "pass.key"), in(dir, "legacy.p12")),
			 0);
	assert_int_equal(signer_open_p12(in(dir, "legacy.p12"), "old", in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	sign_to_files(s, dir);
	assert_int_equal(cms_verify_cli(dir, in(dir, "manifest.json")), 0);
	signer_close(s);
}

static void test_encrypted_key(void **state)
{
	struct signer *s = NULL;

	(void)state;
	assert_int_equal(run("openssl pkey -in %s -aes256 -passout pass:kpw -out %s",
			     in(dir, "pass.key"), in(dir, "pass-enc.key")),
			 0);
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass-enc.key"), "kpw",
					 in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	signer_close(s);
	/* no password: refused, never prompted for */
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass-enc.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass-enc.key"), "nope",
					 in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
}

static void test_refusals(void **state)
{
	struct signer *s = (struct signer *)1;

	(void)state;
	/* a key that is not the certificate's */
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "localhost.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	assert_null(s);
	/* an expired certificate */
	assert_int_equal(signer_open_pem(in(expired_dir, "pass.pem"), in(expired_dir, "pass.key"),
					 NULL, in(expired_dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	/* a "WWDR" that did not issue the certificate: the root, another set's intermediate */
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "ca.pem"), &s),
			 LOY_EINVALID);
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(expired_dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	/* not a pass certificate: no UID */
	assert_int_equal(signer_open_pem(in(dir, "localhost.pem"), in(dir, "localhost.key"), NULL,
					 in(dir, "ca.pem"), &s),
			 LOY_EINVALID);
	/* missing and unreadable files */
	assert_int_equal(signer_open_pem(in(dir, "none.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "none.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "none.pem"), &s),
			 LOY_EINVALID);
	assert_int_equal(signer_open_pem(in(dir, "manifest.json"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	assert_int_equal(signer_open_p12(in(dir, "none.p12"), NULL, in(dir, "wwdr.pem"), &s),
			 LOY_EINVALID);
	signer_close(NULL);
}

static void test_der_certificates(void **state)
{
	struct signer *s = NULL;

	(void)state;
	/* Apple hands out pass.cer and AppleWWDRCAG4.cer in DER */
	assert_int_equal(run("openssl x509 -in %s -outform DER -out %s", in(dir, "pass.pem"),
			     in(dir, "pass.cer")),
			 0);
	assert_int_equal(run("openssl x509 -in %s -outform DER -out %s", in(dir, "wwdr.pem"),
			     in(dir, "wwdr.cer")),
			 0);
	assert_int_equal(signer_open_pem(in(dir, "pass.cer"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.cer"), &s),
			 LOY_OK);
	sign_to_files(s, dir);
	assert_int_equal(cms_verify_cli(dir, in(dir, "manifest.json")), 0);
	signer_close(s);
}

static void test_tls_client_setup(void **state)
{
	struct signer *s = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char name[256];

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	assert_int_equal(signer_tls_client_setup(s, ctx), LOY_OK);
	signer_close(s); /* the context holds its own references */
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	X509_NAME_oneline(X509_get_subject_name(SSL_CTX_get0_certificate(ctx)), name, sizeof(name));
	assert_non_null(strstr(name, "UID=pass.dev.loy.demo"));
	SSL_CTX_free(ctx);
}

/* ---- threads ------------------------------------------------------------------------------ */

struct worker {
	struct signer *s;
	int id;
	atomic_int *verified;
};

/* Verifies a detached signature over content against the development root, in process. */
static bool verify_in_process(X509_STORE *store, const unsigned char *der, size_t len,
			      const char *content)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	BIO *b = BIO_new_mem_buf(content, (int)strlen(content));
	bool ok = cms && b && CMS_verify(cms, NULL, store, b, NULL, CMS_BINARY) == 1;

	CMS_ContentInfo_free(cms);
	BIO_free(b);
	return ok;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	X509_STORE *store = X509_STORE_new();
	unsigned char der[SIG_MAX];
	char content[128];
	size_t len;

	if (!store || X509_STORE_load_file(store, in(dir, "ca.pem")) != 1)
		return NULL;
	X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
	for (int i = 0; i < SIGNS_PER_THREAD; i++) {
		snprintf(content, sizeof(content), "{\"pass.json\":\"thread %d, pass %d\"}", w->id,
			 i);
		if (signer_sign_manifest(w->s, content, strlen(content), der, sizeof(der), &len) ==
			    LOY_OK &&
		    verify_in_process(store, der, len, content))
			atomic_fetch_add(w->verified, 1);
	}
	X509_STORE_free(store);
	return NULL;
}

static void test_threads(void **state)
{
	struct signer *s = NULL;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	atomic_int verified = 0;

	(void)state;
	assert_int_equal(signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL,
					 in(dir, "wwdr.pem"), &s),
			 LOY_OK);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .s = s, .id = i, .verified = &verified };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	signer_close(s);
	assert_int_equal(atomic_load(&verified), THREADS * SIGNS_PER_THREAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devcerts_options),
		cmocka_unit_test(test_devcerts_files),
		cmocka_unit_test(test_sign_pem_verifies),
		cmocka_unit_test(test_sign_time_is_now),
		cmocka_unit_test(test_matches_openssl_smime),
		cmocka_unit_test(test_tampered_manifest_fails),
		cmocka_unit_test(test_sign_p12),
		cmocka_unit_test(test_encrypted_key),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_der_certificates),
		cmocka_unit_test(test_tls_client_setup),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_devcerts_idempotent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
