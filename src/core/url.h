/* Links a business shows to its customers (terms, website): absolute http(s) URLs only, so that
 * nothing like javascript: ever reaches a card or a page. */
#ifndef LOY_CORE_URL_H
#define LOY_CORE_URL_H

#include <stdbool.h>

#include "base/str.h"

#define URL_MAX 500

/* "http://" or "https://", a host of letters, digits, '.', '-' (optionally ":port"), then an optional
 * path/query of visible ASCII; at most URL_MAX bytes. */
bool url_valid(struct str s);

#endif
