/* Apple Wallet at run time (see wallet.h): opening the certificate and the APNs client from the
 * settings, and the passes' signed builds, kept one per pass on disk as
 * <LOY_PASS_CACHE_DIR>/<serial>/<content hash>.pkpass. The file name is the content hash, so a
 * build is found again exactly when the card shows the same thing, and a node that lacks it (a new
 * node, a wiped cache) simply builds it again: the cache is not a source of truth. */
#include "wallet/apple/wallet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/rand.h"
#include "wallet/apple/wallet_impl.h"
#include "wallet/business_dirs.h"

/* The largest pass file read back from the cache: every image at its cap plus pass.json, with room. */
#define PKPASS_FILE_MAX (16 << 20)
/* A card read: the strings of a card, and, when its template's images are not cached yet, their
 * base64 text and bytes (every slot at its cap is about 11 MiB). */
#define CARD_ARENA_CAP (32u << 20)

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* mkdir -p, for the cache directory. */
static enum loy_err make_dirs(const char *path)
{
	char buf[CONF_STR_MAX + 80];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return LOY_EINVALID;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			log_error("cannot create %s: %s", buf, strerror(errno));
			return LOY_EIO;
		}
		buf[i] = c;
	}
	return LOY_OK;
}

static bool file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The first line of a small file (a .p12 or key password); "" when there is no such file. */
static enum loy_err read_password(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (!f)
		return errno == ENOENT ? LOY_OK : LOY_EINVALID;
	if (!fgets(out, (int)cap, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return LOY_OK;
}

/* A business's own certificate: LOY_APPLE_CERTS_DIR/<slug>/ holding pass.pem and pass.key, or
 * pass.p12; an optional `password` file; wwdr.pem there, else beside the business folders, else
 * LOY_APPLE_WWDR_CERT. */
struct identities_ctx {
	struct apple_wallet *w;
	const struct conf *c;
	const struct apns_config *ac;
};

static enum loy_err open_business_identity(const char *dir, const char *slug, int64_t business_id,
					   void *arg)
{
	struct identities_ctx *x = arg;
	struct apple_wallet *w = x->w;
	const struct conf *c = x->c;
	char cert[CONF_STR_MAX + 316], key[sizeof(cert)], pw_path[sizeof(cert)], wwdr[sizeof(cert)],
		password[256];
	struct apple_identity *id, **grown;
	enum loy_err err;

	snprintf(cert, sizeof(cert), "%s/pass.p12", dir);
	key[0] = '\0';
	if (!file_exists(cert)) {
		snprintf(cert, sizeof(cert), "%s/pass.pem", dir);
		snprintf(key, sizeof(key), "%s/pass.key", dir);
	}
	snprintf(pw_path, sizeof(pw_path), "%s/password", dir);
	if (read_password(pw_path, password, sizeof(password)) != LOY_OK) {
		fprintf(stderr, "%s: cannot read %s\n", dir, pw_path);
		return LOY_EINVALID;
	}
	snprintf(wwdr, sizeof(wwdr), "%s/wwdr.pem", dir);
	if (!file_exists(wwdr))
		snprintf(wwdr, sizeof(wwdr), "%s/wwdr.pem", c->apple_certs_dir);
	if (!file_exists(wwdr))
		snprintf(wwdr, sizeof(wwdr), "%s", c->apple_wwdr_cert);
	struct identity_files f = { .cert_path = cert,
				    .key_path = key,
				    .password = password,
				    .wwdr_path = wwdr,
				    .origin = dir };
	err = identity_open(&f, NULL, NULL, x->ac, w->cache, w->web_service_url, &id);
	if (err != LOY_OK)
		return err;
	id->business_id = business_id;
	grown = realloc(w->own, sizeof(*grown) * (w->nown + 1));
	if (!grown) {
		identity_close(id);
		return LOY_ENOMEM;
	}
	w->own = grown;
	w->own[w->nown++] = id;
	log_info("Apple Wallet: business %s signs with its own pass type %s (team %s)", slug,
		 id->src.pass_type_id, id->src.team_id);
	return LOY_OK;
}

/* Every business folder of LOY_APPLE_CERTS_DIR. */
static enum loy_err open_business_identities(struct apple_wallet *w, const struct conf *c,
					     const struct apns_config *ac)
{
	struct identities_ctx x = { .w = w, .c = c, .ac = ac };
	char why[CONF_STR_MAX + 400] = "";
	enum loy_err err = business_dirs_each(w->st, c->apple_certs_dir, open_business_identity, &x,
					      why, sizeof(why));
	if (err == LOY_EINVALID && why[0])
		fprintf(stderr, "LOY_APPLE_CERTS_DIR: %s\n", why);
	return err;
}

enum loy_err apple_wallet_open(const struct conf *c, struct store *st, struct apple_wallet **out)
{
	struct apple_wallet *w;
	size_t base_len = strlen(c->base_url);
	struct apns_config ac = { .url = c->apns_url,
				  .ca_file = c->apns_ca_file[0] ? c->apns_ca_file : NULL,
				  .max_streams = (int)c->apns_streams,
				  .timeout_ms = c->apns_timeout * 1000 };
	enum loy_err err;

	*out = NULL;
	if (!c->apple_pass_cert[0] && !c->apple_certs_dir[0])
		return LOY_OK;
	w = calloc(1, sizeof(*w));
	if (!w)
		return LOY_ENOMEM;
	w->st = st;
	while (base_len > 0 && c->base_url[base_len - 1] == '/')
		base_len--;
	snprintf(w->web_service_url, sizeof(w->web_service_url), "%.*s/passkit", (int)base_len,
		 c->base_url);
	snprintf(w->cache_dir, sizeof(w->cache_dir), "%s", c->pass_cache_dir);

	err = card_cache_new(&w->cache);
	if (err == LOY_OK && c->apple_pass_cert[0]) {
		struct identity_files f = { .cert_path = c->apple_pass_cert,
					    .key_path = c->apple_pass_key,
					    .password = c->apple_pass_key_password,
					    .wwdr_path = c->apple_wwdr_cert,
					    .origin = "LOY_APPLE_PASS_CERT" };
		err = identity_open(&f, c->apple_pass_type_id, c->apple_team_id, &ac, w->cache,
				    w->web_service_url, &w->def);
		if (err == LOY_OK)
			log_info("Apple Wallet: pass type %s, team %s, APNs %s",
				 w->def->src.pass_type_id, w->def->src.team_id, c->apns_url);
	}
	if (err == LOY_OK && c->apple_certs_dir[0])
		err = open_business_identities(w, c, &ac);
	if (err == LOY_OK && c->android_push_key[0]) {
		struct android_push_config pc = { .url = c->android_push_url,
						  .api_key = c->android_push_key,
						  .ca_file = c->android_push_ca_file[0]
								     ? c->android_push_ca_file
								     : NULL,
						  .timeout_ms = c->apns_timeout * 1000 };
		err = android_push_open(&pc, &w->android);
	}
	if (err == LOY_OK)
		err = make_dirs(w->cache_dir);
	if (err != LOY_OK) {
		fprintf(stderr,
			"Apple Wallet cannot start (%s); fix the LOY_APPLE_* settings, or "
			"unset LOY_APPLE_PASS_CERT and LOY_APPLE_CERTS_DIR to run without it\n",
			err_code(err));
		apple_wallet_close(w);
		return err == LOY_ENOMEM ? err : LOY_EINVALID;
	}
	*out = w;
	return LOY_OK;
}

void apple_wallet_close(struct apple_wallet *w)
{
	if (!w)
		return;
	identity_close(w->def);
	for (size_t i = 0; i < w->nown; i++)
		identity_close(w->own[i]);
	free(w->own);
	android_push_close(w->android);
	card_cache_free(w->cache);
	free(w);
}

struct apple_identity *wallet_identity(const struct apple_wallet *w, int64_t business_id)
{
	for (size_t i = 0; i < w->nown; i++)
		if (w->own[i]->business_id == business_id)
			return w->own[i];
	return w->def;
}

const char *apple_wallet_pass_type_id(const struct apple_wallet *w, int64_t business_id)
{
	const struct apple_identity *id = wallet_identity(w, business_id);
	return id ? id->src.pass_type_id : NULL;
}

bool apple_wallet_status(struct apple_wallet *w, int64_t business_id,
			 struct apple_wallet_status *out)
{
	struct apple_identity *id = wallet_identity(w, business_id);

	memset(out, 0, sizeof(*out));
	if (!id)
		return false;
	out->pass_type_id = id->src.pass_type_id;
	out->team_id = id->src.team_id;
	out->cert_not_after = signer_not_after(id->signer);
	out->own_certificate = id->business_id != 0;
	out->cert_broken = apns_cert_broken(id->apns, out->cert_broken_reason,
					    sizeof(out->cert_broken_reason));
	out->android_push = w->android != NULL;
	if (w->android)
		out->android_push_broken = android_push_auth_broken(
			w->android, out->android_push_reason, sizeof(out->android_push_reason));
	return true;
}

/* Reads a stored build; false when there is none (or it cannot be read: it is built again). */
static bool file_read(const char *path, unsigned char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	unsigned char *buf;
	size_t got = 0;

	if (fd < 0)
		return false;
	if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size > PKPASS_FILE_MAX ||
	    !(buf = malloc((size_t)sb.st_size))) {
		close(fd);
		return false;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)sb.st_size) {
		free(buf);
		return false;
	}
	*out = buf;
	*len = got;
	return true;
}

