/* The route table's matching: method + path pattern ("/api/v1/customers/{id}") → route, with the
 * `{...}` segments captured. Routes are data supplied by the application (api/routes.c); this module
 * only matches them. */
#ifndef LOY_HTTP_ROUTER_H
#define LOY_HTTP_ROUTER_H

#include <stddef.h>

#include "base/str.h"

#define ROUTE_PARAMS_MAX 4
#define ROUTE_SEGMENTS_MAX 12

struct http_request;
struct http_response;

typedef void (*http_handler)(struct http_request *req, struct http_response *res);

enum route_exec {
	ROUTE_INLINE, /* quick, read-only: runs on the event-loop thread */
	ROUTE_POOLED, /* may wait on a durable commit or hash a password: runs on a request thread */
	/* Runs on the event-loop thread and may hand its slow part (a durable write) to someone who
	 * calls back when done (http_defer / http_complete) — when the server is told the
	 * application can (http_options.defer_inline); otherwise it runs as ROUTE_POOLED. */
	ROUTE_DEFERRABLE,
};

struct route {
	const char *method;
	const char *pattern;
	http_handler handler;
	int min_role;	 /* interpreted by the application; 0 = public */
	size_t body_max; /* bytes; 0 = no body accepted */
	enum route_exec exec;
	unsigned flags; /* application-defined */
};

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/* Matches path against the table. On ROUTE_FOUND sets *out and fills params (views into path) in
 * pattern order. ROUTE_NO_METHOD: some route has this path with another method. */
enum route_match router_match(const struct route *routes, size_t n, const char *method,
			      struct str path, const struct route **out, struct str *params,
			      int *nparams);

/* Writes the methods that some route accepts for path ("GET, POST") into out, for 405's Allow. */
void router_allowed(const struct route *routes, size_t n, struct str path, char *out, size_t outsz);

#endif
