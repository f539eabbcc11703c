/* wallet/apple/android_push: pushes to Android apps that hold .pkpass cards (WalletPasses).
 *
 * Such an app registers with our PassKit web service like an iPhone does (`Authorization:
 * AndroidPass <token>`), but its push token is not an APNs token: a pass update is announced
 * through the app's own push API, one POST naming the pass type and up to ANDROID_PUSH_BATCH push
 * tokens. The device then asks our web service which passes changed, as an iPhone would.
 *
 * One android_push per API key. It keeps one long-lived HTTPS connection (net/http2: HTTP/2, which
 * Google's front end serving walletpasses.appspot.com speaks) and classifies every answer into what
 * the caller must do with each registration (enum android_push_status). What the API documents and
 * what is our assumption is listed, with sources, at the top of android_push.c.
 *
 * Threads: android_push_send calls on one android_push are serialised by a mutex, so one may be
 * shared by the outbox workers (they take turns on its connection). */
#ifndef LOY_WALLET_APPLE_ANDROID_PUSH_H
#define LOY_WALLET_APPLE_ANDROID_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define ANDROID_PUSH_URL_DEFAULT "https://walletpasses.appspot.com/api/v1/push"

/* Push tokens per POST. WalletPasses documents no limit; the smallest limit a similar API
 * documents is 50 (Wallet Union: "413 Too many FCM pushTokens, max=50"), so 50 is accepted by any
 * of them. A pass is rarely on more than a few devices, so this costs nothing in practice. */
#define ANDROID_PUSH_BATCH 50
/* POSTs in flight at once on the connection (a free service: be gentle), and POSTs handed to the
 * HTTP/2 client at once inside one call (bounds the memory per call). */
#define ANDROID_PUSH_STREAMS 8
#define ANDROID_PUSH_CHUNK 16
/* Longest API key and pass type identifier accepted (visible ASCII), and longest push token (an
 * FCM registration token is about 160 characters; longer ones are not sent). */
#define ANDROID_PUSH_KEY_MAX 256
#define ANDROID_PUSH_PASS_TYPE_MAX 255
#define ANDROID_PUSH_TOKEN_MAX 1024
/* The reason kept per result, with its NUL (the API's message or a transport error, cut to fit). */
#define ANDROID_PUSH_REASON_MAX 160
/* Defaults and bounds for struct android_push_config's timeout. */
#define ANDROID_PUSH_TIMEOUT_DEFAULT_MS 30000
#define ANDROID_PUSH_TIMEOUT_MAX_MS 600000
/* Largest Retry-After kept (a day); larger values are cut to it. */
#define ANDROID_PUSH_RETRY_AFTER_MAX_S 86400

struct android_push_config {
	const char *url;     /* LOY_ANDROID_PUSH_URL; NULL or "": ANDROID_PUSH_URL_DEFAULT */
	const char *api_key; /* LOY_ANDROID_PUSH_KEY: required */
	const char *ca_file; /* LOY_ANDROID_PUSH_CA_FILE: extra CA bundle; NULL or "": none */
	int64_t timeout_ms;  /* the longest one android_push_send waits; 0: the default */
};

/* What the caller does with one token's registration. */
enum android_push_status {
	ANDROID_PUSH_DONE,	   /* 2xx: the app's push service took it */
	ANDROID_PUSH_UNREGISTERED, /* the answer says the token is gone (NotRegistered,
				      InvalidRegistration), or it is malformed (then never sent):
				      remove the registration */
	ANDROID_PUSH_RETRY,	   /* 429, 5xx, 408, timeout, connection error, or not sent because
				      the call stopped early: back off (retry_after_s when given) */
	ANDROID_PUSH_AUTH_BROKEN,  /* 401/403: the API key is refused; this android_push sends
				      nothing more until reopened with a fixed key. Keep the job */
	ANDROID_PUSH_FAILED,	   /* any other answer (400, 404, 413, ...): a bug on our side or a
				      changed API (logged); do not retry */
};

struct android_push_result {
	enum android_push_status status;
	int http_status;       /* 0: no answer (not sent, timeout, connection error) */
	int64_t retry_after_s; /* the answer's Retry-After in seconds (429/503); 0: none */
	char reason[ANDROID_PUSH_REASON_MAX]; /* the API's message or per-token error, or why no
						 answer came; "" for a plain success */
};

struct android_push;

/* Opens a client. Makes no connection yet (the first send does). Copies what it needs from cfg.
 * On success *out is the caller's, closed with android_push_close. Returns LOY_EINVALID (logged,
 * naming the setting, never showing the key) for a URL that is not https://host[:port][/path], an
 * empty or malformed API key, or a timeout out of range; LOY_ENOMEM; LOY_EINTERNAL when libcurl
 * cannot be set up. */
enum loy_err android_push_open(const struct android_push_config *cfg, struct android_push **out);

/* Closes the connection and frees the client. NULL is allowed. No send may be in flight. */
void android_push_close(struct android_push *ap);

/* Tells the app's push service that the pass type's passes held under these n push tokens changed:
 * one POST per ANDROID_PUSH_BATCH tokens, and fills results[i] for tokens[i]. A batch's answer
 * applies to each of its tokens, unless a 2xx answer carries one result per token (GCM multicast
 * shape), which then decides per token. Malformed tokens (empty, over ANDROID_PUSH_TOKEN_MAX, not
 * visible ASCII) are ANDROID_PUSH_UNREGISTERED without a request. Blocks until every POST is
 * answered or the configured timeout passes; calls on one android_push take turns. After a 429,
 * an unreachable server or a refused key, the batches not yet sent are not sent (RETRY, or
 * AUTH_BROKEN). Returns LOY_OK when every result is set (whatever the statuses); LOY_EINVALID for
 * NULL arguments or a pass type identifier that is empty, over ANDROID_PUSH_PASS_TYPE_MAX or not
 * visible ASCII (results untouched); LOY_ENOMEM or LOY_EINTERNAL when it could not run (the
 * tokens not answered are then ANDROID_PUSH_RETRY). */
enum loy_err android_push_send(struct android_push *ap, const char *pass_type_id,
			       const char *const *tokens, size_t n,
			       struct android_push_result *results);

/* True once the API refused the key (401/403); reason (cap bytes) then says how. The state ends
 * only with android_push_close: open a new one once the key is fixed. */
bool android_push_auth_broken(struct android_push *ap, char *reason, size_t cap);

/* True if s would be sent as a push token (1..ANDROID_PUSH_TOKEN_MAX visible ASCII characters). */
bool android_push_token_ok(const char *s);

/* "done", "unregistered", "retry", "auth_broken", "failed": static storage. */
const char *android_push_status_name(enum android_push_status s);

#endif
