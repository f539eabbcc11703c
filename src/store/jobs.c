/* The outbox table (see store.h): jobs are rows committed with the change that caused them. */
#include "store/db.h"
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
	return db_exec(tx->c, tx->a, sql_enqueue, p, 4, NULL);
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
