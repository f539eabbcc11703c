/* Configuration: one table of typed keys (name, type, bounds, default, doc). Values come from an
 * optional KEY=VALUE file, then the environment, which wins. The same table prints .env.example
 * (`loy config --defaults`), so the documentation cannot drift from the code. */
#ifndef LOY_CONF_CONF_H
#define LOY_CONF_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

#define CONF_STR_MAX 512

struct conf {
	char listen[CONF_STR_MAX];
	char database_url[CONF_STR_MAX];
	char base_url[CONF_STR_MAX];
	char secret_key[CONF_STR_MAX];
	char log_level[16];
	int64_t threads;
	int64_t workers;
	int64_t db_pool;
	int64_t register_rate;
	int64_t login_rate;
	int64_t session_ttl;
	int64_t token_ttl;
	int64_t housekeeping_interval;
	char owner_email[CONF_STR_MAX];
	char trusted_proxies[CONF_STR_MAX];
	char apple_pass_cert[CONF_STR_MAX];
	char apple_pass_key[CONF_STR_MAX];
	char apple_pass_key_password[CONF_STR_MAX];
	char apple_wwdr_cert[CONF_STR_MAX];
	char apple_pass_type_id[CONF_STR_MAX];
	char apple_team_id[CONF_STR_MAX];
	char apple_certs_dir[CONF_STR_MAX];
	char apns_url[CONF_STR_MAX];
	char apns_ca_file[CONF_STR_MAX];
	int64_t apns_streams;
	int64_t apns_timeout;
	char android_push_url[CONF_STR_MAX];
	char android_push_key[CONF_STR_MAX];
	char android_push_ca_file[CONF_STR_MAX];
	char google_issuer_id[CONF_STR_MAX];
	char google_key_file[CONF_STR_MAX];
	char google_dir[CONF_STR_MAX];
	char google_api_url[CONF_STR_MAX];
	char google_ca_file[CONF_STR_MAX];
	int64_t google_rate;
	char google_keys_url[CONF_STR_MAX];
	char pass_cache_dir[CONF_STR_MAX];
	int64_t outbox_threads;
};

/* Fills c with defaults, then applies the file at path (if not NULL), then the environment.
 * Errors name the offending key on stderr; returns LOY_EINVALID. */
enum loy_err conf_load(struct conf *c, const char *path);
/* Writes every key with its default and documentation, as .env.example. */
void conf_print_defaults(FILE *out);

#endif
