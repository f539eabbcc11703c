/* Subcommand dispatch, --help, --version, and the set-up every subcommand shares. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "crypto/password.h"
#include "store/bootstrap.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "serve", cli_serve, "run the HTTP server (migrates the database first)" },
	{ "migrate", cli_migrate, "apply database migrations and exit" },
	{ "user", cli_user, "manage staff accounts: user add --email E --role R" },
	{ "apikey", cli_apikey, "manage API keys: apikey create --name N --role R" },
	{ "business", cli_business, "manage businesses: business add --name N --slug S" },
	{ "verify", cli_verify, "check balance = sum(ledger) for every customer" },
	{ "backup", cli_backup, "write a consistent copy of an SQLite database: backup FILE" },
	{ "config", cli_config, "print every setting with its default: config --defaults" },
	{ "certs", cli_certs, "development certificates for Apple Wallet: certs dev --out DIR" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: loy [--version] <command> [--help] [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nSettings come from LOY_* environment variables and an optional\n"
		     "--config FILE of KEY=VALUE lines; `loy config --defaults` lists them.\n");
}

int cli_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("loy %s\n", LOY_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* Only the server logs to stdout; every other command prints its result there. */
	if (strcmp(argv[1], "serve") != 0)
		log_set_fd(STDERR_FILENO);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "loy: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}

int cli_open(const char *config_path, struct conf *c, struct store **st)
{
	struct store_options opt;
	enum log_level level;
	int applied = 0;
	enum loy_err err;

	if (conf_load(c, config_path) != LOY_OK)
		return 1;
	if (!log_level_parse(c->log_level, &level)) {
		fprintf(stderr,
			"LOY_LOG_LEVEL must be error, warn, info, http, verbose or debug\n");
		return 1;
	}
	log_set_level(level);
	if (password_init() != LOY_OK) {
		fprintf(stderr, "cannot initialise libsodium\n");
		return 1;
	}
	opt.pool_size = (int)c->db_pool;
	err = store_open(c->database_url, &opt, st);
	if (err != LOY_OK) {
		fprintf(stderr, "cannot open the database (%s); check LOY_DATABASE_URL\n",
			err_code(err));
		return 1;
	}
	err = store_migrate(*st, &applied);
	if (err == LOY_OK)
		err = bootstrap_demo_business(*st);
	if (err != LOY_OK) {
		fprintf(stderr, "cannot prepare the database: %s\n", err_code(err));
		store_close(*st);
		*st = NULL;
		return 1;
	}
	return 0;
}

struct find_business {
	const char *slug;
	struct business b;
};

static enum loy_err find_business_tx(struct store_tx *tx, void *arg)
{
	struct find_business *f = arg;
	return f->slug ? store_business_by_slug(tx, f->slug, &f->b)
		       : store_business_default(tx, &f->b);
}

int cli_business_id(struct store *st, const char *slug, int64_t *id)
{
	struct arena a;
	struct find_business f = { .slug = slug };
	enum loy_err err;

	arena_init(&a, 1 << 20);
	err = store_read(st, &a, find_business_tx, &f);
	arena_free(&a);
	if (err != LOY_OK) {
		fprintf(stderr, "no business %s%s\n", slug ? "with slug " : "", slug ? slug : "");
		return 1;
	}
	*id = f.b.id;
	return 0;
}

int cli_read_secret(char *out, size_t outsz)
{
	size_t n;
	if (!fgets(out, (int)outsz, stdin))
		return 1;
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}
