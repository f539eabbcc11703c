/* Staff accounts, API keys and sessions (see store.h). */
#include "store/db.h"
#include "store/store.h"

#define USER_COLS \
	"id, business_id, email, name, role, password_hash, disabled, created_at, last_login_at"
#define KEY_COLS \
	"id, business_id, name, role, prefix, key_hash, created_at, last_used_at, revoked_at"

static const char sql_user_insert[] =
	"INSERT INTO users (business_id, email, name, role, password_hash, disabled, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
static const char sql_user_get[] = "SELECT " USER_COLS
				   " FROM users WHERE business_id = $1 AND id = $2";
static const char sql_user_by_email[] = "SELECT " USER_COLS " FROM users WHERE email = $1";
static const char sql_user_list[] = "SELECT " USER_COLS
				    " FROM users WHERE business_id = $1 ORDER BY id LIMIT 1000";
static const char sql_user_update[] =
	"UPDATE users SET email = $3, name = $4, role = $5, password_hash = $6, disabled = $7 "
	"WHERE business_id = $1 AND id = $2";
static const char sql_user_sessions_drop[] = "DELETE FROM sessions WHERE user_id = $1";
static const char sql_user_delete[] = "DELETE FROM users WHERE business_id = $1 AND id = $2";
static const char sql_user_count[] = "SELECT COUNT(*) FROM users";
static const char sql_user_count_role[] =
	"SELECT COUNT(*) FROM users WHERE business_id = $1 AND role = $2 AND disabled = 0";
static const char sql_user_login[] = "UPDATE users SET last_login_at = $2 WHERE id = $1";

static const char sql_key_insert[] =
	"INSERT INTO api_keys (business_id, name, role, prefix, key_hash, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
static const char sql_key_get[] = "SELECT " KEY_COLS
				  " FROM api_keys WHERE business_id = $1 AND id = $2";
static const char sql_key_by_prefix[] = "SELECT " KEY_COLS " FROM api_keys WHERE prefix = $1";
static const char sql_key_list[] = "SELECT " KEY_COLS
				   " FROM api_keys WHERE business_id = $1 ORDER BY id LIMIT 1000";
static const char sql_key_revoke[] = "UPDATE api_keys SET revoked_at = $3 "
				     "WHERE business_id = $1 AND id = $2 AND revoked_at IS NULL";
static const char sql_key_touch[] = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1";

static const char sql_session_insert[] =
	"INSERT INTO sessions (token_hash, user_id, business_id, csrf_token, created_at, "
	"expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
static const char sql_session_get[] =
	"SELECT s.token_hash, s.user_id, s.business_id, s.csrf_token, s.created_at, s.expires_at, "
	"u.id, u.business_id, u.email, u.name, u.role, u.password_hash, u.disabled, u.created_at, "
	"u.last_login_at FROM sessions s JOIN users u ON u.id = s.user_id "
	"WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0";
static const char sql_session_delete[] = "DELETE FROM sessions WHERE token_hash = $1";

static enum loy_err read_user(const struct db_rows *r, int i, int col, struct user *u)
{
	u->id = db_int(r, i, col + 0);
	u->business_id = db_int(r, i, col + 1);
	u->email = db_cell(r, i, col + 2);
	u->name = db_cell(r, i, col + 3);
	u->password_hash = db_cell(r, i, col + 5);
	u->disabled = db_int(r, i, col + 6) != 0;
	u->created_at = db_int(r, i, col + 7);
	u->last_login_at = db_int(r, i, col + 8);
	return role_parse(db_cell(r, i, col + 4) ? db_cell(r, i, col + 4) : "", &u->role);
}

static enum loy_err read_key(const struct db_rows *r, int i, struct api_key *k)
{
	k->id = db_int(r, i, 0);
	k->business_id = db_int(r, i, 1);
	k->name = db_cell(r, i, 2);
	k->prefix = db_cell(r, i, 4);
	k->key_hash = db_cell(r, i, 5);
	k->created_at = db_int(r, i, 6);
	k->last_used_at = db_int(r, i, 7);
	k->revoked_at = db_int(r, i, 8);
	return role_parse(db_cell(r, i, 3) ? db_cell(r, i, 3) : "", &k->role);
}

static enum loy_err one_user(struct store_tx *tx, const char *sql, const struct db_param *p, int n,
			     struct user *out)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, n, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	return read_user(&r, 0, 0, out) == LOY_OK ? LOY_OK : LOY_EINTERNAL;
}

static enum loy_err one_key(struct store_tx *tx, const char *sql, const struct db_param *p, int n,
			    struct api_key *out)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, n, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	return read_key(&r, 0, out) == LOY_OK ? LOY_OK : LOY_EINTERNAL;
}

static enum loy_err changed_one(struct store_tx *tx, const char *sql, const struct db_param *p,
				int n)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, n, &r);
	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	return err;
}

enum loy_err store_user_insert(struct store_tx *tx, struct user *u)
{
	struct db_param p[] = { P_INT(u->business_id),
				P_TEXT(u->email),
				P_TEXT(u->name),
				P_TEXT(role_name(u->role)),
				P_TEXT(u->password_hash),
				P_INT(u->disabled),
				P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_user_insert, p, 7, &r);
	if (err != LOY_OK)
		return err;
	u->id = db_int(&r, 0, 0);
	u->created_at = tx->now;
	return LOY_OK;
}

enum loy_err store_user_get(struct store_tx *tx, int64_t business_id, int64_t id, struct user *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	return one_user(tx, sql_user_get, p, 2, out);
}

