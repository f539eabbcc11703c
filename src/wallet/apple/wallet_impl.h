/* The Apple Wallet's state, shared by wallet.c (opening, the pass files) and wallet_jobs.c (the
 * outbox handlers). Private to src/wallet/apple/. */
#ifndef LOY_WALLET_APPLE_WALLET_IMPL_H
#define LOY_WALLET_APPLE_WALLET_IMPL_H

#include "wallet/apple/android_push.h"
#include "wallet/apple/apns.h"
#include "wallet/apple/card.h"
#include "wallet/apple/identity.h"
#include "wallet/apple/wallet.h"

struct apple_wallet {
	struct store *st;
	struct apple_identity *def;  /* LOY_APPLE_PASS_CERT ...; NULL: businesses need their own */
	struct apple_identity **own; /* one per business with its own certificate */
	size_t nown;
	struct android_push *android; /* NULL: LOY_ANDROID_PUSH_KEY is not set */
	struct card_cache *cache;
	char web_service_url[CONF_STR_MAX + 16];
	char cache_dir[CONF_STR_MAX];
};

/* The identity that signs and pushes the business's passes; NULL when it has none. */
struct apple_identity *wallet_identity(const struct apple_wallet *w, int64_t business_id);

#endif
