/* Google Wallet: classes, objects, the notification budget, messages and callbacks (see store.h).
 * Ids carry a random part: two installs sharing an issuer id (staging and production) must never
 * write to each other's objects, and Google has no delete to undo a collision. */
#include <stdio.h>
#include <string.h>

#include "base/rand.h"
#include "store/db.h"
#include "store/enqueue.h"
#include "store/store.h"

#define OBJECT_COLS                                                                               \
	"customer_id, business_id, object_id, class_id, link_token, content_hash, balance_sent, " \
	"saved, saved_at, deleted_at, patched_at, last_error, created_at"
#define CLASS_COLS "business_id, template_id, class_id, content_hash, last_error, updated_at"
#define MESSAGE_COLS                                                                            \
	"id, business_id, customer_id, message_id, header, body, state, notified, last_error, " \
	"created_at, sent_at"

static const char sql_object_insert[] =
	"INSERT INTO google_objects (customer_id, business_id, object_id, link_token, created_at) "
	"VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
static const char sql_object_by_customer[] = "SELECT " OBJECT_COLS
					     " FROM google_objects WHERE customer_id = $1";
static const char sql_object_by_link[] = "SELECT " OBJECT_COLS
					 " FROM google_objects WHERE link_token = $1";
static const char sql_object_synced[] =
	"UPDATE google_objects SET class_id = $2, content_hash = $3, balance_sent = $4, "
	"patched_at = $5, last_error = NULL WHERE customer_id = $1";
static const char sql_object_error[] =
	"UPDATE google_objects SET last_error = $2 WHERE customer_id = $1";
static const char sql_object_saved[] =
	"UPDATE google_objects SET saved = 1, saved_at = $2 WHERE object_id = $1";
static const char sql_object_deleted[] =
	"UPDATE google_objects SET saved = 0, deleted_at = $2 WHERE object_id = $1";
static const char sql_class_insert[] =
	"INSERT INTO google_classes (template_id, business_id, class_id, updated_at) "
	"VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char sql_class_get[] =
	"SELECT " CLASS_COLS " FROM google_classes WHERE business_id = $1 AND template_id = $2";
static const char sql_class_synced[] =
	"UPDATE google_classes SET content_hash = $3, last_error = NULL, updated_at = $4 "
	"WHERE business_id = $1 AND template_id = $2";
static const char sql_class_error[] = "UPDATE google_classes SET last_error = $3, updated_at = $4 "
				      "WHERE business_id = $1 AND template_id = $2";
static const char sql_notifications[] =
	"SELECT COUNT(*) FROM google_notifications WHERE customer_id = $1 AND at > $2";
static const char sql_notified[] =
	"INSERT INTO google_notifications (customer_id, at) VALUES ($1, $2)";
static const char sql_notifications_prune[] = "DELETE FROM google_notifications WHERE at < $1";
static const char sql_message_insert[] =
	"INSERT INTO google_messages (business_id, customer_id, message_id, header, body, state, "
	"created_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING id";
static const char sql_message_get[] = "SELECT " MESSAGE_COLS " FROM google_messages WHERE id = $1";
static const char sql_message_done[] =
	"UPDATE google_messages SET state = $2, notified = $3, last_error = $4, sent_at = $5 "
	"WHERE id = $1";
static const char sql_messages_list[] = "SELECT " MESSAGE_COLS " FROM google_messages "
					"WHERE customer_id = $1 ORDER BY id DESC LIMIT $2";
static const char sql_callback_seen[] =
	"INSERT INTO google_callbacks (nonce, object_id, event_type, received_at) "
	"VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char sql_enqueue_object[] =
	"INSERT INTO jobs (business_id, kind, payload, state, attempts, run_at, created_at, "
	"updated_at) SELECT CAST($1 AS BIGINT), 'google.object', CAST($2 AS TEXT), 'queued', 0, "
	"CAST($3 AS BIGINT), CAST($3 AS BIGINT), CAST($3 AS BIGINT) "
	"WHERE EXISTS (SELECT 1 FROM google_objects WHERE customer_id = $4)";
/* The business's default template's class, when Google Wallet is on ($3 = 1) or the business has
 * Google objects; a class job already waiting covers this change too. */
static const char sql_enqueue_class[] =
	"INSERT INTO jobs (business_id, kind, payload, state, attempts, run_at, created_at, "
	"updated_at) SELECT CAST($1 AS BIGINT), 'google.class', '{}', 'queued', 0, "
	"CAST($2 AS BIGINT), CAST($2 AS BIGINT), CAST($2 AS BIGINT) "
	"WHERE (CAST($3 AS BIGINT) = 1 OR EXISTS (SELECT 1 FROM google_objects WHERE business_id = "
	"$1)) AND NOT EXISTS "
	"(SELECT 1 FROM jobs WHERE business_id = $1 AND kind = 'google.class' AND state = 'queued' "
	"AND attempts = 0)";

