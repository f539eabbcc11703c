/* The PostgreSQL driver behind db.h, and the one file that includes <libpq-fe.h>.
 *
 * A struct pg_db owns a fixed pool of connections (opt->pool_size, default 8) handed out under a
 * mutex and a condition variable. pg_open opens the first one, so that a wrong URL fails there; the
 * others open when first needed. A connection found broken when taken from the pool is reset. Each
 * db_write / db_read callback runs between BEGIN and COMMIT on one connection. A write that fails
 * with a serialization failure or a deadlock (SQLSTATE 40001, 40P01) runs again from the start, up
 * to PG_RUNS_MAX times, and so does one whose connection was lost before COMMIT was sent (once):
 * callbacks must therefore be safe to run more than once.
 *
 * Statements are prepared once per connection, keyed by the SQL pointer (db.h requires static
 * storage), with parameter types inferred by the server, and run with text parameters. Every result
 * cell is copied into the caller's arena as text; booleans become "1"/"0" as in SQLite.
 *
 * Unlike SQLite, PostgreSQL aborts the whole transaction at the first failing statement: after a
 * db_exec error every later statement of the callback fails with the same error, and a callback
 * that returns LOY_OK anyway gets that first error back instead of a commit of half its work. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "base/log.h"
#include "base/rand.h"
#include "base/str.h"
#include "store/db.h"

#define PG_POOL_DEFAULT 8
#define PG_POOL_MAX 1024
/* Longest wait for a free connection before answering LOY_EUNAVAILABLE. */
#define PG_ACQUIRE_TIMEOUT_MS 30000
/* Seconds libpq waits for a connection, unless the URL says otherwise (connect_timeout). */
#define PG_CONNECT_TIMEOUT "10"
/* Runs of one callback, in all, when it meets serialization failures or deadlocks. */
#define PG_RUNS_MAX 5
/* Distinct statements per connection; far above what static SQL can reach, so hitting it means
 * someone passed SQL built at run time. */
#define PG_STMT_MAX 4096
/* The protocol's limit on parameters (a 16-bit count). */
#define PG_PARAMS_MAX 65535
#define PG_ERR_MAX 512
/* Type OID of boolean (pg_type.h is a server header). */
#define PG_BOOLOID 16

struct pg_db;

struct pg_stmt {
	const char *sql; /* NULL: empty slot */
	unsigned id;	 /* prepared as "s<id>" */
};

struct pg_conn {
	struct db_conn base; /* first: db.c dispatches through it */
	struct pg_db *db;
	PGconn *pg; /* NULL until first used */
	struct pg_stmt *stmts;
	size_t stmt_cap; /* a power of two, or 0 */
	size_t nstmts;
	unsigned next_id;
	bool lost;	      /* the server went away: reset before the next use */
	enum loy_err tx_err;  /* first failure of the current transaction */
	char tx_state[6];     /* its SQLSTATE, "" if none */
	char err[PG_ERR_MAX]; /* last_error */
};

struct pg_db {
	struct db base; /* first: db.c dispatches through it */
	char *url;
	char where[256]; /* user@host:port/dbname for logs: never the password */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int size;
	int nfree;
	int *free_idx; /* stack of free slots in conns */
	struct pg_conn *conns;
};

enum pg_retry { RETRY_NONE, RETRY_SERIAL, RETRY_LOST };

