/* wallet/apple/apns: Wallet pass pushes over one multiplexed HTTP/2 connection per certificate, and
 * the classification of APNs' answers (spec §1c, "What Loy should do per response"). The transport
 * (streams, reconnects, timeouts) is net/http2's; the TLS client certificate is the signer's,
 * installed through signer_tls_client_setup so that the key never leaves crypto/.
 *
 * The request, per spec §1c and Apple's Wallet page:
 *   POST /3/device/<token>, apns-topic: <pass type identifier>, body `{}`.
 * apns-push-type and apns-priority: "Apple's Wallet docs say nothing. Seen in the wild: none
 * (pass-js), background (dotAPNS #99), alert (forum). Unverified which Apple prefers. Make it
 * configurable; default omit, or background with priority 5" (spec §1c, row apns-push-type). We omit
 * both by default (then APNs applies priority 10), send the configured type when asked, and pair
 * "background" with priority 5, which Apple requires for background pushes ("Sending notification
 * requests to APNs"). apns-topic is always sent: "sending apns-topic: <passTypeIdentifier>
 * explicitly is safest" (spec §1c, row Request). */
#include "wallet/apple/apns.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "crypto/signer.h"
#include "net/http2.h"

#define HEADERS_MAX 3
#define HEADER_LINE_MAX (32 + SIGNER_PASS_TYPE_ID_MAX)
#define PATH_PREFIX "/3/device/"
#define PATH_LEN (sizeof(PATH_PREFIX) - 1 + APNS_TOKEN_LEN)
/* APNs answers at most {"reason":"…","timestamp":…}; anything longer is not APNs. */
#define RESPONSE_MAX 4096
/* APNS_FAILED answers logged one by one per call; the rest are counted. */
#define FAILED_LOGGED_MAX 5

/* Wallet's payload: "an empty JSON dictionary" (Adding a Web Service to Update Passes). */
static const char payload[] = "{}";

struct apns {
	pthread_mutex_t lock;
	struct http2_client *h2;
	struct signer *signer;
	char topic[SIGNER_PASS_TYPE_ID_MAX + 1];
	char lines[HEADERS_MAX][HEADER_LINE_MAX];
	const char *headers[HEADERS_MAX];
	size_t nheaders;
	int64_t timeout_ms;
	bool broken;
	char broken_reason[APNS_REASON_MAX];
	/* One chunk's requests, reused from call to call: reqs[j] pushes to tokens[index[j]]. */
	struct http2_request *reqs;
	char (*paths)[PATH_LEN + 1];
	size_t *index;
};

/* Spec §1c, "What Loy should do per response". The first row that matches wins; a NULL reason
 * matches any. Not listed: other 5xx retry, other statuses (4xx) are our bug. */
static const struct rule {
	int status;
	const char *reason;
	enum apns_status result;
} rules[] = {
	{ 200, NULL, APNS_DONE },
	{ 410, NULL, APNS_UNREGISTERED }, /* Unregistered, ExpiredToken */
	{ 400, "BadDeviceToken", APNS_BAD_TOKEN },
	{ 400, "DeviceTokenNotForTopic", APNS_BAD_TOKEN },
	{ 400, "IdleTimeout", APNS_RETRY }, /* the connection idled out, not the push's fault */
	{ 403, NULL, APNS_CERT_BROKEN }, /* BadCertificate, BadCertificateEnvironment, Forbidden */
	{ 429, NULL, APNS_RETRY },	 /* TooManyRequests: back off for that token */
	{ 500, NULL, APNS_RETRY },	 /* InternalServerError */
	{ 503, NULL, APNS_RETRY },	 /* ServiceUnavailable, Shutdown */
};

const char *apns_status_name(enum apns_status s)
{
	static const char *const names[] = {
		[APNS_DONE] = "done",
		[APNS_UNREGISTERED] = "unregistered",
		[APNS_BAD_TOKEN] = "bad_token",
		[APNS_RETRY] = "retry",
		[APNS_CERT_BROKEN] = "cert_broken",
		[APNS_FAILED] = "failed",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

bool apns_token_ok(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < APNS_TOKEN_LEN; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return s[APNS_TOKEN_LEN] == '\0';
}

static enum apns_status classify(int status, const char *reason)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].status == status &&
		    (!rules[i].reason || strcmp(rules[i].reason, reason) == 0))
			return rules[i].result;
	return status >= 500 ? APNS_RETRY : APNS_FAILED;
}

