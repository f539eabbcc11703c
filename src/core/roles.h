/* Staff and API-key roles. Each role includes every role below it:
 * owner > admin > cashier > viewer. */
#ifndef LOY_CORE_ROLES_H
#define LOY_CORE_ROLES_H

#include <stdbool.h>

#include "base/err.h"

enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_CASHIER = 2, ROLE_ADMIN = 3, ROLE_OWNER = 4 };

const char *role_name(enum role r);
enum loy_err role_parse(const char *name, enum role *out);
/* True if a principal holding `have` may do what needs `need`. */
static inline bool role_allows(enum role have, enum role need)
{
	return have >= need;
}

#endif