/* Copies a libpq message into out on one line, without the trailing newline. */
static void msg_copy(char *out, size_t outsz, const char *msg)
{
	size_t n = 0;

	for (; msg && *msg && n + 1 < outsz; msg++)
		out[n++] = (*msg == '\n' || *msg == '\t') ? ' ' : *msg;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static enum loy_err map_sqlstate(const char *s)
{
	if (!s || strlen(s) != 5)
		return LOY_EIO;
	if (strcmp(s, "23505") == 0)
		return LOY_ECONFLICT;
	if (strncmp(s, "23", 2) == 0)
		return LOY_EINVALID;
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
		return LOY_EUNAVAILABLE;
	/* 08P01 (protocol violation) is what a wrong parameter count gets: a bug, not a network. */
	if (strncmp(s, "08", 2) == 0 && strcmp(s, "08P01") != 0)
		return LOY_EUNAVAILABLE;
	/* Out of resources, admin or crash shutdown, cannot connect now, statement timeout. */
	if (strncmp(s, "53", 2) == 0 || strncmp(s, "57P0", 4) == 0 || strcmp(s, "57014") == 0)
		return LOY_EUNAVAILABLE;
	return LOY_EIO;
}

static bool is_serialization(const char *state)
{
	return strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0;
}

/* Classifies a result: LOY_OK for a finished command, else the mapped error, with the message kept
 * for last_error and the first failure of the transaction remembered. r may be NULL. */
static enum loy_err result_check(struct pg_conn *c, const PGresult *r)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	enum loy_err err;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return LOY_OK;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		c->lost = true;
		err = LOY_EUNAVAILABLE;
		state = "08006";
		msg_copy(c->err, sizeof(c->err), PQerrorMessage(c->pg));
	} else if (!r) {
		err = LOY_ENOMEM;
		msg_copy(c->err, sizeof(c->err), PQerrorMessage(c->pg));
	} else if (state) {
		/* The primary message and the constraint only: DETAIL would carry the row's values
		 * (phone numbers, e-mail addresses) into logs. */
		const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
		char m[PG_ERR_MAX];

		err = map_sqlstate(state);
		msg_copy(m, sizeof(m), primary ? primary : "error");
		if (constraint && !strstr(m, constraint))
			snprintf(c->err, sizeof(c->err), "%.5s: %.400s (constraint %.63s)", state,
				 m, constraint);
		else
			snprintf(c->err, sizeof(c->err), "%.5s: %.400s", state, m);
	} else {
		err = LOY_EIO;
		snprintf(c->err, sizeof(c->err), "unexpected result: %s", PQresStatus(st));
	}
	if (c->tx_err == LOY_OK) {
		c->tx_err = err;
		snprintf(c->tx_state, sizeof(c->tx_state), "%s", state ? state : "");
	}
	return err;
}

static void on_notice(void *arg, const char *msg)
{
	(void)arg;
	if (log_enabled(LOG_DEBUG)) {
		char m[PG_ERR_MAX];
		msg_copy(m, sizeof(m), msg);
		log_debug("postgres: %s", m);
	}
}

static void stmts_clear(struct pg_conn *c)
{
	free(c->stmts);
	c->stmts = NULL;
	c->stmt_cap = 0;
	c->nstmts = 0;
}

/* Opens or repairs the slot's connection: opened if never opened, reset if it went bad (a reset
 * starts a new session, so the cache of prepared statements goes with it). */
static enum loy_err conn_ready(struct pg_conn *c)
{
	static const char *const keys[] = { "connect_timeout", "fallback_application_name",
					    "dbname", "client_encoding", NULL };
	const char *vals[] = { PG_CONNECT_TIMEOUT, "loy", c->db->url, "UTF8", NULL };

	if (!c->pg) {
		/* expand_dbname: the URL is expanded in place of dbname, so its own settings
		 * override the defaults before it, and client_encoding after it is forced. */
		c->pg = PQconnectdbParams(keys, vals, 1);
		if (!c->pg) {
			snprintf(c->err, sizeof(c->err), "out of memory");
			return LOY_ENOMEM;
		}
		PQsetNoticeProcessor(c->pg, on_notice, NULL);
		stmts_clear(c);
		c->next_id = 0;
	} else if (c->lost || PQstatus(c->pg) != CONNECTION_OK ||
		   PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		PQreset(c->pg);
		stmts_clear(c);
		c->next_id = 0;
		if (PQstatus(c->pg) == CONNECTION_OK)
			log_info("postgres: reconnected to %s", c->db->where);
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		c->lost = true;
		msg_copy(c->err, sizeof(c->err), PQerrorMessage(c->pg));
		return LOY_EUNAVAILABLE;
	}
	c->lost = false;
	return LOY_OK;
}

static void pool_put(struct pg_db *db, struct pg_conn *c)
{
	pthread_mutex_lock(&db->mu);
	db->free_idx[db->nfree++] = (int)(c - db->conns);
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
}

