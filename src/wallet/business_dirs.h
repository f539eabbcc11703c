/* wallet/business_dirs: the folder-per-business layout both wallets use for a business's own
 * credentials (LOY_APPLE_CERTS_DIR, LOY_GOOGLE_DIR): every subfolder of the root is named after a
 * business's slug and holds that business's files. */
#ifndef LOY_WALLET_BUSINESS_DIRS_H
#define LOY_WALLET_BUSINESS_DIRS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* Called for one business folder: its path, its name and the business it names. */
typedef enum loy_err (*business_dir_fn)(const char *dir, const char *slug, int64_t business_id,
					void *arg);

/* Calls fn for every subfolder of root (names starting with '.' and plain files are skipped),
 * stopping at the first error. LOY_EINVALID with the reason in why (cap bytes) when root cannot be
 * read or a folder names no business; otherwise fn's result. */
enum loy_err business_dirs_each(struct store *st, const char *root, business_dir_fn fn, void *arg,
				char *why, size_t cap);

#endif