/* Writes a build under its final name through a temporary file and a rename, so that a reader
 * never sees half a pass, then removes the pass's older builds. Failures only cost a rebuild
 * later, so they are logged, not returned. */
static void file_store(const char *dir, const char *name, const unsigned char *data, size_t len)
{
	char path[CONF_STR_MAX + 200], tmp[CONF_STR_MAX + 200], rnd[17];
	int fd;
	DIR *d;
	struct dirent *e;

	if (make_dirs(dir) != LOY_OK)
		return;
	rand_hex(rnd, 8);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, rnd);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("cannot store a pass build in %s: %s", dir, strerror(errno));
		return;
	}
	bool ok = write(fd, data, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		log_warn("cannot store a pass build in %s: %s", dir, strerror(errno));
		unlink(tmp);
		return;
	}
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, name) != 0 &&
		    ends_with(e->d_name, ".pkpass")) {
			snprintf(tmp, sizeof(tmp), "%s/%s", dir, e->d_name);
			unlink(tmp);
		}
	if (d)
		closedir(d);
}

enum loy_err apple_wallet_pkpass(struct apple_wallet *w, const struct apple_pass *p,
				 unsigned char **out, size_t *len)
{
	struct arena a;
	struct apple_card card;
	char dir[CONF_STR_MAX + 80], name[PASS_CONTENT_HASH_LEN + 8],
		path[sizeof(dir) + sizeof(name)];
	enum loy_err err;

	const struct apple_identity *id = wallet_identity(w, p->business_id);

	if (!id)
		return LOY_EUNAVAILABLE;
	arena_init(&a, CARD_ARENA_CAP);
	err = card_read(w->st, &a, &id->src, p->customer_id, &card);
	if (err != LOY_OK) {
		arena_free(&a);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s/%s", w->cache_dir, card.pass.serial);
	snprintf(name, sizeof(name), "%s.pkpass", card.hash);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!file_read(path, out, len)) {
		err = pass_build_pkpass(id->signer, &card.in, out, len, NULL);
		if (err == LOY_OK)
			file_store(dir, name, *out, *len);
	}
	card_release(w->cache, &card);
	arena_free(&a);
	return err;
}
