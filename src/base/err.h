/* The one error currency. Fallible functions return enum loy_err (LOY_OK == 0) and hand results out
 * through parameters. Each error carries its HTTP status and the stable code clients see in JSON. */
#ifndef LOY_BASE_ERR_H
#define LOY_BASE_ERR_H

#define LOY_ERRORS(X)                                    \
	X(LOY_OK, 200, "ok")                             \
	X(LOY_EMALFORMED, 400, "malformed_json")         \
	X(LOY_EINVALID, 400, "validation_failed")        \
	X(LOY_EUNAUTH, 401, "unauthorized")              \
	X(LOY_EFORBIDDEN, 403, "forbidden")              \
	X(LOY_ENOTFOUND, 404, "not_found")               \
	X(LOY_EMETHOD, 405, "method_not_allowed")        \
	X(LOY_ECONFLICT, 409, "conflict")                \
	X(LOY_EIDEMPOTENCY, 409, "idempotency_conflict") \
	X(LOY_ETOOBIG, 413, "payload_too_large")         \
	X(LOY_EMEDIA, 415, "unsupported_media_type")     \
	X(LOY_EBALANCE, 422, "insufficient_balance")     \
	X(LOY_ERULE, 422, "rule_violation")              \
	X(LOY_ERATE, 429, "rate_limited")                \
	X(LOY_EINTERNAL, 500, "internal")                \
	X(LOY_ENOMEM, 500, "internal")                   \
	X(LOY_EIO, 500, "internal")                      \
	X(LOY_EUNAVAILABLE, 503, "unavailable")

enum loy_err {
#define LOY_ERR_ENUM(name, status, code) name,
	LOY_ERRORS(LOY_ERR_ENUM)
#undef LOY_ERR_ENUM
};

/* HTTP status that answers this error. */
int err_http_status(enum loy_err err);
/* Stable machine-readable code ("insufficient_balance"); static storage. */
const char *err_code(enum loy_err err);
/* The enum's name ("LOY_EBALANCE"), for logs and tests; static storage. */
const char *err_name(enum loy_err err);

#endif
