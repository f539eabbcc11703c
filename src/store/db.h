/* The SQL driver interface under the store. The files of store/ (the domain operations of store.h) speak only
 * this; sqlite.c and postgres.c implement it. SQL text is shared between the dialects: parameters are
 * written $1..$N in both, CAST(x AS T) instead of x::T, no FOR UPDATE (use conditional UPDATE ...
 * RETURNING), booleans are integers 0/1, times are int64 milliseconds since the epoch.
 *
 * Every statement passed to db_exec must be a string with static storage duration: drivers cache the
 * prepared statement per connection keyed by the pointer.
 *
 * Threads: db_read and db_write may be called from any thread concurrently; the connection handed to
 * the callback is valid only during the callback and only on that thread. */
#ifndef LOY_STORE_DB_H
#define LOY_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

enum db_type { DB_NULL, DB_INT, DB_TEXT };

struct db_param {
	enum db_type type;
	int64_t i;
	const char *s; /* DB_TEXT: bytes, need not be NUL-terminated */
	size_t len;
};

#define P_INT(v) ((struct db_param){ .type = DB_INT, .i = (int64_t)(v) })
#define P_NULL ((struct db_param){ .type = DB_NULL })
/* A NUL-terminated string, or SQL NULL when s is NULL. */
#define P_TEXT(v) db_param_text(v)
#define P_TEXTN(v, n) ((struct db_param){ .type = DB_TEXT, .s = (v), .len = (n) })

static inline struct db_param db_param_text(const char *s)
{
	struct db_param p = { .type = s ? DB_TEXT : DB_NULL, .s = s, .len = 0 };
	if (s) {
		const char *e = s;
		while (*e)
			e++;
		p.len = (size_t)(e - s);
	}
	return p;
}

/* A result set, copied into the caller's arena. cells[r * ncols + c] is NUL-terminated text
 * (integers in decimal) or NULL for SQL NULL. */
struct db_rows {
	int nrows;
	int ncols;
	char **cells;
	int64_t affected; /* rows changed by INSERT/UPDATE/DELETE */
};

struct db;	/* a database: connections, pool, writer; opaque */
struct db_conn; /* one connection lent to a callback */

enum db_dialect { DB_SQLITE, DB_POSTGRES };

struct db_options {
	int pool_size;		/* PostgreSQL connections; SQLite read connections */
	int group_commit_max;	/* SQLite: most write callbacks committed in one transaction */
	const char *migrations; /* directory holding <dialect>/NNNN_name.sql, NULL: built-in path */
};

/* A unit of work. Returning anything but LOY_OK undoes everything the callback wrote (and only that:
 * with SQLite's group commit other callbacks in the same group are unaffected). */
typedef enum loy_err (*db_fn)(struct db_conn *c, void *ctx);

struct db_driver {
	const char *name;
	enum db_dialect dialect;
	enum loy_err (*open)(const char *url, const struct db_options *opt, struct db **out);
	void (*close)(struct db *db);
	enum loy_err (*read)(struct db *db, db_fn fn, void *ctx);
	enum loy_err (*write)(struct db *db, db_fn fn, void *ctx);
	/* Optional: queues fn like write and returns at once; on_done(arg, rc) is called exactly once,
	 * from another thread, when it is durable or failed. Not called when this returns an error. */
	enum loy_err (*write_async)(struct db *db, db_fn fn, void *ctx,
				    void (*on_done)(void *arg, enum loy_err rc), void *arg);
	enum loy_err (*exec)(struct db_conn *c, struct arena *a, const char *sql,
			     const struct db_param *params, int nparams, struct db_rows *out);
	/* Runs a script of ;-separated statements without parameters (migrations), in the
	 * current transaction. */
	enum loy_err (*exec_script)(struct db_conn *c, const char *sql);
	/* Consistent online copy to a file (SQLite); LOY_EINVALID where the engine has its own tool. */
	enum loy_err (*backup)(struct db *db, const char *path);
	const char *(*last_error)(struct db_conn *c);
};

/* Opens the database the URL names: "sqlite:PATH" or "postgresql://..." / "postgres://...".
 * On success *out is owned by the caller and released with db_close. */
enum loy_err db_open(const char *url, const struct db_options *opt, struct db **out);
void db_close(struct db *db);
enum db_dialect db_dialect(const struct db *db);

/* Runs fn on a consistent read snapshot. Returns fn's error or LOY_EUNAVAILABLE. */
enum loy_err db_read(struct db *db, db_fn fn, void *ctx);
/* Runs fn in a durable transaction: when db_write returns LOY_OK the changes survive a crash
 * (SQLite WAL with synchronous=FULL; PostgreSQL commit). Blocks until then. */
enum loy_err db_write(struct db *db, db_fn fn, void *ctx);

/* True if db_write_async is available (SQLite's writer); PostgreSQL writes block a thread. */
bool db_can_write_async(const struct db *db);
enum loy_err db_write_async(struct db *db, db_fn fn, void *ctx,
			    void (*on_done)(void *arg, enum loy_err rc), void *arg);

/* Runs one statement. A unique-constraint violation is LOY_ECONFLICT; a lost connection
 * LOY_EUNAVAILABLE; other failures LOY_EIO (the message is in db_last_error). out may be NULL. */
enum loy_err db_exec(struct db_conn *c, struct arena *a, const char *sql,
		     const struct db_param *params, int nparams, struct db_rows *out);
enum loy_err db_exec_script(struct db_conn *c, const char *sql);
/* Runs fn inside a savepoint of the current transaction: if fn fails, only its own changes are
 * undone and the transaction stays usable (also on PostgreSQL, where a failed statement otherwise
 * poisons the whole transaction). Returns fn's error. */
enum loy_err db_savepoint(struct db_conn *c, db_fn fn, void *ctx);
enum loy_err db_backup(struct db *db, const char *path);
const char *db_last_error(struct db_conn *c);

/* Row helpers. */
static inline const char *db_cell(const struct db_rows *r, int row, int col)
{
	return r->cells[row * r->ncols + col];
}
int64_t db_int(const struct db_rows *r, int row, int col); /* NULL reads as 0 */
bool db_is_null(const struct db_rows *r, int row, int col);

/* Every connection of either driver starts from the same struct so that db.c can dispatch. */
struct db {
	const struct db_driver *driver;
};
struct db_conn {
	const struct db_driver *driver;
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_postgres_driver;

#endif
