-- Google Wallet (issue 4): a loyaltyClass per card template, a loyaltyObject per customer, the
-- notification budget Google allows per card (3 notifying updates or messages a day), the messages
-- sent to cards, and the save/delete callbacks already seen (deduplicated on their nonce).

-- template_id 0: the plain card of a business that has no template yet.
CREATE TABLE google_classes (
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	template_id INTEGER NOT NULL,
	class_id TEXT NOT NULL UNIQUE,
	content_hash TEXT,          -- of what Google has (NULL: not inserted yet)
	last_error TEXT,            -- Google's message when it refused the class
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (business_id, template_id)
);

CREATE TABLE google_objects (
	customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	object_id TEXT NOT NULL UNIQUE,
	class_id TEXT,              -- the class it was inserted into
	link_token TEXT NOT NULL UNIQUE,
	content_hash TEXT,          -- of what Google has (NULL: not inserted yet)
	balance_sent INTEGER,            -- the balance Google shows (a change of it may notify)
	saved INTEGER NOT NULL DEFAULT 0,
	saved_at INTEGER,
	deleted_at INTEGER,
	patched_at INTEGER,
	last_error TEXT,
	created_at INTEGER NOT NULL
);
CREATE INDEX google_objects_business ON google_objects (business_id, customer_id);

CREATE TABLE google_notifications (
	customer_id INTEGER NOT NULL REFERENCES customers (id),
	at INTEGER NOT NULL
);
CREATE INDEX google_notifications_customer ON google_notifications (customer_id, at);

CREATE TABLE google_messages (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	customer_id INTEGER NOT NULL REFERENCES customers (id),
	message_id TEXT NOT NULL UNIQUE,
	header TEXT NOT NULL,
	body TEXT NOT NULL,
	state TEXT NOT NULL,        -- queued, sent, failed
	notified INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	created_at INTEGER NOT NULL,
	sent_at INTEGER
);
CREATE INDEX google_messages_customer ON google_messages (customer_id, id);

CREATE TABLE google_callbacks (
	nonce TEXT PRIMARY KEY,
	object_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	received_at INTEGER NOT NULL
);
