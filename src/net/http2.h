/* net/http2: the multiplexing half of the project's libcurl wrapper (STYLE rule 8: only src/net/
 * includes <curl/curl.h>; net/http_client is the request/response half).
 *
 * A long-lived HTTP/2 client for one origin and one TLS client identity: every request of every
 * batch goes over a single TLS connection, as many streams at once as the cap allows, and the
 * connection stays open between batches. Built for APNs (many small POSTs, each answered on its
 * own stream) but it knows nothing about APNs.
 *
 * DESIGN. A batch is an array of requests handed to http2_batch_run, which keeps up to max_streams
 * of them in flight over the one connection (CURLPIPE_MULTIPLEX, CURLOPT_PIPEWAIT, one connection
 * per host) and returns when every request has an outcome or the deadline has passed; it never
 * blocks longer than its timeout, whatever the server does. libcurl honours the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS, but only once it has read them: streams opened before that are
 * refused by a server with a lower limit, and libcurl then opens more connections (spec §1c,
 * "verified with libcurl 7.88.1"). So on a connection that has not answered yet (the first batch,
 * after a connection loss, after a quiet spell) one request goes first, alone, and the others
 * follow once its answer shows that the server's SETTINGS have arrived. A request whose connection
 * failed under it before its answer came (GOAWAY, reset, TLS error mid-stream) is sent again on a
 * new connection, at most HTTP2_SENDS_MAX times, so requests must be idempotent. When no connection
 * can be made at all (DNS, TCP, TLS handshake, certificate verification) the batch stops at once
 * and every request not yet answered reports it, instead of each one trying again.
 *
 * TLS: peer and host verification are always on. ca_file replaces libcurl's CA bundle (the system
 * CA directory stays in use where libcurl was built with one, as Debian's is); it is how a local
 * fake APNs signed by the development CA is trusted. The client certificate is installed by the
 * caller's tls_setup function, which receives the OpenSSL SSL_CTX as a void * (the key stays in
 * crypto/, the OpenSSL headers stay out of net/).
 *
 * Threads: a client may be used by one thread at a time (libcurl's multi handle is not
 * thread-safe). Different clients are independent and may run on different threads. */
#ifndef LOY_NET_HTTP2_H
#define LOY_NET_HTTP2_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Streams in flight at once over the connection: the default, and the most we ever ask for. The
 * server's own SETTINGS_MAX_CONCURRENT_STREAMS lowers it further. */
#define HTTP2_STREAMS_DEFAULT 500
#define HTTP2_STREAMS_MAX 1000
/* Response bodies kept per request: the default cap, and the largest cap accepted. */
#define HTTP2_RESPONSE_MAX_DEFAULT 65536
#define HTTP2_RESPONSE_MAX_LIMIT (16 * 1024 * 1024)
#define HTTP2_CONNECT_TIMEOUT_DEFAULT_MS 10000
/* Longest origin ("https://host:port") and path accepted. */
#define HTTP2_ORIGIN_MAX 256
#define HTTP2_PATH_MAX 1024
/* Room for the one response header a request may capture (value + NUL); longer values are not
 * captured. */
#define HTTP2_HEADER_VALUE_MAX 128
/* Times one request goes out within one batch: the first send and the re-sends after its
 * connection was lost before the answer. */
#define HTTP2_SENDS_MAX 3
/* A connection that answered within this long is trusted to still have the server's SETTINGS;
 * after a longer quiet spell the next batch opens with a single request. */
#define HTTP2_WARM_MS 5000

/* Installs the client certificate into a TLS context (an OpenSSL SSL_CTX *), for every new
 * connection. Returns LOY_OK, or an error that makes the connection attempt fail. */
typedef enum loy_err http2_tls_setup_fn(void *ssl_ctx, void *arg);

struct http2_options {
	const char *origin;  /* "https://api.push.apple.com[:port]": https only, no path */
	const char *ca_file; /* PEM bundle to trust instead of libcurl's; NULL: default */
	http2_tls_setup_fn *tls_setup; /* NULL: no client certificate */
	void *tls_arg;		       /* handed to tls_setup; must outlive the client */
	int max_streams;	       /* 0: HTTP2_STREAMS_DEFAULT; else 1..HTTP2_STREAMS_MAX */
	int64_t connect_timeout_ms;    /* 0: HTTP2_CONNECT_TIMEOUT_DEFAULT_MS */
	size_t max_response;	       /* body bytes kept; 0: HTTP2_RESPONSE_MAX_DEFAULT */
};