/* Copies untrusted text as printable ASCII, cut to fit. */
static void copy_clean(char *out, size_t cap, const char *in)
{
	size_t i, j = 0;

	for (i = 0; in && in[i] && j + 1 < cap; i++)
		out[j++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[j] = '\0';
}

/* {"reason":"…","timestamp":…} from the body, when it is that. */
static void parse_body(const struct buf *body, struct apns_result *res)
{
	json_t *doc, *v;

	if (body->len == 0)
		return;
	doc = json_loadb(body->p, body->len, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return;
	}
	v = json_object_get(doc, "reason");
	if (json_is_string(v))
		copy_clean(res->reason, sizeof(res->reason), json_string_value(v));
	v = json_object_get(doc, "timestamp");
	if (json_is_integer(v))
		res->timestamp_ms = (int64_t)json_integer_value(v);
	json_decref(doc);
}

static void result_set(struct apns_result *res, enum apns_status st, int http_status,
		       const char *fmt, const char *detail)
{
	res->status = st;
	res->http_status = http_status;
	res->timestamp_ms = 0;
	res->apns_id[0] = '\0';
	snprintf(res->reason, sizeof(res->reason), fmt, detail ? detail : "");
}

/* One request's outcome as the caller's result. */
static void result_from(const struct http2_request *r, struct apns_result *res)
{
	switch (r->outcome) {
	case HTTP2_ANSWERED:
	case HTTP2_TOO_BIG:
		result_set(res, APNS_DONE, r->status, "%s", "");
		copy_clean(res->apns_id, sizeof(res->apns_id), r->header_value);
		if (r->outcome == HTTP2_ANSWERED)
			parse_body(&r->resp_body, res);
		else
			snprintf(res->reason, sizeof(res->reason), "(answer over %d bytes)",
				 RESPONSE_MAX);
		res->status = classify(r->status, res->reason);
		return;
	case HTTP2_NOT_SENT:
		result_set(res, APNS_RETRY, 0, "NotSent: %s", r->error);
		return;
	case HTTP2_TIMEOUT:
		result_set(res, APNS_RETRY, 0, "Timeout: %s", r->error);
		return;
	case HTTP2_CONNECT_FAILED:
		result_set(res, APNS_RETRY, 0, "ConnectFailed: %s", r->error);
		return;
	case HTTP2_CONNECTION_LOST:
		result_set(res, APNS_RETRY, 0, "ConnectionLost: %s", r->error);
		return;
	case HTTP2_FAILED:
		result_set(res, APNS_RETRY, 0, "TransportError: %s", r->error);
		return;
	}
	result_set(res, APNS_RETRY, 0, "%s", "unknown outcome");
}

static enum loy_err tls_setup(void *ssl_ctx, void *arg)
{
	return signer_tls_client_setup(arg, ssl_ctx);
}

static bool push_type_ok(const char *t)
{
	return !t || !t[0] || strcmp(t, "background") == 0 || strcmp(t, "alert") == 0;
}

static enum loy_err add_header(struct apns *a, const char *name, const char *value)
{
	char *line = a->lines[a->nheaders];
	int n = snprintf(line, HEADER_LINE_MAX, "%s: %s", name, value);

	if (n < 0 || n >= HEADER_LINE_MAX || a->nheaders == HEADERS_MAX)
		return LOY_EINVALID;
	a->headers[a->nheaders++] = line;
	return LOY_OK;
}

static enum loy_err set_headers(struct apns *a, const struct apns_config *cfg)
{
	bool background = cfg->push_type && strcmp(cfg->push_type, "background") == 0;
	int priority = cfg->priority ? cfg->priority : background ? 5 : 0;
	char prio[8];
	enum loy_err err = add_header(a, "apns-topic", a->topic);

	if (err == LOY_OK && cfg->push_type && cfg->push_type[0])
		err = add_header(a, "apns-push-type", cfg->push_type);
	if (err == LOY_OK && priority) {
		snprintf(prio, sizeof(prio), "%d", priority);
		err = add_header(a, "apns-priority", prio);
	}
	return err;
}

static enum loy_err config_check(const struct apns_config *cfg, const char *url)
{
	if (strncmp(url, "https://", 8) != 0) {
		log_error("apns: LOY_APNS_URL must be an https:// URL (got \"%s\")", url);
		return LOY_EINVALID;
	}
	if (!push_type_ok(cfg->push_type)) {
		log_error("apns: push type \"%s\" is not background or alert", cfg->push_type);
		return LOY_EINVALID;
	}
	if (cfg->priority != 0 && cfg->priority != 1 && cfg->priority != 5 && cfg->priority != 10) {
		log_error("apns: priority %d is not 10, 5 or 1", cfg->priority);
		return LOY_EINVALID;
	}
	if (cfg->max_streams < 0 || cfg->max_streams > APNS_STREAMS_MAX ||
	    cfg->connect_timeout_ms < 0 || cfg->timeout_ms < 0) {
		log_error("apns: max streams must be 1..%d and timeouts positive",
			  APNS_STREAMS_MAX);
		return LOY_EINVALID;
	}
	return LOY_OK;
}

enum loy_err apns_open(const struct apns_config *cfg, struct signer *signer, struct apns **out)
{
	const char *url = cfg->url && cfg->url[0] ? cfg->url : APNS_URL_PRODUCTION;
	const char *topic = cfg->topic && cfg->topic[0] ? cfg->topic : signer_pass_type_id(signer);
	struct http2_options ho = {
		.origin = url,
		.ca_file = cfg->ca_file,
		.tls_setup = tls_setup,
		.tls_arg = signer,
		.max_streams = cfg->max_streams ? cfg->max_streams : APNS_STREAMS_DEFAULT,
		.connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
							      : APNS_CONNECT_TIMEOUT_DEFAULT_MS,
		.max_response = RESPONSE_MAX,
	};
	struct apns *a;
	enum loy_err err;

	*out = NULL;
	err = config_check(cfg, url);
	if (err != LOY_OK)
		return err;
	if (strlen(topic) >= sizeof(a->topic)) {
		log_error("apns: topic longer than %d characters", SIGNER_PASS_TYPE_ID_MAX);
		return LOY_EINVALID;
	}
	if (strcmp(topic, signer_pass_type_id(signer)) != 0)
		log_warn("apns: topic %s is not the certificate's pass type identifier %s: APNs "
			 "will refuse every push (TopicDisallowed)",
			 topic, signer_pass_type_id(signer));
	if (strcmp(url, APNS_URL_SANDBOX) == 0)
		log_warn("apns: the sandbox; Apple delivers Wallet pushes only in production");
	a = calloc(1, sizeof(*a));
	if (!a)
		return LOY_ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	a->signer = signer;
	a->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : APNS_TIMEOUT_DEFAULT_MS;
	snprintf(a->topic, sizeof(a->topic), "%s", topic);
	err = set_headers(a, cfg);
	if (err != LOY_OK) {
		log_error("apns: header too long");
		goto out;
	}
	err = LOY_ENOMEM;
	a->reqs = calloc(APNS_CHUNK, sizeof(*a->reqs));
	a->paths = calloc(APNS_CHUNK, sizeof(*a->paths));
	a->index = calloc(APNS_CHUNK, sizeof(*a->index));
	if (!a->reqs || !a->paths || !a->index)
		goto out;
	err = http2_client_open(&ho, &a->h2);
	if (err != LOY_OK)
		goto out;
	*out = a;
	return LOY_OK;
out:
	apns_close(a);
	return err;
}

void apns_close(struct apns *a)
{
	if (!a)
		return;
	http2_client_close(a->h2);
	if (a->reqs)
		http2_request_cleanup(a->reqs, APNS_CHUNK);
	free(a->reqs);
	free(a->paths);
	free(a->index);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

bool apns_cert_broken(struct apns *a, char *reason, size_t cap)
{
	bool broken;

	pthread_mutex_lock(&a->lock);
	broken = a->broken;
	if (broken && reason && cap > 0)
		snprintf(reason, cap, "%s", a->broken_reason);
	pthread_mutex_unlock(&a->lock);
	return broken;
}

static void mark_broken(struct apns *a, const struct apns_result *res)
{
	if (a->broken)
		return;
	a->broken = true;
	snprintf(a->broken_reason, sizeof(a->broken_reason), "%d %.100s", res->http_status,
		 res->reason);
	log_error("apns: APNs refused the certificate for %s (%s): pushes for it stop until the "
		  "certificate is replaced",
		  a->topic, a->broken_reason);
	/* "On a revoked certificate or token, close all connections" (spec §1c, Connections). */
	http2_client_disconnect(a->h2);
}

/* Pushes to k tokens (k <= APNS_CHUNK) with timeout_ms left. *unreachable is set when requests
 * went out but none was answered because the connection failed: later chunks would only fail the
 * same way (net/http2 already tried HTTP2_SENDS_MAX connections). */
static enum loy_err push_chunk(struct apns *a, const char *const *tokens, size_t k,
			       struct apns_result *res, int64_t timeout_ms, bool *unreachable)
{
	enum loy_err err;
	size_t i, j, m = 0, answered = 0, transport = 0;

	for (i = 0; i < k; i++) {
		struct http2_request *r = &a->reqs[m];

		if (!apns_token_ok(tokens[i])) {
			result_set(&res[i], APNS_BAD_TOKEN, 0, "%s",
				   "BadDeviceToken: not 64 hex digits (not sent)");
			continue;
		}
		memcpy(a->paths[m], PATH_PREFIX, sizeof(PATH_PREFIX) - 1);
		memcpy(a->paths[m] + sizeof(PATH_PREFIX) - 1, tokens[i], APNS_TOKEN_LEN + 1);
		r->method = "POST";
		r->path = a->paths[m];
		r->headers = a->headers;
		r->nheaders = a->nheaders;
		r->body = payload;
		r->body_len = sizeof(payload) - 1;
		r->capture = "apns-id";
		a->index[m++] = i;
	}
	err = http2_batch_run(a->h2, a->reqs, m, timeout_ms);
	for (j = 0; j < m; j++) {
		struct apns_result *out = &res[a->index[j]];
		enum http2_outcome o = a->reqs[j].outcome;

		answered += o == HTTP2_ANSWERED || o == HTTP2_TOO_BIG;
		transport += o == HTTP2_CONNECT_FAILED || o == HTTP2_CONNECTION_LOST;
		result_from(&a->reqs[j], out);
		if (out->status == APNS_CERT_BROKEN)
			mark_broken(a, out);
	}
	http2_request_cleanup(a->reqs, m);
	*unreachable = answered == 0 && transport > 0;
	return err;
}

static void log_summary(const struct apns *a, const char *const *tokens, size_t n,
			const struct apns_result *res)
{
	size_t count[APNS_FAILED + 1] = { 0 }, i, failed_logged = 0;
	const char *retry_reason = NULL;

	for (i = 0; i < n; i++) {
		count[res[i].status]++;
		if (res[i].status == APNS_RETRY && !retry_reason)
			retry_reason = res[i].reason;
		if (res[i].status == APNS_FAILED && failed_logged++ < FAILED_LOGGED_MAX)
			log_warn("apns: %d %s for token %.8s...: Loy's request is wrong (a bug), "
				 "not retried",
				 res[i].http_status, res[i].reason, tokens[i] ? tokens[i] : "");
	}
	if (count[APNS_DONE] == n) {
		log_debug("apns: %s: %zu pushes done", a->topic, n);
		return;
	}
	log_info(
		"apns: %s: %zu pushes: %zu done, %zu unregistered, %zu bad token, %zu retry%s%s%s, "
		"%zu cert broken, %zu failed",
		a->topic, n, count[APNS_DONE], count[APNS_UNREGISTERED], count[APNS_BAD_TOKEN],
		count[APNS_RETRY], retry_reason ? " (first: " : "",
		retry_reason ? retry_reason : "", retry_reason ? ")" : "", count[APNS_CERT_BROKEN],
		count[APNS_FAILED]);
}

enum loy_err apns_push(struct apns *a, const char *const *tokens, size_t n,
		       struct apns_result *results)
{
	enum loy_err err = LOY_OK;
	bool unreachable = false;
	int64_t deadline;
	size_t off = 0, i, k;

	if (!a || (n > 0 && (!tokens || !results)))
		return LOY_EINVALID;
	pthread_mutex_lock(&a->lock);
	deadline = time_mono_ms() + a->timeout_ms;
	for (off = 0; off < n && err == LOY_OK; off += k) {
		int64_t left = deadline - time_mono_ms();

		k = n - off < APNS_CHUNK ? n - off : APNS_CHUNK;
		if (a->broken || left <= 0 || unreachable)
			break;
		err = push_chunk(a, tokens + off, k, results + off, left, &unreachable);
	}
	for (i = off; i < n; i++) {
		if (a->broken)
			result_set(&results[i], APNS_CERT_BROKEN, 0,
				   "NotSent: certificate refused (%.100s)", a->broken_reason);
		else
			result_set(&results[i], APNS_RETRY, 0, "NotSent: %s",
				   err != LOY_OK ? "client error"
				   : unreachable ? "APNs unreachable (see the other pushes' reason)"
						 : "the call's timeout passed");
	}
	log_summary(a, tokens, n, results);
	pthread_mutex_unlock(&a->lock);
	return err;
}
