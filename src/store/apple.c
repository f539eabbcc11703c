/* Apple Wallet passes, devices, registrations and device logs (see store.h). The tables follow
 * what Apple's "Adding a web service" describes: devices (library id + push token), passes
 * (type, serial, update tag) and the many-to-many registrations between them.
 *
 * A pass's version (modified_at, ms) is both its update tag and its Last-Modified. Versions of one
 * pass are at least a second apart — max(now, previous + 1 s) — so that Last-Modified, an HTTP-date
 * to the second, names exactly one version and If-Modified-Since never hides a change. A pass
 * changed twice within a second is therefore dated up to a second ahead; and a change committing
 * just after a device listed its passes may carry a time a little before that listing. So the tag
 * handed to a device (lastUpdated) stays TAG_LAG_MS behind the clock: a pass changed in that window
 * is listed again on the device's next call (it then gets a 304), and none is ever missed. */
#include <stdio.h>
#include <string.h>

#include "base/rand.h"
#include "store/db.h"
#include "store/enqueue.h"
#include "store/store.h"

#define PASS_COLS                                                                                \
	"customer_id, business_id, pass_type_id, serial, auth_token, link_token, content_hash, " \
	"modified_at, created_at"

static const char sql_insert[] =
	"INSERT INTO apple_passes (customer_id, business_id, pass_type_id, serial, auth_token, "
	"link_token, modified_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
	"ON CONFLICT DO NOTHING";
static const char sql_by_customer[] =
	"SELECT " PASS_COLS " FROM apple_passes WHERE customer_id = $1 AND business_id = $2";
static const char sql_by_serial[] = "SELECT " PASS_COLS
				    " FROM apple_passes WHERE pass_type_id = $1 AND serial = $2";
static const char sql_by_link[] = "SELECT " PASS_COLS " FROM apple_passes WHERE link_token = $1";
static const char sql_content[] =
	"UPDATE apple_passes SET content_hash = $2, "
	"modified_at = CASE WHEN $3 >= modified_at + 1000 THEN $3 ELSE modified_at + 1000 END "
	"WHERE customer_id = $1 AND (content_hash IS NULL OR content_hash <> $2)";
static const char sql_device_upsert[] =
	"INSERT INTO apple_devices (library_id, push_token, kind, created_at, updated_at) "
	"VALUES ($1, $2, $3, $4, $4) ON CONFLICT (library_id) DO UPDATE SET push_token = $2, "
	"kind = $3, updated_at = $4 RETURNING id";
static const char sql_register[] =
	"INSERT INTO apple_registrations (device_id, serial, created_at) VALUES ($1, $2, $3) "
	"ON CONFLICT DO NOTHING";
static const char sql_unregister[] =
	"DELETE FROM apple_registrations WHERE serial = $2 AND device_id = "
	"(SELECT id FROM apple_devices WHERE library_id = $1)";
static const char sql_drop_orphan[] =
	"DELETE FROM apple_devices WHERE library_id = $1 AND NOT EXISTS "
	"(SELECT 1 FROM apple_registrations r WHERE r.device_id = apple_devices.id)";
static const char sql_updated[] =
	"SELECT p.serial, p.modified_at FROM apple_registrations r "
	"JOIN apple_devices d ON d.id = r.device_id JOIN apple_passes p ON p.serial = r.serial "
	"WHERE d.library_id = $1 AND p.pass_type_id = $2 AND p.modified_at > $3 "
	"ORDER BY p.modified_at LIMIT 1000";
static const char sql_log[] =
	"INSERT INTO apple_pass_log (serial, message, created_at, business_id) VALUES ("
	"(SELECT serial FROM apple_passes WHERE serial = $1), $2, $3, "
	"(SELECT business_id FROM apple_passes WHERE serial = $1))";
static const char sql_get[] = "SELECT " PASS_COLS " FROM apple_passes WHERE customer_id = $1";
/* Only what a push needs; the admin report (store/apple_report.c) reads the whole chain. */
static const char sql_push_due[] =
	"SELECT d.id, d.library_id, d.push_token, d.kind, d.updated_at, r.pushed_version, "
	"r.push_status FROM apple_registrations r JOIN apple_devices d ON d.id = r.device_id "
	"WHERE r.serial = $1 AND (r.pushed_version IS NULL OR r.pushed_version < $2 OR "
	"r.push_status IS NULL OR r.push_status <> 'done') ORDER BY d.id";
static const char sql_pushed[] =
	"UPDATE apple_registrations SET pushed_at = $3, pushed_version = $4, push_status = $5 "
	"WHERE device_id = $1 AND serial = $2";
