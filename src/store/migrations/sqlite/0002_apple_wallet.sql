-- Apple Wallet (issue 3): one pass per customer, the devices that hold it (Apple Wallet, or an
-- Android app speaking the same web service), which device holds which pass with the delivery
-- chain of its last update, and what devices wrote to the log endpoint.

CREATE TABLE apple_passes (
	customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	pass_type_id TEXT NOT NULL,
	serial TEXT NOT NULL UNIQUE,
	auth_token TEXT NOT NULL,
	link_token TEXT NOT NULL UNIQUE,
	content_hash TEXT,
	modified_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX apple_passes_modified ON apple_passes (pass_type_id, modified_at);

CREATE TABLE apple_devices (
	id INTEGER PRIMARY KEY,
	library_id TEXT NOT NULL UNIQUE,
	push_token TEXT NOT NULL,
	kind TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE apple_registrations (
	device_id INTEGER NOT NULL REFERENCES apple_devices (id),
	serial TEXT NOT NULL REFERENCES apple_passes (serial),
	created_at INTEGER NOT NULL,
	pushed_at INTEGER,
	push_status TEXT,
	fetched_at INTEGER,
	fetched_modified_at INTEGER,
	PRIMARY KEY (device_id, serial)
);
CREATE INDEX apple_registrations_serial ON apple_registrations (serial);

CREATE TABLE apple_pass_log (
	id INTEGER PRIMARY KEY,
	serial TEXT,
	message TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX apple_pass_log_serial ON apple_pass_log (serial, id);
