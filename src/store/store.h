/* The store: Loy's domain operations over the database (businesses, customers, the ledger,
 * idempotency records, staff, API keys, sessions, templates, the outbox, the audit log). One
 * interface for SQLite and PostgreSQL: the SQL below it is shared, the drivers differ (db.h).
 *
 * Callers frame a unit of work with store_read or store_write and call the operations with the
 * store_tx they are handed, so that several operations (a ledger row, the new balance, the outbox job,
 * the idempotency record) commit together or not at all. Inside a store_write callback never block on
 * anything but the database (no password hashing, no network): with SQLite the callback runs on the
 * single writer thread.
 *
 * Strings in the structs below live in the tx's arena (or the caller's, for inputs). */
#ifndef LOY_STORE_STORE_H
#define LOY_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/loyalty.h"
#include "core/roles.h"

struct store;

struct store_tx {
	struct db_conn *c;
	struct arena *a;
	int64_t now;	 /* ms since the epoch, fixed for the transaction */
	int jobs_queued; /* outbox jobs this transaction queued (see store_on_jobs) */
};

typedef enum loy_err (*store_fn)(struct store_tx *tx, void *ctx);

struct store_options {
	int pool_size;
};

enum loy_err store_open(const char *url, const struct store_options *opt, struct store **out);
void store_close(struct store *st);
bool store_is_postgres(const struct store *st);
enum loy_err store_migrate(struct store *st, int *applied);
enum loy_err store_backup(struct store *st, const char *path);
/* Runs fn on a read snapshot / in a durable transaction; results go to arena a. */
enum loy_err store_read(struct store *st, struct arena *a, store_fn fn, void *ctx);
enum loy_err store_write(struct store *st, struct arena *a, store_fn fn, void *ctx);
/* Asynchronous durable writes (SQLite only, see store_can_write_async): fn runs on the writer
 * thread; on_done(arg, err) follows, on that thread, once the commit is durable or failed. Every
 * pointer handed in must live until on_done; the frame is allocated from arena a. */
bool store_can_write_async(const struct store *st);
enum loy_err store_write_async(struct store *st, struct arena *a, store_fn fn, void *ctx,
			       void (*on_done)(void *arg, enum loy_err err), void *arg);
/* Inside a unit of work: runs fn in a savepoint, so that a failing fn undoes only its own changes. */
enum loy_err store_savepoint(struct store_tx *tx, store_fn fn, void *ctx);
/* fn(arg) is called after every durable write that queued outbox jobs has committed (on the
 * committing thread: keep it short), so that the outbox starts on them at once instead of at its
 * next poll. Set it before writes begin; fn and arg must outlive every write. NULL: none. */
void store_on_jobs(struct store *st, void (*fn)(void *arg), void *arg);
/* A cheap round trip, for /readyz. */
enum loy_err store_ping(struct store *st);

/* ---- businesses ---- */
struct business {
	int64_t id;
	const char *slug, *name;
	const char *contact_phone, *contact_email, *contact_website, *contact_address; /* or NULL */
	struct loyalty_settings loyalty;
	int64_t created_at, updated_at;
};

enum loy_err store_business_insert(struct store_tx *tx, struct business *b); /* sets id */
enum loy_err store_business_get(struct store_tx *tx, int64_t id, struct business *out);
enum loy_err store_business_by_slug(struct store_tx *tx, const char *slug, struct business *out);
/* The install's first business: the one public pages serve when none is named. */
enum loy_err store_business_default(struct store_tx *tx, struct business *out);
/* Writes name, contacts and loyalty settings of b (matched by id). */
enum loy_err store_business_update(struct store_tx *tx, const struct business *b);

/* ---- customers ---- */
struct customer {
	int64_t id, business_id;
	const char *card_number, *name, *phone, *email, *birthday; /* email/birthday may be NULL */
	int64_t balance, total_spent;
	const char *status, *source;
	const char *tags; /* ",a,b," form: each tag wrapped in commas, "" when none */
	const char *notes;
	const char *consent_version, *consent_ip; /* NULL when consent was not recorded */
	int64_t consent_at;			  /* 0 when not recorded */
	const char *search;			  /* folded text the list query matches */
	int64_t created_at, last_activity;	  /* last_activity 0: never */
};

