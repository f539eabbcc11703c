/* wallet/google/gapi: Google Wallet REST calls with a shared OAuth token, a shared rate limit and
 * a pool of kept-alive connections, and the classification of Google's answers (spec §2.1, §2.5).
 *
 * DESIGN. One mutex guards the pool, the token and the rate limiter; it is never held across I/O
 * or a sleep.
 *  - Pool: cfg->connections http_clients on a free stack; a call takes one for its whole length
 *    (token fetch and 401 replay included) and waits on pool_cv when none is free.
 *  - Token: one access token for all threads, used until GAPI_TOKEN_MARGIN_S before expires_in
 *    runs out. When it is missing or stale, the first caller fetches it with its own connection
 *    while the others wait on token_cv for that fetch (no thundering herd); if the fetch fails,
 *    the waiters get its failure rather than each trying again. A 401 drops the token it was sent
 *    with (unless another thread replaced it already: token_gen), and the call is sent once more
 *    with a fresh one; a second 401 is GAPI_FAILED.
 *  - Rate: a token bucket of one, refilled 1/rate_per_s s after each request: callers take
 *    tickets, and in ticket order each waits until next_us, claims that instant and sets next_us
 *    one interval after its claim (not after its reservation: a thread that wakes late must not
 *    send close behind the one before it), so that no one-second window ever holds more than
 *    rate_per_s requests sent, however many threads call. A caller takes its ticket while holding
 *    a connection, so at most cfg->connections wait at once and a turn is never spent waiting for
 *    a connection. The token endpoint counts too. Arrivals at Google shift by the network's
 *    jitter (a new connection's handshake delays its first request by a few ms): one reason the
 *    default is 15 where Google allows 20.
 *
 * Classification (spec §2.5): 2xx OK; 404 NOT_FOUND; 409 CONFLICT; 408, 429 and 5xx RETRY, except
 * that a 429 naming QuotaExceeded (message or reason) on a call that asked to notify is QUOTA
 * (spec §2.5, §2.6: "Going over gives QuotaExceededException, after which TEXT should be used";
 * the status is unconfirmed, §2.9). The request-rate quota's 429 ("Quota exceeded for quota
 * metric ...", reason rateLimitExceeded) stays RETRY even on a notifying call, or a rate burst
 * would silence notifications. 401 once → replay; anything else FAILED with Google's
 * error.message. The token endpoint (spec §2.1): 400 invalid_grant and other 4xx
 * FAILED ("Treat these as permanent and don't retry. Log a clear hint about clock skew"), 408,
 * 429, 5xx and network errors RETRY. */
#define _GNU_SOURCE /* strcasestr */
#include "wallet/google/gapi.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "crypto/google_sa.h"
#include "net/http_client.h"

/* The token request's form body before the assertion (spec §2.1, "Request"). */
#define GRANT_PREFIX "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
#define AUTH_PREFIX "Authorization: Bearer "
#define URL_MAX (GAPI_URL_MAX + GAPI_PATH_MAX)

struct gapi {
	char api_url[GAPI_URL_MAX];
	struct google_sa *sa;
	int64_t timeout_ms;
	int64_t interval_us; /* between two requests: 1 s / rate_per_s */
	size_t nclients;
	struct http_client **clients;

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t pool_cv;
	pthread_cond_t token_cv;
	size_t *free_stack; /* indices of the clients not in use */
	size_t nfree;
	char token[GAPI_TOKEN_MAX + 1];
	bool have_token;
	int64_t token_stale_ms; /* monotonic: fetch a new one from then on */
	uint64_t token_gen;	/* bumped at every new token */
	bool fetching;		/* a thread is fetching the token */
	bool last_fetch_failed;
	struct gapi_result last_fetch; /* the failure of the last fetch, for its waiters */
	pthread_cond_t rate_cv;	       /* on CLOCK_MONOTONIC */
	uint64_t rate_next_ticket, rate_serving;
	int64_t next_us; /* monotonic: the earliest instant of the next request */
	struct gapi_stats stats;
};

