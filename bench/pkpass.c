/* Signed .pkpass files per second on one thread: pass_build_pkpass as the server calls it (a
 * storeCard with every part given, the template's default images drawn once and their SHA-1s
 * kept, a new balance in every pass so that pass.json and its signature are never the same
 * twice). For scale, the signature alone (signer_sign_manifest over a manifest of the same size)
 * and the content hash (what deciding "no rebuild needed" costs). Driven by bench/pkpass.sh, which
 * puts the figures beside `openssl speed rsa2048` and passkit-generator.
 *   pkpass CERTDIR SECONDS loy|sign|hash      prints "per_s=N" (per CPU-second)
 *   pkpass CERTDIR 0 export FILE.pkpass       writes one pass (the Node peer's model)
 * Makes development certificates in CERTDIR when missing (crypto/devcerts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "crypto/devcerts.h"
#include "crypto/signer.h"
#include "wallet/apple/images.h"
#include "wallet/apple/pass.h"

static struct signer *signer;
static struct pass_images images;

static const struct pass_location shops[] = {
	{ 55755826, 37617300, "Кофейня на Тверской рядом" },
	{ 55751244, 37618423, "Кофейня у Кремля рядом" },
	{ 59938630, 30314130, "Кофейня на Невском рядом" },
};

static struct pass_input input = {
	.pass_type_id = "pass.dev.loy.demo",
	.team_id = "LOYDEV0001",
	.serial = "b1f0c2d4e6a8",
	.auth_token = "Zq3xT9vLm2Pw8sKd4RfY7uNc",
	.web_service_url = "https://loy.example.ru/wallet",
	.organization = "Кофейня «Зерно»",
	.description = "Карта лояльности кофейни «Зерно»",
	.logo_text = "Зерно",
	.background_color = "#1f2937",
	.foreground_color = "#ffffff",
	.label_color = "#d1d5db",
	.terms_text =
		"1 балл за каждые 100 ₽. Баллами можно оплатить до 50 % покупки.",
	.terms_url = "https://zerno.example.ru/terms",
	.images = &images,
	.phone = "+7 495 123-45-67",
	.email = "hello@zerno.example.ru",
	.website = "https://zerno.example.ru",
	.address = "Москва, Тверская, 1",
	.news = "Новый сезонный раф с тыквой — попробуйте!",
	.locations = shops,
	.nlocations = 3,
	.customer_name = "Анна Петрова",
	.card_number = "123456782",
	.balance = 1250,
	.tier = "Золото",
	.updated_at = 1735689600000,
};

/* CPU time of this process (one thread: user + system), not the wall clock, like `openssl
 * speed` (which divides by user time): a figure per CPU-second stays true while other work shares
 * the core, as it does on a busy machine. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void no_report(const char *path, enum devcerts_action action, void *arg)
{
	(void)path, (void)action, (void)arg;
}

static int one_pass(long i)
{
	unsigned char *zip = NULL;
	size_t len;

	input.balance = 1000 + i;
	if (pass_build_pkpass(signer, &input, &zip, &len, NULL) != LOY_OK)
		return 1;
	free(zip);
	return 0;
}

/* A manifest like a pass's: pass.json and the nine images. */
static int one_signature(long i)
{
	static char manifest[1024];
	static size_t mlen;
	unsigned char der[16384];
	size_t len;

	if (!mlen) {
		int n = snprintf(manifest, sizeof(manifest), "{\"pass.json\":\"%040d\"", 0);
		for (int s = 0; s < PASS_PNG_SLOTS; s++)
			n += snprintf(manifest + n, sizeof(manifest) - (size_t)n, ",\"%s\":\"%s\"",
				      pass_png_spec(s)->file, images.png[s].sha1);
		n += snprintf(manifest + n, sizeof(manifest) - (size_t)n, "}");
		mlen = (size_t)n;
	}
	snprintf(manifest + 14, 11, "%010ld", i); /* a new pass.json hash each time */
	manifest[24] = '0';
	return signer_sign_manifest(signer, manifest, mlen, der, sizeof(der), &len) != LOY_OK;
}

static int one_hash(long i)
{
	char hash[PASS_CONTENT_HASH_LEN + 1];

	input.balance = 1000 + i;
	return pass_content_hash(&input, hash) != LOY_OK;
}

static int measure(int (*fn)(long i), double secs)
{
	long n = 0;
	double t0 = cpu_s(), t;

	do {
		for (int i = 0; i < 16; i++, n++)
			if (fn(n))
				return 1;
		t = cpu_s() - t0;
	} while (t < secs);
	printf("per_s=%.0f\n", (double)n / t);
	return 0;
}

static int export(const char *path)
{
	unsigned char *zip = NULL;
	size_t len;
	FILE *f;

	if (pass_build_pkpass(signer, &input, &zip, &len, NULL) != LOY_OK)
		return 1;
	f = fopen(path, "wb");
	if (!f || fwrite(zip, 1, len, f) != len || fclose(f) != 0)
		return 1;
	free(zip);
	return 0;
}

static const char *at(const char *dir, const char *name)
{
	static char p[4][512];
	static int n;
	char *s = p[n++ % 4];
	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

int main(int argc, char **argv)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	struct pass_rgb bg, fg, label;
	double secs;
	int rc = 2;

	if (argc < 4 || (secs = strtod(argv[2], NULL)) < 0) {
		fprintf(stderr,
			"usage: pkpass CERTDIR SECONDS loy|sign|hash | CERTDIR 0 export FILE\n");
		return 2;
	}
	log_set_fd(2);
	if (devcerts_create(argv[1], &o, no_report, NULL) != LOY_OK ||
	    signer_open_pem(at(argv[1], "pass.pem"), at(argv[1], "pass.key"), NULL,
			    at(argv[1], "wwdr.pem"), &signer) != LOY_OK)
		return 1;
	pass_color_parse(input.background_color, &bg);
	pass_color_parse(input.foreground_color, &fg);
	pass_color_parse(input.label_color, &label);
	if (pass_png_defaults(&images, bg, fg, label) != LOY_OK)
		return 1;
	if (strcmp(argv[3], "loy") == 0)
		rc = measure(one_pass, secs);
	else if (strcmp(argv[3], "sign") == 0)
		rc = measure(one_signature, secs);
	else if (strcmp(argv[3], "hash") == 0)
		rc = measure(one_hash, secs);
	else if (strcmp(argv[3], "export") == 0 && argc == 5)
		rc = export(argv[4]);
	else
		fprintf(stderr, "pkpass: unknown way %s\n", argv[3]);
	pass_png_release(&images);
	signer_close(signer);
	return rc;
}