/* Waits up to PG_ACQUIRE_TIMEOUT_MS for a free slot and makes sure its connection is up. */
static enum loy_err pool_take(struct pg_db *db, struct pg_conn **out)
{
	struct timespec deadline;
	struct pg_conn *c;
	enum loy_err err;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += PG_ACQUIRE_TIMEOUT_MS / 1000;
	deadline.tv_nsec += (long)(PG_ACQUIRE_TIMEOUT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&db->mu);
	while (db->nfree == 0) {
		if (pthread_cond_timedwait(&db->cv, &db->mu, &deadline) == ETIMEDOUT &&
		    db->nfree == 0) {
			pthread_mutex_unlock(&db->mu);
			log_warn("postgres: no free connection in %d ms (pool of %d)",
				 PG_ACQUIRE_TIMEOUT_MS, db->size);
			return LOY_EUNAVAILABLE;
		}
	}
	c = &db->conns[db->free_idx[--db->nfree]];
	pthread_mutex_unlock(&db->mu);

	err = conn_ready(c);
	if (err != LOY_OK) {
		log_warn("postgres: cannot connect to %s: %s", db->where, c->err);
		pool_put(db, c);
		return err;
	}
	*out = c;
	return LOY_OK;
}

static size_t stmt_slot(const struct pg_conn *c, const char *sql)
{
	uint64_t h = (uint64_t)(uintptr_t)sql * 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 32) & (c->stmt_cap - 1);

	while (c->stmts[i].sql && c->stmts[i].sql != sql)
		i = (i + 1) & (c->stmt_cap - 1);
	return i;
}

static enum loy_err stmts_grow(struct pg_conn *c)
{
	size_t cap = c->stmt_cap ? c->stmt_cap * 2 : 64;
	struct pg_stmt *old = c->stmts;
	size_t oldcap = c->stmt_cap;

	c->stmts = calloc(cap, sizeof(*c->stmts));
	if (!c->stmts) {
		c->stmts = old;
		snprintf(c->err, sizeof(c->err), "out of memory");
		return LOY_ENOMEM;
	}
	c->stmt_cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].sql)
			c->stmts[stmt_slot(c, old[i].sql)] = old[i];
	free(old);
	return LOY_OK;
}

/* Finds the statement prepared for sql on this connection, preparing it on first use. */
static enum loy_err stmt_get(struct pg_conn *c, const char *sql, char *name, size_t namesz)
{
	PGresult *r;
	enum loy_err err;
	size_t i;
	unsigned id;

	if (c->stmt_cap) {
		i = stmt_slot(c, sql);
		if (c->stmts[i].sql) {
			snprintf(name, namesz, "s%u", c->stmts[i].id);
			return LOY_OK;
		}
	}
	if (c->nstmts >= PG_STMT_MAX) {
		snprintf(c->err, sizeof(c->err),
			 "more than %d distinct statements: SQL must have static storage",
			 PG_STMT_MAX);
		return LOY_EINTERNAL;
	}
	if ((c->nstmts + 1) * 2 > c->stmt_cap) {
		err = stmts_grow(c);
		if (err != LOY_OK)
			return err;
	}
	id = ++c->next_id;
	snprintf(name, namesz, "s%u", id);
	r = PQprepare(c->pg, name, sql, 0, NULL);
	err = result_check(c, r);
	PQclear(r);
	if (err != LOY_OK)
		return err;
	/* A prepared statement outlives a rollback of the transaction it was made in. */
	i = stmt_slot(c, sql);
	c->stmts[i].sql = sql;
	c->stmts[i].id = id;
	c->nstmts++;
	return LOY_OK;
}

/* Builds libpq's text parameters in one allocation (*buf, owned by the caller): libpq ignores
 * lengths for text parameters, so every value is copied and NUL-terminated. */
