/* Customers (see store.h). Card numbers are random; a collision with an existing card is detected by
 * the unique index (ON CONFLICT DO NOTHING, so the transaction stays usable on PostgreSQL) and retried
 * with a fresh number. */
#include <string.h>

#include "core/card.h"
#include "store/db.h"
#include "store/store.h"

#define CARD_ATTEMPTS 8

#define CUSTOMER_COLS                                                                                \
	"id, business_id, card_number, name, phone, email, birthday, balance, total_spent, status, " \
	"source, tags, notes, consent_version, consent_at, consent_ip, search, created_at, "         \
	"last_activity"

static const char sql_phone_taken[] =
	"SELECT id FROM customers WHERE business_id = $1 AND phone = $2 AND (CAST($3 AS BIGINT) = 0 OR id <> $3)";
static const char sql_email_taken[] =
	"SELECT id FROM customers WHERE business_id = $1 AND email = $2 AND erased_at IS NULL "
	"AND (CAST($3 AS BIGINT) = 0 OR id <> $3)";
static const char sql_insert[] =
	"INSERT INTO customers (business_id, card_number, name, phone, email, birthday, status, "
	"source, tags, notes, consent_version, consent_at, consent_ip, search, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
	"ON CONFLICT DO NOTHING RETURNING id";
static const char sql_get[] = "SELECT " CUSTOMER_COLS " FROM customers "
			      "WHERE business_id = $1 AND id = $2 AND erased_at IS NULL";
static const char sql_by_card[] =
	"SELECT " CUSTOMER_COLS " FROM customers "
	"WHERE business_id = $1 AND card_number = $2 AND erased_at IS NULL";
static const char sql_by_phone[] = "SELECT " CUSTOMER_COLS " FROM customers "
				   "WHERE business_id = $1 AND phone = $2 AND erased_at IS NULL";
static const char sql_update[] =
	"UPDATE customers SET name = $3, phone = $4, email = $5, birthday = $6, status = $7, "
	"tags = $8, notes = $9, search = $10 WHERE business_id = $1 AND id = $2 AND erased_at IS NULL";
static const char sql_erase[] =
	"UPDATE customers SET name = '', phone = NULL, email = NULL, birthday = NULL, tags = '', "
	"notes = '', consent_ip = NULL, search = '', status = 'inactive', erased_at = $3 "
	"WHERE business_id = $1 AND id = $2 AND erased_at IS NULL";
static const char sql_apply[] =
	"UPDATE customers SET balance = balance + $3, total_spent = total_spent + $4, "
	"last_activity = $5 WHERE business_id = $1 AND id = $2 AND erased_at IS NULL "
	"AND balance + $3 >= 0 AND (CAST($6 AS BIGINT) = 0 OR status <> 'blocked') "
	"RETURNING balance";
static const char sql_exists[] =
	"SELECT status FROM customers WHERE business_id = $1 AND id = $2 AND erased_at IS NULL";
static const char sql_list[] =
	"SELECT " CUSTOMER_COLS " FROM customers WHERE business_id = $1 AND erased_at IS NULL "
	"AND (CAST($2 AS TEXT) IS NULL OR search LIKE $2 ESCAPE '!' OR card_number LIKE $2 ESCAPE '!') "
	"AND (CAST($3 AS TEXT) IS NULL OR status = $3) "
	"AND (CAST($4 AS TEXT) IS NULL OR tags LIKE $4 ESCAPE '!') "
	"AND (CAST($5 AS BIGINT) = 0 OR id < $5) ORDER BY id DESC LIMIT $6";

static void read_row(const struct db_rows *r, int i, struct customer *c)
{
	c->id = db_int(r, i, 0);
	c->business_id = db_int(r, i, 1);
	c->card_number = db_cell(r, i, 2);
	c->name = db_cell(r, i, 3);
	c->phone = db_cell(r, i, 4);
	c->email = db_cell(r, i, 5);
	c->birthday = db_cell(r, i, 6);
	c->balance = db_int(r, i, 7);
	c->total_spent = db_int(r, i, 8);
	c->status = db_cell(r, i, 9);
	c->source = db_cell(r, i, 10);
	c->tags = db_cell(r, i, 11);
	c->notes = db_cell(r, i, 12);
	c->consent_version = db_cell(r, i, 13);
	c->consent_at = db_int(r, i, 14);
	c->consent_ip = db_cell(r, i, 15);
	c->search = db_cell(r, i, 16);
	c->created_at = db_int(r, i, 17);
	c->last_activity = db_int(r, i, 18);
}

static enum loy_err one(struct store_tx *tx, const char *sql, const struct db_param *p, int n,
			struct customer *out)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, n, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	read_row(&r, 0, out);
	return LOY_OK;
}

static enum loy_err phone_taken(struct store_tx *tx, int64_t business_id, const char *phone,
				int64_t except_id)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(phone), P_INT(except_id) };
	struct db_rows r;
	enum loy_err err;

	if (!phone)
		return LOY_OK;
	err = db_exec(tx->c, tx->a, sql_phone_taken, p, 3, &r);
	if (err == LOY_OK && r.nrows > 0)
		err = LOY_ECONFLICT;
	return err;
}

