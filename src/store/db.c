/* Dispatch from the db.h functions to the driver that opened the database. */
#include "store/db.h"

#include <string.h>

#include "base/log.h"
#include "base/str.h"

enum loy_err db_open(const char *url, const struct db_options *opt, struct db **out)
{
	if (strncmp(url, "sqlite:", 7) == 0)
		return db_sqlite_driver.open(url, opt, out);
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		return db_postgres_driver.open(url, opt, out);
	log_error("database URL must start with sqlite: or postgresql://");
	return LOY_EINVALID;
}

void db_close(struct db *db)
{
	if (db)
		db->driver->close(db);
}

enum db_dialect db_dialect(const struct db *db)
{
	return db->driver->dialect;
}

enum loy_err db_read(struct db *db, db_fn fn, void *ctx)
{
	return db->driver->read(db, fn, ctx);
}

enum loy_err db_write(struct db *db, db_fn fn, void *ctx)
{
	return db->driver->write(db, fn, ctx);
}

bool db_can_write_async(const struct db *db)
{
	return db->driver->write_async != NULL;
}

enum loy_err db_write_async(struct db *db, db_fn fn, void *ctx,
			    void (*on_done)(void *arg, enum loy_err rc), void *arg)
{
	if (!db->driver->write_async)
		return LOY_EINTERNAL;
	return db->driver->write_async(db, fn, ctx, on_done, arg);
}

enum loy_err db_exec(struct db_conn *c, struct arena *a, const char *sql,
		     const struct db_param *params, int nparams, struct db_rows *out)
{
	return c->driver->exec(c, a, sql, params, nparams, out);
}

enum loy_err db_exec_script(struct db_conn *c, const char *sql)
{
	return c->driver->exec_script(c, sql);
}

static const char sql_savepoint[] = "SAVEPOINT loy_op";
static const char sql_rollback_to[] = "ROLLBACK TO SAVEPOINT loy_op";
static const char sql_release[] = "RELEASE SAVEPOINT loy_op";

enum loy_err db_savepoint(struct db_conn *c, db_fn fn, void *ctx)
{
	enum loy_err err = db_exec(c, NULL, sql_savepoint, NULL, 0, NULL);
	enum loy_err rc;

	if (err != LOY_OK)
		return err;
	rc = fn(c, ctx);
	if (rc != LOY_OK)
		err = db_exec(c, NULL, sql_rollback_to, NULL, 0, NULL);
	if (err == LOY_OK)
		err = db_exec(c, NULL, sql_release, NULL, 0, NULL);
	return rc != LOY_OK ? rc : err;
}

enum loy_err db_backup(struct db *db, const char *path)
{
	return db->driver->backup(db, path);
}

const char *db_last_error(struct db_conn *c)
{
	return c->driver->last_error(c);
}

int64_t db_int(const struct db_rows *r, int row, int col)
{
	const char *s = db_cell(r, row, col);
	int64_t v = 0;
	if (s && !str_to_i64(str_from(s), &v))
		v = 0;
	return v;
}

bool db_is_null(const struct db_rows *r, int row, int col)
{
	return db_cell(r, row, col) == NULL;
}
