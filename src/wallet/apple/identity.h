/* wallet/apple/identity: one Pass Type ID certificate at run time — its signer, its APNs client
 * (APNs authenticates the certificate, so each needs its own connection) and what the cards it signs
 * carry. An install has the default identity (LOY_APPLE_PASS_CERT ..., used by every business
 * without its own) and one per business that has its own certificate in LOY_APPLE_CERTS_DIR. */
#ifndef LOY_WALLET_APPLE_IDENTITY_H
#define LOY_WALLET_APPLE_IDENTITY_H

#include <stdint.h>

#include "crypto/signer.h"
#include "wallet/apple/apns.h"
#include "wallet/apple/card.h"

struct apple_identity {
	int64_t business_id; /* 0: the install's default */
	struct signer *signer;
	struct apns *apns;
	struct card_source src; /* pass type and team: the certificate's */
};

/* Where an identity's files are. key_path NULL or "": cert_path is a .p12 (password may be NULL). */
struct identity_files {
	const char *cert_path, *key_path, *password, *wwdr_path;
	const char *origin; /* for messages: "LOY_APPLE_PASS_CERT" or the business's directory */
};

/* Opens the signer and its APNs client. want_pass_type / want_team (NULL or "": any) must be the
 * certificate's. Errors go to stderr naming files->origin; LOY_EINVALID for anything unusable. */
enum loy_err identity_open(const struct identity_files *files, const char *want_pass_type,
			   const char *want_team, const struct apns_config *apns,
			   struct card_cache *cache, const char *web_service_url,
			   struct apple_identity **out);
void identity_close(struct apple_identity *id);

#endif
