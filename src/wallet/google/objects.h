/* The Google Wallet resource builders: from what a card template and a customer's card show to the
 * JSON bodies of Google's walletobjects v1 REST API (../shared/specs/google-wallet.md §2.2–§2.6):
 * a loyaltyClass per card template, a loyaltyObject per customer, the PATCH that brings an object
 * up to date, and the addMessage body of campaign news. Pure functions of their inputs, like the
 * Apple pass builder (wallet/apple/pass.h): no database, no HTTP, no clock (times come in), no
 * logging; thread-safe; jansson for the JSON.
 *
 * What the card shows, in Russian (one label table in objects.c):
 *   class   issuerName (the business), programName, programLogo, heroImage (the strip),
 *           hexBackgroundColor, accountIdLabel "Номер карты", accountNameLabel "Имя",
 *           linksModuleData (website, tel:, mailto:, terms URL), textModulesData (terms text),
 *           merchantLocations (the first 10), callbackOptions, countryCode
 *   object  accountId (the card number), accountName, loyaltyPoints "Баллы" {int: balance},
 *           secondaryLoyaltyPoints "Уровень" {string: tier}, barcode (QR of the card number, the
 *           number in groups beneath it), state ACTIVE or INACTIVE (a blocked customer)
 *
 * The callers keep, per class and per object, the content hash of what Google has, and send a
 * class or object again only when gw_class_hash / gw_object_hash of the current input differs
 * (issue 4: nothing is sent twice). A release that changes what these builders write changes the
 * hashes too, so every card is brought up to date then, as it should be.
 *
 * Google's length figures for names and labels (issuerName and programName 20 characters before
 * an ellipsis, labels 9, ...) are recommendations for small screens: texts longer than that are
 * sent whole and Google shortens them on screen. The caps below are Loy's own bounds on what it
 * sends, far above what the API layer accepts; Google documents no hard length cap for these
 * fields (spec §2.3). */
#ifndef LOY_WALLET_GOOGLE_OBJECTS_H
#define LOY_WALLET_GOOGLE_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/url.h"
#include "crypto/digest.h"

/* Limits, in bytes of UTF-8 unless said otherwise. */
#define GW_ISSUER_ID_MAX 20  /* digits: Google's issuer ids are 19-digit numbers */
#define GW_ID_SUFFIX_MAX 100 /* the part after "<issuerId>." : [A-Za-z0-9._-] */
#define GW_ID_MAX (GW_ISSUER_ID_MAX + 1 + GW_ID_SUFFIX_MAX) /* a buffer needs GW_ID_MAX + 1 */
#define GW_MESSAGE_ID_MAX 100				    /* [A-Za-z0-9._-], like the ids */
#define GW_ACCOUNT_ID_MAX 32	 /* the card number: letters and digits, as on the Apple pass */
#define GW_LINE_MAX 800		 /* names, labels, tier, a message's header */
#define GW_TEXT_MAX 8000	 /* the terms, a message's body */
#define GW_URL_MAX URL_MAX	 /* 500 */
#define GW_LOCATIONS_MAX 10	 /* Google's: "beyond the 10 will be rejected" */
#define GW_LATITUDE_MAX 90000000 /* micro-degrees */
#define GW_LONGITUDE_MAX 180000000
#define GW_TIME_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z, in ms since the epoch */
#define GW_HASH_LEN SHA256_HEX_LEN

/* A business location. Coordinates are integer micro-degrees (55.755826 is 55755826); the JSON
 * gets them as numbers that read back as exactly that decimal (objects.c says how). */
struct gw_location {
	int32_t latitude_e6, longitude_e6;
};

/* A card template as a loyaltyClass. Strings are NUL-terminated UTF-8 owned by the caller;
 * optional ones may be NULL or "" (left out). */
struct gw_class_input {
	const char *issuer_id;	    /* 1..GW_ISSUER_ID_MAX digits */
	const char *class_suffix;   /* e.g. "b12-t3" (business 12, template 3) */
	const char *issuer_name;    /* the business name; required */
	const char *program_name;   /* required: the template's programName or the business name */
	const char *logo_uri;	    /* http(s) URL of the program logo (Loy serves it); required */
	const char *hero_uri;	    /* optional: the wide image (the strip) */
	const char *hex_background; /* optional: "#rrggbb" or "#rgb" */
	/* optional, the links module: an http(s) URL, a phone number (E.164 or as phone_normalize
	 * reads it; sent as tel:+...), an e-mail address (sent as mailto:), an http(s) URL */
	const char *homepage_uri, *phone, *email, *terms_uri;
	const char *terms_text; /* optional: a text module */
	/* The first GW_LOCATIONS_MAX are sent as merchantLocations and the rest dropped, the
	 * caller's order being its priority: a business opening its eleventh shop must not stop
	 * its class from updating (the Apple pass does the same). */
	const struct gw_location *locations;
	size_t nlocations;
	const char *callback_url; /* optional: callbackOptions.url (Google calls HTTPS only) */
	const char *country_code; /* optional: ISO 3166-1 alpha-2, "RU" */
};

