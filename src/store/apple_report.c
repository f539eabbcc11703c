/* What the admin panel shows about a customer's Apple Wallet pass (see store.h): the devices that
 * hold it with the delivery chain of its last update to each (registered → pushed → listed →
 * fetched, migration 0003), the messages devices wrote to the log endpoint, and the revocation of
 * the pass's download link. Reads only, but for the link: the serial number and authentication
 * token a device already holds are never touched, so rotating the link breaks no installed pass. */
#include "base/rand.h"
#include "store/db.h"
#include "store/store.h"

static const char sql_registrations[] =
	"SELECT d.id, r.serial, d.library_id, d.push_token, d.kind, d.updated_at, r.created_at, "
	"r.pushed_at, r.pushed_version, r.push_status, r.listed_at, r.listed_since, r.fetched_at, "
	"r.fetched_modified_at FROM apple_registrations r JOIN apple_devices d ON d.id = r.device_id "
	"WHERE r.serial = $1 ORDER BY r.created_at, d.id";
static const char sql_log_all[] =
	"SELECT id, serial, message, created_at FROM apple_pass_log WHERE business_id = $1 "
	"ORDER BY id DESC LIMIT $2";
static const char sql_log_serial[] =
	"SELECT id, serial, message, created_at FROM apple_pass_log WHERE business_id = $1 "
	"AND serial = $2 ORDER BY id DESC LIMIT $3";
static const char sql_link_rotate[] =
	"UPDATE apple_passes SET link_token = $3 WHERE customer_id = $1 AND business_id = $2";
static const char sql_pass[] =
	"SELECT customer_id, business_id, pass_type_id, serial, auth_token, link_token, "
	"content_hash, modified_at, created_at FROM apple_passes WHERE customer_id = $1 "
	"AND business_id = $2";

enum loy_err store_apple_registrations(struct store_tx *tx, const char *serial,
				       struct apple_registration **rows, int *n)
{
	struct db_param p[] = { P_TEXT(serial) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_registrations, p, 1, &r);

	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++) {
		(*rows)[i] = (struct apple_registration){
			.device_id = db_int(&r, i, 0),
			.serial = db_cell(&r, i, 1),
			.library_id = db_cell(&r, i, 2),
			.push_token = db_cell(&r, i, 3),
			.kind = db_cell(&r, i, 4),
			.token_updated_at = db_int(&r, i, 5),
			.created_at = db_int(&r, i, 6),
			.pushed_at = db_int(&r, i, 7),
			.pushed_version = db_int(&r, i, 8),
			.push_status = db_cell(&r, i, 9),
			.listed_at = db_int(&r, i, 10),
			.listed_since = db_int(&r, i, 11),
			.fetched_at = db_int(&r, i, 12),
			.fetched_modified_at = db_int(&r, i, 13),
		};
	}
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_apple_log_list(struct store_tx *tx, int64_t business_id, const char *serial,
				  int limit, struct apple_log_entry **rows, int *n)
{
	struct db_param all[] = { P_INT(business_id), P_INT(limit) };
	struct db_param one[] = { P_INT(business_id), P_TEXT(serial), P_INT(limit) };
	struct db_rows r;
	enum loy_err err = serial ? db_exec(tx->c, tx->a, sql_log_serial, one, 3, &r)
				  : db_exec(tx->c, tx->a, sql_log_all, all, 2, &r);

	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++) {
		(*rows)[i] = (struct apple_log_entry){
			.id = db_int(&r, i, 0),
			.serial = db_cell(&r, i, 1),
			.message = db_cell(&r, i, 2),
			.created_at = db_int(&r, i, 3),
		};
	}
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_apple_link_rotate(struct store_tx *tx, int64_t business_id, int64_t customer_id,
				     struct apple_pass *out)
{
	char link[40];
	struct db_rows r;
	enum loy_err err;

	rand_token(link, 24); /* as store_apple_pass_ensure makes them */
	struct db_param u[] = { P_INT(customer_id), P_INT(business_id), P_TEXT(link) };
	err = db_exec(tx->c, tx->a, sql_link_rotate, u, 3, &r);
	if (err != LOY_OK)
		return err;
	if (r.affected == 0)
		return LOY_ENOTFOUND;
	struct db_param q[] = { P_INT(customer_id), P_INT(business_id) };
	err = db_exec(tx->c, tx->a, sql_pass, q, 2, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	*out = (struct apple_pass){
		.customer_id = db_int(&r, 0, 0),
		.business_id = db_int(&r, 0, 1),
		.pass_type_id = db_cell(&r, 0, 2),
		.serial = db_cell(&r, 0, 3),
		.auth_token = db_cell(&r, 0, 4),
		.link_token = db_cell(&r, 0, 5),
		.content_hash = db_cell(&r, 0, 6),
		.modified_at = db_int(&r, 0, 7),
		.created_at = db_int(&r, 0, 8),
	};
	return LOY_OK;
}