/* Inserts c with a fresh card number (sets id, card_number, created_at). LOY_ECONFLICT if the phone
 * is registered in the business. */
enum loy_err store_customer_insert(struct store_tx *tx, struct customer *c);
/* LOY_ENOTFOUND unless the customer exists in this business and is not erased. */
enum loy_err store_customer_get(struct store_tx *tx, int64_t business_id, int64_t id,
				struct customer *out);
enum loy_err store_customer_by_card(struct store_tx *tx, int64_t business_id, const char *card,
				    struct customer *out);
enum loy_err store_customer_by_phone(struct store_tx *tx, int64_t business_id, const char *phone,
				     struct customer *out);
/* LOY_ECONFLICT if another customer of the business (not except_id) has this e-mail. */
enum loy_err store_customer_email_taken(struct store_tx *tx, int64_t business_id, const char *email,
					int64_t except_id);
/* Writes the editable fields (name, phone, email, birthday, status, tags, notes, search) and
 * queues the card's wallet update. LOY_ECONFLICT if the new phone is taken. */
enum loy_err store_customer_update(struct store_tx *tx, const struct customer *c);
/* Erases personal data (152-FZ) and hides the customer; the ledger stays. */
enum loy_err store_customer_erase(struct store_tx *tx, int64_t business_id, int64_t id);
/* Adds delta to the balance and spent to total_spent atomically, refusing to go below zero
 * (LOY_EBALANCE) whatever runs concurrently, and — when refuse_blocked — refusing a blocked
 * customer (LOY_ERULE). Sets *balance_after. */
enum loy_err store_customer_apply(struct store_tx *tx, int64_t business_id, int64_t id,
				  int64_t delta, int64_t spent, bool refuse_blocked,
				  int64_t *balance_after);

struct customer_query {
	const char *search; /* folded, NULL: any */
	const char *status; /* NULL: any */
	const char *tag;    /* NULL: any */
	int64_t before_id;  /* cursor: ids below this; 0: from the newest */
	int limit;
};

/* Lists up to q->limit customers newest first; *next is the cursor for the next page or 0. */
enum loy_err store_customer_list(struct store_tx *tx, int64_t business_id,
				 const struct customer_query *q, struct customer **items, int *n,
				 int64_t *next);

/* ---- the ledger ---- */
struct ledger_entry {
	int64_t id, business_id, customer_id;
	enum ledger_type type;
	int64_t amount; /* signed change of the balance */
	int64_t balance_after;
	const char *description, *order_id, *operator_id; /* or NULL */
	const char *channel;
	int64_t reversal_of; /* 0: none */
	bool refuse_blocked; /* write side: LOY_ERULE if the customer is blocked */
	int64_t reversed_by; /* 0: none (read side only) */
	int64_t created_at;
};

/* Applies e->amount to the customer's balance, appends the entry and queues the card's wallet
 * updates (store_wallet_card_changed), atomically: sets id,
 * balance_after and created_at. LOY_EBALANCE if the balance would go below zero; LOY_ENOTFOUND for an
 * unknown customer; LOY_ECONFLICT if e->reversal_of is already reversed. spent adds to total_spent. */
enum loy_err store_ledger_post(struct store_tx *tx, struct ledger_entry *e, int64_t spent);
enum loy_err store_ledger_get(struct store_tx *tx, int64_t business_id, int64_t id,
			      struct ledger_entry *out);
enum loy_err store_ledger_list(struct store_tx *tx, int64_t business_id, int64_t customer_id,
			       int64_t before_id, int limit, struct ledger_entry **items, int *n,
			       int64_t *next);

/* Customers whose balance differs from the sum of their ledger; calls fn for each, counts them. */
typedef void (*store_mismatch_fn)(int64_t customer_id, int64_t balance, int64_t ledger_sum,
				  void *ctx);
enum loy_err store_verify(struct store_tx *tx, store_mismatch_fn fn, void *ctx, int64_t *mismatches,
			  int64_t *checked);

/* ---- upkeep ---- */
struct expiry_due {
	int64_t business_id, customer_id, balance, expiration_days;
};