static enum loy_err params_text(struct pg_conn *c, const struct db_param *p, int n,
				const char ***vals_out, char **buf_out)
{
	enum { INT_TEXT = 24 };
	size_t total = 0, off = 0;
	const char **vals;
	char *buf;

	for (int i = 0; i < n; i++) {
		switch (p[i].type) {
		case DB_NULL:
			break;
		case DB_INT:
			total += INT_TEXT;
			break;
		case DB_TEXT:
			if (p[i].len > INT_MAX / 2 || (p[i].len && !p[i].s)) {
				snprintf(c->err, sizeof(c->err), "parameter $%d: bad text", i + 1);
				return LOY_EINVALID;
			}
			if (p[i].len && memchr(p[i].s, '\0', p[i].len)) {
				snprintf(c->err, sizeof(c->err), "parameter $%d: text holds NUL",
					 i + 1);
				return LOY_EINVALID;
			}
			total += p[i].len + 1;
			if (total > INT_MAX) {
				snprintf(c->err, sizeof(c->err), "parameters too large");
				return LOY_EINVALID;
			}
			break;
		default:
			snprintf(c->err, sizeof(c->err), "parameter $%d: unknown type", i + 1);
			return LOY_EINVALID;
		}
	}
	vals = calloc((size_t)n, sizeof(*vals));
	buf = malloc(total ? total : 1);
	if (!vals || !buf) {
		free(vals);
		free(buf);
		snprintf(c->err, sizeof(c->err), "out of memory");
		return LOY_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		if (p[i].type == DB_INT) {
			int w = snprintf(buf + off, INT_TEXT, "%lld", (long long)p[i].i);
			vals[i] = buf + off;
			off += (size_t)w + 1;
		} else if (p[i].type == DB_TEXT) {
			if (p[i].len)
				memcpy(buf + off, p[i].s, p[i].len);
			buf[off + p[i].len] = '\0';
			vals[i] = buf + off;
			off += p[i].len + 1;
		}
	}
	*vals_out = vals;
	*buf_out = buf;
	return LOY_OK;
}

/* Copies a result into the arena: one block for the cell pointers, one for all the text. */
static enum loy_err rows_copy(struct pg_conn *c, struct arena *a, const PGresult *r,
			      struct db_rows *out)
{
	int nrows = PQntuples(r), ncols = PQnfields(r);
	size_t ncells, total = 0, off = 0, bytes;
	const char *tuples = PQcmdTuples((PGresult *)r);
	char **cells = NULL;
	char *text = NULL;
	int64_t affected = 0;

	if (__builtin_mul_overflow((size_t)nrows, (size_t)ncols, &ncells) ||
	    __builtin_mul_overflow(ncells, sizeof(char *), &bytes))
		goto nomem;
	for (int row = 0; row < nrows; row++) {
		for (int col = 0; col < ncols; col++) {
			if (PQgetisnull(r, row, col))
				continue;
			if (PQftype(r, col) == PG_BOOLOID)
				total += 2;
			else
				total += (size_t)PQgetlength(r, row, col) + 1;
		}
	}
	if (ncells) {
		if (!a)
			goto nomem;
		cells = arena_alloc(a, bytes);
		text = total ? arena_alloc(a, total) : NULL;
		if (!cells || (total && !text))
			goto nomem;
	}
	for (int row = 0; row < nrows; row++) {
		for (int col = 0; col < ncols; col++) {
			char **cell = &cells[(size_t)row * (size_t)ncols + (size_t)col];
			const char *v = PQgetvalue(r, row, col);
			size_t len = (size_t)PQgetlength(r, row, col);

			if (PQgetisnull(r, row, col)) {
				*cell = NULL;
				continue;
			}
			if (PQftype(r, col) == PG_BOOLOID) {
				/* Booleans are 0/1 in the shared dialect, as SQLite gives. */
				v = v[0] == 't' ? "1" : "0";
				len = 1;
			}
			memcpy(text + off, v, len);
			text[off + len] = '\0';
			*cell = text + off;
			off += len + 1;
		}
	}
	/* PQcmdTuples counts a SELECT's rows too; db_rows.affected counts changed rows only. */
	if (strncmp(PQcmdStatus((PGresult *)r), "SELECT", 6) != 0 && tuples[0] &&
	    !str_to_i64(str_from(tuples), &affected))
		affected = 0;
	out->nrows = nrows;
	out->ncols = ncols;
	out->cells = cells;
	out->affected = affected;
	return LOY_OK;
nomem:
	snprintf(c->err, sizeof(c->err), "result of %d rows does not fit the arena", nrows);
	return LOY_ENOMEM;
}

