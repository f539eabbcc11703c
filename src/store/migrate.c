/* The migration runner (see migrate.h). The schema_migrations table records each applied version;
 * inserting that row in the same transaction as the migration makes a concurrent second runner fail
 * with a unique violation instead of applying the migration twice. */
#include "store/migrate.h"

#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "store/db.h"

static const char sql_create_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				       " version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
				       " applied_at BIGINT NOT NULL)";

static const char sql_max_version[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char sql_record[] =
	"INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

struct apply_ctx {
	const struct migration *m;
	int current;
};

static enum loy_err read_version(struct db_conn *c, void *arg)
{
	struct apply_ctx *ctx = arg;
	struct arena a;
	struct db_rows rows;
	enum loy_err err;

	arena_init(&a, 1 << 16);
	err = db_exec_script(c, sql_create_table);
	if (err == LOY_OK)
		err = db_exec(c, &a, sql_max_version, NULL, 0, &rows);
	if (err == LOY_OK)
		ctx->current = (int)db_int(&rows, 0, 0);
	arena_free(&a);
	return err;
}

static enum loy_err apply_one(struct db_conn *c, void *arg)
{
	struct apply_ctx *ctx = arg;
	struct db_param p[] = { P_INT(ctx->m->version), P_TEXT(ctx->m->name),
				P_INT(time_now_ms()) };
	enum loy_err err;

	err = db_exec(c, NULL, sql_record, p, 3, NULL);
	if (err != LOY_OK)
		return err;
	err = db_exec_script(c, ctx->m->sql);
	if (err != LOY_OK)
		log_error("migration %s failed: %s", ctx->m->name, db_last_error(c));
	return err;
}

enum loy_err migrate_run(struct db *db, int *applied)
{
	const char *dialect = db_dialect(db) == DB_SQLITE ? "sqlite" : "postgres";
	struct apply_ctx ctx = { 0 };
	enum loy_err err;

	*applied = 0;
	err = db_write(db, read_version, &ctx);
	/* Two PostgreSQL nodes creating schema_migrations at once: one loses on the catalog's unique
	 * index; by now the table exists. */
	if (err == LOY_ECONFLICT)
		err = db_write(db, read_version, &ctx);
	if (err != LOY_OK)
		return err;
	for (unsigned i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		if (strcmp(m->dialect, dialect) != 0 || m->version <= ctx.current)
			continue;
		ctx.m = m;
		err = db_write(db, apply_one, &ctx);
		if (err == LOY_ECONFLICT)
			continue; /* another node applied it first */
		if (err != LOY_OK)
			return err;
		log_info("migration %s applied", m->name);
		(*applied)++;
	}
	return LOY_OK;
}