/* Customers with points whose last activity is older than their business's expirationDays. */
enum loy_err store_expiry_due(struct store_tx *tx, int limit, struct expiry_due **rows, int *n);
/* Deletes Idempotency-Key records created before `before` (orderId records stay forever),
 * sessions expired before now and Google notification records before `before`. Sets *pruned to
 * the rows deleted. */
enum loy_err store_prune(struct store_tx *tx, int64_t before, int64_t *pruned);

/* ---- idempotency ---- */
struct idem_replay {
	bool replayed; /* true: a stored response was found */
	int status;
	const char *body;
};

/* Claims (scope, key) for a request with this hash. LOY_OK with replay->replayed false: the caller
 * owns the key and must store_idem_finish it in the same transaction. LOY_OK with replayed true: the
 * first response is in replay. LOY_EIDEMPOTENCY: the key was used with another request. */
enum loy_err store_idem_claim(struct store_tx *tx, int64_t business_id, const char *scope,
			      const char *key, const char *hash, struct idem_replay *replay);
enum loy_err store_idem_finish(struct store_tx *tx, int64_t business_id, const char *scope,
			       const char *key, int status, const char *body);

/* ---- staff ---- */
struct user {
	int64_t id, business_id;
	const char *email, *name; /* name may be NULL */
	enum role role;
	const char *password_hash;
	bool disabled;
	int64_t created_at, last_login_at;
};

enum loy_err store_user_insert(struct store_tx *tx, struct user *u); /* LOY_ECONFLICT: email */
enum loy_err store_user_get(struct store_tx *tx, int64_t business_id, int64_t id, struct user *out);
enum loy_err store_user_by_email(struct store_tx *tx, const char *email, struct user *out);
enum loy_err store_user_list(struct store_tx *tx, int64_t business_id, struct user **items, int *n);
enum loy_err store_user_update(struct store_tx *tx, const struct user *u);
enum loy_err store_user_delete(struct store_tx *tx, int64_t business_id, int64_t id);
enum loy_err store_user_count(struct store_tx *tx, int64_t *n);
/* Enabled users of the business holding exactly this role. */
enum loy_err store_user_count_role(struct store_tx *tx, int64_t business_id, enum role role,
				   int64_t *n);
enum loy_err store_user_touch_login(struct store_tx *tx, int64_t id);

/* ---- API keys ---- */
struct api_key {
	int64_t id, business_id;
	const char *name;
	enum role role;
	const char *prefix, *key_hash;
	int64_t created_at, last_used_at, revoked_at; /* 0: never */
};

enum loy_err store_apikey_insert(struct store_tx *tx, struct api_key *k);
enum loy_err store_apikey_get(struct store_tx *tx, int64_t business_id, int64_t id,
			      struct api_key *out);
enum loy_err store_apikey_by_prefix(struct store_tx *tx, const char *prefix, struct api_key *out);
enum loy_err store_apikey_list(struct store_tx *tx, int64_t business_id, struct api_key **items,
			       int *n);
enum loy_err store_apikey_revoke(struct store_tx *tx, int64_t business_id, int64_t id);
enum loy_err store_apikey_touch(struct store_tx *tx, int64_t id);

/* ---- sessions ---- */
struct session {
	const char *token_hash;
	int64_t user_id, business_id;
	const char *csrf_token;
	int64_t created_at, expires_at;
};

enum loy_err store_session_insert(struct store_tx *tx, const struct session *s);
/* LOY_ENOTFOUND for unknown or expired sessions and for disabled users. */
enum loy_err store_session_get(struct store_tx *tx, const char *token_hash, struct session *s,
			       struct user *u);
enum loy_err store_session_delete(struct store_tx *tx, const char *token_hash);

/* ---- card templates ---- */
struct card_template {
	int64_t id, business_id;
	const char *name;
	bool is_default;
	const char *design, *content, *settings; /* JSON objects, checked by the API */
	int64_t created_at, updated_at;
};

/* Inserts t (sets id and times). A default template takes the flag from the others; the first
 * template of a business is its default whatever t says. */
enum loy_err store_template_insert(struct store_tx *tx, struct card_template *t);
enum loy_err store_template_get(struct store_tx *tx, int64_t business_id, int64_t id,
				struct card_template *out);
