/* net/http_client: a small blocking client for request/response APIs (Google's OAuth token
 * endpoint and walletobjects REST API), over libcurl's easy interface. The other half of the
 * project's one libcurl wrapper (STYLE rule 8: only src/net/ includes <curl/curl.h>); net/http2 is
 * the multiplexing half, for APNs.
 *
 * DESIGN. A client owns one easy handle, and so one connection cache: consecutive requests to the
 * same origin reuse the kept-alive connection (HTTP/1.1 keep-alive, or HTTP/2 when a TLS server
 * offers it through ALPN). One request at a time: http_client_request blocks until the answer is
 * complete, the total timeout passes or the connection fails. Redirects are not followed (an API
 * that redirects is answered as it answered). Response bodies are kept up to a cap; a longer body
 * ends the transfer. Only the Retry-After response header is read.
 *
 * TLS: peer and host verification are always on. ca_file replaces libcurl's CA bundle (the system
 * CA directory stays in use where libcurl was built with one); it is how a local fake signed by the
 * development CA is trusted. http:// URLs are allowed (a fake, a local proxy).
 *
 * Secrets: the client logs nothing of a request (headers carry bearer tokens, bodies carry OAuth
 * assertions); the reasons it hands back come from libcurl and name the URL's host at most.
 *
 * Threads: a client is used by one thread at a time. Different clients are independent. */
#ifndef LOY_NET_HTTP_CLIENT_H
#define LOY_NET_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Response bodies kept: the default cap, and the largest cap accepted. */
#define HTTP_CLIENT_RESPONSE_MAX_DEFAULT 65536
#define HTTP_CLIENT_RESPONSE_MAX_LIMIT (16 * 1024 * 1024)
#define HTTP_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS 10000
#define HTTP_CLIENT_TIMEOUT_DEFAULT_MS 30000
/* Longest URL accepted (scheme, host, port, path and query). */
#define HTTP_CLIENT_URL_MAX 2048
/* Headers per request, and the longest header line. */
#define HTTP_CLIENT_HEADERS_MAX 16
#define HTTP_CLIENT_HEADER_LINE_MAX 4096
/* Room for the reason a request got no answer (libcurl's CURL_ERROR_SIZE), NUL included. */
#define HTTP_CLIENT_REASON_MAX 256
/* Retry-After values past this are cut to it (one hour). */
#define HTTP_CLIENT_RETRY_AFTER_MAX_MS 3600000

struct http_client_options {
	const char *ca_file;	    /* PEM bundle to trust instead of libcurl's; NULL: default */
	int64_t connect_timeout_ms; /* 0: HTTP_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS */
	size_t max_response;	    /* body bytes kept; 0: HTTP_CLIENT_RESPONSE_MAX_DEFAULT */
};

struct http_client_request {
	const char *method;	    /* "GET", "POST", "PUT", "PATCH", ...: upper-case letters */
	const char *url;	    /* "https://host[:port]/path?query" or http://; visible ASCII */
	const char *const *headers; /* "Name: value" lines, no CR/LF; NULL with nheaders 0 */
	size_t nheaders;
	const void *body; /* body_len bytes sent as is; NULL with 0: no body (a POST, PUT or PATCH
			     then sends Content-Length: 0) */
	size_t body_len;
	int64_t timeout_ms; /* the whole request, connection included; 0:
			       HTTP_CLIENT_TIMEOUT_DEFAULT_MS */
};

struct http_client_response {
	int status;		/* the HTTP status; 0 when none came */
	struct buf body;	/* at most max_response bytes, NUL-terminated; freed by
				  http_client_response_cleanup */
	int64_t retry_after_ms; /* Retry-After as delta-seconds or an HTTP-date, in ms from now; 0
				   when absent, unreadable or in the past */
	int http_version;	/* 1 (HTTP/1.x) or 2; 0 when no answer came */
	char reason[HTTP_CLIENT_REASON_MAX]; /* why there is no usable answer, "" otherwise */
};

/* Counters over the client's life, for logs and metrics. */
struct http_client_stats {
	uint64_t requests; /* requests started */
	uint64_t answered; /* responses with a status */
	uint64_t connects; /* connections opened (a reused one counts once) */
	uint64_t failures; /* requests that ended LOY_EUNAVAILABLE */
};

struct http_client;

/* Opens a client. Makes no connection yet. Copies what it needs from o. On success *out is the
 * caller's, closed with http_client_close. Returns LOY_EINVALID (logged) for a bad option;
 * LOY_ENOMEM; LOY_EINTERNAL when libcurl fails to initialise. */
enum loy_err http_client_open(const struct http_client_options *o, struct http_client **out);

/* Closes the kept-alive connections and frees the client. NULL is allowed. */
void http_client_close(struct http_client *c);

/* Sends one request and waits for its whole answer, at most r->timeout_ms. resp must be zeroed
 * (`{0}`) or left from an earlier call (its body is reused); it is filled whatever the result:
 *   LOY_OK           an answer came: status, body, retry_after_ms (any status, 5xx included);
 *   LOY_ETOOBIG      the status came but the body passed max_response: status and retry_after_ms
 *                    are set, body holds the first max_response bytes, reason says so;
 *   LOY_EUNAVAILABLE no complete answer: DNS, connect, TLS or certificate failure, connection lost,
 *                    or the timeout; reason says which (status 0, or the status if one came);
 *   LOY_EINVALID     a bad method, URL, header line or timeout (nothing sent; reason says which);
 *   LOY_ENOMEM, LOY_EINTERNAL when libcurl could not run it.
 * Blocks; libcurl installs no signal handlers. */
enum loy_err http_client_request(struct http_client *c, const struct http_client_request *r,
				 struct http_client_response *resp);

/* Frees the response body and zeroes the response. */
void http_client_response_cleanup(struct http_client_response *resp);

/* The counters so far. */
void http_client_stats(const struct http_client *c, struct http_client_stats *out);

#endif
