/* E-mail address sanity: what a registration form should accept, not the whole of RFC 5322. */
#ifndef LOY_CORE_EMAIL_H
#define LOY_CORE_EMAIL_H

#include <stdbool.h>

#include "base/str.h"

#define EMAIL_MAX 254

/* local@domain: one '@', a non-empty local part of visible ASCII without quotes or brackets, a
 * domain of dot-separated labels [A-Za-z0-9-] (not starting or ending with '-') with at least one
 * dot, and at most EMAIL_MAX bytes. */
bool email_valid(struct str s);

#endif
