/* The SQLite driver behind db.h.
 *
 * Durability and concurrency: the database runs in WAL mode with synchronous=FULL, so a commit is on
 * disk (the WAL is fsync'd) before db_write returns. SQLite allows one writer at a time; instead of
 * letting request threads fight over the lock (and answer SQLITE_BUSY), every write callback is queued
 * to one writer thread. The writer takes everything queued (up to group_commit_max), runs each callback
 * inside its own SAVEPOINT of one transaction, commits once and wakes every waiter: one fsync pays for
 * the whole group, so durable throughput grows with the number of concurrent writers instead of
 * being capped by the disk's fsync rate. A callback that fails rolls back to its savepoint only.
 *
 * Reads use read-only connections, one per thread that reads (request threads are long-lived, so
 * this is a handful), found through a thread-local pointer: no lock is taken to get one. Each
 * db_read runs in a deferred transaction, which in WAL mode is a consistent snapshot that never
 * blocks or is blocked by the writer. */
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "store/db.h"

#define STMT_CACHE_SLOTS 512 /* distinct SQL statements per connection; the app has far fewer */
#define DEFAULT_GROUP_MAX 512
#define BUSY_TIMEOUT_MS 10000

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct sq_conn {
	struct db_conn base;
	sqlite3 *h;
	struct stmt_slot cache[STMT_CACHE_SLOTS];
	char err[256];
};

struct write_item {
	db_fn fn;
	void *ctx;
	enum loy_err rc;
	/* Either a waiting thread (done, when on_done is NULL) or a completion callback; an item with
	 * a callback was malloc'd by sq_write_async and is freed by the writer. */
	sem_t done;
	void (*on_done)(void *arg, enum loy_err rc);
	void *done_arg;
	struct write_item *next;
};

struct sq_db {
	struct db base;
	char *path;

	/* writer */
	struct sq_conn *wconn;
	pthread_t writer;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct write_item *qhead, *qtail;
	int group_max;
	int stopping;

	/* readers: every connection opened by any thread, closed with the database */
	pthread_mutex_t rlock;
	struct reader *readers;
	uint64_t generation; /* tells this database from an earlier one at the same address */
};

struct reader {
	struct sq_conn *conn;
	struct reader *next;
};

/* The calling thread's reader, valid while generation matches its database's. */
static _Thread_local struct {
	uint64_t generation;
	struct sq_conn *conn;
} tl_reader;

static atomic_uint_fast64_t generations;

static void conn_set_err(struct sq_conn *c, const char *what)
{
	snprintf(c->err, sizeof(c->err), "%s: %s", what, sqlite3_errmsg(c->h));
}

static enum loy_err map_rc(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return LOY_OK;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return LOY_ECONFLICT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
		return LOY_EUNAVAILABLE;
	case SQLITE_NOMEM:
		return LOY_ENOMEM;
	default:
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return LOY_EINVALID;
		return LOY_EIO;
	}
}

static enum loy_err conn_simple(struct sq_conn *c, const char *sql)
{
	int rc = sqlite3_exec(c->h, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		conn_set_err(c, sql);
		return map_rc(sqlite3_extended_errcode(c->h));
	}
	return LOY_OK;
}

static enum loy_err conn_open(const char *path, bool readonly, struct sq_conn **out)
{
	struct sq_conn *c = calloc(1, sizeof(*c));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    (readonly ? 0 : SQLITE_OPEN_CREATE);
	enum loy_err err;

	if (!c)
		return LOY_ENOMEM;
	c->base.driver = &db_sqlite_driver;
	if (sqlite3_open_v2(path, &c->h, flags, NULL) != SQLITE_OK) {
		log_error("sqlite: cannot open %s: %s", path,
			  c->h ? sqlite3_errmsg(c->h) : "no memory");
		sqlite3_close(c->h);
		free(c);
		return LOY_EUNAVAILABLE;
	}
	sqlite3_extended_result_codes(c->h, 1);
	sqlite3_busy_timeout(c->h, BUSY_TIMEOUT_MS);
	err = conn_simple(c, readonly ? "PRAGMA query_only=1; PRAGMA foreign_keys=ON;"
				      : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
					"PRAGMA foreign_keys=ON;");
	if (err != LOY_OK) {
		log_error("sqlite: %s", c->err);
		sqlite3_close(c->h);
		free(c);
		return err;
	}
	*out = c;
	return LOY_OK;
}

static void conn_close(struct sq_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < STMT_CACHE_SLOTS; i++)
		sqlite3_finalize(c->cache[i].stmt);
	sqlite3_close(c->h);
	free(c);
}

static enum loy_err conn_stmt(struct sq_conn *c, const char *sql, sqlite3_stmt **out)
{
	size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE_SLOTS;

