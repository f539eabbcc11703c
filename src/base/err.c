/* Tables behind err.h: one row per error, so status and code can never drift apart. */
#include "base/err.h"

static const struct {
	int status;
	const char *code;
	const char *name;
} err_table[] = {
#define LOY_ERR_ROW(name, status, code) { status, code, #name },
	LOY_ERRORS(LOY_ERR_ROW)
#undef LOY_ERR_ROW
};

#define ERR_COUNT (sizeof(err_table) / sizeof(err_table[0]))

int err_http_status(enum loy_err err)
{
	return (unsigned)err < ERR_COUNT ? err_table[err].status : 500;
}

const char *err_code(enum loy_err err)
{
	return (unsigned)err < ERR_COUNT ? err_table[err].code : "internal";
}

const char *err_name(enum loy_err err)
{
	return (unsigned)err < ERR_COUNT ? err_table[err].name : "LOY_E?";
}