/* Runs one statement on the callback's connection: blocks for the round trip (two the first time
 * this connection sees sql). Copies the result into a (needed only when out is non-NULL and rows
 * come back). Errors: LOY_ECONFLICT (unique violation), LOY_EINVALID (other constraints, NUL in
 * text, bad arguments), LOY_EUNAVAILABLE (connection lost, deadlock, shutdown), LOY_ENOMEM (arena
 * full), LOY_EIO (anything else, logged). After a server-side error the transaction is aborted and
 * every later call returns that first error. */
static enum loy_err pg_exec(struct db_conn *bc, struct arena *a, const char *sql,
			    const struct db_param *params, int nparams, struct db_rows *out)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	const char **vals = NULL;
	char *buf = NULL;
	PGresult *r = NULL;
	char name[16];
	enum loy_err err;

	if (out)
		*out = (struct db_rows){ 0 };
	if (!sql || nparams < 0 || nparams > PG_PARAMS_MAX || (nparams && !params)) {
		snprintf(c->err, sizeof(c->err), "bad arguments to db_exec");
		return LOY_EINVALID;
	}
	/* The transaction is already aborted: say why again rather than send a doomed statement. */
	if (c->tx_err != LOY_OK)
		return c->tx_err;
	err = params_text(c, params, nparams, &vals, &buf);
	if (err != LOY_OK)
		goto out;
	err = stmt_get(c, sql, name, sizeof(name));
	if (err == LOY_EIO || err == LOY_EINTERNAL)
		log_error("postgres: preparing: %s in: %.200s", c->err, sql);
	if (err != LOY_OK)
		goto out;
	r = PQexecPrepared(c->pg, name, nparams, vals, NULL, NULL, 0);
	err = result_check(c, r);
	if (err == LOY_EIO)
		log_error("postgres: %s in: %.200s", c->err, sql);
	if (err != LOY_OK)
		goto out;
	if (out)
		err = rows_copy(c, a, r, out);
out:
	PQclear(r);
	free(vals);
	free(buf);
	return err;
}

/* Runs a ;-separated script with the simple protocol, in the callback's transaction. Blocks.
 * LOY_EUNAVAILABLE when the connection is lost, LOY_EIO for any other failure. */
static enum loy_err pg_exec_script(struct db_conn *bc, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)bc;
	PGresult *r;
	enum loy_err err;

	if (c->tx_err != LOY_OK)
		return c->tx_err;
	r = PQexec(c->pg, sql);
	if (r && PQresultStatus(r) == PGRES_EMPTY_QUERY)
		err = LOY_OK;
	else
		err = result_check(c, r);
	PQclear(r);
	if (err != LOY_OK && err != LOY_EUNAVAILABLE)
		err = LOY_EIO;
	return err;
}

/* Runs a statement of transaction control; the error goes to last_error. */
static enum loy_err tx_command(struct pg_conn *c, const char *sql, const char *expect)
{
	PGresult *r = PQexec(c->pg, sql);
	enum loy_err err = result_check(c, r);

	/* COMMIT of a transaction that failed answers "ROLLBACK", not an error. */
	if (err == LOY_OK && expect && strcmp(PQcmdStatus(r), expect) != 0) {
		snprintf(c->err, sizeof(c->err), "%s answered %s", sql, PQcmdStatus(r));
		err = LOY_EIO;
	}
	PQclear(r);
	return err;
}

/* One run of a callback in one transaction; *retry says whether running it again is safe and may
 * help. */
static enum loy_err tx_once(struct pg_conn *c, bool write, db_fn fn, void *ctx,
			    enum pg_retry *retry)
{
	enum loy_err err;