/* A customer's card as a loyaltyObject. Strings as above. */
struct gw_object_input {
	const char *issuer_id, *object_suffix, *class_suffix;
	const char *account_id;	  /* the card number (the QR code's value and accountId) */
	const char *account_name; /* the customer's name, optional */
	/* Absolute points, never a delta (spec §2.4). Sent as loyaltyPoints.balance.int, which is
	 * an int32 (spec §2.3): a balance outside INT32_MIN..INT32_MAX is refused (LOY_EINVALID)
	 * rather than sent as balance.string, because switching one card between the two forms
	 * could leave both set on Google's side (nested PATCH merging is unspecified, §2.9) and
	 * Google rejects an object with more than one. 2 147 483 647 points is far beyond any
	 * real programme. */
	int64_t balance;
	const char *points_label; /* optional: "Баллы" when NULL or "" */
	/* Optional: shown on the card's front as secondaryLoyaltyPoints {label "Уровень",
	 * balance {string: tier}}, the one object field beside the balance that the card face
	 * shows (a loyaltyObject has no rewardsTier: that is a class field, one for every holder;
	 * a text module would only show in the details). Google recommends at most 7 characters
	 * for a balance string; longer tiers are sent whole. */
	const char *tier;
	bool active; /* false: state INACTIVE (a blocked customer) */
};

/* Checks in: LOY_OK, or LOY_EINVALID with *why set to a sentence naming the field (static
 * storage). The builders below run the same checks. */
enum loy_err gw_class_check(const struct gw_class_input *in, const char **why);
enum loy_err gw_object_check(const struct gw_object_input *in, const char **why);

/* The whole loyaltyClass, for insert (POST) or update (PUT): *json is malloc'd, NUL-terminated
 * compact JSON (the caller frees it). review_status is "DRAFT" or "UNDER_REVIEW", the only two a
 * client may send (spec §2.3; keep sending UNDER_REVIEW once the class was approved).
 * Deterministic: the same input gives the same bytes. Returns LOY_EINVALID with *why set (static
 * storage) for input gw_class_check refuses or another review status, LOY_ENOMEM. */
enum loy_err gw_class_json(const struct gw_class_input *in, const char *review_status, char **json,
			   const char **why);

/* The whole loyaltyObject, for insert (POST): as gw_class_json. */
enum loy_err gw_object_json(const struct gw_object_input *in, char **json, const char **why);

/* The PATCH body that brings an existing object up to date, whatever Google showed before: every
 * field the object shows, with absolute values (spec §2.4) — classId, state, accountId,
 * accountName, loyaltyPoints, secondaryLoyaltyPoints, barcode — and no id (the path carries it).
 * A field the card no longer shows (no name, no tier) is sent as null, which clears it under
 * Google's patch semantics; leaving it out would leave the old value on the card. With notify,
 * "notifyPreference":"NOTIFY_ON_UPDATE" is added: the setting is ephemeral and must ride on each
 * PATCH that should notify (spec §2.6); Google then pushes only if an allowlisted field changed
 * (loyaltyPoints.balance is one). Errors as gw_object_json. */
enum loy_err gw_object_patch_json(const struct gw_object_input *in, bool notify, char **json,
				  const char **why);

/* The SHA-256 (hex) of what the class / object shows: of the JSON gw_class_json (without
 * reviewStatus) / gw_object_json writes, so two inputs have the same hash exactly when Google
 * would be sent the same class / object. Notification flags are no part of it. LOY_EINVALID for
 * input the checks refuse, LOY_ENOMEM. */
enum loy_err gw_class_hash(const struct gw_class_input *in, char out[GW_HASH_LEN + 1]);
enum loy_err gw_object_hash(const struct gw_object_input *in, char out[GW_HASH_LEN + 1]);

/* Writes the class or object id "<issuerId>.<suffix>" into out (GW_ID_MAX + 1 bytes suffice).
 * False, with out untouched, when issuer_id is not 1..GW_ISSUER_ID_MAX digits, suffix not
 * 1..GW_ID_SUFFIX_MAX of [A-Za-z0-9._-] (Google: "alphanumeric characters, '.', '_', or '-'")
 * or cap too small. */
bool gw_id(const char *issuer_id, const char *suffix, char *out, size_t cap);

/* The addMessage body:
 *   {"message":{"id","header","body","messageType","displayInterval":{"start":{"date"},
 *    "end":{"date"}}}}
 * messageType TEXT_AND_NOTIFY when notify (a push, counted in Google's 3 per card per 24 h, spec
 * §2.6), else TEXT; the dates are UTC ISO 8601 with milliseconds. message_id is
 * 1..GW_MESSAGE_ID_MAX of [A-Za-z0-9._-] (Google does not enforce unique ids; Loy uses them to
 * find its own messages again), header 1..GW_LINE_MAX and body 1..GW_TEXT_MAX bytes of UTF-8,
 * 0 <= start_ms < end_ms <= GW_TIME_MAX. Errors as gw_object_json. */
enum loy_err gw_message_json(const char *message_id, const char *header, const char *body,
			     bool notify, int64_t start_ms, int64_t end_ms, char **json,
			     const char **why);

#endif
