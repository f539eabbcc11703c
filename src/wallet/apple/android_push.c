/* wallet/apple/android_push: pass-update pushes to WalletPasses (Android) through its push API, and
 * the classification of its answers. The transport (connection, streams, timeouts) is net/http2's.
 *
 * What WalletPasses documents (https://walletpasses.io/developer/, "Sending Push Notifications to
 * the App"):
 *   - POST https://walletpasses.appspot.com/api/v1/push "with the content type application/json";
 *   - the API key in the Authorization header, bare: `Authorization: <API Key>`;
 *   - the body {"passTypeIdentifier": "<pass type id>", "pushTokens": ["<token>", ...]}, the tokens
 *     being the pushToken the app sent when it registered (with `Authorization: AndroidPass ...`);
 *   - the key is optional but recommended "(see rate limitation)". Loy sends only with a key: with
 *     LOY_ANDROID_PUSH_KEY empty, Android devices are not pushed (they still poll).
 * It documents no answer (body, statuses), no batch limit and no rate-limit figures; a developer
 * reports a 200 for a correct request (tomasmcguinness/dotnet-passbook issue 105, 2019).
 *
 * What similar APIs document (not WalletPasses'; they guide our assumptions):
 *   - Passworks (github.com/passworks/android-wallet-api, README): the same body and bare
 *     `Authorization: <Wallet App Key>`; a success answers "the raw Google Cloud Messaging response"
 *     {"multicast_id", "success", "failure", "canonical_ids", "results": [{"message_id"}, ...]}, one
 *     result per token in order.
 *   - Wallet Union (walletunion.com/developer): the same body; "413 Too many FCM pushTokens,
 *     max=50"; "429 Too many requests" with "Retry-After: 30".
 *   - Pass2U (pass2u.net/apiPushNotification): at most 1000 tokens per call.
 *   - GCM/FCM legacy HTTP server reference: per-result errors NotRegistered and
 *     InvalidRegistration mean the token is dead (remove it); Unavailable, InternalServerError and
 *     DeviceMessageRateExceeded mean try again later.
 *
 * Our assumptions, then: batches of ANDROID_PUSH_BATCH (50, the smallest documented limit); 2xx is
 * done; 401 and 403 mean the key is refused (stop, like APNs' 403); 429, 408 and 5xx are retried,
 * with Retry-After kept when it is a number of seconds (an HTTP-date is not read: the caller's
 * backoff applies); any other status is our bug or a changed API (failed, not retried). A 2xx body
 * in the GCM multicast shape with exactly one result per token sent decides per token (rules
 * below); any other 2xx body is ignored. An error's message is taken from the body's "message",
 * "error" (a string) or "error"."message" (Google's JSON error shape), else from its text. */
#include "wallet/apple/android_push.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "net/http2.h"

#define HEADERS_N 3
#define AUTH_LINE_MAX (sizeof("Authorization: ") + ANDROID_PUSH_KEY_MAX)
/* A GCM answer for 50 tokens is about 4 KB; anything much longer is not that answer. */
#define RESPONSE_MAX 65536
/* ANDROID_PUSH_FAILED answers logged one by one per call; the rest are counted. */
#define FAILED_LOGGED_MAX 5

struct android_push {
	pthread_mutex_t lock;
	struct http2_client *h2;
	char path[HTTP2_PATH_MAX];
	char auth_line[AUTH_LINE_MAX];
	const char *headers[HEADERS_N];
	int64_t timeout_ms;
	bool broken;
	char broken_reason[ANDROID_PUSH_REASON_MAX];
	/* One chunk's POSTs, reused from call to call: reqs[j] carries the tokens
	 * idx[first[j]] .. idx[first[j] + count[j] - 1]. */
	struct http2_request reqs[ANDROID_PUSH_CHUNK];
	char *bodies[ANDROID_PUSH_CHUNK];
	size_t first[ANDROID_PUSH_CHUNK], count[ANDROID_PUSH_CHUNK];
	size_t idx[ANDROID_PUSH_CHUNK * ANDROID_PUSH_BATCH];
};

