/* wallet/apple/card: what a customer's Apple Wallet pass shows, read from the store — the customer,
 * the business and its contacts, its default card template (colours, texts, settings, images) and
 * its first locations — turned into the pass builder's input and its content hash.
 *
 * The images of a template are decoded and hashed once and kept in a small cache shared by every
 * build, keyed by the template and its updated_at (an upload moves it), with the default images
 * drawn in the template's colours where it has none. */
#ifndef LOY_WALLET_APPLE_CARD_H
#define LOY_WALLET_APPLE_CARD_H

#include "base/arena.h"
#include "store/store.h"
#include "wallet/apple/pass.h"

struct card_images; /* a cache entry, counted */
struct card_cache;

enum loy_err card_cache_new(struct card_cache **out);
/* No card may still hold an entry. NULL is allowed. */
void card_cache_free(struct card_cache *cc);

/* A customer's pass with everything it shows. Strings live in the arena the card was read with. */
struct apple_card {
	struct apple_pass pass;
	struct pass_input in;
	char hash[PASS_CONTENT_HASH_LEN + 1];
	struct pass_location locations[PASS_LOCATIONS_MAX];
	struct card_images *images; /* released by card_release */
};

struct card_source {
	struct card_cache *cache;
	const char *pass_type_id, *team_id;
	const char *web_service_url; /* LOY_BASE_URL + "/passkit" */
};

/* Reads customer_id's card in one read transaction of st (arena a holds the strings) and computes
 * its content hash. LOY_ENOTFOUND when the customer has no pass or is erased. On LOY_OK the caller
 * must card_release(card). */
enum loy_err card_read(struct store *st, struct arena *a, const struct card_source *src,
		       int64_t customer_id, struct apple_card *card);
void card_release(struct card_cache *cc, struct apple_card *card);

#endif