	*retry = RETRY_NONE;
	c->tx_err = LOY_OK;
	c->tx_state[0] = '\0';
	c->err[0] = '\0';
	err = tx_command(c, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			 NULL);
	if (err != LOY_OK) {
		/* Typically a pooled connection the server closed while it sat idle. */
		if (c->lost)
			*retry = RETRY_LOST;
		goto out;
	}
	err = fn(&c->base, ctx);
	if (err == LOY_OK && c->tx_err != LOY_OK) {
		log_warn("postgres: a callback returned OK after a failed statement (%s)", c->err);
		err = c->tx_err;
	}
	if (err == LOY_OK) {
		err = tx_command(c, "COMMIT", "COMMIT");
		/* Lost during COMMIT: the outcome is unknown, so no retry. */
		if (err != LOY_OK && is_serialization(c->tx_state))
			*retry = RETRY_SERIAL;
		goto out;
	}
	if (!c->lost) {
		char keep[PG_ERR_MAX];
		memcpy(keep, c->err, sizeof(keep));
		if (tx_command(c, "ROLLBACK", NULL) != LOY_OK)
			c->lost = true; /* reset before the next use */
		memcpy(c->err, keep, sizeof(keep));
	}
	if (is_serialization(c->tx_state))
		*retry = RETRY_SERIAL;
	else if (c->tx_err == LOY_EUNAVAILABLE && strcmp(c->tx_state, "08006") == 0)
		*retry = RETRY_LOST; /* COMMIT was never sent: nothing of this run was kept */
out:
	return err;
}

static enum loy_err tx_run(struct pg_db *db, bool write, db_fn fn, void *ctx)
{
	enum loy_err err = LOY_OK;
	bool lost_retried = false;

	for (int run = 1;; run++) {
		struct pg_conn *c;
		enum pg_retry retry;

		err = pool_take(db, &c);
		if (err != LOY_OK)
			return err;
		err = tx_once(c, write, fn, ctx, &retry);
		if (err != LOY_OK && retry != RETRY_NONE)
			log_debug("postgres: run %d failed, retrying: %s", run, c->err);
		pool_put(db, c);
		if (retry == RETRY_NONE || run >= PG_RUNS_MAX)
			break;
		if (retry == RETRY_LOST) {
			if (lost_retried)
				break;
			lost_retried = true;
		} else {
			/* Jitter, so that the transactions that collided do not collide again. */
			struct timespec ts = { 0, (long)rand_below((uint64_t)run * 5000000u) };
			nanosleep(&ts, NULL);
		}
	}
	return err;
}

/* Blocks: takes a pooled connection (waiting up to PG_ACQUIRE_TIMEOUT_MS), runs fn in a READ
 * COMMITTED transaction and commits when fn returns LOY_OK. Returns fn's error, LOY_EUNAVAILABLE
 * when no connection could be had or retries ran out, or LOY_EIO when COMMIT failed. */
static enum loy_err pg_write(struct db *bdb, db_fn fn, void *ctx)
{
	return tx_run((struct pg_db *)bdb, true, fn, ctx);
}

/* Blocks like pg_write; fn sees one REPEATABLE READ snapshot and cannot write. */
static enum loy_err pg_read(struct db *bdb, db_fn fn, void *ctx)
{
	return tx_run((struct pg_db *)bdb, false, fn, ctx);
}

static enum loy_err pg_backup(struct db *db, const char *path)
{
	(void)db;
	(void)path;
	return LOY_EINVALID; /* pg_dump is the tool for PostgreSQL */
}

static const char *pg_last_error(struct db_conn *bc)
{
	return ((struct pg_conn *)bc)->err;
}

/* Frees everything; no callback may be running. */
static void pg_close(struct db *bdb)
{
	struct pg_db *db = (struct pg_db *)bdb;

	if (!db)
		return;
	if (db->nfree != db->size) {
		fprintf(stderr, "postgres: db_close with %d connections in use\n",
			db->size - db->nfree);
		abort();
	}
	for (int i = 0; i < db->size; i++) {
		if (db->conns[i].pg)
			PQfinish(db->conns[i].pg);
		stmts_clear(&db->conns[i]);
	}
	pthread_cond_destroy(&db->cv);
	pthread_mutex_destroy(&db->mu);
	free(db->conns);
	free(db->free_idx);
	free(db->url);
	free(db);
}