static void read_object(const struct db_rows *r, int i, struct google_object *o)
{
	o->customer_id = db_int(r, i, 0);
	o->business_id = db_int(r, i, 1);
	o->object_id = db_cell(r, i, 2);
	o->class_id = db_cell(r, i, 3);
	o->link_token = db_cell(r, i, 4);
	o->content_hash = db_cell(r, i, 5);
	o->balance_sent = db_int(r, i, 6);
	o->has_balance_sent = db_cell(r, i, 6) != NULL;
	o->saved = db_int(r, i, 7) != 0;
	o->saved_at = db_int(r, i, 8);
	o->deleted_at = db_int(r, i, 9);
	o->patched_at = db_int(r, i, 10);
	o->last_error = db_cell(r, i, 11);
	o->created_at = db_int(r, i, 12);
}

static enum loy_err object_one(struct store_tx *tx, const char *sql, struct db_param p,
			       struct google_object *out)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, &p, 1, &r);

	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	read_object(&r, 0, out);
	return LOY_OK;
}

enum loy_err store_google_object_ensure(struct store_tx *tx, int64_t business_id,
					int64_t customer_id, const char *issuer_id,
					struct google_object *out)
{
	enum loy_err err = object_one(tx, sql_object_by_customer, P_INT(customer_id), out);
	char suffix[16], link[40];

	if (err != LOY_ENOTFOUND)
		return err;
	rand_hex(suffix, 6);
	rand_token(link, 24);
	const char *object_id =
		arena_printf(tx->a, "%s.c%lld-%s", issuer_id, (long long)customer_id, suffix);
	if (!object_id)
		return LOY_ENOMEM;
	struct db_param p[] = { P_INT(customer_id), P_INT(business_id), P_TEXT(object_id),
				P_TEXT(link), P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_object_insert, p, 5, NULL);
	if (err != LOY_OK)
		return err;
	return object_one(tx, sql_object_by_customer, P_INT(customer_id), out);
}

enum loy_err store_google_object_get(struct store_tx *tx, int64_t customer_id,
				     struct google_object *out)
{
	return object_one(tx, sql_object_by_customer, P_INT(customer_id), out);
}

enum loy_err store_google_object_by_link(struct store_tx *tx, const char *link_token,
					 struct google_object *out)
{
	return object_one(tx, sql_object_by_link, P_TEXT(link_token), out);
}

enum loy_err store_google_object_synced(struct store_tx *tx, int64_t customer_id,
					const char *class_id, const char *content_hash,
					int64_t balance)
{
	struct db_param p[] = { P_INT(customer_id), P_TEXT(class_id), P_TEXT(content_hash),
				P_INT(balance), P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_object_synced, p, 5, NULL);
}

enum loy_err store_google_object_error(struct store_tx *tx, int64_t customer_id, const char *error)
{
	struct db_param p[] = { P_INT(customer_id), P_TEXT(error) };
	return db_exec(tx->c, tx->a, sql_object_error, p, 2, NULL);
}