static const char sql_gone_registrations[] =
	"DELETE FROM apple_registrations WHERE device_id = $1 AND EXISTS "
	"(SELECT 1 FROM apple_devices WHERE id = $1 AND updated_at <= $2)";
static const char sql_gone_device[] =
	"DELETE FROM apple_devices WHERE id = $1 AND updated_at <= $2";
static const char sql_enqueue_push[] =
	"INSERT INTO jobs (business_id, kind, payload, state, attempts, run_at, created_at, "
	"updated_at) SELECT CAST($1 AS BIGINT), 'apple.push', CAST($2 AS TEXT), 'queued', 0, "
	"CAST($3 AS BIGINT), CAST($3 AS BIGINT), CAST($3 AS BIGINT) "
	"WHERE EXISTS (SELECT 1 FROM apple_passes WHERE customer_id = $4)";
/* A refresh already waiting to start covers this change too. */
static const char sql_enqueue_refresh[] =
	"INSERT INTO jobs (business_id, kind, payload, state, attempts, run_at, created_at, "
	"updated_at) SELECT CAST($1 AS BIGINT), 'apple.refresh', '{\"after\":0}', 'queued', 0, "
	"CAST($2 AS BIGINT), CAST($2 AS BIGINT), CAST($2 AS BIGINT) "
	"WHERE EXISTS (SELECT 1 FROM apple_passes WHERE business_id = $1) AND NOT EXISTS "
	"(SELECT 1 FROM jobs WHERE business_id = $1 AND kind = 'apple.refresh' AND state = 'queued' "
	"AND attempts = 0 AND payload = '{\"after\":0}')";
static const char sql_passes_after[] =
	"SELECT customer_id FROM apple_passes WHERE business_id = $1 AND customer_id > $2 "
	"ORDER BY customer_id LIMIT $3";

#define TAG_LAG_MS 5000

static enum loy_err one(struct store_tx *tx, const char *sql, const struct db_param *p, int n,
			struct apple_pass *out)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, n, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	out->customer_id = db_int(&r, 0, 0);
	out->business_id = db_int(&r, 0, 1);
	out->pass_type_id = db_cell(&r, 0, 2);
	out->serial = db_cell(&r, 0, 3);
	out->auth_token = db_cell(&r, 0, 4);
	out->link_token = db_cell(&r, 0, 5);
	out->content_hash = db_cell(&r, 0, 6);
	out->modified_at = db_int(&r, 0, 7);
	out->created_at = db_int(&r, 0, 8);
	return LOY_OK;
}

enum loy_err store_apple_pass_ensure(struct store_tx *tx, int64_t business_id, int64_t customer_id,
				     const char *pass_type_id, struct apple_pass *out)
{
	struct db_param q[] = { P_INT(customer_id), P_INT(business_id) };
	char serial[33], auth[40], link[40];
	enum loy_err err = one(tx, sql_by_customer, q, 2, out);

	if (err != LOY_ENOTFOUND)
		return err;
	rand_hex(serial, 16);
	rand_token(auth, 24); /* 32 characters; Apple asks for at least 16 */
	rand_token(link, 24);
	struct db_param p[] = { P_INT(customer_id), P_INT(business_id), P_TEXT(pass_type_id),
				P_TEXT(serial),	    P_TEXT(auth),	P_TEXT(link),
				P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_insert, p, 7, NULL);
	if (err != LOY_OK)
		return err;
	return one(tx, sql_by_customer, q, 2, out);
}

enum loy_err store_apple_pass_by_serial(struct store_tx *tx, const char *pass_type_id,
					const char *serial, struct apple_pass *out)
{
	struct db_param p[] = { P_TEXT(pass_type_id), P_TEXT(serial) };
	return one(tx, sql_by_serial, p, 2, out);
}

enum loy_err store_apple_pass_by_link(struct store_tx *tx, const char *link_token,
				      struct apple_pass *out)
{
	struct db_param p[] = { P_TEXT(link_token) };
	return one(tx, sql_by_link, p, 1, out);
}

enum loy_err store_apple_pass_content(struct store_tx *tx, int64_t customer_id,
				      const char *content_hash, bool *changed)
{
	struct db_param p[] = { P_INT(customer_id), P_TEXT(content_hash), P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_content, p, 3, &r);
	if (err == LOY_OK)
		*changed = r.affected > 0;
	return err;
}

enum loy_err store_apple_register(struct store_tx *tx, const char *library_id,
				  const char *push_token, const char *kind, const char *serial,
				  bool *created)
{
	struct db_param d[] = { P_TEXT(library_id), P_TEXT(push_token), P_TEXT(kind),
				P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_device_upsert, d, 4, &r);

	if (err != LOY_OK)
		return err;
	struct db_param g[] = { P_INT(db_int(&r, 0, 0)), P_TEXT(serial), P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_register, g, 3, &r);
	if (err == LOY_OK)
		*created = r.affected > 0;
	return err;
}