enum loy_err store_template_list(struct store_tx *tx, int64_t business_id,
				 struct card_template **items, int *n);
/* Writes name, flag and JSON of t; setting the flag clears it elsewhere. */
enum loy_err store_template_update(struct store_tx *tx, struct card_template *t);
/* LOY_ERULE when t is the default and other templates exist. */
enum loy_err store_template_delete(struct store_tx *tx, int64_t business_id, int64_t id);
/* The template's default flag and JSON, by business: its default template (LOY_ENOTFOUND when the
 * business has none). */
enum loy_err store_template_default(struct store_tx *tx, int64_t business_id,
				    struct card_template *out);

/* ---- card template images (Apple Wallet icon, logo, strip at @1x/@2x/@3x) ---- */
struct template_image {
	int64_t template_id;
	const char *name; /* "icon", "icon@2x", "icon@3x", "logo", ..., "strip@3x" */
	const unsigned char *png;
	size_t len;
	const char *sha1; /* hex, of the bytes */
	int64_t updated_at;
};

/* Stores (replacing) one image of a template, already checked by pass_png_check, with the SHA-1
 * the caller computed (img->sha1), and moves the template's updated_at strictly forward (the key
 * of cached builds). LOY_ENOTFOUND: no such template in the business. */
enum loy_err store_template_image_put(struct store_tx *tx, int64_t business_id,
				      const struct template_image *img);
/* LOY_ENOTFOUND when the template or the image does not exist (nothing changes then); otherwise
 * moves updated_at strictly forward. */
enum loy_err store_template_image_delete(struct store_tx *tx, int64_t business_id,
					 int64_t template_id, const char *name);
/* Every image of the template (bytes in the tx arena: up to some 5 MB when every slot is full), in
 * name order; *n is 0 when the template has none or is not the business's. LOY_EIO if a stored
 * image does not decode. */
enum loy_err store_template_images(struct store_tx *tx, int64_t business_id, int64_t template_id,
				   struct template_image **rows, int *n);
/* One image with its bytes (tx arena). LOY_ENOTFOUND when the template has no such image. */
enum loy_err store_template_image_get(struct store_tx *tx, int64_t business_id, int64_t template_id,
				      const char *name, struct template_image *out);
/* Like store_template_images without the bytes (png NULL, len the size): for listings. */
enum loy_err store_template_image_list(struct store_tx *tx, int64_t business_id,
				       int64_t template_id, struct template_image **rows, int *n);

/* ---- business locations (where the card comes up on the lock screen) ---- */
struct location {
	int64_t id, business_id;
	const char *name;
	int32_t latitude_e6, longitude_e6; /* micro-degrees */
	const char *relevant_text;	   /* or NULL */
	int64_t created_at, updated_at;
};

#define STORE_LOCATIONS_MAX 100 /* per business */

/* Sets id and times. LOY_ERULE when the business has STORE_LOCATIONS_MAX already (checked under a
 * lock of the business row, so concurrent inserts cannot pass it together). */
enum loy_err store_location_insert(struct store_tx *tx, struct location *l);
enum loy_err store_location_get(struct store_tx *tx, int64_t business_id, int64_t id,
				struct location *out);
/* The business's locations, oldest first (the first 10 are the ones a pass carries). */
enum loy_err store_location_list(struct store_tx *tx, int64_t business_id, struct location **items,
				 int *n);
/* Writes name, coordinates and relevant_text of l (matched by business and id); sets updated_at.
 * LOY_ENOTFOUND when there is no such location. */
enum loy_err store_location_update(struct store_tx *tx, struct location *l);
enum loy_err store_location_delete(struct store_tx *tx, int64_t business_id, int64_t id);

/* ---- Apple Wallet passes and the devices that hold them ---- */
struct apple_pass {
	int64_t customer_id, business_id;
	const char *pass_type_id, *serial, *auth_token, *link_token;
	const char *content_hash; /* of what the stored build shows; NULL before the first build */
	int64_t modified_at, created_at; /* ms; modified_at is Last-Modified and the update tag */
};

