/* The device's half of an update's delivery chain (store.h, "Delivery you can see"): which passes
 * a device asked about and with which tag, and which version of a pass was downloaded. The
 * download request carries no device identity (Apple's GET /v1/passes/... names only the pass), so
 * it is put on the registrations of the devices that were just told to fetch it: those that listed
 * within the last LISTED_WINDOW_MS holding an older version. A pass held by one device needs no
 * such inference. */
#include "store/db.h"
#include "store/store.h"

#define LISTED_WINDOW_MS (10 * 60 * 1000)

static const char sql_listed[] =
	"UPDATE apple_registrations SET listed_at = $3, listed_since = $4 "
	"WHERE device_id = (SELECT id FROM apple_devices WHERE library_id = $1) "
	"AND serial IN (SELECT serial FROM apple_passes WHERE pass_type_id = $2)";
static const char sql_fetched_listed[] =
	"UPDATE apple_registrations SET fetched_at = $3, fetched_modified_at = $2 "
	"WHERE serial = $1 AND listed_at >= $4 AND COALESCE(listed_since, 0) < $2";
static const char sql_fetched_only[] =
	"UPDATE apple_registrations SET fetched_at = $3, fetched_modified_at = $2 "
	"WHERE serial = $1 AND (SELECT COUNT(*) FROM apple_registrations o WHERE o.serial = $1) = 1";

enum loy_err store_apple_listed(struct store_tx *tx, const char *library_id,
				const char *pass_type_id, int64_t since)
{
	struct db_param p[] = { P_TEXT(library_id), P_TEXT(pass_type_id), P_INT(tx->now),
				P_INT(since) };
	return db_exec(tx->c, tx->a, sql_listed, p, 4, NULL);
}

enum loy_err store_apple_fetched(struct store_tx *tx, const char *serial, int64_t version)
{
	struct db_param p[] = { P_TEXT(serial), P_INT(version), P_INT(tx->now),
				P_INT(tx->now - LISTED_WINDOW_MS) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_fetched_listed, p, 4, &r);

	if (err != LOY_OK || r.affected > 0)
		return err;
	return db_exec(tx->c, tx->a, sql_fetched_only, p, 3, NULL);
}