	for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
		struct stmt_slot *s = &c->cache[(h + i) % STMT_CACHE_SLOTS];
		if (s->sql == sql) {
			*out = s->stmt;
			return LOY_OK;
		}
		if (!s->sql) {
			if (sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt,
					       NULL) != SQLITE_OK) {
				conn_set_err(c, "prepare");
				log_error("sqlite: %s in: %.200s", c->err, sql);
				return LOY_EIO;
			}
			s->sql = sql;
			*out = s->stmt;
			return LOY_OK;
		}
	}
	log_error("sqlite: statement cache full");
	return LOY_EINTERNAL;
}

static enum loy_err bind_params(struct sq_conn *c, sqlite3_stmt *st, const struct db_param *params,
				int n)
{
	/* PostgreSQL refuses a parameter count that differs from the statement's: be as strict here so
	 * that such a bug shows on the default engine first. */
	if (sqlite3_bind_parameter_count(st) != n) {
		snprintf(c->err, sizeof(c->err), "statement takes %d parameters, %d given",
			 sqlite3_bind_parameter_count(st), n);
		log_error("sqlite: %s in: %.200s", c->err, sqlite3_sql(st));
		return LOY_EINTERNAL;
	}
	for (int i = 0; i < n; i++) {
		char name[16];
		int idx, rc;

		snprintf(name, sizeof(name), "$%d", i + 1);
		idx = sqlite3_bind_parameter_index(st, name);
		if (idx == 0) {
			snprintf(c->err, sizeof(c->err), "parameter $%d is not used", i + 1);
			return LOY_EINTERNAL;
		}
		switch (params[i].type) {
		case DB_INT:
			rc = sqlite3_bind_int64(st, idx, params[i].i);
			break;
		case DB_TEXT:
			rc = sqlite3_bind_text(st, idx, params[i].s, (int)params[i].len,
					       SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
		if (rc != SQLITE_OK) {
			conn_set_err(c, "bind");
			return map_rc(rc);
		}
	}
	return LOY_OK;
}

/* Decimal text of v in the arena (a hot path: every integer cell of every row). */
static char *int_text(struct arena *a, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	*--p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return arena_strndup(a, p, (size_t)(tmp + sizeof(tmp) - 1 - p));
}

static enum loy_err copy_row(struct arena *a, sqlite3_stmt *st, struct db_rows *out, int *cap)
{
	int ncols = out->ncols;

	if (out->nrows == *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		char **cells = arena_alloc(a, sizeof(char *) * (size_t)ncap * (size_t)ncols);
		if (!cells)
			return LOY_ENOMEM;
		if (out->nrows)
			memcpy(cells, out->cells,
			       sizeof(char *) * (size_t)out->nrows * (size_t)ncols);
		out->cells = cells;
		*cap = ncap;
	}
	for (int col = 0; col < ncols; col++) {
		char **cell = &out->cells[out->nrows * ncols + col];
		switch (sqlite3_column_type(st, col)) {
		case SQLITE_NULL:
			*cell = NULL;
			break;
		case SQLITE_INTEGER:
			*cell = int_text(a, sqlite3_column_int64(st, col));
			if (!*cell)
				return LOY_ENOMEM;
			break;
		default: {
			const unsigned char *t = sqlite3_column_text(st, col);
			*cell = arena_strndup(a, (const char *)t,
					      (size_t)sqlite3_column_bytes(st, col));
			if (!*cell)
				return LOY_ENOMEM;
			break;
		}
		}
	}
	out->nrows++;
	return LOY_OK;
}

static enum loy_err sq_exec(struct db_conn *dc, struct arena *a, const char *sql,
			    const struct db_param *params, int nparams, struct db_rows *out)
{
	struct sq_conn *c = (struct sq_conn *)dc;
	sqlite3_stmt *st;
	enum loy_err err;
	int rc, cap = 0;

	err = conn_stmt(c, sql, &st);
	if (err != LOY_OK)
		return err;
	err = bind_params(c, st, params, nparams);
	if (err != LOY_OK)
		goto out;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->ncols = sqlite3_column_count(st);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out && out->ncols > 0) {
			err = copy_row(a, st, out, &cap);
			if (err != LOY_OK)
				goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		conn_set_err(c, "step");
		err = map_rc(sqlite3_extended_errcode(c->h));
		if (err != LOY_ECONFLICT && err != LOY_EINVALID)
			log_error("sqlite: %s in: %.200s", c->err, sql);
		goto out;
	}
	if (out)
		out->affected = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes64(c->h);
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

/* Transaction control through the statement cache: sqlite3_exec would parse the text each time. */
static const char sql_begin[] = "BEGIN";
static const char sql_begin_immediate[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_savepoint[] = "SAVEPOINT w";
static const char sql_rollback_to[] = "ROLLBACK TO w";
static const char sql_release[] = "RELEASE w";

static enum loy_err conn_control(struct sq_conn *c, const char *sql)
{
	return sq_exec(&c->base, NULL, sql, NULL, 0, NULL);
}

static enum loy_err sq_exec_script(struct db_conn *dc, const char *sql)
{
	return conn_simple((struct sq_conn *)dc, sql);
}

/* ---- writer ---------------------------------------------------------------------------------- */

static void run_group(struct sq_db *db, struct write_item *group)
{
	struct sq_conn *c = db->wconn;
	enum loy_err err = conn_control(c, sql_begin_immediate);

	for (struct write_item *it = group; it; it = it->next) {
		if (err != LOY_OK) {
			it->rc = err;
			continue;
		}
		if (conn_control(c, sql_savepoint) != LOY_OK) {
			it->rc = LOY_EIO;
			continue;
		}
		it->rc = it->fn(&c->base, it->ctx);
		if (it->rc != LOY_OK && conn_control(c, sql_rollback_to) != LOY_OK)
			log_error("sqlite: rollback to savepoint failed: %s", c->err);
		conn_control(c, sql_release);
	}
	if (err == LOY_OK && conn_control(c, sql_commit) != LOY_OK) {
		log_error("sqlite: commit failed: %s", c->err);
		conn_control(c, sql_rollback);
		for (struct write_item *it = group; it; it = it->next)
			if (it->rc == LOY_OK)
				it->rc = LOY_EIO;
	}
}

static void *writer_main(void *arg)
{
	struct sq_db *db = arg;

	for (;;) {
		struct write_item *group, *it, *next;
		int n = 0;

		pthread_mutex_lock(&db->qlock);
		while (!db->qhead && !db->stopping)
			pthread_cond_wait(&db->qcond, &db->qlock);
		if (!db->qhead && db->stopping) {
			pthread_mutex_unlock(&db->qlock);
			return NULL;
		}
		group = db->qhead;
		for (it = group; it->next && n + 1 < db->group_max; it = it->next)
			n++;
		db->qhead = it->next;
		if (!db->qhead)
			db->qtail = NULL;
		it->next = NULL;
		pthread_mutex_unlock(&db->qlock);

		run_group(db, group);
		for (it = group; it; it = next) {
			next = it->next; /* the waiter may free the item as soon as it is told */
			if (it->on_done) {
				it->on_done(it->done_arg, it->rc);
				free(it);
			} else {
				sem_post(&it->done);
			}
		}
	}
}

static enum loy_err enqueue(struct sq_db *db, struct write_item *it)
{
	pthread_mutex_lock(&db->qlock);
	if (db->stopping) {
		pthread_mutex_unlock(&db->qlock);
		return LOY_EUNAVAILABLE;
	}
	if (db->qtail)
		db->qtail->next = it;
	else
		db->qhead = it;
	db->qtail = it;
	pthread_cond_signal(&db->qcond);
	pthread_mutex_unlock(&db->qlock);
	return LOY_OK;
}

static enum loy_err sq_write(struct db *dbase, db_fn fn, void *ctx)
{
	struct sq_db *db = (struct sq_db *)dbase;
	struct write_item it = { .fn = fn, .ctx = ctx, .rc = LOY_EINTERNAL };
	enum loy_err err;

	sem_init(&it.done, 0, 0);
	err = enqueue(db, &it);
	if (err == LOY_OK) {
		while (sem_wait(&it.done) != 0)
			;
		err = it.rc;
	}
	sem_destroy(&it.done);
	return err;
}

/* The writer calls on_done after the group commits (or fails), on its own thread: the caller need
 * not park a thread per write, which is what lets a few event-loop threads keep hundreds of durable
 * writes in flight. */
static enum loy_err sq_write_async(struct db *dbase, db_fn fn, void *ctx,
				   void (*on_done)(void *arg, enum loy_err rc), void *arg)
{
	struct write_item *it = calloc(1, sizeof(*it));
	enum loy_err err;

	if (!it)
		return LOY_ENOMEM;
	it->fn = fn;
	it->ctx = ctx;
	it->rc = LOY_EINTERNAL;
	it->on_done = on_done;
	it->done_arg = arg;
	err = enqueue((struct sq_db *)dbase, it);
	if (err != LOY_OK)
		free(it);
	return err;
}

/* ---- readers --------------------------------------------------------------------------------- */

static enum loy_err reader_get(struct sq_db *db, struct sq_conn **out)
{
	struct reader *r;
	enum loy_err err;

	if (tl_reader.generation == db->generation) {
		*out = tl_reader.conn;
		return LOY_OK;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return LOY_ENOMEM;
	err = conn_open(db->path, true, &r->conn);
	if (err != LOY_OK) {
		free(r);
		return err;
	}
	pthread_mutex_lock(&db->rlock);
	r->next = db->readers;
	db->readers = r;
	pthread_mutex_unlock(&db->rlock);
	tl_reader.generation = db->generation;
	tl_reader.conn = r->conn;
	*out = r->conn;
	return LOY_OK;
}

static enum loy_err sq_read(struct db *dbase, db_fn fn, void *ctx)
{
	struct sq_db *db = (struct sq_db *)dbase;
	struct sq_conn *c = NULL;
	enum loy_err err;

	err = reader_get(db, &c);
	if (err != LOY_OK)
		return err;
	err = conn_control(c, sql_begin);
	if (err == LOY_OK) {
		err = fn(&c->base, ctx);
		conn_control(c, sql_commit);
	}
	return err;
}

/* ---- open / close / backup ------------------------------------------------------------------- */

static void sq_close(struct db *dbase)
{
	struct sq_db *db = (struct sq_db *)dbase;

	if (!db)
		return;
	if (db->wconn) {
		pthread_mutex_lock(&db->qlock);
		db->stopping = 1;
		pthread_cond_broadcast(&db->qcond);
		pthread_mutex_unlock(&db->qlock);
		pthread_join(db->writer, NULL);
		conn_close(db->wconn);
	}
	while (db->readers) {
		struct reader *next = db->readers->next;
		conn_close(db->readers->conn);
		free(db->readers);
		db->readers = next;
	}
	pthread_mutex_destroy(&db->qlock);
	pthread_cond_destroy(&db->qcond);
	pthread_mutex_destroy(&db->rlock);
	free(db->path);
	free(db);
}

static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;

/* Memory statistics cost a process-wide mutex on every SQLite allocation; Loy never reads them. */
static void sqlite_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum loy_err sq_open(const char *url, const struct db_options *opt, struct db **out)
{
	struct sq_db *db;
	enum loy_err err;
	const char *path = url + strlen("sqlite:");

	if (*path == '\0')
		return LOY_EINVALID;
	pthread_once(&sqlite_config_once, sqlite_config);
	db = calloc(1, sizeof(*db));
	if (!db)
		return LOY_ENOMEM;
	db->base.driver = &db_sqlite_driver;
	pthread_mutex_init(&db->qlock, NULL);
	pthread_cond_init(&db->qcond, NULL);
	pthread_mutex_init(&db->rlock, NULL);
	db->generation = atomic_fetch_add(&generations, 1) + 1;
	db->group_max = opt && opt->group_commit_max > 0 ? opt->group_commit_max
							 : DEFAULT_GROUP_MAX;
	db->path = strdup(path);
	if (!db->path) {
		err = LOY_ENOMEM;
		goto fail;
	}
	err = conn_open(db->path, false, &db->wconn);
	if (err != LOY_OK)
		goto fail;
	if (pthread_create(&db->writer, NULL, writer_main, db) != 0) {
		conn_close(db->wconn);
		db->wconn = NULL;
		err = LOY_EINTERNAL;
		goto fail;
	}
	*out = &db->base;
	return LOY_OK;
fail:
	sq_close(&db->base);
	return err;
}

static enum loy_err sq_backup(struct db *dbase, const char *path)
{
	struct sq_db *db = (struct sq_db *)dbase;
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	enum loy_err err = LOY_EIO;
	struct stat live, dest;

	/* Copying onto the live file (or a link to it) would destroy what it copies. */
	if (stat(path, &dest) == 0 && stat(db->path, &live) == 0 && dest.st_dev == live.st_dev &&
	    dest.st_ino == live.st_ino) {
		log_error("backup: %s is the live database", path);
		return LOY_EINVALID;
	}
	if (sqlite3_open_v2(db->path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open(path, &dst) != SQLITE_OK) {
		log_error("backup: cannot open %s", dst ? path : db->path);
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		log_error("backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	/* Copy everything in one step: a consistent snapshot of the source at one point in time. */
	if (sqlite3_backup_step(b, -1) == SQLITE_DONE)
		err = LOY_OK;
	if (sqlite3_backup_finish(b) != SQLITE_OK)
		err = LOY_EIO;
	if (err != LOY_OK)
		log_error("backup: %s", sqlite3_errmsg(dst));
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	return err;
}

static const char *sq_last_error(struct db_conn *dc)
{
	return ((struct sq_conn *)dc)->err;
}

const struct db_driver db_sqlite_driver = {
	.name = "sqlite",
	.dialect = DB_SQLITE,
	.open = sq_open,
	.close = sq_close,
	.read = sq_read,
	.write = sq_write,
	.write_async = sq_write_async,
	.exec = sq_exec,
	.exec_script = sq_exec_script,
	.backup = sq_backup,
	.last_error = sq_last_error,
};
