/* Signatures per second of one .pkpass manifest on one thread, three ways over the same key and
 * certificates: Loy's signer_sign_manifest, and as peers OpenSSL's PKCS7_sign and CMS_sign with
 * the flags a pass needs (detached, binary, no S/MIME capabilities; both add signingTime). Driven by
 * bench/sign.sh, which puts it beside `openssl speed rsa2048`.
 *   sign CERTDIR SECONDS loy|pkcs7|cms
 * Makes development certificates in CERTDIR when missing (crypto/devcerts) and prints
 * "signs_per_s=N". This is a benchmark, not part of src/: it may call OpenSSL directly for peers. */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "crypto/devcerts.h"
#include "crypto/signer.h"

/* A manifest the size of a real store card's: pass.json, icon, logo and strip at 1x/2x/3x. */
static const char manifest[] = "{\"icon.png\":\"0296b01347b3173e98438a003b0e88986340b2d8\","
			       "\"icon@2x.png\":\"5afd9585b08c65fdf105a90c8bd643407cba2787\","
			       "\"icon@3x.png\":\"e5b3c5f0a1c7e6f3d2b4a9c8e7f6d5c4b3a29180\","
			       "\"logo.png\":\"25de09e2d3b01ce1fe00c2ca9a90a2be1aaa05cf\","
			       "\"logo@2x.png\":\"74b5d4da0f8bb5a37b6d1e1e3f4a7b3c2d1e0f9a\","
			       "\"logo@3x.png\":\"c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4\","
			       "\"strip.png\":\"9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b\","
			       "\"strip@2x.png\":\"1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b\","
			       "\"strip@3x.png\":\"f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d\","
			       "\"pass.json\":\"3d5b8b3b9f1f3a4ce4ea7cd33a3ef8a1b1e1b2a5\"}";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void no_report(const char *path, enum devcerts_action action, void *arg)
{
	(void)path, (void)action, (void)arg;
}

static const char *at(const char *dir, const char *name)
{
	static char p[4][512];
	static int n;
	char *s = p[n++ % 4];
	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

static int bench_loy(const char *dir, double secs)
{
	struct signer *s;
	unsigned char der[16384];
	size_t len;
	long n = 0;
	double t0, t;

	if (signer_open_pem(at(dir, "pass.pem"), at(dir, "pass.key"), NULL, at(dir, "wwdr.pem"),
			    &s) != LOY_OK)
		return 1;
	t0 = now_s();
	do {
		for (int i = 0; i < 16; i++, n++)
			if (signer_sign_manifest(s, manifest, sizeof(manifest) - 1, der,
						 sizeof(der), &len) != LOY_OK)
				return 1;
		t = now_s() - t0;
	} while (t < secs);
	printf("signs_per_s=%.0f\n", (double)n / t);
	signer_close(s);
	return 0;
}

/* PKCS7_sign or CMS_sign, as a straightforward caller would use them: key and certificates loaded
 * once, one call plus i2d per signature. */
static int bench_openssl(const char *dir, double secs, int cms)
{
	FILE *f;
	EVP_PKEY *key;
	X509 *cert, *wwdr;
	STACK_OF(X509) *chain = sk_X509_new_null();
	long n = 0;
	double t0, t;
	int flags = PKCS7_DETACHED | PKCS7_BINARY | PKCS7_NOSMIMECAP;

	f = fopen(at(dir, "pass.key"), "r");
	key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(at(dir, "pass.pem"), "r");
	cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(at(dir, "wwdr.pem"), "r");
	wwdr = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!key || !cert || !wwdr || !chain || !sk_X509_push(chain, wwdr))
		return 1;
	t0 = now_s();
	do {
		for (int i = 0; i < 16; i++, n++) {
			BIO *in = BIO_new_mem_buf(manifest, (int)sizeof(manifest) - 1);
			unsigned char *der = NULL;
			int len;
			if (cms) {
				CMS_ContentInfo *c =
					CMS_sign(cert, key, chain, in, (unsigned)flags);
				len = c ? i2d_CMS_ContentInfo(c, &der) : -1;
				CMS_ContentInfo_free(c);
			} else {
				PKCS7 *p = PKCS7_sign(cert, key, chain, in, flags);
				len = p ? i2d_PKCS7(p, &der) : -1;
				PKCS7_free(p);
			}
			BIO_free(in);
			OPENSSL_free(der);
			if (len <= 0) {
				ERR_print_errors_fp(stderr);
				return 1;
			}
		}
		t = now_s() - t0;
	} while (t < secs);
	printf("signs_per_s=%.0f\n", (double)n / t);
	sk_X509_free(chain);
	X509_free(wwdr);
	X509_free(cert);
	EVP_PKEY_free(key);
	return 0;
}

int main(int argc, char **argv)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	double secs;

	if (argc != 4 || (secs = strtod(argv[2], NULL)) <= 0) {
		fprintf(stderr, "usage: sign CERTDIR SECONDS loy|pkcs7|cms\n");
		return 2;
	}
	log_set_fd(2);
	if (devcerts_create(argv[1], &o, no_report, NULL) != LOY_OK)
		return 1;
	if (strcmp(argv[3], "loy") == 0)
		return bench_loy(argv[1], secs);
	if (strcmp(argv[3], "pkcs7") == 0)
		return bench_openssl(argv[1], secs, 0);
	if (strcmp(argv[3], "cms") == 0)
		return bench_openssl(argv[1], secs, 1);
	fprintf(stderr, "sign: unknown way %s\n", argv[3]);
	return 2;
}