/* A whole batch's answer, by exact status or by class (the hundreds digit: 2 for 2xx). The first
 * row that matches wins. Not listed (1xx, 3xx, other 4xx): failed. */
static const struct status_rule {
	int status; /* an exact status, or 0 for the class */
	int class;
	enum android_push_status result;
} status_rules[] = {
	{ 0, 2, ANDROID_PUSH_DONE },	      { 401, 0, ANDROID_PUSH_AUTH_BROKEN },
	{ 403, 0, ANDROID_PUSH_AUTH_BROKEN }, { 408, 0, ANDROID_PUSH_RETRY },
	{ 429, 0, ANDROID_PUSH_RETRY },	      { 0, 5, ANDROID_PUSH_RETRY },
};

/* One token's error in a GCM-shaped 2xx answer (GCM/FCM legacy HTTP server reference). Not
 * listed (MismatchSenderId, MissingRegistration, MessageTooBig, ...): failed. */
static const struct token_rule {
	const char *error;
	enum android_push_status result;
} token_rules[] = {
	{ "NotRegistered", ANDROID_PUSH_UNREGISTERED },
	{ "InvalidRegistration", ANDROID_PUSH_UNREGISTERED },
	{ "Unavailable", ANDROID_PUSH_RETRY },
	{ "InternalServerError", ANDROID_PUSH_RETRY },
	{ "DeviceMessageRateExceeded", ANDROID_PUSH_RETRY },
};

