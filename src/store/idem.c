/* Idempotency records (see store.h). The claim inserts the key first, before the work it guards:
 * on PostgreSQL a concurrent request with the same key then waits on the unique index until the first
 * commits, and finds its response; with SQLite's single writer the requests are serial anyway. */
#include <string.h>

#include "store/db.h"
#include "store/store.h"

static const char sql_claim[] =
	"INSERT INTO idempotency (business_id, scope, key, request_hash, status, response, "
	"created_at) VALUES ($1, $2, $3, $4, 0, '', $5) ON CONFLICT DO NOTHING";
static const char sql_get[] = "SELECT request_hash, status, response FROM idempotency "
			      "WHERE business_id = $1 AND scope = $2 AND key = $3";
static const char sql_finish[] = "UPDATE idempotency SET status = $4, response = $5 "
				 "WHERE business_id = $1 AND scope = $2 AND key = $3";

enum loy_err store_idem_claim(struct store_tx *tx, int64_t business_id, const char *scope,
			      const char *key, const char *hash, struct idem_replay *replay)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(scope), P_TEXT(key), P_TEXT(hash),
				P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err;

	replay->replayed = false;
	err = db_exec(tx->c, tx->a, sql_claim, p, 5, &r);
	if (err != LOY_OK || r.affected == 1)
		return err;
	err = db_exec(tx->c, tx->a, sql_get, p, 3, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_EINTERNAL;
	if (strcmp(db_cell(&r, 0, 0), hash) != 0)
		return LOY_EIDEMPOTENCY;
	replay->replayed = true;
	replay->status = (int)db_int(&r, 0, 1);
	replay->body = db_cell(&r, 0, 2);
	return LOY_OK;
}

enum loy_err store_idem_finish(struct store_tx *tx, int64_t business_id, const char *scope,
			       const char *key, int status, const char *body)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(scope), P_TEXT(key), P_INT(status),
				P_TEXT(body) };
	return db_exec(tx->c, tx->a, sql_finish, p, 5, NULL);
}

static const char sql_prune_keys[] =
	"DELETE FROM idempotency WHERE scope = 'key' AND created_at < $1";
static const char sql_prune_sessions[] = "DELETE FROM sessions WHERE expires_at < $1";

enum loy_err store_prune(struct store_tx *tx, int64_t before, int64_t *pruned)
{
	struct db_param keys[] = { P_INT(before) };
	struct db_param sessions[] = { P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_prune_keys, keys, 1, &r);

	if (err != LOY_OK)
		return err;
	*pruned = r.affected;
	err = db_exec(tx->c, tx->a, sql_prune_sessions, sessions, 1, &r);
	if (err != LOY_OK)
		return err;
	*pruned += r.affected;
	/* Google's notification budget counts the last 24 h only. */
	return store_google_prune(tx, before, pruned);
}
