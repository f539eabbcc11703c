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

/* The largest pass file read back from the cache: every image at its cap plus pass.json, with room. */
#define PKPASS_FILE_MAX (4 << 20)

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

static enum loy_err open_signer(const struct conf *c, struct signer **out)
{
	const char *password = c->apple_pass_key_password[0] ? c->apple_pass_key_password : NULL;

	if (!c->apple_wwdr_cert[0]) {
		fprintf(stderr,
			"LOY_APPLE_WWDR_CERT is required with LOY_APPLE_PASS_CERT: the WWDR "
			"intermediate certificate that issued the pass certificate\n");
		return LOY_EINVALID;
	}
	if (!c->apple_pass_key[0]) {
		if (!ends_with(c->apple_pass_cert, ".p12") &&
		    !ends_with(c->apple_pass_cert, ".pfx")) {
			fprintf(stderr,
				"LOY_APPLE_PASS_KEY is required unless LOY_APPLE_PASS_CERT is "
				"a .p12 bundle\n");
			return LOY_EINVALID;
		}
		return signer_open_p12(c->apple_pass_cert, password, c->apple_wwdr_cert, out);
	}
	return signer_open_pem(c->apple_pass_cert, c->apple_pass_key, password, c->apple_wwdr_cert,
			       out);
}

/* The configured identifiers, when given, must be the certificate's: a pass naming another pass
 * type than its signature is refused by every iPhone. */
static enum loy_err check_identity(const struct conf *c, const struct signer *s)
{
	if (c->apple_pass_type_id[0] && strcmp(c->apple_pass_type_id, signer_pass_type_id(s))) {
		fprintf(stderr,
			"LOY_APPLE_PASS_TYPE_ID is %s but the certificate LOY_APPLE_PASS_CERT is for "
			"%s\n",
			c->apple_pass_type_id, signer_pass_type_id(s));
		return LOY_EINVALID;
	}
	if (c->apple_team_id[0] && strcmp(c->apple_team_id, signer_team_id(s))) {
		fprintf(stderr, "LOY_APPLE_TEAM_ID is %s but the certificate is of team %s\n",
			c->apple_team_id, signer_team_id(s));
		return LOY_EINVALID;
	}
	return LOY_OK;
}

enum loy_err apple_wallet_open(const struct conf *c, struct store *st, struct apple_wallet **out)
{
	struct apple_wallet *w;
	size_t base_len = strlen(c->base_url);
	enum loy_err err;

	*out = NULL;
	if (!c->apple_pass_cert[0])
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

	err = open_signer(c, &w->signer);
	if (err == LOY_OK)
		err = check_identity(c, w->signer);
	if (err == LOY_OK) {
		struct apns_config ac = { .url = c->apns_url,
					  .ca_file = c->apns_ca_file[0] ? c->apns_ca_file : NULL,
					  .max_streams = (int)c->apns_streams,
					  .timeout_ms = c->apns_timeout * 1000 };
		err = apns_open(&ac, w->signer, &w->apns);
	}
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
		err = card_cache_new(&w->cache);
	if (err == LOY_OK)
		err = make_dirs(w->cache_dir);
	if (err != LOY_OK) {
		fprintf(stderr,
			"Apple Wallet cannot start (%s); fix the LOY_APPLE_* settings or "
			"unset LOY_APPLE_PASS_CERT\n",
			err_code(err));
		apple_wallet_close(w);
		return err == LOY_ENOMEM ? err : LOY_EINVALID;
	}
	w->src = (struct card_source){ .cache = w->cache,
				       .pass_type_id = signer_pass_type_id(w->signer),
				       .team_id = signer_team_id(w->signer),
				       .web_service_url = w->web_service_url };
	log_info("Apple Wallet: pass type %s, team %s, APNs %s", w->src.pass_type_id,
		 w->src.team_id, c->apns_url);
	*out = w;
	return LOY_OK;
}

void apple_wallet_close(struct apple_wallet *w)
{
	if (!w)
		return;
	apns_close(w->apns);
	android_push_close(w->android);
	card_cache_free(w->cache);
	signer_close(w->signer);
	free(w);
}

const char *apple_wallet_pass_type_id(const struct apple_wallet *w)
{
	return signer_pass_type_id(w->signer);
}

void apple_wallet_status(struct apple_wallet *w, struct apple_wallet_status *out)
{
	memset(out, 0, sizeof(*out));
	out->pass_type_id = signer_pass_type_id(w->signer);
	out->team_id = signer_team_id(w->signer);
	out->cert_not_after = signer_not_after(w->signer);
	out->cert_broken =
		apns_cert_broken(w->apns, out->cert_broken_reason, sizeof(out->cert_broken_reason));
	out->android_push = w->android != NULL;
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

	arena_init(&a, 1 << 20);
	err = card_read(w->st, &a, &w->src, p->customer_id, &card);
	if (err != LOY_OK) {
		arena_free(&a);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s/%s", w->cache_dir, card.pass.serial);
	snprintf(name, sizeof(name), "%s.pkpass", card.hash);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!file_read(path, out, len)) {
		err = pass_build_pkpass(w->signer, &card.in, out, len, NULL);
		if (err == LOY_OK)
			file_store(dir, name, *out, *len);
	}
	card_release(w->cache, &card);
	arena_free(&a);
	return err;
}