enum loy_err store_apple_unregister(struct store_tx *tx, const char *library_id, const char *serial)
{
	struct db_param p[] = { P_TEXT(library_id), P_TEXT(serial) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_unregister, p, 2, &r);

	if (err != LOY_OK)
		return err;
	if (r.affected == 0)
		return LOY_ENOTFOUND;
	return db_exec(tx->c, tx->a, sql_drop_orphan, p, 1, NULL);
}

enum loy_err store_apple_updated(struct store_tx *tx, const char *library_id,
				 const char *pass_type_id, int64_t since, const char ***serials,
				 int *n, int64_t *last)
{
	struct db_param p[] = { P_TEXT(library_id), P_TEXT(pass_type_id), P_INT(since) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_updated, p, 3, &r);

	if (err != LOY_OK)
		return err;
	*serials = arena_alloc(tx->a, sizeof(**serials) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*serials)
		return LOY_ENOMEM;
	*last = 0;
	for (int i = 0; i < r.nrows; i++) {
		(*serials)[i] = db_cell(&r, i, 0);
		if (db_int(&r, i, 1) > *last)
			*last = db_int(&r, i, 1);
	}
	if (*last > tx->now - TAG_LAG_MS)
		*last = tx->now - TAG_LAG_MS;
	if (*last < since)
		*last = since;
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_apple_log(struct store_tx *tx, const char *serial, const char *message)
{
	struct db_param p[] = { P_TEXT(serial), P_TEXT(message), P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_log, p, 3, NULL);
}

enum loy_err store_apple_pass_get(struct store_tx *tx, int64_t customer_id, struct apple_pass *out)
{
	struct db_param p[] = { P_INT(customer_id) };
	return one(tx, sql_get, p, 1, out);
}

enum loy_err store_apple_push_due(struct store_tx *tx, const char *serial, int64_t version,
				  struct apple_registration **rows, int *n)
{
	struct db_param p[] = { P_TEXT(serial), P_INT(version) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_push_due, p, 2, &r);

	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++) {
		struct apple_registration *g = &(*rows)[i];
		*g = (struct apple_registration){ .device_id = db_int(&r, i, 0),
						  .serial = serial,
						  .library_id = db_cell(&r, i, 1),
						  .push_token = db_cell(&r, i, 2),
						  .kind = db_cell(&r, i, 3),
						  .token_updated_at = db_int(&r, i, 4),
						  .pushed_version = db_int(&r, i, 5),
						  .push_status = db_cell(&r, i, 6) };
	}
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_apple_pushed(struct store_tx *tx, int64_t device_id, const char *serial,
				int64_t version, const char *status)
{
	struct db_param p[] = { P_INT(device_id), P_TEXT(serial), P_INT(tx->now), P_INT(version),
				P_TEXT(status) };
	return db_exec(tx->c, tx->a, sql_pushed, p, 5, NULL);
}

enum loy_err store_apple_device_gone(struct store_tx *tx, int64_t device_id, int64_t since)
{
	struct db_param p[] = { P_INT(device_id), P_INT(since) };
	enum loy_err err = db_exec(tx->c, tx->a, sql_gone_registrations, p, 2, NULL);

	if (err != LOY_OK)
		return err;
	return db_exec(tx->c, tx->a, sql_gone_device, p, 2, NULL);
}

enum loy_err store_apple_enqueue_push(struct store_tx *tx, int64_t business_id, int64_t customer_id)
{
	char payload[48];
	snprintf(payload, sizeof(payload), "{\"customer\":%lld}", (long long)customer_id);
	struct db_param p[] = { P_INT(business_id), P_TEXT(payload), P_INT(tx->now),
				P_INT(customer_id) };
	return enqueue_counted(tx, sql_enqueue_push, p, 4);
}

enum loy_err store_apple_enqueue_refresh(struct store_tx *tx, int64_t business_id)
{
	struct db_param p[] = { P_INT(business_id), P_INT(tx->now) };
	return enqueue_counted(tx, sql_enqueue_refresh, p, 2);
}

enum loy_err store_apple_passes_after(struct store_tx *tx, int64_t business_id, int64_t after,
				      int limit, int64_t **customer_ids, int *n)
{
	struct db_param p[] = { P_INT(business_id), P_INT(after), P_INT(limit) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_passes_after, p, 3, &r);

	if (err != LOY_OK)
		return err;
	*customer_ids =
		arena_alloc(tx->a, sizeof(**customer_ids) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*customer_ids)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++)
		(*customer_ids)[i] = db_int(&r, i, 0);
	*n = r.nrows;
	return LOY_OK;
}
