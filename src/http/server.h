/* The HTTP server: libmicrohttpd with a pool of epoll event-loop threads, plus a pool of request
 * threads for routes that block. A request's whole life — parsed input, query results, the response
 * — lives in its arena, which dies with the connection's request. */
#ifndef LOY_HTTP_SERVER_H
#define LOY_HTTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"
#include "http/router.h"

#define HTTP_REQUEST_ID_MAX 128
#define HTTP_HEADERS_MAX 8
#define HTTP_ARENA_CAP (4u * 1024u * 1024u) /* memory one request may use */
#define HTTP_RESPONSE_MAX (8u * 1024u * 1024u)

struct http_request {
	struct arena arena;
	const char *method;
	struct str path;
	const struct route *route; /* NULL when nothing matched */
	enum route_match match;
	struct str params[ROUTE_PARAMS_MAX];
	int nparams;
	struct buf body;
	bool body_too_big;
	char request_id[HTTP_REQUEST_ID_MAX + 1];
	char ip[64];
	int64_t started_us;
	void *app; /* the application's state, from http_options */
	/* ROUTE_DEFERRABLE: true while the handler runs on the event loop and may defer. */
	bool can_defer;
	void (*defer_start)(void *arg); /* set by http_defer */
	void *defer_arg;
	void *auth; /* set by the application while dispatching */
	int64_t log_customer_id;
	void *conn; /* the MHD connection; use the accessors below */
};

struct http_response {
	int status;
	struct buf body;
	const char *content_type;
	struct {
		const char *name, *value;
	} headers[HTTP_HEADERS_MAX];
	int nheaders;
};

/* Called for every complete request (matched or not); fills res. */
typedef void (*http_dispatch)(struct http_request *req, struct http_response *res);

struct http_options {
	const char *listen; /* "host:port" */
	int threads;	    /* event-loop threads */
	int workers;	    /* request threads for ROUTE_POOLED */
	const struct route *routes;
	size_t nroutes;
	http_dispatch dispatch;
	void *app;
	bool defer_inline; /* ROUTE_DEFERRABLE handlers run on the event loop and defer */
	/* Comma-separated proxy addresses whose X-Real-IP names the client ("" = none). */
	const char *trusted_proxies;
};

struct http_server;

enum loy_err http_start(const struct http_options *opt, struct http_server **out);
/* Stops accepting, finishes requests in flight, frees the server. */
void http_stop(struct http_server *s);
/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);

/* Request accessors; strings live as long as the request. NULL when absent. */
const char *http_header(struct http_request *req, const char *name);
const char *http_query(struct http_request *req, const char *name);
const char *http_cookie(struct http_request *req, const char *name);
/* True if the query string has a parameter of this name that is not in the allowed list. */
const char *http_query_unknown(struct http_request *req, const char *const *allowed);

/* From a handler of a ROUTE_DEFERRABLE route that has req->can_defer: the response is not ready
 * when the handler returns. The server suspends the connection, then calls start(arg), which
 * begins the slow work; whoever finishes it fills the response and calls http_complete(req). */
void http_defer(struct http_request *req, void (*start)(void *arg), void *arg);
/* Any thread: the deferred response is ready; the server sends it. Call exactly once. */
void http_complete(struct http_request *req);

/* Adds a response header; name and value must live until the response is sent (use the arena). */
void http_set_header(struct http_response *res, const char *name, const char *value);

#endif