enum loy_err store_customer_email_taken(struct store_tx *tx, int64_t business_id, const char *email,
					int64_t except_id)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(email), P_INT(except_id) };
	struct db_rows r;
	enum loy_err err;

	if (!email)
		return LOY_OK;
	err = db_exec(tx->c, tx->a, sql_email_taken, p, 3, &r);
	if (err == LOY_OK && r.nrows > 0)
		err = LOY_ECONFLICT;
	return err;
}

enum loy_err store_customer_insert(struct store_tx *tx, struct customer *c)
{
	char card[CARD_NUMBER_LEN + 1];
	enum loy_err err;

	for (int attempt = 0; attempt < CARD_ATTEMPTS; attempt++) {
		struct db_rows r;
		err = phone_taken(tx, c->business_id, c->phone, 0);
		if (err != LOY_OK)
			return err;
		card_number_generate(card);
		struct db_param p[] = {
			P_INT(c->business_id),
			P_TEXT(card),
			P_TEXT(c->name),
			P_TEXT(c->phone),
			P_TEXT(c->email),
			P_TEXT(c->birthday),
			P_TEXT(c->status),
			P_TEXT(c->source),
			P_TEXT(c->tags),
			P_TEXT(c->notes),
			P_TEXT(c->consent_version),
			c->consent_at ? P_INT(c->consent_at) : P_NULL,
			P_TEXT(c->consent_ip),
			P_TEXT(c->search),
			P_INT(tx->now),
		};
		err = db_exec(tx->c, tx->a, sql_insert, p, 15, &r);
		if (err != LOY_OK)
			return err;
		if (r.nrows == 1) {
			c->id = db_int(&r, 0, 0);
			c->card_number = arena_strdup(tx->a, card);
			c->created_at = tx->now;
			c->balance = c->total_spent = 0;
			return c->card_number ? LOY_OK : LOY_ENOMEM;
		}
	}
	/* Only a concurrent insert of the same phone (PostgreSQL) or an exhausted card space gets here. */
	return LOY_ECONFLICT;
}

enum loy_err store_customer_get(struct store_tx *tx, int64_t business_id, int64_t id,
				struct customer *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	return one(tx, sql_get, p, 2, out);
}

enum loy_err store_customer_by_card(struct store_tx *tx, int64_t business_id, const char *card,
				    struct customer *out)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(card) };
	return one(tx, sql_by_card, p, 2, out);
}

enum loy_err store_customer_by_phone(struct store_tx *tx, int64_t business_id, const char *phone,
				     struct customer *out)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(phone) };
	return one(tx, sql_by_phone, p, 2, out);
}

enum loy_err store_customer_update(struct store_tx *tx, const struct customer *c)
{
	struct db_param p[] = {
		P_INT(c->business_id), P_INT(c->id),	    P_TEXT(c->name),   P_TEXT(c->phone),
		P_TEXT(c->email),      P_TEXT(c->birthday), P_TEXT(c->status), P_TEXT(c->tags),
		P_TEXT(c->notes),      P_TEXT(c->search),
	};
	struct db_rows r;
	enum loy_err err = phone_taken(tx, c->business_id, c->phone, c->id);
	if (err != LOY_OK)
		return err;
	err = db_exec(tx->c, tx->a, sql_update, p, 10, &r);
	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	if (err == LOY_OK) /* the name and the status (voided when blocked) show on the card */
		err = store_wallet_card_changed(tx, c->business_id, c->id);
	return err;
}

enum loy_err store_customer_erase(struct store_tx *tx, int64_t business_id, int64_t id)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id), P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_erase, p, 3, &r);
	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	return err;
}

enum loy_err store_customer_apply(struct store_tx *tx, int64_t business_id, int64_t id,
				  int64_t delta, int64_t spent, bool refuse_blocked,
				  int64_t *balance_after)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id),	    P_INT(delta),
				P_INT(spent),	    P_INT(tx->now), P_INT(refuse_blocked) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_apply, p, 6, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 1) {
		*balance_after = db_int(&r, 0, 0);
		return LOY_OK;
	}
	/* Nothing changed: no such customer, a blocked one, or the balance would go negative. */
	err = db_exec(tx->c, tx->a, sql_exists, p, 2, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	return refuse_blocked && strcmp(db_cell(&r, 0, 0), "blocked") == 0 ? LOY_ERULE
									   : LOY_EBALANCE;
}

enum loy_err store_customer_list(struct store_tx *tx, int64_t business_id,
				 const struct customer_query *q, struct customer **items, int *n,
				 int64_t *next)
{
	struct db_param p[] = {
		P_INT(business_id), P_TEXT(q->search),	 P_TEXT(q->status),
		P_TEXT(q->tag),	    P_INT(q->before_id), P_INT(q->limit + 1),
	};
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_list, p, 6, &r);
	int count;

	if (err != LOY_OK)
		return err;
	count = r.nrows > q->limit ? q->limit : r.nrows;
	*items = arena_alloc(tx->a, sizeof(**items) * (size_t)(count ? count : 1));
	if (!*items)
		return LOY_ENOMEM;
	for (int i = 0; i < count; i++)
		read_row(&r, i, &(*items)[i]);
	*n = count;
	*next = r.nrows > q->limit ? (*items)[count - 1].id : 0;
	return LOY_OK;
}
