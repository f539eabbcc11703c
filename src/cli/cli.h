/* The `loy` command line: one file per subcommand, each `int cli_X(int argc, char **argv)` returning
 * the process exit status (0 success, 1 failure, 2 usage). */
#ifndef LOY_CLI_CLI_H
#define LOY_CLI_CLI_H

#include "conf/conf.h"
#include "store/store.h"

int cli_main(int argc, char **argv);

int cli_serve(int argc, char **argv);
int cli_migrate(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_apikey(int argc, char **argv);
int cli_business(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_certs(int argc, char **argv);

/* Shared set-up: loads the config (--config FILE from argv, then the environment), applies the log
 * level, opens the store and migrates it (creating the demo business in an empty database).
 * Returns 0 and fills *st (owned by the caller, store_close) or prints why and returns 1. */
int cli_open(const char *config_path, struct conf *c, struct store **st);
/* Finds a business by slug, or the install's default when slug is NULL. */
int cli_business_id(struct store *st, const char *slug, int64_t *id);
/* Reads one line (a password) from stdin without the newline; 0 on success. */
int cli_read_secret(char *out, size_t outsz);

#endif
