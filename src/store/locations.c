/* Business locations (see store.h): the places near which a customer's pass comes up on the lock
 * screen, in integer micro-degrees so that coordinates never pass through floating point here.
 * At most STORE_LOCATIONS_MAX per business: an insert first locks the business row (a no-op
 * UPDATE; the dialects share no FOR UPDATE), so the count it then reads cannot be raced past. */
#include "store/db.h"
#include "store/store.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define LAT_MAX 90000000
#define LON_MAX 180000000

#define LOCATION_COLS \
	"id, business_id, name, latitude_e6, longitude_e6, relevant_text, created_at, updated_at"

static const char sql_lock[] = "UPDATE businesses SET updated_at = updated_at WHERE id = $1";
static const char sql_count[] = "SELECT COUNT(*) FROM business_locations WHERE business_id = $1";
static const char sql_insert[] =
	"INSERT INTO business_locations (business_id, name, latitude_e6, longitude_e6, "
	"relevant_text, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id";
static const char sql_get[] = "SELECT " LOCATION_COLS
			      " FROM business_locations WHERE business_id = $1 AND id = $2";
static const char sql_list[] = "SELECT " LOCATION_COLS " FROM business_locations "
			       "WHERE business_id = $1 ORDER BY id LIMIT " STR(STORE_LOCATIONS_MAX);
static const char sql_update[] =
	"UPDATE business_locations SET name = $3, latitude_e6 = $4, longitude_e6 = $5, "
	"relevant_text = $6, updated_at = $7 WHERE business_id = $1 AND id = $2";
static const char sql_delete[] =
	"DELETE FROM business_locations WHERE business_id = $1 AND id = $2";

static bool coordinates_valid(const struct location *l)
{
	return l->name && l->latitude_e6 >= -LAT_MAX && l->latitude_e6 <= LAT_MAX &&
	       l->longitude_e6 >= -LON_MAX && l->longitude_e6 <= LON_MAX;
}

static void read_row(const struct db_rows *r, int i, struct location *l)
{
	l->id = db_int(r, i, 0);
	l->business_id = db_int(r, i, 1);
	l->name = db_cell(r, i, 2);
	l->latitude_e6 = (int32_t)db_int(r, i, 3);
	l->longitude_e6 = (int32_t)db_int(r, i, 4);
	l->relevant_text = db_cell(r, i, 5);
	l->created_at = db_int(r, i, 6);
	l->updated_at = db_int(r, i, 7);
}

/* Locks the business row for the rest of the transaction and counts its locations. */
static enum loy_err lock_and_count(struct store_tx *tx, int64_t business_id, int64_t *n)
{
	struct db_param p[] = { P_INT(business_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_lock, p, 1, &r);

	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	if (err == LOY_OK)
		err = db_exec(tx->c, tx->a, sql_count, p, 1, &r);
	if (err == LOY_OK)
		*n = db_int(&r, 0, 0);
	return err;
}

enum loy_err store_location_insert(struct store_tx *tx, struct location *l)
{
	int64_t existing = 0;
	struct db_rows r;
	enum loy_err err;

	if (!coordinates_valid(l))
		return LOY_EINVALID;
	err = lock_and_count(tx, l->business_id, &existing);
	if (err != LOY_OK)
		return err;
	if (existing >= STORE_LOCATIONS_MAX)
		return LOY_ERULE;
	struct db_param p[] = { P_INT(l->business_id),	  P_TEXT(l->name),
				P_INT(l->latitude_e6),	  P_INT(l->longitude_e6),
				P_TEXT(l->relevant_text), P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_insert, p, 6, &r);
	if (err != LOY_OK)
		return err;
	l->id = db_int(&r, 0, 0);
	l->created_at = l->updated_at = tx->now;
	return LOY_OK;
}

enum loy_err store_location_get(struct store_tx *tx, int64_t business_id, int64_t id,
				struct location *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_get, p, 2, &r);

	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	read_row(&r, 0, out);
	return LOY_OK;
}

enum loy_err store_location_list(struct store_tx *tx, int64_t business_id, struct location **items,
				 int *n)
{
	struct db_param p[] = { P_INT(business_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_list, p, 1, &r);

	if (err != LOY_OK)
		return err;
	*items = arena_alloc(tx->a, sizeof(**items) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*items)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++)
		read_row(&r, i, &(*items)[i]);
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_location_update(struct store_tx *tx, struct location *l)
{
	struct db_rows r;
	enum loy_err err;

	if (!coordinates_valid(l))
		return LOY_EINVALID;
	struct db_param p[] = { P_INT(l->business_id),	P_INT(l->id),
				P_TEXT(l->name),	P_INT(l->latitude_e6),
				P_INT(l->longitude_e6), P_TEXT(l->relevant_text),
				P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_update, p, 7, &r);
	if (err != LOY_OK)
		return err;
	if (r.affected == 0)
		return LOY_ENOTFOUND;
	l->updated_at = tx->now;
	return LOY_OK;
}

enum loy_err store_location_delete(struct store_tx *tx, int64_t business_id, int64_t id)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_delete, p, 2, &r);

	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	return err;
}