/* The customer's pass, created on first use with a random serial number, authentication token
 * and download-link token (none of which ever change afterwards but the link, see below). */
enum loy_err store_apple_pass_ensure(struct store_tx *tx, int64_t business_id, int64_t customer_id,
				     const char *pass_type_id, struct apple_pass *out);
enum loy_err store_apple_pass_by_serial(struct store_tx *tx, const char *pass_type_id,
					const char *serial, struct apple_pass *out);
enum loy_err store_apple_pass_by_link(struct store_tx *tx, const char *link_token,
				      struct apple_pass *out);
/* Records that the pass now shows what content_hash names: when that differs from before,
 * modified_at moves to now and *changed is true (the pass must be pushed). */
enum loy_err store_apple_pass_content(struct store_tx *tx, int64_t customer_id,
				      const char *content_hash, bool *changed);
/* Registers a device (library_id, with its current push token; kind "apple" or "android") for a
 * pass. *created is false when it already was (Apple answers 200 then, 201 otherwise). */
enum loy_err store_apple_register(struct store_tx *tx, const char *library_id,
				  const char *push_token, const char *kind, const char *serial,
				  bool *created);
/* LOY_ENOTFOUND when there was no such registration. A device left holding no pass is deleted. */
enum loy_err store_apple_unregister(struct store_tx *tx, const char *library_id,
				    const char *serial);
/* Serial numbers of this type's passes the device holds that changed after `since` (ms; 0: all),
 * and the next tag: the newest modified_at among them, but never within a few seconds of now, so
 * that a change committing around this call is listed again rather than missed (apple.c). */
enum loy_err store_apple_updated(struct store_tx *tx, const char *library_id,
				 const char *pass_type_id, int64_t since, const char ***serials,
				 int *n, int64_t *last);
/* Gives the customer's pass a new random download-link token (the old link stops working);
 * LOY_ENOTFOUND when the customer has no pass. Sets out to the updated pass. */
enum loy_err store_apple_link_rotate(struct store_tx *tx, int64_t business_id, int64_t customer_id,
				     struct apple_pass *out);
/* Keeps a message a device sent to the log endpoint, with the serial number it names (or NULL)
 * when that is a known pass's, and that pass's business. */
enum loy_err store_apple_log(struct store_tx *tx, const char *serial, const char *message);

/* The customer's pass; LOY_ENOTFOUND when none was made (the customer never asked for one). */
enum loy_err store_apple_pass_get(struct store_tx *tx, int64_t customer_id, struct apple_pass *out);

/* One device holding one pass, with the delivery chain of the pass's updates to it. Times in ms,
 * 0 for never. */
struct apple_registration {
	int64_t device_id;
	const char *serial, *library_id, *push_token;
	const char *kind;	     /* "apple" or "android" */
	int64_t token_updated_at;    /* when the device last (re)registered its push token */
	int64_t created_at;	     /* registered */
	int64_t pushed_at;	     /* last push attempt */
	int64_t pushed_version;	     /* the pass's modified_at that push announced */
	const char *push_status;     /* "done", "retry: <why>", ...; NULL before the first push */
	int64_t listed_at;	     /* the device last asked which passes changed */
	int64_t listed_since;	     /* ...since this tag: the version it held then */
	int64_t fetched_at;	     /* the device last downloaded the pass */
	int64_t fetched_modified_at; /* ...and the version it got */
};

/* Every registration of a pass, oldest first. */
enum loy_err store_apple_registrations(struct store_tx *tx, const char *serial,
				       struct apple_registration **rows, int *n);
/* Registrations of a pass still owed a push of `version`: never pushed it (pushed_version below
 * it or unset) or whose last push of it must be tried again (push_status not "done"). */
enum loy_err store_apple_push_due(struct store_tx *tx, const char *serial, int64_t version,
				  struct apple_registration **rows, int *n);
/* Records a push of `version` to the device for the pass and how it went ("done",
 * "retry: <why>", "cert_broken: <why>", "failed: <why>"). */
enum loy_err store_apple_pushed(struct store_tx *tx, int64_t device_id, const char *serial,
				int64_t version, const char *status);
/* APNs said the device's push token is gone (410 at `since`, or a bad token: since = now): drops
 * the device and its registrations, unless it registered its token again after `since`. */