/* What became of one request. */
enum http2_outcome {
	HTTP2_NOT_SENT, /* the deadline came before it went out */
	HTTP2_ANSWERED, /* a complete response: status, header_value, resp_body are set */
	HTTP2_TIMEOUT,	/* sent, but not answered before the deadline (the stream was reset) */
	HTTP2_CONNECT_FAILED,  /* no connection could be made (DNS, TCP, TLS, certificate) */
	HTTP2_CONNECTION_LOST, /* its connection failed under it HTTP2_SENDS_MAX times */
	HTTP2_TOO_BIG,	       /* the status came but the body exceeded max_response */
	HTTP2_FAILED,	       /* anything else: the request was unusable or libcurl failed */
};

struct http2_request {
	/* Set by the caller; read during http2_batch_run only. */
	const char *method; /* "POST", "GET", "PUT", ... */
	const char *path;   /* "/3/device/<token>": starts with '/', appended to the origin */
	const char *const *headers; /* "name: value" lines; requests may share one array */
	size_t nheaders;
	const void *body; /* sent as is, body_len bytes (NULL with 0: no body) */
	size_t body_len;
	const char *capture; /* response header to copy into header_value ("apns-id"), or NULL */

	/* Set by http2_batch_run. Must be zero (a fresh `{0}`) or left from an earlier batch. */
	enum http2_outcome outcome;
	int status;	   /* HTTP status; 0 when none came */
	int sends;	   /* times it went out in this batch */
	const char *error; /* NULL when answered; else why not, in words. Owned by the client, valid
			      until its next batch or close */
	char header_value[HTTP2_HEADER_VALUE_MAX]; /* "" when absent or too long */
	struct buf resp_body; /* the response body, at most max_response bytes; owned by the request,
				 freed by http2_request_cleanup */
};

/* Counters over the client's life, for logs and metrics. */
struct http2_stats {
	uint64_t sent;	   /* requests that went out, re-sends included */
	uint64_t answered; /* complete responses */
	uint64_t resent;   /* re-sends after a lost connection */
	uint64_t timeouts; /* streams reset at a deadline */
	uint64_t connects; /* connections opened */
	uint64_t failures; /* requests that ended connect-failed, connection-lost or failed */
};

struct http2_client;

/* Opens a client. Makes no connection yet: the first batch does. Copies what it needs from o
 * (tls_arg must outlive the client). On success *out is the caller's, closed with
 * http2_client_close. Returns LOY_EINVALID (logged) for a bad origin or option, or when tls_setup
 * is given but libcurl's TLS backend is not OpenSSL; LOY_ENOMEM; LOY_EINTERNAL when libcurl fails
 * to initialise. */
enum loy_err http2_client_open(const struct http2_options *o, struct http2_client **out);

/* Closes the connection and frees the client. NULL is allowed. */
void http2_client_close(struct http2_client *c);

/* Closes the connection (the next batch opens a new one), e.g. when the server refused our
 * certificate. Keeps the options and the counters. */
void http2_client_disconnect(struct http2_client *c);

/* Sends the n requests and waits for their answers, with up to max_streams in flight over the one
 * connection, re-sending those whose connection was lost before the answer. Blocks at most
 * timeout_ms (plus the time to tear down what is still in flight). On return every request has an
 * outcome, whatever the return value. Returns LOY_OK when the batch ran (the outcomes tell the
 * rest); LOY_EINVALID for a NULL client, a request without method or path, or timeout_ms <= 0
 * (then nothing is sent and every request is HTTP2_FAILED); LOY_EINTERNAL when libcurl's multi
 * handle failed (the requests not answered by then are HTTP2_FAILED). */
enum loy_err http2_batch_run(struct http2_client *c, struct http2_request *reqs, size_t n,
			     int64_t timeout_ms);

/* Frees the response bodies of n requests and zeroes their results. */
void http2_request_cleanup(struct http2_request *reqs, size_t n);

/* The counters so far. */
void http2_client_stats(const struct http2_client *c, struct http2_stats *out);

/* "not sent", "answered", ...: static storage. */
const char *http2_outcome_name(enum http2_outcome o);

#endif
