-- Loy schema, version 1 (SQLite). Times are milliseconds since the epoch; money is kopecks; points
-- are whole points; rates are basis points; booleans are 0/1. Every row belongs to a business.

CREATE TABLE businesses (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	contact_phone TEXT,
	contact_email TEXT,
	contact_website TEXT,
	contact_address TEXT,
	points_per_ruble_bp INTEGER NOT NULL DEFAULT 500,
	minimum_redemption INTEGER NOT NULL DEFAULT 0,
	expiration_days INTEGER NOT NULL DEFAULT 0,
	welcome_bonus INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE customers (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	card_number TEXT NOT NULL,
	name TEXT NOT NULL,
	phone TEXT,
	email TEXT,
	birthday TEXT,
	balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
	total_spent INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL DEFAULT 'active',
	source TEXT NOT NULL,
	tags TEXT NOT NULL DEFAULT '',
	notes TEXT NOT NULL DEFAULT '',
	consent_version TEXT,
	consent_at INTEGER,
	consent_ip TEXT,
	search TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	last_activity INTEGER,
	erased_at INTEGER,
	UNIQUE (business_id, card_number),
	UNIQUE (business_id, phone),
	UNIQUE (business_id, email)
);
CREATE INDEX customers_business_id ON customers (business_id, id);

CREATE TABLE transactions (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	customer_id INTEGER NOT NULL REFERENCES customers (id),
	type TEXT NOT NULL,
	amount INTEGER NOT NULL,
	balance_after INTEGER NOT NULL,
	description TEXT,
	order_id TEXT,
	operator_id TEXT,
	channel TEXT NOT NULL,
	reversal_of INTEGER UNIQUE REFERENCES transactions (id),
	created_at INTEGER NOT NULL
);
CREATE INDEX transactions_customer ON transactions (customer_id, id);

-- Idempotency records: an Idempotency-Key (scope 'key') or a POS orderId (scope 'order') maps to
-- the first response given for it.
CREATE TABLE idempotency (
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	scope TEXT NOT NULL,
	key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	status INTEGER NOT NULL,
	response TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (business_id, scope, key)
);

CREATE TABLE card_templates (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	name TEXT NOT NULL,
	is_default INTEGER NOT NULL DEFAULT 0,
	design TEXT NOT NULL,
	content TEXT NOT NULL,
	settings TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX card_templates_business ON card_templates (business_id, id);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	email TEXT NOT NULL UNIQUE,
	name TEXT,
	role TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	last_login_at INTEGER
);

CREATE TABLE api_keys (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	name TEXT NOT NULL,
	role TEXT NOT NULL,
	prefix TEXT NOT NULL UNIQUE,
	key_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at INTEGER
);

CREATE TABLE sessions (
	token_hash TEXT NOT NULL PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users (id),
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);

-- The outbox: external effects committed in the same transaction as the change that caused them.
CREATE TABLE jobs (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	kind TEXT NOT NULL,
	payload TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued',
	attempts INTEGER NOT NULL DEFAULT 0,
	run_at INTEGER NOT NULL,
	locked_until INTEGER,
	last_error TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT,
	ip TEXT,
	created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_business ON audit_log (business_id, id);
