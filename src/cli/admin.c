/* The administrative subcommands: migrate, user add, apikey create, business add, verify, backup,
 * config. Each works on the database named by LOY_DATABASE_URL (or --config). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "core/email.h"
#include "crypto/password.h"

static int usage_of(const char *text, int rc)
{
	fputs(text, rc == 0 ? stdout : stderr);
	return rc;
}

int cli_migrate(int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static const char help[] =
		"usage: loy migrate [--config FILE]\n\nApplies every pending "
		"migration and creates the demo business in an empty database.\n";
	const char *config = NULL;
	struct conf c;
	struct store *st;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (opt != 'c')
			return usage_of(help, opt == 'h' ? 0 : 2);
		config = optarg;
	}
	if (cli_open(config, &c, &st) != 0)
		return 1;
	store_close(st);
	return 0;
}

struct user_add {
	struct user u;
};

static enum loy_err user_add_tx(struct store_tx *tx, void *arg)
{
	return store_user_insert(tx, &((struct user_add *)arg)->u);
}

int cli_user(int argc, char **argv)
{
	static const struct option opts[] = { { "email", required_argument, NULL, 'e' },
					      { "role", required_argument, NULL, 'r' },
					      { "name", required_argument, NULL, 'n' },
					      { "business", required_argument, NULL, 'b' },
					      { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static const char help[] =
		"usage: loy user add --email E --role owner|admin|cashier|viewer [--name N]\n"
		"                    [--business SLUG] [--config FILE]\n\n"
		"Creates a staff account; the password is read from the first line of stdin\n"
		"(at least 8 characters). Prints the new user's id.\n";
	const char *email = NULL, *role = NULL, *slug = NULL, *config = NULL;
	struct user_add ua = { 0 };
	char password[PASSWORD_MAX + 2], hash[PASSWORD_HASH_MAX], lower[256];
	struct conf c;
	struct store *st;
	struct arena a;
	enum loy_err err;
	int opt;

	if (argc < 2 || strcmp(argv[1], "add") != 0)
		return usage_of(help, argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2);
	argc--, argv++;
	while ((opt = getopt_long(argc, argv, "e:r:n:b:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			email = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'n':
			ua.u.name = optarg;
			break;
		case 'b':
			slug = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		default:
			return usage_of(help, opt == 'h' ? 0 : 2);
		}
	}
	if (!email || !role)
		return usage_of(help, 2);
	snprintf(lower, sizeof(lower), "%s", email);
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	if (!email_valid(str_from(lower)) || role_parse(role, &ua.u.role) != LOY_OK) {
		fprintf(stderr, "a valid --email and a --role of owner, admin, cashier or viewer "
				"are required\n");
		return 2;
	}
	if (cli_read_secret(password, sizeof(password)) != 0 || strlen(password) < PASSWORD_MIN ||
	    strlen(password) > PASSWORD_MAX) {
		fprintf(stderr, "give the password (8 to 256 characters) on stdin\n");
		return 2;
	}
	if (cli_open(config, &c, &st) != 0)
		return 1;
	if (cli_business_id(st, slug, &ua.u.business_id) != 0 ||
	    password_hash(password, strlen(password), hash) != LOY_OK) {
		store_close(st);
		return 1;
	}
	ua.u.email = lower;
	ua.u.password_hash = hash;
	arena_init(&a, 1 << 16);
	err = store_write(st, &a, user_add_tx, &ua);
	arena_free(&a);
	store_close(st);
	if (err != LOY_OK) {
		fprintf(stderr, err == LOY_ECONFLICT ? "a user with this e-mail exists\n"
						     : "cannot create the user\n");
		return 1;
	}
	printf("%lld\n", (long long)ua.u.id);
	return 0;
}

static enum loy_err apikey_add_tx(struct store_tx *tx, void *arg)
{
	return store_apikey_insert(tx, arg);
}

int cli_apikey(int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
					      { "role", required_argument, NULL, 'r' },
					      { "business", required_argument, NULL, 'b' },
					      { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static const char help[] =
		"usage: loy apikey create --name N --role admin|cashier|viewer [--business SLUG]\n"
		"                         [--config FILE]\n\n"
		"Creates an API key for a POS or CRM and prints it once, alone on one line.\n"
		"Exchange it for an access token at POST /api/v1/auth/token.\n";
	const char *slug = NULL, *config = NULL, *role = NULL;
	struct api_key k = { 0 };
	char key[80], prefix[13], hash[65];
	struct conf c;
	struct store *st;
	struct arena a;
	enum loy_err err;
	int opt;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return usage_of(help, argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2);
	argc--, argv++;
	while ((opt = getopt_long(argc, argv, "n:r:b:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			k.name = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'b':
			slug = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		default:
			return usage_of(help, opt == 'h' ? 0 : 2);
		}
	}
	if (!k.name || !role || role_parse(role, &k.role) != LOY_OK || strlen(k.name) > 200) {
		fprintf(stderr, "--name (up to 200 characters) and a valid --role are required\n");
		return 2;
	}
	if (cli_open(config, &c, &st) != 0)
		return 1;
	if (cli_business_id(st, slug, &k.business_id) != 0) {
		store_close(st);
		return 1;
	}
	api_apikey_generate(key, prefix, hash);
	k.prefix = prefix;
	k.key_hash = hash;
	arena_init(&a, 1 << 16);
	err = store_write(st, &a, apikey_add_tx, &k);
	arena_free(&a);
	store_close(st);
	if (err != LOY_OK) {
		fprintf(stderr, "cannot create the API key\n");
		return 1;
	}
	printf("%s\n", key);
	return 0;
}

static enum loy_err business_add_tx(struct store_tx *tx, void *arg)
{
	return store_business_insert(tx, arg);
}

static bool slug_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 48)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

int cli_business(int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
					      { "slug", required_argument, NULL, 's' },
					      { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static const char help[] =
		"usage: loy business add --name N --slug S [--config FILE]\n\n"
		"Creates another business (tenant) on this install: 5 % back, no welcome bonus.\n"
		"The slug (a-z, 0-9, -) names it in public links. Prints the new business id.\n";
	const char *config = NULL;
	struct business b = { .loyalty = { .points_per_ruble_bp = 500 } };
	struct conf c;
	struct store *st;
	struct arena a;
	enum loy_err err;
	int opt;

	if (argc < 2 || strcmp(argv[1], "add") != 0)
		return usage_of(help, argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2);
	argc--, argv++;
	while ((opt = getopt_long(argc, argv, "n:s:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			b.name = optarg;
			break;
		case 's':
			b.slug = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		default:
			return usage_of(help, opt == 'h' ? 0 : 2);
		}
	}
	if (!b.name || !b.slug || !slug_valid(b.slug) || strlen(b.name) == 0 ||
	    strlen(b.name) > 200) {
		fprintf(stderr, "--name and a --slug of 2 to 48 characters a-z, 0-9, - are "
				"required\n");
		return 2;
	}
	if (cli_open(config, &c, &st) != 0)
		return 1;
	arena_init(&a, 1 << 16);
	err = store_write(st, &a, business_add_tx, &b);
	arena_free(&a);
	store_close(st);
	if (err != LOY_OK) {
		fprintf(stderr, err == LOY_ECONFLICT ? "the slug is taken\n"
						     : "cannot create the business\n");
		return 1;
	}
	printf("%lld\n", (long long)b.id);
	return 0;
}

static void report_mismatch(int64_t customer_id, int64_t balance, int64_t sum, void *ctx)
{
	printf("customer %lld: balance %lld, ledger sum %lld\n", (long long)customer_id,
	       (long long)balance, (long long)sum);
}

struct verify_ctx {
	int64_t mismatches, checked;
};

static enum loy_err verify_tx(struct store_tx *tx, void *arg)
{
	struct verify_ctx *v = arg;
	return store_verify(tx, report_mismatch, NULL, &v->mismatches, &v->checked);
}

int cli_verify(int argc, char **argv)
{
	static const char help[] = "usage: loy verify [--config FILE]\n\nChecks that every "
				   "customer's balance equals the sum of their ledger.\nExits 1 "
				   "and lists the customers where it does not.\n";
	const char *config = NULL;
	struct verify_ctx v = { 0, 0 };
	struct conf c;
	struct store *st;
	struct arena a;
	enum loy_err err;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return usage_of(help, 0);
	if (argc == 3 && strcmp(argv[1], "--config") == 0)
		config = argv[2];
	else if (argc != 1)
		return usage_of(help, 2);
	if (cli_open(config, &c, &st) != 0)
		return 1;
	arena_init(&a, 256u << 20);
	err = store_read(st, &a, verify_tx, &v);
	arena_free(&a);
	store_close(st);
	if (err != LOY_OK) {
		fprintf(stderr, "cannot read the ledger: %s\n", err_code(err));
		return 1;
	}
	printf("%lld customers checked, %lld mismatches\n", (long long)v.checked,
	       (long long)v.mismatches);
	return v.mismatches == 0 ? 0 : 1;
}

int cli_backup(int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static const char help[] =
		"usage: loy backup [--config FILE] FILE\n\nWrites a consistent copy of the SQLite "
		"database to FILE while Loy runs (FILE must not be the database itself).\n"
		"For PostgreSQL use pg_dump (see docs/deployment.md).\n";
	const char *config = NULL;
	struct conf c;
	struct store *st;
	enum loy_err err;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (opt != 'c')
			return usage_of(help, opt == 'h' ? 0 : 2);
		config = optarg;
	}
	if (optind != argc - 1)
		return usage_of(help, 2);
	argv += optind - 1; /* argv[1] is FILE from here on */
	if (cli_open(config, &c, &st) != 0)
		return 1;
	if (store_is_postgres(st)) {
		store_close(st);
		fprintf(stderr,
			"this install uses PostgreSQL: back it up with\n"
			"  pg_dump --format=custom --file=loy.dump \"$LOY_DATABASE_URL\"\n");
		return 1;
	}
	err = store_backup(st, argv[1]);
	store_close(st);
	if (err != LOY_OK) {
		fprintf(stderr, err == LOY_EINVALID ? "backup refused: FILE is the live database\n"
						    : "backup failed (see the log line above)\n");
		return 1;
	}
	printf("backup written to %s\n", argv[1]);
	return 0;
}

int cli_config(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--defaults") == 0) {
		conf_print_defaults(stdout);
		return 0;
	}
	return usage_of("usage: loy config --defaults\n\nPrints every setting with its default "
			"and meaning (the content of .env.example).\n",
			argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2);
}