enum loy_err store_apple_device_gone(struct store_tx *tx, int64_t device_id, int64_t since);
/* The device asked which of its passes of this type changed since `since` (the tag it holds). */
enum loy_err store_apple_listed(struct store_tx *tx, const char *library_id,
				const char *pass_type_id, int64_t since);
/* A device downloaded the pass at `version`: recorded on the registrations of the devices that
 * were sent to fetch it (they listed it in the last 10 minutes), or on its only registration. */
enum loy_err store_apple_fetched(struct store_tx *tx, const char *serial, int64_t version);

/* Queues job "apple.push" {"customer":id} in the caller's transaction when the customer has a
 * pass (nothing otherwise): call it in every transaction that changes what the card shows. */
enum loy_err store_apple_enqueue_push(struct store_tx *tx, int64_t business_id,
				      int64_t customer_id);
/* Queues job "apple.refresh" {"after":0}: every pass of the business is looked at again, in
 * batches (a template, the business's contacts or locations changed). */
enum loy_err store_apple_enqueue_refresh(struct store_tx *tx, int64_t business_id);
/* Customers of the business with a pass and an id above `after`, ascending, at most limit. */
enum loy_err store_apple_passes_after(struct store_tx *tx, int64_t business_id, int64_t after,
				      int limit, int64_t **customer_ids, int *n);

struct apple_log_entry {
	int64_t id;
	const char *serial; /* NULL: named no known pass */
	const char *message;
	int64_t created_at;
};

/* Log messages devices sent about the business's passes, newest first; serial NULL: all of them. */
enum loy_err store_apple_log_list(struct store_tx *tx, int64_t business_id, const char *serial,
				  int limit, struct apple_log_entry **rows, int *n);

/* ---- Google Wallet: a loyaltyClass per card template, a loyaltyObject per customer ---- */
struct google_object {
	int64_t customer_id, business_id;
	const char *object_id;	  /* "<issuer>.c<customer>-<random>" */
	const char *class_id;	  /* the class it was inserted into; NULL before */
	const char *link_token;	  /* of the "Add to Google Wallet" link */
	const char *content_hash; /* of what Google shows; NULL before the insert */
	int64_t balance_sent;	  /* the balance Google shows (valid when has_balance_sent) */
	bool has_balance_sent;
	bool saved; /* in a wallet now, by the callbacks */
	int64_t saved_at, deleted_at, patched_at, created_at;
	const char *last_error; /* Google's refusal, for the admin; NULL when fine */
};

/* The customer's object row, made on first use with a random id suffix and link token. */
enum loy_err store_google_object_ensure(struct store_tx *tx, int64_t business_id,
					int64_t customer_id, const char *issuer_id,
					struct google_object *out);
enum loy_err store_google_object_get(struct store_tx *tx, int64_t customer_id,
				     struct google_object *out);
enum loy_err store_google_object_by_link(struct store_tx *tx, const char *link_token,
					 struct google_object *out);
/* Google now shows content_hash (balance included) in class_id: clears last_error. */
enum loy_err store_google_object_synced(struct store_tx *tx, int64_t customer_id,
					const char *class_id, const char *content_hash,
					int64_t balance);
enum loy_err store_google_object_error(struct store_tx *tx, int64_t customer_id, const char *error);
/* A save (saved true) or delete callback for object_id; *known false when no such object. */
enum loy_err store_google_object_saved(struct store_tx *tx, const char *object_id, bool saved,
				       bool *known);

/* The class of the business's template (template_id 0: the plain card of a business without
 * one), made on first use with a random id suffix. */
struct google_class {
	int64_t template_id, business_id;
	const char *class_id, *content_hash, *last_error; /* hash NULL before the insert */
	int64_t updated_at;
};

enum loy_err store_google_class_ensure(struct store_tx *tx, int64_t business_id,
				       int64_t template_id, const char *issuer_id,
				       struct google_class *out);
enum loy_err store_google_class_synced(struct store_tx *tx, const struct google_class *c,
				       const char *content_hash);
enum loy_err store_google_class_error(struct store_tx *tx, const struct google_class *c,
				      const char *error);

