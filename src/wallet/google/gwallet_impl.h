/* Google Wallet's state, shared by gwallet.c (opening, reading cards, the link, callbacks) and
 * gjobs.c (syncing with Google, the outbox handlers). Private to src/wallet/google/. */
#ifndef LOY_WALLET_GOOGLE_GWALLET_IMPL_H
#define LOY_WALLET_GOOGLE_GWALLET_IMPL_H

#include <pthread.h>

#include "wallet/google/gapi.h"
#include "wallet/google/gwallet.h"
#include "wallet/google/objects.h"

struct google_sa;
struct http_client;

/* One issuer with its service account: the install's default (LOY_GOOGLE_*, business_id 0) or a
 * business's own (LOY_GOOGLE_DIR/<slug>/). */
struct gid {
	int64_t business_id;
	char issuer_id[GW_ISSUER_ID_MAX + 1];
	struct google_sa *sa;
	struct gapi *api;
};

struct gwallet {
	struct store *st;
	struct gid *def;  /* NULL: only businesses with their own issuer use Google Wallet */
	struct gid **own; /* one per business with its own issuer */
	size_t nown;
	char base_url[CONF_STR_MAX];
	char keys_url[CONF_STR_MAX];
	pthread_mutex_t keys_lock; /* guards the three below */
	struct http_client *keys_client;
	char *keys_json;
	int64_t keys_at;
};

/* The issuer the business's cards live under; NULL when it has none. */
struct gid *gwallet_id(const struct gwallet *g, int64_t business_id);

/* A card (or a business's class alone) as Google should show it. Strings live in the arena. */
struct gcard {
	const struct gid *id;
	struct google_class cls;
	struct gw_class_input class_in;
	struct gw_location locations[GW_LOCATIONS_MAX];
	int64_t template_id;
	struct google_object obj;
	struct gw_object_input obj_in;
};

enum loy_err gcard_read(struct gwallet *g, struct arena *a, int64_t business_id,
			int64_t customer_id, bool with_object, struct gcard *card);
/* Brings the customer's object (and its class first) up to date at Google. LOY_OK when Google
 * shows the card; LOY_EUNAVAILABLE to retry later; LOY_EINVALID when Google refused (*why, also
 * recorded for the admin); LOY_ENOTFOUND when the customer has no object or is gone. */
enum loy_err gsync_object(struct gwallet *g, struct arena *a, int64_t customer_id,
			  struct gcard *card, const char **why);

#endif
