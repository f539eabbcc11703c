/* The outbox table (see store.h): jobs are rows committed with the change that caused them. */
#include "store/db.h"
#include "store/enqueue.h"
#include "store/store.h"

static const char sql_enqueue[] =
	"INSERT INTO jobs (business_id, kind, payload, state, attempts, run_at, created_at, "
	"updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $4, $4)";
static const char sql_depth[] =
	"SELECT COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0), "
	"COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) FROM jobs";

enum loy_err store_job_enqueue(struct store_tx *tx, int64_t business_id, const char *kind,
			       const char *payload)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(kind), P_TEXT(payload), P_INT(tx->now) };
	enum loy_err err = db_exec(tx->c, tx->a, sql_enqueue, p, 4, NULL);
	if (err == LOY_OK)
		tx->jobs_queued++;
	return err;
}

enum loy_err store_job_depth(struct store_tx *tx, int64_t *queued, int64_t *dead)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_depth, NULL, 0, &r);
	if (err != LOY_OK)
		return err;
	*queued = db_int(&r, 0, 0);
	*dead = db_int(&r, 0, 1);
	return LOY_OK;
}

/* The outer state test is repeated on purpose: on PostgreSQL a concurrent claimer that waited for
 * the row lock re-checks it against the new row version and skips the row the first one took. */
static const char sql_claim[] =
	"UPDATE jobs SET state = 'running', locked_until = $1 + $2, attempts = attempts + 1, "
	"updated_at = $1 WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $1) "
	"OR (state = 'running' AND locked_until < $1) ORDER BY run_at, id LIMIT $3) "
	"AND ((state = 'queued' AND run_at <= $1) OR (state = 'running' AND locked_until < $1)) "
	"RETURNING id, business_id, kind, payload, attempts";
static const char sql_settle[] =
	"UPDATE jobs SET state = $3, run_at = $4, last_error = $5, locked_until = NULL, "
	"updated_at = $6 WHERE id = $1 AND attempts = $2 AND state = 'running'";

enum loy_err store_job_claim(struct store_tx *tx, int limit, int64_t lease_ms,
			     struct job_row **rows, int *n)
{
	struct db_param p[] = { P_INT(tx->now), P_INT(lease_ms), P_INT(limit) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_claim, p, 3, &r);

	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++) {
		(*rows)[i].id = db_int(&r, i, 0);
		(*rows)[i].business_id = db_int(&r, i, 1);
		(*rows)[i].kind = db_cell(&r, i, 2);
		(*rows)[i].payload = db_cell(&r, i, 3);
		(*rows)[i].attempts = (int)db_int(&r, i, 4);
	}
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_job_settle(struct store_tx *tx, int64_t id, int attempts, const char *state,
			      int64_t run_at, const char *error)
{
	struct db_param p[] = { P_INT(id),     P_INT(attempts), P_TEXT(state),
				P_INT(run_at), P_TEXT(error),	P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_settle, p, 6, NULL);
}

#define JOB_COLS \
	"id, business_id, kind, payload, attempts, state, last_error, run_at, created_at, updated_at"

static const char sql_get[] = "SELECT " JOB_COLS " FROM jobs WHERE business_id = $1 AND id = $2";
static const char sql_list[] = "SELECT " JOB_COLS " FROM jobs WHERE business_id = $1 "
			       "AND state = $2 ORDER BY id DESC LIMIT $3";

static void read_job(const struct db_rows *r, int i, struct job_row *j)
{
	j->id = db_int(r, i, 0);
	j->business_id = db_int(r, i, 1);
	j->kind = db_cell(r, i, 2);
	j->payload = db_cell(r, i, 3);
	j->attempts = (int)db_int(r, i, 4);
	j->state = db_cell(r, i, 5);
	j->last_error = db_cell(r, i, 6);
	j->run_at = db_int(r, i, 7);
	j->created_at = db_int(r, i, 8);
	j->updated_at = db_int(r, i, 9);
}

enum loy_err store_job_get(struct store_tx *tx, int64_t business_id, int64_t id,
			   struct job_row *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_get, p, 2, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	read_job(&r, 0, out);
	return LOY_OK;
}

enum loy_err store_job_list(struct store_tx *tx, int64_t business_id, const char *state, int limit,
			    struct job_row **rows, int *n)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(state), P_INT(limit) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_list, p, 3, &r);
	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++)
		read_job(&r, i, &(*rows)[i]);
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err enqueue_counted(struct store_tx *tx, const char *sql, const struct db_param *p, int n)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, n, &r);
	if (err == LOY_OK)
		tx->jobs_queued += (int)r.affected;
	return err;
}
