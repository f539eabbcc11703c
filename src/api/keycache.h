/* Recently checked API keys, so that a bearer request does not cost a database read to learn that
 * its key still stands. An entry lives KEYCACHE_TTL_MS; revoking a key through this process drops
 * its entry at once, and other nodes sharing the database see the revocation within the TTL. */
#ifndef LOY_API_KEYCACHE_H
#define LOY_API_KEYCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/roles.h"

#define KEYCACHE_TTL_MS 1000
#define KEYCACHE_SLOTS 1024

struct keycache_entry {
	int64_t key_id, business_id;
	enum role role;
	bool revoked;
};

/* True and *out filled when a fresh entry for key_id exists. */
bool keycache_get(int64_t key_id, struct keycache_entry *out);
void keycache_put(const struct keycache_entry *e);
void keycache_forget(int64_t key_id);

#endif
