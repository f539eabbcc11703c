/* The config table and its loader (see conf.h). */
#include "conf/conf.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

enum conf_type { CONF_STR, CONF_INT };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;
	size_t size; /* CONF_STR: capacity of the field */
	int64_t min, max;
	const char *def;
	const char *doc;
};

#define STR_KEY(name, field, def, doc)                                                           \
	{                                                                                        \
		name, CONF_STR, offsetof(struct conf, field), sizeof(((struct conf *)0)->field), \
			0, 0, def, doc                                                           \
	}
#define INT_KEY(name, field, min, max, def, doc)                                    \
	{                                                                           \
		name, CONF_INT, offsetof(struct conf, field), 0, min, max, def, doc \
	}

static const struct conf_key keys[] = {
	STR_KEY("LOY_LISTEN", listen, "127.0.0.1:8080", "address:port the HTTP server binds"),
	STR_KEY("LOY_DATABASE_URL", database_url, "sqlite:./var/loy.db",
		"sqlite:PATH (embedded) or postgresql://user:pass@host:port/db"),
	STR_KEY("LOY_BASE_URL", base_url, "http://localhost:8080",
		"public URL of this install (links, cookies: https makes cookies Secure)"),
	STR_KEY("LOY_SECRET_KEY", secret_key, "",
		"at least 32 characters signing access tokens (openssl rand -hex 32); empty: a random "
		"key per start, for development only"),
	STR_KEY("LOY_LOG_LEVEL", log_level, "info", "error, warn, info, http, verbose or debug"),
	INT_KEY("LOY_THREADS", threads, 1, 256, "2", "HTTP event-loop threads (epoll)"),
	INT_KEY("LOY_WORKERS", workers, 1, 1024, "64",
		"request threads for writes (they wait on durable commits, so more than cores)"),
	INT_KEY("LOY_DB_POOL", db_pool, 1, 512, "16", "PostgreSQL connections per node"),
	INT_KEY("LOY_REGISTER_RATE", register_rate, 1, 1000000, "30",
		"self-registrations per minute per client IP"),
	INT_KEY("LOY_LOGIN_RATE", login_rate, 1, 1000000, "20", "login attempts per minute per IP"),
	INT_KEY("LOY_SESSION_TTL", session_ttl, 60, 31536000, "43200", "staff session lifetime, s"),
	INT_KEY("LOY_TOKEN_TTL", token_ttl, 60, 86400, "900", "API access token (JWT) lifetime, s"),
	INT_KEY("LOY_HOUSEKEEPING_INTERVAL", housekeeping_interval, 1, 86400, "60",
		"seconds between upkeep rounds: point expiry, old idempotency keys, sessions"),
	STR_KEY("LOY_OWNER_EMAIL", owner_email, "owner@demo.loy",
		"login of the owner account created on first start of an empty database"),
	STR_KEY("LOY_TRUSTED_PROXIES", trusted_proxies, "",
		"comma-separated addresses of reverse proxies (nginx: 127.0.0.1) whose X-Real-IP "
		"header names the client; empty: the connecting address is the client"),
	STR_KEY("LOY_APPLE_PASS_CERT", apple_pass_cert, "",
		"Apple Wallet: the Pass Type ID certificate, PEM, or a .p12 holding it and its key; "
		"empty: Apple Wallet is off"),
	STR_KEY("LOY_APPLE_PASS_KEY", apple_pass_key, "",
		"Apple Wallet: the certificate's private key, PEM (empty with a .p12)"),
	STR_KEY("LOY_APPLE_PASS_KEY_PASSWORD", apple_pass_key_password, "",
		"Apple Wallet: password of an encrypted key or of the .p12; empty: none"),
	STR_KEY("LOY_APPLE_WWDR_CERT", apple_wwdr_cert, "",
		"Apple Wallet: the WWDR intermediate certificate (PEM) that issued the pass "
		"certificate"),
	STR_KEY("LOY_APPLE_PASS_TYPE_ID", apple_pass_type_id, "",
		"Apple Wallet: the pass type identifier; must match the certificate's (empty: take "
		"the certificate's)"),
	STR_KEY("LOY_APPLE_TEAM_ID", apple_team_id, "",
		"Apple Wallet: the team identifier; must match the certificate's (empty: take the "
		"certificate's)"),
	STR_KEY("LOY_APPLE_CERTS_DIR", apple_certs_dir, "",
		"Apple Wallet: a folder per business with its own certificate, named by the "
		"business's slug, holding pass.pem + pass.key or pass.p12, an optional password file "
		"and wwdr.pem (else the folder's parent's wwdr.pem or LOY_APPLE_WWDR_CERT)"),
	STR_KEY("LOY_APNS_URL", apns_url, "https://api.push.apple.com",
		"APNs base URL (Wallet pushes work only in production; a local server for tests)"),
	STR_KEY("LOY_APNS_CA_FILE", apns_ca_file, "",
		"extra CA bundle (PEM) to trust for LOY_APNS_URL, for a local server; empty: the "
		"system's"),
	INT_KEY("LOY_APNS_STREAMS", apns_streams, 1, 1000, "100",
		"HTTP/2 streams in flight at once on the APNs connection (never above what APNs "
		"advertises)"),
	INT_KEY("LOY_APNS_TIMEOUT", apns_timeout, 1, 600, "30",
		"seconds one round of pushes may wait for APNs before retrying later"),
	STR_KEY("LOY_ANDROID_PUSH_URL", android_push_url,
		"https://walletpasses.appspot.com/api/v1/push",
		"push API of the Android app holding .pkpass cards (WalletPasses)"),
	STR_KEY("LOY_ANDROID_PUSH_KEY", android_push_key, "",
		"API key of that push API; empty: Android devices are not pushed (they still "
		"poll)"),
	STR_KEY("LOY_ANDROID_PUSH_CA_FILE", android_push_ca_file, "",
		"extra CA bundle (PEM) to trust for LOY_ANDROID_PUSH_URL; empty: the system's"),
	STR_KEY("LOY_GOOGLE_ISSUER_ID", google_issuer_id, "",
		"Google Wallet: the issuer id of the Google Pay & Wallet Console (digits); empty: "
		"Google Wallet is off"),
	STR_KEY("LOY_GOOGLE_KEY_FILE", google_key_file, "",
		"Google Wallet: the service account's JSON key file (its token_uri is where access "
		"tokens come from)"),
	STR_KEY("LOY_GOOGLE_DIR", google_dir, "",
		"Google Wallet: a folder per business with its own issuer, named by the business's "
		"slug, holding issuer_id (the number) and key.json (its service account)"),
	STR_KEY("LOY_GOOGLE_API_URL", google_api_url, "https://walletobjects.googleapis.com",
		"Google Wallet REST API base URL (a proxy or a local server for tests)"),
	STR_KEY("LOY_GOOGLE_CA_FILE", google_ca_file, "",
		"extra CA bundle (PEM) to trust for the Google URLs; empty: the system's"),
	INT_KEY("LOY_GOOGLE_RATE", google_rate, 1, 20, "15",
		"Google Wallet API requests per second, all of them (Google allows 20)"),
	STR_KEY("LOY_GOOGLE_KEYS_URL", google_keys_url, "https://pay.google.com/gp/m/issuer/keys",
		"Google's root keys for verifying save/delete callbacks"),
	STR_KEY("LOY_PASS_CACHE_DIR", pass_cache_dir, "./var/passes",
		"where the last signed build of every pass is kept (rebuilt when missing)"),
	INT_KEY("LOY_OUTBOX_THREADS", outbox_threads, 1, 64, "2",
		"outbox worker threads (wallet pushes and other external effects)"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static enum loy_err set_value(struct conf *c, const struct conf_key *k, const char *val,
			      const char *origin)
{
	void *field = (char *)c + k->offset;

	if (k->type == CONF_STR) {
		size_t n = strlen(val);
		if (n >= k->size) {
			fprintf(stderr, "%s: %s is longer than %zu characters\n", origin, k->name,
				k->size - 1);
			return LOY_EINVALID;
		}
		memcpy(field, val, n + 1);
		return LOY_OK;
	}
	int64_t v;
	if (!str_to_i64(str_from(val), &v) || v < k->min || v > k->max) {
		fprintf(stderr, "%s: %s must be an integer from %lld to %lld\n", origin, k->name,
			(long long)k->min, (long long)k->max);
		return LOY_EINVALID;
	}
	*(int64_t *)field = v;
	return LOY_OK;
}

static const struct conf_key *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static enum loy_err load_file(struct conf *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[CONF_STR_MAX + 64];
	int lineno = 0;
	enum loy_err err = LOY_OK;

	if (!f) {
		fprintf(stderr, "cannot open config file %s: %s\n", path, strerror(errno));
		return LOY_EINVALID;
	}
	while (err == LOY_OK && fgets(line, sizeof(line), f)) {
		char origin[CONF_STR_MAX];
		char *eq, *end;
		const struct conf_key *k;

		lineno++;
		end = line + strlen(line);
		while (end > line && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
			*--end = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
		eq = strchr(line, '=');
		k = eq ? find_key(line, (size_t)(eq - line)) : NULL;
		if (!k) {
			fprintf(stderr, "%s: not a known KEY=VALUE line\n", origin);
			err = LOY_EINVALID;
			break;
		}
		err = set_value(c, k, eq + 1, origin);
	}
	fclose(f);
	return err;
}

enum loy_err conf_load(struct conf *c, const char *path)
{
	enum loy_err err;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++) {
		err = set_value(c, &keys[i], keys[i].def, "default");
		if (err != LOY_OK)
			return err;
	}
	if (path) {
		err = load_file(c, path);
		if (err != LOY_OK)
			return err;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = getenv(keys[i].name);
		if (v) {
			err = set_value(c, &keys[i], v, "environment");
			if (err != LOY_OK)
				return err;
		}
	}
	return LOY_OK;
}

void conf_print_defaults(FILE *out)
{
	fprintf(out,
		"# Loy configuration. Every key, its default and what it does.\n"
		"# Generated by `loy config --defaults`; the environment overrides a --config file.\n");
	for (size_t i = 0; i < NKEYS; i++) {
		fprintf(out, "\n# %s", keys[i].doc);
		if (keys[i].type == CONF_INT)
			fprintf(out, " (%lld..%lld)", (long long)keys[i].min,
				(long long)keys[i].max);
		fprintf(out, "\n%s=%s\n", keys[i].name, keys[i].def);
	}
}