const char *gapi_status_name(enum gapi_status s)
{
	static const char *const names[] = {
		[GAPI_OK] = "ok",
		[GAPI_NOT_FOUND] = "not_found",
		[GAPI_CONFLICT] = "conflict",
		[GAPI_RETRY] = "retry",
		[GAPI_QUOTA] = "quota",
		[GAPI_FAILED] = "failed",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- results -------------------------------------------------------------------------------- */

static void result_set(struct gapi_result *res, enum gapi_status st, int http_status,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets the status and the message, the message made printable ASCII (it quotes what Google or a
 * proxy said). Keeps retry_after_ms. */
static void result_set(struct gapi_result *res, enum gapi_status st, int http_status,
		       const char *fmt, ...)
{
	va_list ap;
	size_t i;

	res->status = st;
	res->http_status = http_status;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	for (i = 0; res->message[i]; i++)
		if ((unsigned char)res->message[i] < 0x20 || (unsigned char)res->message[i] >= 0x7f)
			res->message[i] = '?';
}

static const char *json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

/* Google's error envelope {"error":{"code","message","status","errors":[{"reason",...}]}}, or
 * NULL (the caller decrefs the document through *doc). */
static json_t *error_object(const struct buf *body, json_t **doc)
{
	json_t *err;

	*doc = body->len ? json_loadb(body->p, body->len, 0, NULL) : NULL;
	err = json_object_get(*doc, "error");
	return json_is_object(err) ? err : NULL;
}

/* Google's error.message, else the body's first bytes, else the status. */
static void error_message(const struct http_client_response *hr, char *out, size_t cap)
{
	json_t *doc, *err = error_object(&hr->body, &doc);
	const char *msg = json_str(err, "message");

	if (msg)
		snprintf(out, cap, "%s", msg);
	else if (hr->body.len)
		snprintf(out, cap, "HTTP %d: %.200s", hr->status, hr->body.p);
	else
		snprintf(out, cap, "HTTP %d", hr->status);
	json_decref(doc);
}

/* True if the call asked Google to notify the phone (spec §2.6): a PATCH/PUT with
 * "notifyPreference":"NOTIFY_ON_UPDATE", or an addMessage whose message is TEXT_AND_NOTIFY. */
static bool notifying(const char *body)
{
	json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
	const char *pref = json_str(doc, "notifyPreference");
	const char *type = json_str(json_object_get(doc, "message"), "messageType");
	bool yes = (pref && strcmp(pref, "NOTIFY_ON_UPDATE") == 0) ||
		   (type && strcmp(type, "TEXT_AND_NOTIFY") == 0);

	json_decref(doc);
	return yes;
}

/* "QuotaExceeded", the name Google gives the notification quota's error ("QuotaExceededException",
 * reason "quotaExceeded"), as opposed to "Quota exceeded ..." and "rateLimitExceeded", the words of
 * the request-rate quota. */
static bool names_notify_quota(const char *s)
{
	return contains_ci(s, "QuotaExceeded");
}

/* A 429 that says the pass's notification quota is spent (see the DESIGN note). */
static bool quota_answer(const struct http_client_response *hr)
{
	json_t *doc, *err = error_object(&hr->body, &doc), *e;
	bool yes = names_notify_quota(json_str(err, "message"));
	size_t i;

	json_array_foreach(json_object_get(err, "errors"), i, e)
		yes = yes || names_notify_quota(json_str(e, "reason")) ||
		      names_notify_quota(json_str(e, "message"));
	json_decref(doc);
	return yes;
}

/* The answer of an API call, other than a first 401, as the caller's result. */
static void classify(const struct http_client_response *hr, const char *body,
		     struct gapi_result *res)
{
	char msg[GAPI_MESSAGE_MAX];
	int s = hr->status;

	res->retry_after_ms = hr->retry_after_ms;
	if (s >= 200 && s < 300) {
		result_set(res, GAPI_OK, s, "%s", "");
		return;
	}
	error_message(hr, msg, sizeof(msg));
	if (s == 404)
		result_set(res, GAPI_NOT_FOUND, s, "%s", msg);
	else if (s == 409)
		result_set(res, GAPI_CONFLICT, s, "%s", msg);
	else if (s == 429 && notifying(body) && quota_answer(hr))
		result_set(res, GAPI_QUOTA, s, "%s", msg);
	else if (s == 408 || s == 429 || s >= 500)
		result_set(res, GAPI_RETRY, s, "%s", msg);
	else if (s == 401)
		result_set(res, GAPI_FAILED, s,
			   "Google refused a freshly fetched access token (401): %s", msg);
	else
		result_set(res, GAPI_FAILED, s, "%s", msg);
}

/* ---- pool and rate ------------------------------------------------------------------------- */

static size_t pool_take(struct gapi *g)
{
	size_t i;

	pthread_mutex_lock(&g->lock);
	while (g->nfree == 0)
		pthread_cond_wait(&g->pool_cv, &g->lock);
	i = g->free_stack[--g->nfree];
	pthread_mutex_unlock(&g->lock);
	return i;
}

static void pool_give(struct gapi *g, size_t i)
{
	pthread_mutex_lock(&g->lock);
	g->free_stack[g->nfree++] = i;
	pthread_cond_signal(&g->pool_cv);
	pthread_mutex_unlock(&g->lock);
}

/* Waits for this caller's turn (tickets are served in order) and for the next free instant, then
 * claims it: the next instant is one interval after the claim, so a caller that woke late never
 * brings two requests closer together. */
static void rate_wait(struct gapi *g)
{
	uint64_t ticket;
	struct timespec ts;
	bool waited = false;
	int64_t now;

	pthread_mutex_lock(&g->lock);
	ticket = g->rate_next_ticket++;
	for (;;) {
		now = time_mono_us();
		if (g->rate_serving == ticket && now >= g->next_us)
			break;
		waited = true;
		if (g->rate_serving != ticket) {
			pthread_cond_wait(&g->rate_cv, &g->lock);
			continue;
		}
		ts.tv_sec = (time_t)(g->next_us / 1000000);
		ts.tv_nsec = (long)(g->next_us % 1000000) * 1000;
		pthread_cond_timedwait(&g->rate_cv, &g->lock, &ts);
	}
	g->rate_serving++;
	g->next_us = now + g->interval_us;
	g->stats.rate_waits += waited;
	pthread_cond_broadcast(&g->rate_cv);
	pthread_mutex_unlock(&g->lock);
}

/* One request on client i, after its rate slot; counts the connections it opened. */
static enum loy_err send_one(struct gapi *g, size_t i, const struct http_client_request *r,
			     struct http_client_response *hr, bool token)
{
	struct http_client_stats before, after;
	enum loy_err err;

	http_client_stats(g->clients[i], &before);
	rate_wait(g);
	err = http_client_request(g->clients[i], r, hr);
	http_client_stats(g->clients[i], &after);
	pthread_mutex_lock(&g->lock);
	if (token)
		g->stats.token_fetches++;
	else
		g->stats.requests++;
	g->stats.connections += after.connects - before.connects;
	pthread_mutex_unlock(&g->lock);
	return err;
}

/* ---- the access token ----------------------------------------------------------------------- */

/* RFC 6750 §2.1 b64token: what may follow "Bearer " (nothing that could end the header line). */
static bool token_chars_ok(const char *t, size_t len)
{
	size_t i = 0;

	while (i < len && (((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z') ||
			   (t[i] >= '0' && t[i] <= '9') || strchr("-._~+/", t[i])))
		i++;
	while (i > 0 && i < len && t[i] == '=')
		i++;
	return i > 0 && i == len;
}

/* "error: error_description" of the token endpoint's error answer (RFC 6749 §5.2), else the
 * body's first bytes; *invalid_grant says whether the error is that. */
static void token_error(const struct http_client_response *hr, char *out, size_t cap,
			bool *invalid_grant)
{
	json_t *doc = hr->body.len ? json_loadb(hr->body.p, hr->body.len, 0, NULL) : NULL;
	const char *error = json_str(doc, "error"), *desc = json_str(doc, "error_description");

	*invalid_grant = error && strcmp(error, "invalid_grant") == 0;
	if (error)
		snprintf(out, cap, "%s%s%.200s", error, desc ? ": " : "", desc ? desc : "");
	else
		snprintf(out, cap, "%.200s", hr->body.len ? hr->body.p : "no body");
	json_decref(doc);
}

/* A 200 from the token endpoint: {"access_token","expires_in","token_type":"Bearer"}. A missing
 * or non-positive expires_in gives a token for this call only. */
static bool token_parse(const struct http_client_response *hr, char *tok, int64_t *life_s)
{
	json_t *doc = json_loadb(hr->body.p ? hr->body.p : "", hr->body.len, 0, NULL);
	json_t *at = json_object_get(doc, "access_token"),
	       *exp = json_object_get(doc, "expires_in");
	const char *type = json_str(doc, "token_type");
	bool ok = json_is_string(at) && json_string_length(at) <= GAPI_TOKEN_MAX &&
		  token_chars_ok(json_string_value(at), json_string_length(at)) &&
		  (!type || strcasecmp(type, "Bearer") == 0);

	if (ok) {
		memcpy(tok, json_string_value(at), json_string_length(at) + 1);
		*life_s = json_is_integer(exp) ? (int64_t)json_integer_value(exp) : 0;
		if (*life_s > GAPI_TOKEN_LIFETIME_MAX_S)
			*life_s = GAPI_TOKEN_LIFETIME_MAX_S;
	}
	json_decref(doc);
	return ok;
}

/* Exchanges a fresh assertion for an access token on client ci (spec §2.1). On failure res says
 * why; the assertion and the form that carried it are wiped either way. */
static bool token_fetch(struct gapi *g, size_t ci, char *tok, int64_t *life_s,
			struct gapi_result *res)
{
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded",
					       "Accept: application/json" };
	struct http_client_response hr = { 0 };
	struct http_client_request r = { .method = "POST",
					 .url = google_sa_token_uri(g->sa),
					 .headers = headers,
					 .nheaders = 2,
					 .timeout_ms = g->timeout_ms };
	char *jwt = NULL, *form = NULL, why[GAPI_MESSAGE_MAX];
	size_t form_len = 0;
	bool ok = false, invalid_grant;
	enum loy_err err;

	err = google_sa_assertion(g->sa, time_now_ms() / 1000, &jwt);
	if (err == LOY_OK) {
		form_len = sizeof(GRANT_PREFIX) - 1 + strlen(jwt);
		form = malloc(form_len + 1);
		if (form)
			snprintf(form, form_len + 1, "%s%s", GRANT_PREFIX, jwt);
		else
			err = LOY_ENOMEM;
		explicit_bzero(jwt, strlen(jwt));
		free(jwt);
	}
	if (err != LOY_OK) {
		result_set(res, err == LOY_ENOMEM ? GAPI_RETRY : GAPI_FAILED, 0,
			   "cannot sign the OAuth assertion (%s)", err_name(err));
		return false;
	}
	r.body = form;
	r.body_len = form_len;
	err = send_one(g, ci, &r, &hr, true);
	explicit_bzero(form, form_len);
	free(form);
	res->retry_after_ms = hr.retry_after_ms;
	if (err != LOY_OK) {
		result_set(res, GAPI_RETRY, hr.status, "token endpoint: %s", hr.reason);
	} else if (hr.status == 200) {
		ok = token_parse(&hr, tok, life_s);
		if (!ok)
			result_set(res, GAPI_RETRY, 200,
				   "token endpoint: 200 without a usable Bearer access_token");
	} else {
		token_error(&hr, why, sizeof(why), &invalid_grant);
		if (hr.status == 408 || hr.status == 429 || hr.status >= 500)
			result_set(res, GAPI_RETRY, hr.status, "token endpoint: HTTP %d: %s",
				   hr.status, why);
		else if (invalid_grant)
			result_set(
				res, GAPI_FAILED, hr.status,
				"token endpoint refused the assertion (%s); check the server's "
				"clock (clock skew: the assertion's iat/exp must be within Google's "
				"window) and that the key in the key file is not deleted",
				why);
		else
			result_set(res, GAPI_FAILED, hr.status, "token endpoint: HTTP %d: %s",
				   hr.status, why);
	}
	if (ok)
		log_debug("gapi: access token fetched for %s (expires in %lld s)",
			  google_sa_email(g->sa), (long long)*life_s);
	else
		log_warn("gapi: no access token for %s from %s: %s", google_sa_email(g->sa),
			 google_sa_token_uri(g->sa), res->message);
	http_client_response_cleanup(&hr);
	return ok;
}

/* The access token into tok and its generation into *gen: the cached one while fresh; else
 * fetched on client ci, or, when another thread is fetching it, that thread's token or failure.
 * false with res filled when there is no token. */
static bool token_get(struct gapi *g, size_t ci, char *tok, uint64_t *gen, struct gapi_result *res)
{
	int64_t life_s = 0, start;
	bool ok;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		if (g->have_token && time_mono_ms() < g->token_stale_ms)
			goto use;
		if (!g->fetching)
			break;
		while (g->fetching)
			pthread_cond_wait(&g->token_cv, &g->lock);
		if (g->last_fetch_failed) {
			*res = g->last_fetch;
			pthread_mutex_unlock(&g->lock);
			return false;
		}
		if (g->have_token)
			goto use; /* just fetched: used even when its life is shorter than the margin */
	}
	g->fetching = true;
	pthread_mutex_unlock(&g->lock);
	start = time_mono_ms();
	ok = token_fetch(g, ci, tok, &life_s, res);
	pthread_mutex_lock(&g->lock);
	g->fetching = false;
	g->last_fetch_failed = !ok;
	if (ok) {
		memcpy(g->token, tok, strlen(tok) + 1);
		g->have_token = true;
		g->token_gen++;
		g->token_stale_ms = start + (life_s - GAPI_TOKEN_MARGIN_S) * 1000;
	} else {
		g->last_fetch = *res;
	}
	*gen = g->token_gen;
	pthread_cond_broadcast(&g->token_cv);
	pthread_mutex_unlock(&g->lock);
	return ok;
use:
	memcpy(tok, g->token, strlen(g->token) + 1);
	*gen = g->token_gen;
	pthread_mutex_unlock(&g->lock);
	return true;
}

/* Drops the token of generation gen after a 401, unless another thread replaced it already. */
static void token_drop(struct gapi *g, uint64_t gen)
{
	pthread_mutex_lock(&g->lock);
	if (g->have_token && g->token_gen == gen) {
		g->have_token = false;
		explicit_bzero(g->token, sizeof(g->token));
		g->stats.refreshes_401++;
	}
	pthread_mutex_unlock(&g->lock);
}

/* ---- calls ---------------------------------------------------------------------------------- */

static bool method_ok(const char *m)
{
	return m && (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
		     strcmp(m, "PATCH") == 0);
}

static bool path_ok(const char *p)
{
	size_t i, len = p ? strlen(p) : 0;

	if (len == 0 || p[0] != '/' || len >= GAPI_PATH_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return false;
	return true;
}

/* The outcome of the last request (err, hr) as the caller's result. */
static enum loy_err outcome(enum loy_err err, const struct http_client_response *hr,
			    const char *body, struct gapi_result *res)
{
	res->retry_after_ms = hr->retry_after_ms;
	switch (err) {
	case LOY_OK:
		classify(hr, body, res);
		return LOY_OK;
	case LOY_ETOOBIG:
		classify(hr, body, res);
		if (res->status == GAPI_OK)
			result_set(res, GAPI_FAILED, hr->status,
				   "Google's answer is larger than %d bytes", GAPI_RESPONSE_MAX);
		return LOY_OK;
	case LOY_ENOMEM:
		result_set(res, GAPI_RETRY, hr->status, "out of memory");
		return LOY_ENOMEM;
	default: /* LOY_EUNAVAILABLE: no answer; LOY_EINTERNAL: libcurl could not run it */
		result_set(res, GAPI_RETRY, hr->status, "%s", hr->reason);
		return LOY_OK;
	}
}

enum loy_err gapi_call(struct gapi *g, const char *method, const char *path, const char *body,
		       struct gapi_result *res, char **resp)
{
	char url[URL_MAX], tok[GAPI_TOKEN_MAX + 1], auth[sizeof(AUTH_PREFIX) + GAPI_TOKEN_MAX];
	const char *headers[3] = { auth, "Accept: application/json",
				   "Content-Type: application/json" };
	struct http_client_request r = { .method = method,
					 .url = url,
					 .headers = headers,
					 .nheaders = body ? 3 : 2,
					 .body = body,
					 .body_len = body ? strlen(body) : 0 };
	struct http_client_response hr = { 0 };
	enum loy_err err;
	uint64_t gen = 0;
	size_t ci;
	int attempt;

	if (resp)
		*resp = NULL;
	if (!res)
		return LOY_EINVALID;
	memset(res, 0, sizeof(*res));
	if (!g || !method_ok(method) || !path_ok(path)) {
		result_set(res, GAPI_FAILED, 0, "bad method or path (not sent)");
		return LOY_EINVALID;
	}
	if (r.body_len > GAPI_BODY_MAX) {
		result_set(res, GAPI_FAILED, 0, "body over %d bytes (not sent)", GAPI_BODY_MAX);
		return LOY_ETOOBIG;
	}
	snprintf(url, sizeof(url), "%s%s", g->api_url, path);
	r.timeout_ms = g->timeout_ms;
	ci = pool_take(g);
	for (attempt = 0;; attempt++) {
		if (!token_get(g, ci, tok, &gen, res)) {
			err = LOY_OK; /* res says why there is no token */
			goto out;
		}
		snprintf(auth, sizeof(auth), AUTH_PREFIX "%s", tok);
		err = send_one(g, ci, &r, &hr, false);
		if ((err != LOY_OK && err != LOY_ETOOBIG) || hr.status != 401)
			break;
		token_drop(g, gen); /* a second 401 drops the fresh token too */
		if (attempt == 1)
			break;
	}
	err = outcome(err, &hr, body, res);
	if (res->status == GAPI_OK && resp && hr.body.len)
		*resp = buf_detach(&hr.body, NULL);
out:
	pool_give(g, ci);
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(auth, sizeof(auth));
	http_client_response_cleanup(&hr);
	return err;
}

/* ---- life ----------------------------------------------------------------------------------- */

/* cfg's api_url, checked, without a trailing '/', into out. */
static bool api_url_ok(const char *u, char *out, size_t cap)
{
	size_t i, len = strlen(u), scheme;

	if (strncmp(u, "https://", 8) == 0)
		scheme = 8;
	else if (strncmp(u, "http://", 7) == 0)
		scheme = 7;
	else
		return false;
	if (len > 0 && u[len - 1] == '/')
		len--;
	if (len <= scheme || len >= cap || u[scheme] == '/')
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f ||
		    strchr("?#", u[i]))
			return false;
	memcpy(out, u, len);
	out[len] = '\0';
	return true;
}

static enum loy_err config_check(const struct gapi_config *cfg, struct gapi *g, int *rate,
				 int *conns)
{
	const char *url = cfg->api_url ? cfg->api_url : GAPI_URL_DEFAULT;

	*rate = cfg->rate_per_s ? cfg->rate_per_s : GAPI_RATE_DEFAULT;
	*conns = cfg->connections ? cfg->connections : GAPI_CONNECTIONS_DEFAULT;
	g->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : GAPI_TIMEOUT_DEFAULT_MS;
	if (!api_url_ok(url, g->api_url, sizeof(g->api_url))) {
		log_error("gapi: the API URL must be http:// or https://host[:port][/prefix], "
			  "visible ASCII, no query, shorter than %d characters",
			  GAPI_URL_MAX);
		return LOY_EINVALID;
	}
	if (*rate < 1 || *rate > GAPI_RATE_MAX) {
		log_error("gapi: the rate must be 1..%d requests per second (Google allows 20)",
			  GAPI_RATE_MAX);
		return LOY_EINVALID;
	}
	if (*conns < 1 || *conns > GAPI_CONNECTIONS_MAX) {
		log_error("gapi: the connections must be 1..%d", GAPI_CONNECTIONS_MAX);
		return LOY_EINVALID;
	}
	if (g->timeout_ms < 1 || g->timeout_ms > GAPI_TIMEOUT_MAX_MS) {
		log_error("gapi: the timeout must be 1..%d ms", GAPI_TIMEOUT_MAX_MS);
		return LOY_EINVALID;
	}
	return LOY_OK;
}

enum loy_err gapi_open(const struct gapi_config *cfg, struct google_sa *sa, struct gapi **out)
{
	struct http_client_options o = { .max_response = GAPI_RESPONSE_MAX };
	pthread_condattr_t attr;
	struct gapi *g;
	enum loy_err err;
	int rate, conns, i;

	*out = NULL;
	if (!cfg || !sa) {
		log_error("gapi: no configuration or no service account");
		return LOY_EINVALID;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return LOY_ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->pool_cv, NULL);
	pthread_cond_init(&g->token_cv, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g->rate_cv, &attr);
	pthread_condattr_destroy(&attr);
	err = config_check(cfg, g, &rate, &conns);
	if (err != LOY_OK)
		goto out;
	g->sa = sa;
	g->interval_us = (1000000 + rate - 1) / rate; /* rounded up: rate intervals fill a second */
	o.ca_file = cfg->ca_file;
	o.connect_timeout_ms = g->timeout_ms < HTTP_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS
				       ? g->timeout_ms
				       : HTTP_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS;
	err = LOY_ENOMEM;
	g->clients = calloc((size_t)conns, sizeof(*g->clients));
	g->free_stack = calloc((size_t)conns, sizeof(*g->free_stack));
	if (!g->clients || !g->free_stack)
		goto out;
	g->nclients = (size_t)conns;
	for (i = 0; i < conns; i++) {
		err = http_client_open(&o, &g->clients[i]);
		if (err != LOY_OK)
			goto out;
		g->free_stack[g->nfree++] = (size_t)i;
	}
	*out = g;
	return LOY_OK;
out:
	gapi_close(g);
	return err;
}

void gapi_close(struct gapi *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; g->clients && i < g->nclients; i++)
		http_client_close(g->clients[i]);
	free(g->clients);
	free(g->free_stack);
	explicit_bzero(g->token, sizeof(g->token));
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->pool_cv);
	pthread_cond_destroy(&g->token_cv);
	pthread_cond_destroy(&g->rate_cv);
	free(g);
}

void gapi_stats(struct gapi *g, struct gapi_stats *out)
{
	pthread_mutex_lock(&g->lock);
	*out = g->stats;
	pthread_mutex_unlock(&g->lock);
}
