/* wallet/google/gapi: the Google Wallet REST API client (spec google-wallet.md §2.1, §2.2, §2.5).
 *
 * One gapi per service account. It turns the account's signed assertion into an OAuth access
 * token and keeps that token for every thread until GAPI_TOKEN_MARGIN_S before it expires; sends
 * each call with it over a small pool of kept-alive connections (net/http_client), never faster
 * than the configured rate across all threads (the token endpoint counts too); and classifies
 * every answer into what the caller must do (enum gapi_status). It knows REST calls, not loyalty
 * classes or objects: the callers build the paths and bodies.
 *
 * Threads: every function may be called from any thread; gapi_call blocks (see there). The
 * service account is borrowed and must outlive the gapi. Neither the access token nor the
 * assertion is ever logged or put in a result. */
#ifndef LOY_WALLET_GOOGLE_GAPI_H
#define LOY_WALLET_GOOGLE_GAPI_H

#include <stdint.h>

#include "base/err.h"

struct google_sa;

#define GAPI_URL_DEFAULT "https://walletobjects.googleapis.com"
/* Requests per second across all threads: the default, and the most accepted. "Calls to the
 * Google Wallet API are rate limited to 20 requests per second" (spec §2.5); the default leaves
 * room for the clock's jitter and for other clients of the same account. */
#define GAPI_RATE_DEFAULT 15
#define GAPI_RATE_MAX 20
/* Connections in the pool (threads calling at once): the default, and the most accepted. */
#define GAPI_CONNECTIONS_DEFAULT 4
#define GAPI_CONNECTIONS_MAX 32
/* One request's timeout, connection included: the default, and the longest accepted. */
#define GAPI_TIMEOUT_DEFAULT_MS 30000
#define GAPI_TIMEOUT_MAX_MS 300000
/* Longest api_url and call path; largest request body and response body. A loyalty class with
 * its ten messages, modules and locations is tens of KB. */
#define GAPI_URL_MAX 256
#define GAPI_PATH_MAX 1024
#define GAPI_BODY_MAX (1024 * 1024)
#define GAPI_RESPONSE_MAX (1024 * 1024)
/* Longest access token accepted from the token endpoint (Google documents up to 2048 bytes). */
#define GAPI_TOKEN_MAX 2048
/* A token is dropped this long before its expires_in runs out (spec §2.1: cache until shortly
 * before it expires). */
#define GAPI_TOKEN_MARGIN_S 60
/* The longest expires_in believed (a day). */
#define GAPI_TOKEN_LIFETIME_MAX_S 86400
#define GAPI_MESSAGE_MAX 400

struct gapi_config {
	const char *api_url; /* LOY_GOOGLE_API_URL; NULL: GAPI_URL_DEFAULT. http:// or https://
				host[:port][/prefix], a trailing '/' dropped */
	const char *ca_file; /* NULL: system CAs */
	int64_t timeout_ms;  /* per request; 0: GAPI_TIMEOUT_DEFAULT_MS */
	int rate_per_s;	     /* at most this many requests per second across all threads; 0:
				GAPI_RATE_DEFAULT; 1..GAPI_RATE_MAX */
	int connections;     /* clients in the pool; 0: GAPI_CONNECTIONS_DEFAULT */
};

enum gapi_status {
	GAPI_OK,	/* 2xx */
	GAPI_NOT_FOUND, /* 404 */
	GAPI_CONFLICT,	/* 409 ALREADY_EXISTS */
	GAPI_RETRY,	/* 408, 429 (not the notification quota), 5xx, timeouts, connection errors;
			   the token endpoint's 408/429/5xx, network errors or unusable 200: back off
			   (retry_after_ms when Google said) and call again */
	GAPI_QUOTA,	/* the pass's notification quota is spent: a 429 naming a quota on a call
			   that asked to notify (notifyPreference NOTIFY_ON_UPDATE, or a
			   TEXT_AND_NOTIFY message). Send again without notifying */
	GAPI_FAILED,	/* 400, 403, other 4xx, a second 401 after a fresh token, the token
			   endpoint's 4xx (invalid_grant, ...): do not retry; message says why */
};

struct gapi_result {
	enum gapi_status status;
	int http_status;	/* the status of the answer that decided; 0 when none came */
	int64_t retry_after_ms; /* from Retry-After, 0 if none */
	char message[GAPI_MESSAGE_MAX]; /* Google's error.message, the token endpoint's error, or
					   the transport's reason, for the admin; "" on GAPI_OK.
					   Printable ASCII */
};

/* Counters over the gapi's life, for the bench and /metrics. */
struct gapi_stats {
	uint64_t requests;	/* API requests sent (401 replays included) */
	uint64_t token_fetches; /* requests to the token endpoint */
	uint64_t refreshes_401; /* tokens dropped because the API answered 401 */
	uint64_t connections;	/* connections opened, over all the pool's clients */
	uint64_t rate_waits;	/* requests that slept for the rate limit */
};

struct gapi;

/* Opens the client. Makes no connection and fetches no token yet (the first call does). Copies
 * what it needs from cfg; sa is borrowed and must outlive the gapi. On success *out is the
 * caller's, closed with gapi_close. Returns LOY_EINVALID (logged, naming the setting) for a bad
 * URL, timeout, rate or pool size, or a NULL sa; LOY_ENOMEM; LOY_EINTERNAL when libcurl cannot be
 * set up. */
enum loy_err gapi_open(const struct gapi_config *cfg, struct google_sa *sa, struct gapi **out);

/* Frees the client. NULL is allowed. No call may be in flight. */
void gapi_close(struct gapi *g);

/* One REST call: method "GET", "POST", "PUT" or "PATCH"; path "/walletobjects/v1/..." (visible
 * ASCII, shorter than GAPI_PATH_MAX), appended to api_url; body JSON text sent as
 * application/json, or NULL. Blocks: waits for a free connection, for the access token (fetching
 * it, or waiting for the thread that fetches it), and for a rate slot, then up to timeout_ms per
 * request; a 401 drops the token, fetches a new one and sends the call once more.
 * Fills *res; when resp is not NULL, *resp is the response body on GAPI_OK (malloc'd, the caller
 * frees it; NULL when the body was empty) and NULL otherwise. Returns LOY_OK whenever res is
 * filled, whatever the status; LOY_EINVALID for a bad method or path (nothing sent), LOY_ETOOBIG
 * for a body over GAPI_BODY_MAX, LOY_ENOMEM (res then says GAPI_RETRY). */
enum loy_err gapi_call(struct gapi *g, const char *method, const char *path, const char *body,
		       struct gapi_result *res, char **resp);

/* The counters so far. */
void gapi_stats(struct gapi *g, struct gapi_stats *out);

/* "ok", "not_found", "conflict", "retry", "quota", "failed": static storage. */
const char *gapi_status_name(enum gapi_status s);

#endif
