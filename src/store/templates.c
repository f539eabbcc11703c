/* Card templates (see store.h). Exactly one template of a business is its default while it has any:
 * setting the flag on one clears it on the others in the same transaction. */
#include "store/db.h"
#include "store/store.h"

#define TEMPLATE_COLS \
	"id, business_id, name, is_default, design, content, settings, created_at, updated_at"

static const char sql_count[] = "SELECT COUNT(*) FROM card_templates WHERE business_id = $1";
static const char sql_clear_default[] =
	"UPDATE card_templates SET is_default = 0 WHERE business_id = $1 AND id <> $2";
static const char sql_insert[] =
	"INSERT INTO card_templates (business_id, name, is_default, design, content, settings, "
	"created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
static const char sql_get[] = "SELECT " TEMPLATE_COLS
			      " FROM card_templates WHERE business_id = $1 AND id = $2";
static const char sql_default[] = "SELECT " TEMPLATE_COLS " FROM card_templates "
				  "WHERE business_id = $1 AND is_default = 1";
static const char sql_list[] = "SELECT " TEMPLATE_COLS " FROM card_templates "
			       "WHERE business_id = $1 ORDER BY id LIMIT 1000";
static const char sql_update[] =
	"UPDATE card_templates SET name = $3, is_default = $4, design = $5, content = $6, "
	"settings = $7, updated_at = $8 WHERE business_id = $1 AND id = $2";
static const char sql_delete[] = "DELETE FROM card_templates WHERE business_id = $1 AND id = $2";

static void read_row(const struct db_rows *r, int i, struct card_template *t)
{
	t->id = db_int(r, i, 0);
	t->business_id = db_int(r, i, 1);
	t->name = db_cell(r, i, 2);
	t->is_default = db_int(r, i, 3) != 0;
	t->design = db_cell(r, i, 4);
	t->content = db_cell(r, i, 5);
	t->settings = db_cell(r, i, 6);
	t->created_at = db_int(r, i, 7);
	t->updated_at = db_int(r, i, 8);
}

static enum loy_err count_templates(struct store_tx *tx, int64_t business_id, int64_t *n)
{
	struct db_param p[] = { P_INT(business_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_count, p, 1, &r);
	if (err == LOY_OK)
		*n = db_int(&r, 0, 0);
	return err;
}

static enum loy_err clear_other_defaults(struct store_tx *tx, const struct card_template *t)
{
	struct db_param p[] = { P_INT(t->business_id), P_INT(t->id) };
	return t->is_default ? db_exec(tx->c, tx->a, sql_clear_default, p, 2, NULL) : LOY_OK;
}

enum loy_err store_template_insert(struct store_tx *tx, struct card_template *t)
{
	int64_t existing = 0;
	struct db_rows r;
	enum loy_err err = count_templates(tx, t->business_id, &existing);

	if (err != LOY_OK)
		return err;
	if (existing == 0)
		t->is_default = true;
	struct db_param p[] = { P_INT(t->business_id), P_TEXT(t->name),	   P_INT(t->is_default),
				P_TEXT(t->design),     P_TEXT(t->content), P_TEXT(t->settings),
				P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_insert, p, 7, &r);
	if (err != LOY_OK)
		return err;
	t->id = db_int(&r, 0, 0);
	t->created_at = t->updated_at = tx->now;
	return clear_other_defaults(tx, t);
}

enum loy_err store_template_get(struct store_tx *tx, int64_t business_id, int64_t id,
				struct card_template *out)
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

enum loy_err store_template_list(struct store_tx *tx, int64_t business_id,
				 struct card_template **items, int *n)
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

enum loy_err store_template_update(struct store_tx *tx, struct card_template *t)
{
	struct db_param p[] = { P_INT(t->business_id), P_INT(t->id),	  P_TEXT(t->name),
				P_INT(t->is_default),  P_TEXT(t->design), P_TEXT(t->content),
				P_TEXT(t->settings),   P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_update, p, 8, &r);
	if (err != LOY_OK)
		return err;
	if (r.affected == 0)
		return LOY_ENOTFOUND;
	t->updated_at = tx->now;
	return clear_other_defaults(tx, t);
}

enum loy_err store_template_delete(struct store_tx *tx, int64_t business_id, int64_t id)
{
	struct card_template t;
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	int64_t n = 0;
	enum loy_err err = store_template_get(tx, business_id, id, &t);

	if (err == LOY_OK)
		err = count_templates(tx, business_id, &n);
	if (err != LOY_OK)
		return err;
	if (t.is_default && n > 1)
		return LOY_ERULE;
	return db_exec(tx->c, tx->a, sql_delete, p, 2, NULL);
}

enum loy_err store_template_default(struct store_tx *tx, int64_t business_id,
				    struct card_template *out)
{
	struct db_param p[] = { P_INT(business_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_default, p, 1, &r);

	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	read_row(&r, 0, out);
	return LOY_OK;
}
