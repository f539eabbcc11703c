/* Opening the store and framing units of work (see store.h). */
#include "store/store.h"

#include <stdlib.h>

#include "base/timeutil.h"
#include "store/db.h"
#include "store/migrate.h"

struct store {
	struct db *db;
	void (*on_jobs)(void *arg); /* see store_on_jobs */
	void *on_jobs_arg;
};

struct frame {
	struct store *st;
	struct arena *a;
	store_fn fn;
	void *ctx;
	int jobs_queued; /* by the last run of fn (PostgreSQL may run it again) */
	void (*on_done)(void *arg, enum loy_err err);
	void *done_arg;
};

enum loy_err store_open(const char *url, const struct store_options *opt, struct store **out)
{
	struct db_options dopt = { .pool_size = opt ? opt->pool_size : 0 };
	struct store *st = calloc(1, sizeof(*st));
	enum loy_err err;

	if (!st)
		return LOY_ENOMEM;
	err = db_open(url, &dopt, &st->db);
	if (err != LOY_OK) {
		free(st);
		return err;
	}
	*out = st;
	return LOY_OK;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	db_close(st->db);
	free(st);
}

bool store_is_postgres(const struct store *st)
{
	return db_dialect(st->db) == DB_POSTGRES;
}

enum loy_err store_migrate(struct store *st, int *applied)
{
	return migrate_run(st->db, applied);
}

enum loy_err store_backup(struct store *st, const char *path)
{
	return db_backup(st->db, path);
}

static enum loy_err run_frame(struct db_conn *c, void *arg)
{
	struct frame *f = arg;
	struct store_tx tx = { .c = c, .a = f->a, .now = time_now_ms() };
	enum loy_err err = f->fn(&tx, f->ctx);
	f->jobs_queued = tx.jobs_queued;
	return err;
}

void store_on_jobs(struct store *st, void (*fn)(void *arg), void *arg)
{
	st->on_jobs = fn;
	st->on_jobs_arg = arg;
}

static void committed(const struct frame *f, enum loy_err err)
{
	if (err == LOY_OK && f->jobs_queued > 0 && f->st->on_jobs)
		f->st->on_jobs(f->st->on_jobs_arg);
}

enum loy_err store_read(struct store *st, struct arena *a, store_fn fn, void *ctx)
{
	struct frame f = { .st = st, .a = a, .fn = fn, .ctx = ctx };
	return db_read(st->db, run_frame, &f);
}

enum loy_err store_write(struct store *st, struct arena *a, store_fn fn, void *ctx)
{
	struct frame f = { .st = st, .a = a, .fn = fn, .ctx = ctx };
	enum loy_err err = db_write(st->db, run_frame, &f);
	committed(&f, err);
	return err;
}

static void async_done(void *arg, enum loy_err err)
{
	struct frame *f = arg;
	committed(f, err);
	f->on_done(f->done_arg, err);
}

bool store_can_write_async(const struct store *st)
{
	return db_can_write_async(st->db);
}

enum loy_err store_write_async(struct store *st, struct arena *a, store_fn fn, void *ctx,
			       void (*on_done)(void *arg, enum loy_err err), void *arg)
{
	struct frame *f = arena_alloc(a, sizeof(*f));
	if (!f)
		return LOY_ENOMEM;
	*f = (struct frame){
		.st = st, .a = a, .fn = fn, .ctx = ctx, .on_done = on_done, .done_arg = arg
	};
	return db_write_async(st->db, run_frame, f, async_done, f);
}

struct nested {
	struct store_tx *tx;
	store_fn fn;
	void *ctx;
};

static enum loy_err run_nested(struct db_conn *c, void *arg)
{
	struct nested *n = arg;
	return n->fn(n->tx, n->ctx);
}

enum loy_err store_savepoint(struct store_tx *tx, store_fn fn, void *ctx)
{
	struct nested n = { tx, fn, ctx };
	return db_savepoint(tx->c, run_nested, &n);
}

static const char sql_ping[] = "SELECT 1";

static enum loy_err ping(struct db_conn *c, void *ctx)
{
	return db_exec(c, NULL, sql_ping, NULL, 0, NULL);
}

enum loy_err store_ping(struct store *st)
{
	return db_read(st->db, ping, NULL);
}