enum loy_err store_google_object_saved(struct store_tx *tx, const char *object_id, bool saved,
				       bool *known)
{
	struct db_param p[] = { P_TEXT(object_id), P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err =
		db_exec(tx->c, tx->a, saved ? sql_object_saved : sql_object_deleted, p, 2, &r);
	if (err == LOY_OK)
		*known = r.affected > 0;
	return err;
}

static enum loy_err class_one(struct store_tx *tx, int64_t business_id, int64_t template_id,
			      struct google_class *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(template_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_class_get, p, 2, &r);

	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	out->business_id = db_int(&r, 0, 0);
	out->template_id = db_int(&r, 0, 1);
	out->class_id = db_cell(&r, 0, 2);
	out->content_hash = db_cell(&r, 0, 3);
	out->last_error = db_cell(&r, 0, 4);
	out->updated_at = db_int(&r, 0, 5);
	return LOY_OK;
}

enum loy_err store_google_class_ensure(struct store_tx *tx, int64_t business_id,
				       int64_t template_id, const char *issuer_id,
				       struct google_class *out)
{
	enum loy_err err = class_one(tx, business_id, template_id, out);
	char suffix[16];

	if (err != LOY_ENOTFOUND)
		return err;
	rand_hex(suffix, 6);
	const char *class_id = arena_printf(tx->a, "%s.b%lld-t%lld-%s", issuer_id,
					    (long long)business_id, (long long)template_id, suffix);
	if (!class_id)
		return LOY_ENOMEM;
	struct db_param p[] = { P_INT(template_id), P_INT(business_id), P_TEXT(class_id),
				P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_class_insert, p, 4, NULL);
	if (err != LOY_OK)
		return err;
	return class_one(tx, business_id, template_id, out);
}

enum loy_err store_google_class_synced(struct store_tx *tx, const struct google_class *c,
				       const char *content_hash)
{
	struct db_param p[] = { P_INT(c->business_id), P_INT(c->template_id), P_TEXT(content_hash),
				P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_class_synced, p, 4, NULL);
}

enum loy_err store_google_class_error(struct store_tx *tx, const struct google_class *c,
				      const char *error)
{
	struct db_param p[] = { P_INT(c->business_id), P_INT(c->template_id), P_TEXT(error),
				P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_class_error, p, 4, NULL);
}

enum loy_err store_google_notifications(struct store_tx *tx, int64_t customer_id, int64_t since,
					int64_t *n)
{
	struct db_param p[] = { P_INT(customer_id), P_INT(since) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_notifications, p, 2, &r);
	if (err == LOY_OK)
		*n = db_int(&r, 0, 0);
	return err;
}

enum loy_err store_google_notified(struct store_tx *tx, int64_t customer_id)
{
	struct db_param p[] = { P_INT(customer_id), P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_notified, p, 2, NULL);
}

enum loy_err store_google_prune(struct store_tx *tx, int64_t before, int64_t *pruned)
{
	struct db_param p[] = { P_INT(before) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_notifications_prune, p, 1, &r);
	if (err == LOY_OK)
		*pruned += r.affected;
	return err;
}

static void read_message(const struct db_rows *r, int i, struct google_message *m)
{
	m->id = db_int(r, i, 0);
	m->business_id = db_int(r, i, 1);
	m->customer_id = db_int(r, i, 2);
	m->message_id = db_cell(r, i, 3);
	m->header = db_cell(r, i, 4);
	m->body = db_cell(r, i, 5);
	m->state = db_cell(r, i, 6);
	m->notified = db_int(r, i, 7) != 0;
	m->last_error = db_cell(r, i, 8);
	m->created_at = db_int(r, i, 9);
	m->sent_at = db_int(r, i, 10);
}

enum loy_err store_google_message_insert(struct store_tx *tx, struct google_message *m)
{
	char rnd[17], payload[48];
	const char *message_id;
	struct db_rows r;
	enum loy_err err;

	rand_hex(rnd, 8);
	message_id = arena_printf(tx->a, "loy-%s", rnd);
	if (!message_id)
		return LOY_ENOMEM;
	struct db_param p[] = { P_INT(m->business_id), P_INT(m->customer_id), P_TEXT(message_id),
				P_TEXT(m->header),     P_TEXT(m->body),	      P_INT(tx->now) };
	err = db_exec(tx->c, tx->a, sql_message_insert, p, 6, &r);
	if (err != LOY_OK)
		return err;
	m->id = db_int(&r, 0, 0);
	m->message_id = message_id;
	m->state = "queued";
	m->created_at = tx->now;
	snprintf(payload, sizeof(payload), "{\"message\":%lld}", (long long)m->id);
	return store_job_enqueue(tx, m->business_id, "google.message", payload);
}

enum loy_err store_google_message_get(struct store_tx *tx, int64_t id, struct google_message *out)
{
	struct db_param p[] = { P_INT(id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_message_get, p, 1, &r);

	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	read_message(&r, 0, out);
	return LOY_OK;
}

enum loy_err store_google_message_done(struct store_tx *tx, int64_t id, const char *state,
				       bool notified, const char *error)
{
	struct db_param p[] = { P_INT(id), P_TEXT(state), P_INT(notified), P_TEXT(error),
				P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_message_done, p, 5, NULL);
}

enum loy_err store_google_messages_list(struct store_tx *tx, int64_t customer_id, int limit,
					struct google_message **rows, int *n)
{
	struct db_param p[] = { P_INT(customer_id), P_INT(limit) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_messages_list, p, 2, &r);

	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++)
		read_message(&r, i, &(*rows)[i]);
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_google_callback_seen(struct store_tx *tx, const char *nonce,
					const char *object_id, const char *event_type, bool *first)
{
	struct db_param p[] = { P_TEXT(nonce), P_TEXT(object_id), P_TEXT(event_type),
				P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_callback_seen, p, 4, &r);
	if (err == LOY_OK)
		*first = r.affected > 0;
	return err;
}

enum loy_err store_google_enqueue_object(struct store_tx *tx, int64_t business_id,
					 int64_t customer_id)
{
	char payload[48];
	snprintf(payload, sizeof(payload), "{\"customer\":%lld}", (long long)customer_id);
	struct db_param p[] = { P_INT(business_id), P_TEXT(payload), P_INT(tx->now),
				P_INT(customer_id) };
	return enqueue_counted(tx, sql_enqueue_object, p, 4);
}

enum loy_err store_google_enqueue_class(struct store_tx *tx, int64_t business_id, bool google_on)
{
	struct db_param p[] = { P_INT(business_id), P_INT(tx->now), P_INT(google_on) };
	return enqueue_counted(tx, sql_enqueue_class, p, 3);
}

enum loy_err store_wallet_card_changed(struct store_tx *tx, int64_t business_id,
				       int64_t customer_id)
{
	enum loy_err err = store_apple_enqueue_push(tx, business_id, customer_id);
	if (err == LOY_OK)
		err = store_google_enqueue_object(tx, business_id, customer_id);
	return err;
}

enum loy_err store_wallet_design_changed(struct store_tx *tx, int64_t business_id, bool google_on)
{
	enum loy_err err = store_apple_enqueue_refresh(tx, business_id);
	if (err == LOY_OK)
		err = store_google_enqueue_class(tx, business_id, google_on);
	return err;
}
