-- Apple Wallet (issue 3): a card template's own images and a business's locations.
--
-- template_images: one row per image slot a template fills (icon, logo, strip at @1x/@2x/@3x;
-- the slots without a row get drawn defaults). png holds the file as padded base64 (the driver
-- has no blob type), bytes its decoded size and sha1 its SHA-1 in hex, both as manifest.json and
-- listings want them without decoding. Deleted with the template.
--
-- business_locations: where a card comes up on the lock screen, in integer micro-degrees (a pass
-- carries the first 10, oldest first).
CREATE TABLE template_images (
	template_id INTEGER NOT NULL REFERENCES card_templates (id) ON DELETE CASCADE,
	name TEXT NOT NULL CHECK (name IN ('icon', 'icon@2x', 'icon@3x', 'logo', 'logo@2x',
		'logo@3x', 'strip', 'strip@2x', 'strip@3x')),
	png TEXT NOT NULL,
	bytes INTEGER NOT NULL,
	sha1 TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (template_id, name)
);

CREATE TABLE business_locations (
	id INTEGER PRIMARY KEY,
	business_id INTEGER NOT NULL REFERENCES businesses (id),
	name TEXT NOT NULL,
	latitude_e6 INTEGER NOT NULL CHECK (latitude_e6 BETWEEN -90000000 AND 90000000),
	longitude_e6 INTEGER NOT NULL CHECK (longitude_e6 BETWEEN -180000000 AND 180000000),
	relevant_text TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX business_locations_business ON business_locations (business_id, id);