const char *android_push_status_name(enum android_push_status s)
{
	static const char *const names[] = {
		[ANDROID_PUSH_DONE] = "done",	  [ANDROID_PUSH_UNREGISTERED] = "unregistered",
		[ANDROID_PUSH_RETRY] = "retry",	  [ANDROID_PUSH_AUTH_BROKEN] = "auth_broken",
		[ANDROID_PUSH_FAILED] = "failed",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* 1..max characters, each visible ASCII (no space, no control, nothing above 0x7e). */
static bool visible(const char *s, size_t max)
{
	size_t i;

	if (!s || !s[0])
		return false;
	for (i = 0; s[i]; i++)
		if (i == max || (unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

bool android_push_token_ok(const char *s)
{
	return visible(s, ANDROID_PUSH_TOKEN_MAX);
}

static enum android_push_status classify_status(int status)
{
	size_t i;

	for (i = 0; i < sizeof(status_rules) / sizeof(status_rules[0]); i++)
		if (status_rules[i].status ? status_rules[i].status == status
					   : status_rules[i].class == status / 100)
			return status_rules[i].result;
	return ANDROID_PUSH_FAILED;
}

static enum android_push_status classify_token_error(const char *error)
{
	size_t i;

	for (i = 0; i < sizeof(token_rules) / sizeof(token_rules[0]); i++)
		if (strcmp(token_rules[i].error, error) == 0)
			return token_rules[i].result;
	return ANDROID_PUSH_FAILED;
}

/* Copies untrusted text (len bytes) as printable ASCII on one line, cut to fit. */
static void copy_clean(char *out, size_t cap, const char *in, size_t len)
{
	size_t i, j = 0;

	for (i = 0; i < len && j + 1 < cap; i++)
		out[j++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[j] = '\0';
}

static void result_set(struct android_push_result *res, enum android_push_status st,
		       int http_status, const char *fmt, const char *detail)
{
	res->status = st;
	res->http_status = http_status;
	res->retry_after_s = 0;
	snprintf(res->reason, sizeof(res->reason), fmt, detail ? detail : "");
}

/* Retry-After as delta-seconds (RFC 9110 §10.2.3); 0 for none or an HTTP-date. */
static int64_t retry_after(const char *v)
{
	int64_t s = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '9'; i++)
		if (s < ANDROID_PUSH_RETRY_AFTER_MAX_S)
			s = s * 10 + (v[i] - '0');
	if (i == 0 || v[i] != '\0')
		return 0;
	return s < ANDROID_PUSH_RETRY_AFTER_MAX_S ? s : ANDROID_PUSH_RETRY_AFTER_MAX_S;
}

/* The message of an error answer: see the header comment. */
static void error_message(const struct buf *body, char *out, size_t cap)
{
	json_t *doc = body->len ? json_loadb(body->p, body->len, 0, NULL) : NULL;
	json_t *msg = NULL, *err;

	if (json_is_object(doc)) {
		err = json_object_get(doc, "error");
		msg = json_object_get(doc, "message");
		if (!json_is_string(msg))
			msg = json_is_string(err) ? err : json_object_get(err, "message");
	}
	if (json_is_string(msg))
		copy_clean(out, cap, json_string_value(msg), json_string_length(msg));
	else
		copy_clean(out, cap, body->p ? body->p : "", body->len);
	json_decref(doc);
}

/* A 2xx answer's per-token results, when it has exactly k of them (GCM multicast shape):
 * each {"error": "..."} decides its token; others stay done. */
static void token_results(const struct buf *body, struct android_push_result *const *res, size_t k)
{
	json_t *doc = body->len ? json_loadb(body->p, body->len, 0, NULL) : NULL;
	json_t *list = json_object_get(doc, "results"), *err;
	size_t i;

	if (json_is_array(list) && json_array_size(list) == k) {
		for (i = 0; i < k; i++) {
			err = json_object_get(json_array_get(list, i), "error");
			if (!json_is_string(err))
				continue;
			res[i]->status = classify_token_error(json_string_value(err));
			copy_clean(res[i]->reason, sizeof(res[i]->reason), json_string_value(err),
				   json_string_length(err));
		}
	} else if (list) {
		log_debug("android push: %zu results for %zu tokens: the batch's status applies",
			  json_is_array(list) ? json_array_size(list) : 0, k);
	}
	json_decref(doc);
}

/* The outcome of POST j as the results of its tokens. */
static void results_from(struct android_push *ap, size_t j, struct android_push_result *results)
{
	const struct http2_request *r = &ap->reqs[j];
	struct android_push_result *res[ANDROID_PUSH_BATCH], one;
	size_t i, k = ap->count[j];

	for (i = 0; i < k; i++)
		res[i] = &results[ap->idx[ap->first[j] + i]];
	switch (r->outcome) {
	case HTTP2_ANSWERED:
	case HTTP2_TOO_BIG:
		result_set(&one, classify_status(r->status), r->status, "%s", "");
		if (r->outcome == HTTP2_TOO_BIG)
			snprintf(one.reason, sizeof(one.reason), "(answer over %d bytes)",
				 RESPONSE_MAX);
		else if (r->status / 100 != 2)
			error_message(&r->resp_body, one.reason, sizeof(one.reason));
		if (one.status == ANDROID_PUSH_RETRY)
			one.retry_after_s = retry_after(r->header_value);
		break;
	case HTTP2_TIMEOUT:
		result_set(&one, ANDROID_PUSH_RETRY, 0, "Timeout: %s", r->error);
		break;
	case HTTP2_CONNECT_FAILED:
		result_set(&one, ANDROID_PUSH_RETRY, 0, "ConnectFailed: %s", r->error);
		break;
	case HTTP2_CONNECTION_LOST:
		result_set(&one, ANDROID_PUSH_RETRY, 0, "ConnectionLost: %s", r->error);
		break;
	case HTTP2_NOT_SENT:
		result_set(&one, ANDROID_PUSH_RETRY, 0, "NotSent: %s", r->error);
		break;
	default:
		result_set(&one, ANDROID_PUSH_RETRY, 0, "TransportError: %s", r->error);
		break;
	}
	for (i = 0; i < k; i++)
		*res[i] = one;
	if (r->outcome == HTTP2_ANSWERED && one.status == ANDROID_PUSH_DONE)
		token_results(&r->resp_body, res, k);
}

/* https://host[:port][/path] as the origin and the path (default "/") net/http2 wants; it checks
 * the origin further. */
static bool url_split(const char *url, char *origin, size_t ocap, char *path, size_t pcap)
{
	static const char scheme[] = "https://";
	const size_t slen = sizeof(scheme) - 1;
	size_t hlen, plen;

	if (!visible(url, ocap + pcap) || strncmp(url, scheme, slen) != 0)
		return false;
	hlen = strcspn(url + slen, "/");
	plen = strlen(url + slen + hlen);
	if (hlen == 0 || slen + hlen >= ocap || plen >= pcap ||
	    strcspn(url + slen, "?#@\\") < hlen || strchr(url, '#'))
		return false;
	memcpy(origin, url, slen + hlen);
	origin[slen + hlen] = '\0';
	snprintf(path, pcap, "%s", plen ? url + slen + hlen : "/");
	return true;
}

static enum loy_err config_check(const struct android_push_config *cfg, const char *url,
				 char *origin, char *path)
{
	if (!url_split(url, origin, HTTP2_ORIGIN_MAX, path, HTTP2_PATH_MAX)) {
		log_error("android push: LOY_ANDROID_PUSH_URL must be https://host[:port][/path] "
			  "(visible ASCII, no user, no fragment; got \"%.200s\")",
			  url);
		return LOY_EINVALID;
	}
	if (!cfg->api_key || !cfg->api_key[0]) {
		log_error("android push: LOY_ANDROID_PUSH_KEY is empty: the push API needs the key "
			  "WalletPasses issued");
		return LOY_EINVALID;
	}
	if (!visible(cfg->api_key, ANDROID_PUSH_KEY_MAX)) {
		log_error(
			"android push: LOY_ANDROID_PUSH_KEY must be 1..%d visible ASCII characters "
			"(no spaces or control characters)",
			ANDROID_PUSH_KEY_MAX);
		return LOY_EINVALID;
	}
	if (cfg->timeout_ms < 0 || cfg->timeout_ms > ANDROID_PUSH_TIMEOUT_MAX_MS) {
		log_error("android push: timeout must be 0 (default) to %d ms",
			  ANDROID_PUSH_TIMEOUT_MAX_MS);
		return LOY_EINVALID;
	}
	return LOY_OK;
}

enum loy_err android_push_open(const struct android_push_config *cfg, struct android_push **out)
{
	const char *url = cfg->url && cfg->url[0] ? cfg->url : ANDROID_PUSH_URL_DEFAULT;
	char origin[HTTP2_ORIGIN_MAX];
	struct http2_options ho = {
		.origin = origin,
		.ca_file = cfg->ca_file && cfg->ca_file[0] ? cfg->ca_file : NULL,
		.max_streams = ANDROID_PUSH_STREAMS,
		.max_response = RESPONSE_MAX,
	};
	struct android_push *ap;
	enum loy_err err;

	*out = NULL;
	ap = calloc(1, sizeof(*ap));
	if (!ap)
		return LOY_ENOMEM;
	pthread_mutex_init(&ap->lock, NULL);
	err = config_check(cfg, url, origin, ap->path);
	if (err != LOY_OK)
		goto out;
	ap->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : ANDROID_PUSH_TIMEOUT_DEFAULT_MS;
	snprintf(ap->auth_line, sizeof(ap->auth_line), "Authorization: %s", cfg->api_key);
	ap->headers[0] = ap->auth_line;
	ap->headers[1] = "Content-Type: application/json";
	ap->headers[2] = "Accept: application/json";
	err = http2_client_open(&ho, &ap->h2);
	if (err != LOY_OK)
		goto out;
	*out = ap;
	return LOY_OK;
out:
	android_push_close(ap);
	return err;
}

void android_push_close(struct android_push *ap)
{
	if (!ap)
		return;
	http2_client_close(ap->h2);
	http2_request_cleanup(ap->reqs, ANDROID_PUSH_CHUNK);
	pthread_mutex_destroy(&ap->lock);
	free(ap);
}

bool android_push_auth_broken(struct android_push *ap, char *reason, size_t cap)
{
	bool broken;

	pthread_mutex_lock(&ap->lock);
	broken = ap->broken;
	if (broken && reason && cap > 0)
		snprintf(reason, cap, "%s", ap->broken_reason);
	pthread_mutex_unlock(&ap->lock);
	return broken;
}

static void mark_broken(struct android_push *ap, const struct android_push_result *res)
{
	if (ap->broken)
		return;
	ap->broken = true;
	snprintf(ap->broken_reason, sizeof(ap->broken_reason), "%d %.100s", res->http_status,
		 res->reason);
	log_error("android push: the push API refused the key (%s): Android pushes stop until "
		  "LOY_ANDROID_PUSH_KEY is fixed",
		  ap->broken_reason);
}

/* {"passTypeIdentifier": ..., "pushTokens": [...]} for POST j, malloc'd; NULL when out of memory. */
static char *body_for(const struct android_push *ap, size_t j, const char *pass_type_id,
		      const char *const *tokens)
{
	json_t *doc = json_object(), *list = json_array();
	char *text = NULL;
	size_t i;
	bool ok = doc && list &&
		  json_object_set_new(doc, "passTypeIdentifier", json_string(pass_type_id)) == 0;

	for (i = 0; ok && i < ap->count[j]; i++)
		ok = json_array_append_new(list, json_string(tokens[ap->idx[ap->first[j] + i]])) ==
		     0;
	if (ok && json_object_set(doc, "pushTokens", list) == 0)
		text = json_dumps(doc, JSON_COMPACT);
	json_decref(list);
	json_decref(doc);
	return text;
}

/* Groups the tokens from *pos on into at most ANDROID_PUSH_CHUNK POSTs of ANDROID_PUSH_BATCH
 * tokens, answering malformed ones on the way. Returns the number of POSTs. */
static size_t chunk_fill(struct android_push *ap, const char *const *tokens, size_t n, size_t *pos,
			 struct android_push_result *results)
{
	size_t m = 0, k = 0, start;

	while (*pos < n && m < ANDROID_PUSH_CHUNK) {
		start = k;
		while (*pos < n && k - start < ANDROID_PUSH_BATCH) {
			if (android_push_token_ok(tokens[*pos]))
				ap->idx[k++] = *pos;
			else
				result_set(&results[*pos], ANDROID_PUSH_UNREGISTERED, 0, "%s",
					   "malformed push token (not sent)");
			(*pos)++;
		}
		if (k > start) {
			ap->first[m] = start;
			ap->count[m++] = k - start;
		}
	}
	return m;
}

/* Why the rest of a call is not sent, if it is not. */
struct stop {
	const char *why; /* NULL: go on */
	int64_t retry_after_s;
};

/* Sends m POSTs with timeout_ms left and sets their tokens' results. */
static enum loy_err chunk_send(struct android_push *ap, size_t m, const char *pass_type_id,
			       const char *const *tokens, struct android_push_result *results,
			       int64_t timeout_ms, struct stop *stop)
{
	enum loy_err err = LOY_OK;
	size_t j, answered = 0, transport = 0;

	for (j = 0; j < m; j++) {
		struct http2_request *r = &ap->reqs[j];

		ap->bodies[j] = body_for(ap, j, pass_type_id, tokens);
		if (!ap->bodies[j])
			err = LOY_ENOMEM;
		r->method = "POST";
		r->path = ap->path;
		r->headers = ap->headers;
		r->nheaders = HEADERS_N;
		r->body = ap->bodies[j];
		r->body_len = ap->bodies[j] ? strlen(ap->bodies[j]) : 0;
		r->capture = "retry-after";
	}
	if (err == LOY_OK)
		err = http2_batch_run(ap->h2, ap->reqs, m, timeout_ms);
	for (j = 0; j < m; j++) {
		struct android_push_result *first = &results[ap->idx[ap->first[j]]];
		enum http2_outcome o = ap->reqs[j].outcome;

		answered += o == HTTP2_ANSWERED || o == HTTP2_TOO_BIG;
		transport += o == HTTP2_CONNECT_FAILED || o == HTTP2_CONNECTION_LOST;
		if (err == LOY_ENOMEM)
			ap->reqs[j].error = "out of memory";
		results_from(ap, j, results);
		if (first->status == ANDROID_PUSH_AUTH_BROKEN)
			mark_broken(ap, first);
		if (first->http_status == 429 && !stop->why) {
			stop->why = "rate limited (429)";
			stop->retry_after_s = first->retry_after_s;
		}
		free(ap->bodies[j]);
		ap->bodies[j] = NULL;
	}
	http2_request_cleanup(ap->reqs, m);
	if (answered == 0 && transport > 0)
		stop->why = "the push API is unreachable (see the other tokens' reason)";
	return err;
}

static void log_summary(const char *pass_type_id, const char *const *tokens, size_t n,
			const struct android_push_result *res)
{
	size_t count[ANDROID_PUSH_FAILED + 1] = { 0 }, i, failed_logged = 0;
	const char *retry_reason = NULL;

	for (i = 0; i < n; i++) {
		count[res[i].status]++;
		if (res[i].status == ANDROID_PUSH_RETRY && !retry_reason)
			retry_reason = res[i].reason;
		if (res[i].status == ANDROID_PUSH_FAILED && failed_logged++ < FAILED_LOGGED_MAX)
			log_warn(
				"android push: %d %s for token %.8s...: Loy's request is wrong or the "
				"API changed, not retried",
				res[i].http_status, res[i].reason, tokens[i] ? tokens[i] : "");
	}
	if (count[ANDROID_PUSH_DONE] == n) {
		log_debug("android push: %s: %zu tokens done", pass_type_id, n);
		return;
	}
	log_info("android push: %s: %zu tokens: %zu done, %zu unregistered, %zu retry%s%s%s, %zu "
		 "auth broken, %zu failed",
		 pass_type_id, n, count[ANDROID_PUSH_DONE], count[ANDROID_PUSH_UNREGISTERED],
		 count[ANDROID_PUSH_RETRY], retry_reason ? " (first: " : "",
		 retry_reason ? retry_reason : "", retry_reason ? ")" : "",
		 count[ANDROID_PUSH_AUTH_BROKEN], count[ANDROID_PUSH_FAILED]);
}

/* The tokens from pos on, not sent. */
static void not_sent(const struct android_push *ap, const char *const *tokens, size_t pos, size_t n,
		     enum loy_err err, const struct stop *stop, struct android_push_result *results)
{
	for (; pos < n; pos++) {
		struct android_push_result *r = &results[pos];

		if (!android_push_token_ok(tokens[pos]))
			result_set(r, ANDROID_PUSH_UNREGISTERED, 0, "%s",
				   "malformed push token (not sent)");
		else if (ap->broken)
			result_set(r, ANDROID_PUSH_AUTH_BROKEN, 0, "NotSent: key refused (%.100s)",
				   ap->broken_reason);
		else if (err != LOY_OK)
			result_set(r, ANDROID_PUSH_RETRY, 0, "NotSent: %s", err_name(err));
		else if (stop->why) {
			result_set(r, ANDROID_PUSH_RETRY, 0, "NotSent: %s", stop->why);
			r->retry_after_s = stop->retry_after_s;
		} else {
			result_set(r, ANDROID_PUSH_RETRY, 0, "NotSent: %s",
				   "the call's timeout passed");
		}
	}
}

enum loy_err android_push_send(struct android_push *ap, const char *pass_type_id,
			       const char *const *tokens, size_t n,
			       struct android_push_result *results)
{
	struct stop stop = { 0 };
	enum loy_err err = LOY_OK;
	int64_t deadline, left;
	size_t pos = 0, m;

	if (!ap || (n > 0 && (!tokens || !results)))
		return LOY_EINVALID;
	if (!visible(pass_type_id, ANDROID_PUSH_PASS_TYPE_MAX)) {
		log_error("android push: pass type identifier \"%.80s\" is empty, too long or not "
			  "visible ASCII: nothing sent",
			  pass_type_id ? pass_type_id : "(null)");
		return LOY_EINVALID;
	}
	pthread_mutex_lock(&ap->lock);
	deadline = time_mono_ms() + ap->timeout_ms;
	while (pos < n && err == LOY_OK && !ap->broken && !stop.why) {
		left = deadline - time_mono_ms();
		if (left <= 0)
			break;
		m = chunk_fill(ap, tokens, n, &pos, results);
		if (m > 0)
			err = chunk_send(ap, m, pass_type_id, tokens, results, left, &stop);
	}
	not_sent(ap, tokens, pos, n, err, &stop, results);
	log_summary(pass_type_id, tokens, n, results);
	pthread_mutex_unlock(&ap->lock);
	return err;
}
