/* wallet/apple/apns: pushes to Apple Wallet passes through APNs (spec §1c).
 *
 * A Wallet push says only "this pass changed": POST /3/device/<push token> with apns-topic = the
 * pass type identifier and the payload `{}`, authenticated by the pass certificate as the TLS
 * client certificate ("the same certificate and private key that the creator of the pass used to
 * sign the original", Apple, Adding a Web Service to Update Passes). The device then asks our
 * PassKit web service which passes changed and fetches them.
 *
 * One apns per pass certificate: it keeps one long-lived HTTP/2 connection to APNs (net/http2),
 * multiplexing up to max_streams pushes at once, and classifies every answer into what the caller
 * must do with the registration (enum apns_status).
 *
 * Threads: apns_push calls on one apns are serialised by a mutex, so one apns may be shared by the
 * outbox workers (they take turns on its connection); for parallel sending open several apns for
 * the same certificate, each with its own connection (Apple allows several). The signer must stay
 * open for as long as the apns: it is asked for the certificate at every new connection. */
#ifndef LOY_WALLET_APPLE_APNS_H
#define LOY_WALLET_APPLE_APNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct signer;

#define APNS_URL_PRODUCTION "https://api.push.apple.com"
#define APNS_URL_SANDBOX "https://api.sandbox.push.apple.com"

/* A push token: 32 bytes as 64 hex digits (either case). */
#define APNS_TOKEN_LEN 64
/* The reason kept per result (Apple's longest is 27 characters; transport errors are longer, and
 * cut to fit), and an apns-id (a UUID, 36 characters). Both include the NUL. */
#define APNS_REASON_MAX 160
#define APNS_ID_MAX 40
/* Defaults for struct apns_config's zero values. */
#define APNS_STREAMS_DEFAULT 500
#define APNS_STREAMS_MAX 1000
#define APNS_CONNECT_TIMEOUT_DEFAULT_MS 10000
#define APNS_TIMEOUT_DEFAULT_MS 30000
/* Pushes handed to the HTTP/2 client at once inside one apns_push (bounds the memory per call). */
#define APNS_CHUNK 4096

struct apns_config {
	const char *url;       /* NULL: APNS_URL_PRODUCTION (Wallet pushes work only there, §1c) */
	const char *ca_file;   /* extra CA bundle to trust (a local server); NULL: none */
	const char *topic;     /* NULL: the signer's pass type identifier (the right value) */
	const char *push_type; /* NULL or "": no apns-push-type header; or "background"/"alert" */
	int priority;	       /* 0: no apns-priority header (5 with push_type "background"); or
				       10, 5, 1 */
	int max_streams;       /* 0: APNS_STREAMS_DEFAULT; 1..APNS_STREAMS_MAX */
	int64_t connect_timeout_ms; /* 0: APNS_CONNECT_TIMEOUT_DEFAULT_MS */
	int64_t timeout_ms; /* the longest one apns_push waits; 0: APNS_TIMEOUT_DEFAULT_MS */
};

/* What the caller does with one push's registration. */
enum apns_status {
	APNS_DONE,	   /* 200: delivered to APNs */
	APNS_UNREGISTERED, /* 410 Unregistered / ExpiredToken: remove the registration (only if it
			      was not registered again after timestamp_ms) */
	APNS_BAD_TOKEN,	   /* 400 BadDeviceToken / DeviceTokenNotForTopic, or not 64 hex digits
			      (then never sent): remove the registration */
	APNS_RETRY,	   /* 429, 5xx, Shutdown, timeout, connection error: back off, push again */
	APNS_CERT_BROKEN,  /* 403 (BadCertificate, BadCertificateEnvironment, Forbidden, ...): the
			      certificate is refused; this apns sends nothing more until reopened
			      with a fixed certificate. Keep the job for later */
	APNS_FAILED,	   /* any other 4xx: a bug on our side (logged); do not retry */
};

struct apns_result {
	enum apns_status status;
	int http_status;	      /* 0: no answer (not sent, timeout, connection error) */
	int64_t timestamp_ms;	      /* 410: when the token stopped being valid; else 0 */
	char reason[APNS_REASON_MAX]; /* APNs' reason ("Unregistered"), or why no answer came;
					 "" for 200. For the admin panel */
	char apns_id[APNS_ID_MAX];    /* the apns-id header APNs answered with, or "" */
};

struct apns;

/* Opens a client for the signer's certificate. Makes no connection yet (the first push does).
 * Copies what it needs from cfg; the signer is borrowed and must outlive the apns. On success
 * *out is the caller's, closed with apns_close. Returns LOY_EINVALID (logged, naming the setting)
 * for a bad URL, push type, priority or stream count; LOY_ENOMEM; LOY_EINTERNAL when libcurl
 * cannot be set up. */
enum loy_err apns_open(const struct apns_config *cfg, struct signer *signer, struct apns **out);

/* Closes the connection and frees the client. NULL is allowed. No push may be in flight. */
void apns_close(struct apns *a);

/* Pushes `{}` to each of the n tokens and fills results[i] for tokens[i]. Malformed tokens are
 * answered APNS_BAD_TOKEN without a request. Blocks until every push is answered or the
 * configured timeout passes (unanswered pushes are APNS_RETRY); calls on one apns take turns.
 * Logs the first APNS_FAILED answers of a call (a bug) and the first APNS_CERT_BROKEN. Returns LOY_OK when every result is
 * set (whatever the statuses); LOY_EINVALID for NULL arguments (results untouched); LOY_ENOMEM or
 * LOY_EINTERNAL when it could not run (every result is then APNS_RETRY). */
enum loy_err apns_push(struct apns *a, const char *const *tokens, size_t n,
		       struct apns_result *results);

/* True once APNs refused the certificate (a 403); reason (cap bytes) then says what APNs said.
 * The state ends only with apns_close: open a new apns once the certificate is fixed. */
bool apns_cert_broken(struct apns *a, char *reason, size_t cap);

/* True if s is a well-formed push token (64 hex digits). */
bool apns_token_ok(const char *s);

/* "done", "unregistered", "bad_token", "retry", "cert_broken", "failed": static storage. */
const char *apns_status_name(enum apns_status s);

#endif
