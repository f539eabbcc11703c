/* Role names (see roles.h). */
#include "core/roles.h"

#include <string.h>

static const char *const role_names[] = { "none", "viewer", "cashier", "admin", "owner" };

const char *role_name(enum role r)
{
	return (unsigned)r < sizeof(role_names) / sizeof(*role_names) ? role_names[r] : "none";
}

enum loy_err role_parse(const char *name, enum role *out)
{
	for (int r = ROLE_VIEWER; r <= ROLE_OWNER; r++) {
		if (strcmp(name, role_names[r]) == 0) {
			*out = (enum role)r;
			return LOY_OK;
		}
	}
	return LOY_EINVALID;
}
