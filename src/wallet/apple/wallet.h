/* wallet/apple/wallet: Apple Wallet at run time — the install's pass signer and APNs client, the
 * cards' current passes (built from the customer, the business and its default template, kept
 * signed on disk and rebuilt only when what they show changes), and the outbox jobs that tell
 * devices about a change.
 *
 * Change → push, DESIGN: a transaction that changes what a card shows queues "apple.push"
 * (store_apple_enqueue_push). Its handler works out the pass's content hash from the database as
 * it now is; when it differs from the last one the pass's version (modified_at, the update tag)
 * moves forward, in a transaction of its own. Then every device registration not yet pushed
 * that version is pushed: Apple devices through APNs, Android devices through their app's push
 * API, and each outcome is recorded on the registration. A retry after a crash or an APNs outage
 * finds the same registrations still owed, so nothing is lost and a device is pushed a version
 * once it is delivered. Devices then ask the PassKit web service (api/passkit.c) which passes
 * changed and download them through apple_wallet_pkpass.
 *
 * Threads: everything here may be called from any thread; the signer is shared, APNs pushes take
 * turns on their connection. */
#ifndef LOY_WALLET_APPLE_WALLET_H
#define LOY_WALLET_APPLE_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "conf/conf.h"
#include "jobs/outbox.h"
#include "store/store.h"
#include "wallet/apple/apns.h"

struct apple_wallet;

/* Opens Apple Wallet from the LOY_APPLE_* / LOY_APNS_* / LOY_ANDROID_PUSH_* settings: the
 * install's certificate (LOY_APPLE_PASS_CERT ...), used by every business without its own, and
 * each business's own certificate in LOY_APPLE_CERTS_DIR/<business slug>/ (see identity.h and
 * docs/integration.md). With neither, *out is NULL and LOY_OK is returned: Apple Wallet is off.
 * A certificate that cannot be used (unreadable, expired, key mismatch, not issued by the WWDR
 * certificate, pass type or team other than LOY_APPLE_PASS_TYPE_ID / LOY_APPLE_TEAM_ID, a folder
 * named after no business) is LOY_EINVALID, with the reason on stderr: `loy serve` refuses to
 * start rather than issue passes no iPhone takes. The store is borrowed and must outlive the
 * wallet. */
enum loy_err apple_wallet_open(const struct conf *c, struct store *st, struct apple_wallet **out);
/* NULL is allowed. No job or request may be using the wallet. */
void apple_wallet_close(struct apple_wallet *w);

/* The pass type identifier the business's new passes carry (its certificate's); NULL when the
 * business has no certificate (no own one and no install default): it issues no Apple passes. */
const char *apple_wallet_pass_type_id(const struct apple_wallet *w, int64_t business_id);

/* The signed .pkpass of pass p as it is now: the stored build when the content hash of what the
 * card shows is unchanged, a fresh build (then stored) otherwise. *out is malloc'd (the caller
 * frees it), *len its size. Blocks on the database and, for a build, on one RSA signature.
 * LOY_ENOTFOUND when the customer is gone (erased); LOY_EUNAVAILABLE when the certificate has
 * expired; other errors as the store's. */
enum loy_err apple_wallet_pkpass(struct apple_wallet *w, const struct apple_pass *p,
				 unsigned char **out, size_t *len);

/* What the admin panel shows about a business's Apple Wallet set-up. */
struct apple_wallet_status {
	const char *pass_type_id, *team_id; /* owned by the wallet */
	int64_t cert_not_after;		    /* ms */
	bool own_certificate;		    /* the business's own, not the install's */
	bool cert_broken;		    /* APNs refused the certificate (403) */
	char cert_broken_reason[APNS_REASON_MAX];
	bool android_push;	  /* LOY_ANDROID_PUSH_KEY is set */
	bool android_push_broken; /* the Android push API refused the key (401/403) */
	char android_push_reason[APNS_REASON_MAX];
};
/* Fills out for the business's certificate; false (out zeroed) when it has none. */
bool apple_wallet_status(struct apple_wallet *w, int64_t business_id,
			 struct apple_wallet_status *out);

/* The outbox job kinds "apple.push" and "apple.refresh"; their handlers expect the wallet as the
 * outbox's ctx. */
extern const struct job_kind apple_wallet_jobs[];
extern const size_t apple_wallet_njobs;

#endif
