/* Businesses (tenants) and their settings (see store.h). */
#include "store/db.h"
#include "store/store.h"

#define BUSINESS_COLS                                                                           \
	"id, slug, name, contact_phone, contact_email, contact_website, contact_address, "      \
	"points_per_ruble_bp, minimum_redemption, expiration_days, welcome_bonus, created_at, " \
	"updated_at"

static const char sql_insert[] =
	"INSERT INTO businesses (slug, name, contact_phone, contact_email, contact_website, "
	"contact_address, points_per_ruble_bp, minimum_redemption, expiration_days, welcome_bonus, "
	"created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) "
	"RETURNING id";
static const char sql_get[] = "SELECT " BUSINESS_COLS " FROM businesses WHERE id = $1";
static const char sql_by_slug[] = "SELECT " BUSINESS_COLS " FROM businesses WHERE slug = $1";
static const char sql_default[] = "SELECT " BUSINESS_COLS " FROM businesses ORDER BY id LIMIT 1";
static const char sql_update[] =
	"UPDATE businesses SET name = $2, contact_phone = $3, contact_email = $4, "
	"contact_website = $5, contact_address = $6, points_per_ruble_bp = $7, "
	"minimum_redemption = $8, expiration_days = $9, welcome_bonus = $10, updated_at = $11 "
	"WHERE id = $1";

static void read_row(const struct db_rows *r, struct business *b)
{
	b->id = db_int(r, 0, 0);
	b->slug = db_cell(r, 0, 1);
	b->name = db_cell(r, 0, 2);
	b->contact_phone = db_cell(r, 0, 3);
	b->contact_email = db_cell(r, 0, 4);
	b->contact_website = db_cell(r, 0, 5);
	b->contact_address = db_cell(r, 0, 6);
	b->loyalty.points_per_ruble_bp = db_int(r, 0, 7);
	b->loyalty.minimum_redemption = db_int(r, 0, 8);
	b->loyalty.expiration_days = db_int(r, 0, 9);
	b->loyalty.welcome_bonus = db_int(r, 0, 10);
	b->created_at = db_int(r, 0, 11);
	b->updated_at = db_int(r, 0, 12);
}

static enum loy_err one(struct store_tx *tx, const char *sql, const struct db_param *p, int n,
			struct business *out)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, n, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	read_row(&r, out);
	return LOY_OK;
}

enum loy_err store_business_insert(struct store_tx *tx, struct business *b)
{
	struct db_param p[] = {
		P_TEXT(b->slug),
		P_TEXT(b->name),
		P_TEXT(b->contact_phone),
		P_TEXT(b->contact_email),
		P_TEXT(b->contact_website),
		P_TEXT(b->contact_address),
		P_INT(b->loyalty.points_per_ruble_bp),
		P_INT(b->loyalty.minimum_redemption),
		P_INT(b->loyalty.expiration_days),
		P_INT(b->loyalty.welcome_bonus),
		P_INT(tx->now),
	};
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_insert, p, 11, &r);
	if (err != LOY_OK)
		return err;
	b->id = db_int(&r, 0, 0);
	b->created_at = b->updated_at = tx->now;
	return LOY_OK;
}

enum loy_err store_business_get(struct store_tx *tx, int64_t id, struct business *out)
{
	struct db_param p[] = { P_INT(id) };
	return one(tx, sql_get, p, 1, out);
}

enum loy_err store_business_by_slug(struct store_tx *tx, const char *slug, struct business *out)
{
	struct db_param p[] = { P_TEXT(slug) };
	return one(tx, sql_by_slug, p, 1, out);
}

enum loy_err store_business_default(struct store_tx *tx, struct business *out)
{
	return one(tx, sql_default, NULL, 0, out);
}

enum loy_err store_business_update(struct store_tx *tx, const struct business *b)
{
	struct db_param p[] = {
		P_INT(b->id),
		P_TEXT(b->name),
		P_TEXT(b->contact_phone),
		P_TEXT(b->contact_email),
		P_TEXT(b->contact_website),
		P_TEXT(b->contact_address),
		P_INT(b->loyalty.points_per_ruble_bp),
		P_INT(b->loyalty.minimum_redemption),
		P_INT(b->loyalty.expiration_days),
		P_INT(b->loyalty.welcome_bonus),
		P_INT(tx->now),
	};
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_update, p, 11, &r);
	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	return err;
}