/* The notification budget (Google: 3 notifying updates or messages per card per 24 h): how many
 * were sent since `since`; record one; forget those before `before` (adding to *pruned; called by
 * store_prune). */
enum loy_err store_google_notifications(struct store_tx *tx, int64_t customer_id, int64_t since,
					int64_t *n);
enum loy_err store_google_notified(struct store_tx *tx, int64_t customer_id);
enum loy_err store_google_prune(struct store_tx *tx, int64_t before, int64_t *pruned);

struct google_message {
	int64_t id, business_id, customer_id;
	const char *message_id; /* the id sent to Google, "loy-<random>" */
	const char *header, *body;
	const char *state; /* queued, sent, failed */
	bool notified;
	const char *last_error;
	int64_t created_at, sent_at;
};

/* Inserts m (business, customer, header, body set; sets the rest) and queues its job
 * "google.message" {"message": id} in the same transaction. */
enum loy_err store_google_message_insert(struct store_tx *tx, struct google_message *m);
enum loy_err store_google_message_get(struct store_tx *tx, int64_t id, struct google_message *out);
enum loy_err store_google_message_done(struct store_tx *tx, int64_t id, const char *state,
				       bool notified, const char *error);
/* The customer's messages, newest first. */
enum loy_err store_google_messages_list(struct store_tx *tx, int64_t customer_id, int limit,
					struct google_message **rows, int *n);
/* Records a callback's nonce; *first false when it was seen before (Google repeats them). */
enum loy_err store_google_callback_seen(struct store_tx *tx, const char *nonce,
					const char *object_id, const char *event_type, bool *first);

/* Queues "google.object" {"customer":id} when the customer has a Google object. */
enum loy_err store_google_enqueue_object(struct store_tx *tx, int64_t business_id,
					 int64_t customer_id);
/* Queues "google.class" {} for the business's default template when Google Wallet is on
 * (google_on) or the business has Google objects. */
enum loy_err store_google_enqueue_class(struct store_tx *tx, int64_t business_id, bool google_on);

/* ---- both wallets ---- */
/* What a card shows changed (balance, name, status): both wallets' updates, queued in tx. */
enum loy_err store_wallet_card_changed(struct store_tx *tx, int64_t business_id,
				       int64_t customer_id);
/* What every card of the business shows changed (its default template, images, locations, name,
 * contacts): both wallets' refreshes, queued in tx. */
enum loy_err store_wallet_design_changed(struct store_tx *tx, int64_t business_id, bool google_on);

/* ---- the outbox ---- */
/* Queues an external effect in the caller's transaction. */
enum loy_err store_job_enqueue(struct store_tx *tx, int64_t business_id, const char *kind,
			       const char *payload);
enum loy_err store_job_depth(struct store_tx *tx, int64_t *queued, int64_t *dead);

struct job_row {
	int64_t id, business_id;
	const char *kind, *payload;
	int attempts;
	const char *state, *last_error; /* filled by store_job_get / store_job_list */
	int64_t run_at, created_at, updated_at;
};

enum loy_err store_job_get(struct store_tx *tx, int64_t business_id, int64_t id,
			   struct job_row *out);
/* Jobs of a business in a state ("queued", "running", "done", "dead"), newest first. */
enum loy_err store_job_list(struct store_tx *tx, int64_t business_id, const char *state, int limit,
			    struct job_row **rows, int *n);

/* Leases up to limit due jobs (queued and due, or running with an expired lease) until
 * now + lease_ms, counting the attempt. Two workers never hold the same job at once. */
enum loy_err store_job_claim(struct store_tx *tx, int limit, int64_t lease_ms,
			     struct job_row **rows, int *n);
/* Settles a claimed job: state "done", "queued" (retry at run_at) or "dead", keeping error.
 * Fenced by attempts: a job re-claimed after its lease ran out is not settled by the old holder. */
enum loy_err store_job_settle(struct store_tx *tx, int64_t id, int attempts, const char *state,
			      int64_t run_at, const char *error);

/* ---- audit ---- */
enum loy_err store_audit(struct store_tx *tx, int64_t business_id, const char *actor,
			 const char *action, const char *target, const char *ip);

#endif
