/* The Apple Wallet's state, shared by wallet.c (opening, the pass files) and wallet_jobs.c (the
 * outbox handlers). Private to src/wallet/apple/. */
#ifndef LOY_WALLET_APPLE_WALLET_IMPL_H
#define LOY_WALLET_APPLE_WALLET_IMPL_H

#include "crypto/signer.h"
#include "wallet/apple/android_push.h"
#include "wallet/apple/apns.h"
#include "wallet/apple/card.h"
#include "wallet/apple/wallet.h"

struct apple_wallet {
	struct store *st;
	struct signer *signer;
	struct apns *apns;
	struct card_cache *cache;
	struct card_source src;
	char web_service_url[CONF_STR_MAX + 16];
	char cache_dir[CONF_STR_MAX];
	struct android_push *android; /* NULL: LOY_ANDROID_PUSH_KEY is not set */
};

#endif
