/* The Apple Wallet pass builder: from what a customer's card shows to the bytes of a signed
 * .pkpass, as Apple specifies it (../shared/specs/apple-wallet.md, 1a). A pure function of its
 * inputs: no database, no HTTP, no clock (the signature's signingTime aside).
 *
 * One storeCard per customer:
 *   primaryFields    balance ("Баланс", changeMessage "Баланс: %@")
 *   secondaryFields  name; tier if any (changeMessage "Уровень: %@")
 *   auxiliaryFields  card number
 *   backFields       latest news (changeMessage "%@"), terms, the business's contacts
 *   barcodes         one QR code carrying the card number (altText: the number in groups)
 * plus the colours, locations, web service URL and token, and voided for a blocked customer.
 * Labels are Russian, in one table in pass.c; field keys are unique across the pass and every
 * changeMessage carries %@ (checked on every build: a broken table aborts).
 *
 * The server keeps, per pass, the bytes of its last build and their content hash, and builds
 * again only when pass_content_hash of the current input differs (issue 3: "A pass is rebuilt only
 * when what it shows changes"). */
#ifndef LOY_WALLET_APPLE_PASS_H
#define LOY_WALLET_APPLE_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/digest.h"
#include "crypto/signer.h"
#include "wallet/apple/images.h"

#define PASS_MIME_TYPE "application/vnd.apple.pkpass"

/* Limits, in bytes of UTF-8 unless said otherwise. */
#define PASS_LOCATIONS_MAX 10	   /* Apple's: more are dropped, see locations below */
#define PASS_SERIAL_MAX 64	   /* letters, digits, '.', '_', '-': it travels in URL paths */
#define PASS_AUTH_TOKEN_MIN 16	   /* Apple's minimum */
#define PASS_AUTH_TOKEN_MAX 128	   /* visible ASCII: it travels in an Authorization header */
#define PASS_URL_MAX 500	   /* webServiceURL, termsUrl, website */
#define PASS_CARD_NUMBER_MAX 32	   /* letters and digits: the QR code is ISO-8859-1 */
#define PASS_LINE_MAX 800	   /* one-line texts: names, organisation, tier, contacts */
#define PASS_TEXT_MAX 8000	   /* description, terms, news, a location's relevantText */
#define PASS_LATITUDE_MAX 90000000 /* micro-degrees */
#define PASS_LONGITUDE_MAX 180000000
#define PASS_CONTENT_HASH_LEN SHA256_HEX_LEN

/* A place where the pass comes up on the lock screen. Coordinates are integer micro-degrees
 * (55.755826 is 55755826): no floating point in our data; pass.json gets them as JSON numbers
 * written exactly from these integers. */
struct pass_location {
	int32_t latitude_e6, longitude_e6;
	const char *relevant_text; /* or NULL */
};

/* Everything a pass shows. Strings are NUL-terminated UTF-8 owned by the caller; optional ones
 * may be NULL or "" (left out of the pass). */
struct pass_input {
	/* identity: never change across updates of one pass */
	const char *pass_type_id; /* must equal signer_pass_type_id() */
	const char *team_id;	  /* must equal signer_team_id() */
	const char *serial;	  /* 1..PASS_SERIAL_MAX of [A-Za-z0-9._-] */
	const char *auth_token;	  /* PASS_AUTH_TOKEN_MIN..MAX visible ASCII */
	/* http(s)://host[:port][/path], no query or fragment; trailing '/'s are stripped, since
	 * devices append "/v1/..." */
	const char *web_service_url;

	/* the template */
	const char *organization; /* required */
	const char *description;  /* required: VoiceOver reads it */
	const char *logo_text;	  /* optional */
	/* "#rrggbb" as templates store them; pass.json gets "rgb(r, g, b)" */
	const char *background_color, *foreground_color, *label_color;
	bool hide_balance;		    /* template setting showBalance false: the name
						    becomes the primary field */
	bool hide_barcode;		    /* template setting showQRCode false */
	const char *terms_text, *terms_url; /* optional */
	const struct pass_images *images;   /* icon.png required; see images.h */

	/* the business */
	const char *phone, *email, *website, *address; /* optional */
	const char *news;			       /* latest news, optional */
	/* The first PASS_LOCATIONS_MAX are used and the rest dropped: the caller's order is its
	 * priority. Dropping rather than refusing, because a business opening its eleventh shop
	 * must not stop every card from updating; locations only decide when the lock screen
	 * offers the card. */
	const struct pass_location *locations;
	size_t nlocations;

	/* the customer */
	const char *customer_name; /* optional */
	const char *card_number;   /* required: the QR code's message */
	int64_t balance;
	const char *tier; /* optional */
	bool voided;	  /* the customer is blocked */

	/* Milliseconds since the epoch: the files' time in the zip (in the host's time zone, as
	 * zip tools write it). Not part of what the pass shows, so not in its content hash. */
	int64_t updated_at;
};

/* Checks in against the rules above. LOY_OK, or LOY_EINVALID with *why (not NULL) set to a
 * sentence naming the field (static storage). Does not compare with a signer. */
enum loy_err pass_input_check(const struct pass_input *in, const char **why);

/* "#rrggbb" (either case) to its three bytes; false for anything else. */
bool pass_color_parse(const char *hex, struct pass_rgb *out);

/* Writes pass.json for in: *json is malloc'd and NUL-terminated (the caller frees it), *len its
 * length. Deterministic: the same input gives the same bytes. Thread-safe, never blocks.
 * Returns LOY_EINVALID (logged at warn with the reason) for input pass_input_check refuses,
 * LOY_ENOMEM. */
enum loy_err pass_build_json(const struct pass_input *in, char **json, size_t *len);

/* The SHA-256 (hex) of everything the pass carries: the manifest of pass.json and the images,
 * which covers every text, colour, image, location, URL and token, and not the signing time or
 * updated_at. Two inputs have the same hash exactly when their passes differ only in their
 * signatures and the files' times in the zip. A release that changes what the builder writes
 * changes the hashes too, so passes are rebuilt then, as they should be. Costs a pass.json build
 * (tens of microseconds) and the SHA-1 of any image without a sha1. Errors as pass_build_json. */
enum loy_err pass_content_hash(const struct pass_input *in, char out[PASS_CONTENT_HASH_LEN + 1]);

/* Builds the signed .pkpass: a zip, made in memory, of pass.json, the images (bundle names from
 * images.h), manifest.json (the SHA-1 hex of every other file, keyed by its name) and signature
 * (signer_sign_manifest over manifest.json's exact bytes), in that fixed order, with no
 * directories or metadata files. Every file is stored, not deflated (pass.c says why).
 * On success *out is malloc'd (the caller frees it) and holds *out_len bytes; when content_hash is
 * not NULL it receives what pass_content_hash(in) returns. Thread-safe (s may be shared), never
 * blocks on I/O; costs about one RSA signature.
 * Returns LOY_EINVALID (logged at warn) for input pass_input_check refuses, for a
 * passTypeIdentifier or teamIdentifier other than the signer's (Apple's "common problems") and
 * for images without icon.png; LOY_EUNAVAILABLE when the signer's certificate has expired;
 * LOY_ENOMEM; LOY_EINTERNAL when libzip or OpenSSL fails. */
enum loy_err pass_build_pkpass(struct signer *s, const struct pass_input *in, unsigned char **out,
			       size_t *out_len, char content_hash[PASS_CONTENT_HASH_LEN + 1]);

#endif