/* Fills db->where from the parsed URL, leaving out the password. False if the URL does not parse;
 * libpq's message is not shown then, since it may quote the password. */
static bool describe_url(struct pg_db *db)
{
	const char *user = "", *host = "", *port = "", *name = "";
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(db->url, &msg);

	if (!opts) {
		PQfreemem(msg);
		return false;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			name = o->val;
	}
	snprintf(db->where, sizeof(db->where), "%s%s%s%s%s/%s", user, user[0] ? "@" : "",
		 host[0] ? host : "localhost", port[0] ? ":" : "", port, name);
	PQconninfoFree(opts);
	return true;
}

static enum loy_err db_alloc(const char *url, int size, struct pg_db **out)
{
	struct pg_db *db = calloc(1, sizeof(*db));
	pthread_condattr_t ca;

	if (!db)
		return LOY_ENOMEM;
	db->base.driver = &db_postgres_driver;
	db->size = size;
	db->nfree = size;
	db->url = strdup(url);
	db->conns = calloc((size_t)size, sizeof(*db->conns));
	db->free_idx = calloc((size_t)size, sizeof(*db->free_idx));
	if (!db->url || !db->conns || !db->free_idx) {
		free(db->url);
		free(db->conns);
		free(db->free_idx);
		free(db);
		return LOY_ENOMEM;
	}
	pthread_mutex_init(&db->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&db->cv, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < size; i++) {
		db->conns[i].base.driver = &db_postgres_driver;
		db->conns[i].db = db;
		db->free_idx[i] = size - 1 - i; /* slot 0 on top: the one opened eagerly */
	}
	*out = db;
	return LOY_OK;
}

/* Opens a pool for a postgresql:// or postgres:// URL and connects its first connection. Blocks
 * for that connection. *out is owned by the caller (pg_close). Returns LOY_EINVALID for a URL that
 * does not parse, LOY_EUNAVAILABLE (and logs why, without the password) when the server cannot be
 * reached or refuses us, LOY_ENOMEM. */
static enum loy_err pg_open(const char *url, const struct db_options *opt, struct db **out)
{
	int size = opt && opt->pool_size > 0 ? opt->pool_size : PG_POOL_DEFAULT;
	struct pg_db *db = NULL;
	struct pg_conn *c;
	enum loy_err err;

	*out = NULL;
	if (!url ||
	    (strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0))
		return LOY_EINVALID;
	if (!PQisthreadsafe()) {
		log_error("postgres: libpq was built without thread safety");
		return LOY_EINTERNAL;
	}
	if (size > PG_POOL_MAX)
		size = PG_POOL_MAX;
	err = db_alloc(url, size, &db);
	if (err != LOY_OK)
		return err;
	if (!describe_url(db)) {
		log_error("postgres: the database URL does not parse (not shown: it may hold a "
			  "password)");
		err = LOY_EINVALID;
		goto out;
	}
	c = &db->conns[0];
	err = conn_ready(c);
	if (err != LOY_OK) {
		log_error("postgres: cannot connect to %s: %s", db->where, c->err);
		goto out;
	}
	if (PQserverVersion(c->pg) < 100000) {
		log_error("postgres: %s runs server version %d; Loy needs 10 or later", db->where,
			  PQserverVersion(c->pg));
		err = LOY_EUNAVAILABLE;
		goto out;
	}
	log_info("postgres: connected to %s (server %d, pool of %d)", db->where,
		 PQserverVersion(c->pg), size);
	*out = &db->base;
	db = NULL;
out:
	pg_close(db ? &db->base : NULL);
	return err;
}

/* The driver table db.c dispatches through (db_open picks it for postgresql:// and postgres://).
 * Static storage; every db and connection it makes points back to it. */
const struct db_driver db_postgres_driver = {
	.name = "postgres",
	.dialect = DB_POSTGRES,
	.open = pg_open,
	.close = pg_close,
	.read = pg_read,
	.write = pg_write,
	.exec = pg_exec,
	.exec_script = pg_exec_script,
	.backup = pg_backup,
	.last_error = pg_last_error,
};
