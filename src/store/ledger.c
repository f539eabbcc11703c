/* The ledger (see store.h): append-only rows, each written in the same transaction as the balance
 * change it records, so that balance = sum(ledger) holds for every customer at every commit. */
#include "store/db.h"
#include "store/store.h"

#define LEDGER_COLS                                                                              \
	"t.id, t.business_id, t.customer_id, t.type, t.amount, t.balance_after, t.description, " \
	"t.order_id, t.operator_id, t.channel, t.reversal_of, t.created_at, r.id"

static const char sql_insert[] =
	"INSERT INTO transactions (business_id, customer_id, type, amount, balance_after, "
	"description, order_id, operator_id, channel, reversal_of, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
static const char sql_get[] = "SELECT " LEDGER_COLS " FROM transactions t "
			      "LEFT JOIN transactions r ON r.reversal_of = t.id "
			      "WHERE t.business_id = $1 AND t.id = $2";
static const char sql_list[] =
	"SELECT " LEDGER_COLS " FROM transactions t "
	"LEFT JOIN transactions r ON r.reversal_of = t.id "
	"WHERE t.business_id = $1 AND t.customer_id = $2 "
	"AND (CAST($3 AS BIGINT) = 0 OR t.id < $3) ORDER BY t.id DESC LIMIT $4";
static const char sql_reversed[] = "SELECT id FROM transactions WHERE reversal_of = $1";
static const char sql_verify[] =
	"SELECT c.id, c.balance, COALESCE(s.total, 0) FROM customers c "
	"LEFT JOIN (SELECT customer_id, SUM(amount) AS total FROM transactions "
	"GROUP BY customer_id) s ON s.customer_id = c.id "
	"WHERE c.balance <> COALESCE(s.total, 0)";
static const char sql_count[] = "SELECT COUNT(*) FROM customers";

static enum loy_err parse_type(const char *name, enum ledger_type *out)
{
	return ledger_type_parse(name ? name : "", 0, out);
}

static enum loy_err read_row(const struct db_rows *r, int i, struct ledger_entry *e)
{
	e->id = db_int(r, i, 0);
	e->business_id = db_int(r, i, 1);
	e->customer_id = db_int(r, i, 2);
	e->amount = db_int(r, i, 4);
	e->balance_after = db_int(r, i, 5);
	e->description = db_cell(r, i, 6);
	e->order_id = db_cell(r, i, 7);
	e->operator_id = db_cell(r, i, 8);
	e->channel = db_cell(r, i, 9);
	e->reversal_of = db_int(r, i, 10);
	e->created_at = db_int(r, i, 11);
	e->reversed_by = db_int(r, i, 12);
	return parse_type(db_cell(r, i, 3), &e->type);
}

enum loy_err store_ledger_post(struct store_tx *tx, struct ledger_entry *e, int64_t spent)
{
	struct db_rows r;
	enum loy_err err;

	if (e->reversal_of) {
		struct db_param rp[] = { P_INT(e->reversal_of) };
		err = db_exec(tx->c, tx->a, sql_reversed, rp, 1, &r);
		if (err != LOY_OK)
			return err;
		if (r.nrows > 0)
			return LOY_ECONFLICT;
	}
	err = store_customer_apply(tx, e->business_id, e->customer_id, e->amount, spent,
				   e->refuse_blocked, &e->balance_after);
	if (err != LOY_OK)
		return err;
	struct db_param p[] = {
		P_INT(e->business_id),
		P_INT(e->customer_id),
		P_TEXT(ledger_type_name(e->type)),
		P_INT(e->amount),
		P_INT(e->balance_after),
		P_TEXT(e->description),
		P_TEXT(e->order_id),
		P_TEXT(e->operator_id),
		P_TEXT(e->channel),
		e->reversal_of ? P_INT(e->reversal_of) : P_NULL,
		P_INT(tx->now),
	};
	err = db_exec(tx->c, tx->a, sql_insert, p, 11, &r);
	if (err != LOY_OK)
		return err;
	e->id = db_int(&r, 0, 0);
	e->created_at = tx->now;
	e->reversed_by = 0;
	/* The balance shows on the card: its wallet pass is updated in this same transaction. */
	return store_wallet_card_changed(tx, e->business_id, e->customer_id);
}

enum loy_err store_ledger_get(struct store_tx *tx, int64_t business_id, int64_t id,
			      struct ledger_entry *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_get, p, 2, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	return read_row(&r, 0, out);
}

enum loy_err store_ledger_list(struct store_tx *tx, int64_t business_id, int64_t customer_id,
			       int64_t before_id, int limit, struct ledger_entry **items, int *n,
			       int64_t *next)
{
	struct db_param p[] = { P_INT(business_id), P_INT(customer_id), P_INT(before_id),
				P_INT(limit + 1) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_list, p, 4, &r);
	int count;

	if (err != LOY_OK)
		return err;
	count = r.nrows > limit ? limit : r.nrows;
	*items = arena_alloc(tx->a, sizeof(**items) * (size_t)(count ? count : 1));
	if (!*items)
		return LOY_ENOMEM;
	for (int i = 0; i < count; i++) {
		err = read_row(&r, i, &(*items)[i]);
		if (err != LOY_OK)
			return LOY_EINTERNAL;
	}
	*n = count;
	*next = r.nrows > limit ? (*items)[count - 1].id : 0;
	return LOY_OK;
}

enum loy_err store_verify(struct store_tx *tx, store_mismatch_fn fn, void *ctx, int64_t *mismatches,
			  int64_t *checked)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_verify, NULL, 0, &r);
	if (err != LOY_OK)
		return err;
	for (int i = 0; i < r.nrows; i++)
		fn(db_int(&r, i, 0), db_int(&r, i, 1), db_int(&r, i, 2), ctx);
	*mismatches = r.nrows;
	err = db_exec(tx->c, tx->a, sql_count, NULL, 0, &r);
	if (err == LOY_OK)
		*checked = db_int(&r, 0, 0);
	return err;
}

static const char sql_expiry_due[] =
	"SELECT c.business_id, c.id, c.balance, b.expiration_days FROM customers c "
	"JOIN businesses b ON b.id = c.business_id WHERE b.expiration_days > 0 AND c.balance > 0 "
	"AND c.erased_at IS NULL "
	"AND COALESCE(c.last_activity, c.created_at) < $1 - b.expiration_days * 86400000 "
	"ORDER BY c.id LIMIT $2";

enum loy_err store_expiry_due(struct store_tx *tx, int limit, struct expiry_due **rows, int *n)
{
	struct db_param p[] = { P_INT(tx->now), P_INT(limit) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_expiry_due, p, 2, &r);

	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++) {
		(*rows)[i].business_id = db_int(&r, i, 0);
		(*rows)[i].customer_id = db_int(&r, i, 1);
		(*rows)[i].balance = db_int(&r, i, 2);
		(*rows)[i].expiration_days = db_int(&r, i, 3);
	}
	*n = r.nrows;
	return LOY_OK;
}