enum loy_err store_user_by_email(struct store_tx *tx, const char *email, struct user *out)
{
	struct db_param p[] = { P_TEXT(email) };
	return one_user(tx, sql_user_by_email, p, 1, out);
}

enum loy_err store_user_list(struct store_tx *tx, int64_t business_id, struct user **items, int *n)
{
	struct db_param p[] = { P_INT(business_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_user_list, p, 1, &r);
	if (err != LOY_OK)
		return err;
	*items = arena_alloc(tx->a, sizeof(**items) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*items)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++)
		if (read_user(&r, i, 0, &(*items)[i]) != LOY_OK)
			return LOY_EINTERNAL;
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_user_update(struct store_tx *tx, const struct user *u)
{
	struct db_param p[] = { P_INT(u->business_id),	    P_INT(u->id),
				P_TEXT(u->email),	    P_TEXT(u->name),
				P_TEXT(role_name(u->role)), P_TEXT(u->password_hash),
				P_INT(u->disabled) };
	struct db_param sp[] = { P_INT(u->id) };
	enum loy_err err = changed_one(tx, sql_user_update, p, 7);
	/* A disabled account loses its sessions at once. */
	if (err == LOY_OK && u->disabled)
		err = db_exec(tx->c, tx->a, sql_user_sessions_drop, sp, 1, NULL);
	return err;
}

enum loy_err store_user_delete(struct store_tx *tx, int64_t business_id, int64_t id)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	struct db_param sp[] = { P_INT(id) };
	enum loy_err err = db_exec(tx->c, tx->a, sql_user_sessions_drop, sp, 1, NULL);
	if (err != LOY_OK)
		return err;
	return changed_one(tx, sql_user_delete, p, 2);
}

enum loy_err store_user_count(struct store_tx *tx, int64_t *n)
{
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_user_count, NULL, 0, &r);
	if (err == LOY_OK)
		*n = db_int(&r, 0, 0);
	return err;
}

enum loy_err store_user_count_role(struct store_tx *tx, int64_t business_id, enum role role,
				   int64_t *n)
{
	struct db_param p[] = { P_INT(business_id), P_TEXT(role_name(role)) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_user_count_role, p, 2, &r);
	if (err == LOY_OK)
		*n = db_int(&r, 0, 0);
	return err;
}

enum loy_err store_user_touch_login(struct store_tx *tx, int64_t id)
{
	struct db_param p[] = { P_INT(id), P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_user_login, p, 2, NULL);
}

enum loy_err store_apikey_insert(struct store_tx *tx, struct api_key *k)
{
	struct db_param p[] = { P_INT(k->business_id),	    P_TEXT(k->name),
				P_TEXT(role_name(k->role)), P_TEXT(k->prefix),
				P_TEXT(k->key_hash),	    P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_key_insert, p, 6, &r);
	if (err != LOY_OK)
		return err;
	k->id = db_int(&r, 0, 0);
	k->created_at = tx->now;
	return LOY_OK;
}

enum loy_err store_apikey_get(struct store_tx *tx, int64_t business_id, int64_t id,
			      struct api_key *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id) };
	return one_key(tx, sql_key_get, p, 2, out);
}

enum loy_err store_apikey_by_prefix(struct store_tx *tx, const char *prefix, struct api_key *out)
{
	struct db_param p[] = { P_TEXT(prefix) };
	return one_key(tx, sql_key_by_prefix, p, 1, out);
}

enum loy_err store_apikey_list(struct store_tx *tx, int64_t business_id, struct api_key **items,
			       int *n)
{
	struct db_param p[] = { P_INT(business_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_key_list, p, 1, &r);
	if (err != LOY_OK)
		return err;
	*items = arena_alloc(tx->a, sizeof(**items) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*items)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++)
		if (read_key(&r, i, &(*items)[i]) != LOY_OK)
			return LOY_EINTERNAL;
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_apikey_revoke(struct store_tx *tx, int64_t business_id, int64_t id)
{
	struct db_param p[] = { P_INT(business_id), P_INT(id), P_INT(tx->now) };
	return changed_one(tx, sql_key_revoke, p, 3);
}

enum loy_err store_apikey_touch(struct store_tx *tx, int64_t id)
{
	struct db_param p[] = { P_INT(id), P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_key_touch, p, 2, NULL);
}

enum loy_err store_session_insert(struct store_tx *tx, const struct session *s)
{
	struct db_param p[] = { P_TEXT(s->token_hash), P_INT(s->user_id),    P_INT(s->business_id),
				P_TEXT(s->csrf_token), P_INT(s->created_at), P_INT(s->expires_at) };
	return db_exec(tx->c, tx->a, sql_session_insert, p, 6, NULL);
}

enum loy_err store_session_get(struct store_tx *tx, const char *token_hash, struct session *s,
			       struct user *u)
{
	struct db_param p[] = { P_TEXT(token_hash), P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_session_get, p, 2, &r);
	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	s->token_hash = db_cell(&r, 0, 0);
	s->user_id = db_int(&r, 0, 1);
	s->business_id = db_int(&r, 0, 2);
	s->csrf_token = db_cell(&r, 0, 3);
	s->created_at = db_int(&r, 0, 4);
	s->expires_at = db_int(&r, 0, 5);
	return read_user(&r, 0, 6, u) == LOY_OK ? LOY_OK : LOY_EINTERNAL;
}

enum loy_err store_session_delete(struct store_tx *tx, const char *token_hash)
{
	struct db_param p[] = { P_TEXT(token_hash) };
	return db_exec(tx->c, tx->a, sql_session_delete, p, 1, NULL);
}
