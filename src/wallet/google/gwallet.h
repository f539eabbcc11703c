/* wallet/google/gwallet: Google Wallet at run time — the service account and the API client,
 * the classes and objects kept in step with the cards, the "Add to Google Wallet" link, messages
 * within Google's notification budget, and the save/delete callbacks.
 *
 * Change → patch, DESIGN: a transaction that changes what a card shows queues "google.object"
 * (store_wallet_card_changed); one that changes the design of every card queues "google.class"
 * (store_wallet_design_changed). Their handlers build what the card or class should show, compare
 * its hash with what Google was last sent, and insert or patch — absolute values, never deltas —
 * with the outbox's retries for 429/5xx and dead letters for 400/403. A class change reaches every
 * card through Google (it propagates class fields to the objects), so it is one call, not one per
 * card. Balance changes notify the phone while the card's budget lasts (3 a day, spec §2.5) and
 * update silently afterwards.
 *
 * Threads: every function may be called from any thread. */
#ifndef LOY_WALLET_GOOGLE_GWALLET_H
#define LOY_WALLET_GOOGLE_GWALLET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "conf/conf.h"
#include "jobs/outbox.h"
#include "store/store.h"

struct gwallet;

/* Opens Google Wallet from LOY_GOOGLE_*: the install's issuer (LOY_GOOGLE_ISSUER_ID and
 * LOY_GOOGLE_KEY_FILE), used by every business without its own, and each business's own in
 * LOY_GOOGLE_DIR/<business slug>/ (files issuer_id and key.json). With neither, *out is NULL: off.
 * A bad set-up (no or unreadable key file, not a service-account key, an issuer id that is not
 * digits, a key or issuer Google refuses, a folder named after no business) does not stop the
 * server: *out is NULL, *problem says why (for the log and the admin's status) and LOY_EINVALID
 * is returned. The store is borrowed. */
enum loy_err gwallet_open(const struct conf *c, struct store *st, struct gwallet **out,
			  const char **problem);
void gwallet_close(struct gwallet *g);

/* The issuer id and the service account's e-mail the business's cards use; NULL when the business
 * has none (no own issuer in LOY_GOOGLE_DIR and no install default). */
const char *gwallet_issuer_id(const struct gwallet *g, int64_t business_id);
const char *gwallet_account(const struct gwallet *g, int64_t business_id);

/* Makes sure the customer's object exists at Google (inserting its class first if needed) and
 * returns the "Add to Google Wallet" URL (arena a). Blocks on Google. LOY_ENOTFOUND for a customer
 * without a Google object row or erased; LOY_EUNAVAILABLE when Google cannot be reached now;
 * LOY_EINVALID when Google refused (*why). */
enum loy_err gwallet_save_url(struct gwallet *g, struct arena *a, int64_t customer_id,
			      const char **url, const char **why);

/* Verifies and records a save/delete callback (the POSTed body). LOY_OK (also for a repeated
 * nonce, which changes nothing), LOY_EUNAUTH when the signature does not verify (*why),
 * LOY_EINVALID for a malformed body, LOY_EUNAVAILABLE when Google's keys cannot be fetched. */
enum loy_err gwallet_callback(struct gwallet *g, struct arena *a, const char *body, size_t len,
			      const char **why);

/* The outbox job kinds "google.class", "google.object", "google.message"; ctx: the gwallet. */
extern const struct job_kind gwallet_jobs[];
extern const size_t gwallet_njobs;

#endif
