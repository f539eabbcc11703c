/* net/http2: batches of HTTP/2 requests multiplexed over one long-lived TLS connection, on
 * libcurl's multi interface. http2.h explains the design (one connection, the lone first request
 * on a cold connection, re-sends after a lost connection, the fail-fast on connect errors).
 *
 * Each client owns max_streams easy handles ("slots"), made once and reused for every request so
 * that a push costs no handle set-up; a slot is attached to the multi handle only while its request
 * is in flight. Options that never change are set when the slot is made; per request only the URL,
 * the header list (rebuilt only when the request's header array changes), the method and body, and
 * the timeout. */
#include "net/http2.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/timeutil.h"

#define SLOT_IDLE SIZE_MAX
/* Distinct error texts kept per batch (requests point into them). */
#define ERRS_KEPT 8
/* Longest single wait in curl_multi_poll, so the deadline is checked at least this often. */
#define POLL_MAX_MS 1000
/* libcurl's own per-transfer timeout is the batch deadline plus this: ours always fires first, and
 * libcurl's is only a safety net. */
#define CURL_TIMEOUT_SLACK_MS 1000
/* TCP keep-alive on the long-lived connection, so that a peer that vanished is noticed. */
#define TCP_KEEPIDLE_S 60L
#define TCP_KEEPINTVL_S 30L
/* libcurl does not reuse a connection idle longer than this (its default, 118 s, would reconnect
 * after every quiet spell; APNs asks for connections kept open). */
#define MAXAGE_CONN_S 3600L

struct slot {
	CURL *easy;
	struct http2_client *c;
	size_t req;	/* index into the batch, SLOT_IDLE when not in flight */
	unsigned epoch; /* the batch's connection epoch when the request went out */
	bool probe;	/* it went out alone, on a connection not yet known to answer */
	bool too_big;
	struct curl_slist *hdrs;
	const char *const *hdrs_src; /* the request header array hdrs was built from */
	size_t hdrs_n;
	char errbuf[CURL_ERROR_SIZE];
	char url[HTTP2_ORIGIN_MAX + HTTP2_PATH_MAX];
};

struct batch {
	struct http2_request *reqs;
	size_t n;
	size_t next;	 /* first request never sent */
	size_t nresend;	 /* entries in c->resend */
	size_t inflight; /* slots attached */
	size_t left;	 /* requests without an outcome yet */
	int64_t deadline;
	int64_t timeout_ms;
	unsigned epoch;	  /* bumped at every connection loss */
	bool probe;	  /* send one request at a time until one is answered */
	int probe_losses; /* lone requests whose connection died in a row */
	bool connect_logged;
};

struct http2_client {
	CURLM *multi;
	struct slot *slots;
	size_t nslots;
	size_t *idle; /* stack of idle slot indices */
	size_t nidle;
	size_t *resend; /* stack of request indices to send again (never more than nslots) */
	char origin[HTTP2_ORIGIN_MAX];
	char *ca_file;
	http2_tls_setup_fn *tls_setup;
	void *tls_arg;
	int64_t connect_timeout_ms;
	size_t max_response;
	int64_t last_answer_ms; /* monotonic; 0: no answer on the current connection */
	bool h1_warned;
	char errs[ERRS_KEPT][CURL_ERROR_SIZE];
	size_t nerrs;
	struct http2_stats stats;
	struct batch *b;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *http2_outcome_name(enum http2_outcome o)
{
	static const char *const names[] = {
		[HTTP2_NOT_SENT] = "not sent",
		[HTTP2_ANSWERED] = "answered",
		[HTTP2_TIMEOUT] = "timeout",
		[HTTP2_CONNECT_FAILED] = "connect failed",
		[HTTP2_CONNECTION_LOST] = "connection lost",
		[HTTP2_TOO_BIG] = "response too big",
		[HTTP2_FAILED] = "failed",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

/* ---- options and set-up --------------------------------------------------------------------- */

/* "https://host[:port]" with an optional trailing '/' (dropped): no path, query or userinfo. */
static bool origin_ok(const char *s, char *out, size_t cap)
{
	static const char scheme[] = "https://";
	size_t len, i;

	if (!s || strncmp(s, scheme, sizeof(scheme) - 1) != 0)
		return false;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '/')
		len--;
	if (len <= sizeof(scheme) - 1 || len >= cap)
		return false;
	for (i = sizeof(scheme) - 1; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("/?#@\\", ch))
			return false;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
	struct http2_client *c = arg;

	(void)easy;
	return c->tls_setup(ssl_ctx, c->tls_arg) == LOY_OK ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	struct http2_request *r = &s->c->b->reqs[s->req];
	size_t n = size * nmemb;

	if (buf_append(&r->resp_body, p, n) != LOY_OK) {
		s->too_big = true;
		return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

static CURLM *multi_new(size_t nslots)
{
	CURLM *m = curl_multi_init();

	if (!m)
		return NULL;
	if (curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK ||
	    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L) != CURLM_OK ||
	    curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)nslots) != CURLM_OK) {
		curl_multi_cleanup(m);
		return NULL;
	}
	return m;
}

/* The options every request of the slot shares. */
static bool slot_setup(struct http2_client *c, struct slot *s)
{
	CURL *e = curl_easy_init();
	bool ok;

	s->easy = e;
	s->c = c;
	s->req = SLOT_IDLE;
	if (!e)
		return false;
	ok = curl_easy_setopt(e, CURLOPT_PRIVATE, s) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms) ==
		     CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, TCP_KEEPIDLE_S) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, TCP_KEEPINTVL_S) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, MAXAGE_CONN_S) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response) ==
		     CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_WRITEDATA, s) == CURLE_OK &&
	     curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) == CURLE_OK;
	if (ok && c->ca_file)
		ok = curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
	if (ok && c->tls_setup)
		ok = curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) == CURLE_OK &&
		     curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, c) == CURLE_OK;
	return ok;
}

static bool tls_backend_is_openssl(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return v && v->ssl_version && strncmp(v->ssl_version, "OpenSSL", 7) == 0;
}

enum loy_err http2_client_open(const struct http2_options *o, struct http2_client **out)
{
	struct http2_client *c = NULL;
	enum loy_err err = LOY_EINVALID;
	size_t i, nslots;

	*out = NULL;
	nslots = o->max_streams == 0 ? HTTP2_STREAMS_DEFAULT : (size_t)o->max_streams;
	if (o->max_streams < 0 || nslots > HTTP2_STREAMS_MAX) {
		log_error("http2: max_streams %d is outside 1..%d", o->max_streams,
			  HTTP2_STREAMS_MAX);
		return LOY_EINVALID;
	}
	if (o->connect_timeout_ms < 0 || o->max_response > HTTP2_RESPONSE_MAX_LIMIT) {
		log_error("http2: connect timeout or response cap out of range");
		return LOY_EINVALID;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		log_error("http2: curl_global_init: %s", curl_easy_strerror(global_rc));
		return LOY_EINTERNAL;
	}
	if (o->tls_setup && !tls_backend_is_openssl()) {
		log_error("http2: libcurl's TLS backend is %s; client certificates need OpenSSL",
			  curl_version_info(CURLVERSION_NOW)->ssl_version);
		return LOY_EINVALID;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return LOY_ENOMEM;
	if (!origin_ok(o->origin, c->origin, sizeof(c->origin))) {
		log_error("http2: the origin must be https://host[:port] with no path (got \"%s\")",
			  o->origin ? o->origin : "");
		goto out;
	}
	err = LOY_ENOMEM;
	c->nslots = nslots;
	c->tls_setup = o->tls_setup;
	c->tls_arg = o->tls_arg;
	c->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
						      : HTTP2_CONNECT_TIMEOUT_DEFAULT_MS;
	c->max_response = o->max_response ? o->max_response : HTTP2_RESPONSE_MAX_DEFAULT;
	if (o->ca_file && o->ca_file[0] && !(c->ca_file = strdup(o->ca_file)))
		goto out;
	c->slots = calloc(nslots, sizeof(*c->slots));
	c->idle = calloc(nslots, sizeof(*c->idle));
	c->resend = calloc(nslots, sizeof(*c->resend));
	if (!c->slots || !c->idle || !c->resend)
		goto out;
	err = LOY_EINTERNAL;
	c->multi = multi_new(nslots);
	if (!c->multi)
		goto out;
	for (i = 0; i < nslots; i++) {
		if (!slot_setup(c, &c->slots[i]))
			goto out;
		c->idle[c->nidle++] = nslots - 1 - i;
	}
	*out = c;
	return LOY_OK;
out:
	if (err == LOY_EINTERNAL)
		log_error("http2: libcurl refused to set up a client");
	http2_client_close(c);
	return err;
}

void http2_client_close(struct http2_client *c)
{
	size_t i;

	if (!c)
		return;
	/* Between batches no slot is attached, so the multi handle goes first: it closes the
	 * connection. */
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (i = 0; c->slots && i < c->nslots; i++) {
		if (c->slots[i].easy)
			curl_easy_cleanup(c->slots[i].easy);
		curl_slist_free_all(c->slots[i].hdrs);
	}
	free(c->slots);
	free(c->idle);
	free(c->resend);
	free(c->ca_file);
	free(c);
}

void http2_client_disconnect(struct http2_client *c)
{
	CURLM *m = multi_new(c->nslots);

	if (!m) {
		log_error("http2: cannot make a new multi handle; keeping the connection");
		return;
	}
	curl_multi_cleanup(c->multi);
	c->multi = m;
	c->last_answer_ms = 0;
}

void http2_client_stats(const struct http2_client *c, struct http2_stats *out)
{
	*out = c->stats;
}

void http2_request_cleanup(struct http2_request *reqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		buf_cleanup(&reqs[i].resp_body);
		reqs[i].outcome = HTTP2_NOT_SENT;
		reqs[i].status = 0;
		reqs[i].sends = 0;
		reqs[i].error = NULL;
		reqs[i].header_value[0] = '\0';
	}
}

/* ---- one batch ------------------------------------------------------------------------------ */

/* A copy of text that stays valid until the next batch; identical texts share one copy. */
static const char *keep_error(struct http2_client *c, const char *text)
{
	size_t i;

	for (i = 0; i < c->nerrs; i++)
		if (strcmp(c->errs[i], text) == 0)
			return c->errs[i];
	if (c->nerrs == ERRS_KEPT)
		return "several transport errors in one batch (see the log)";
	snprintf(c->errs[c->nerrs], sizeof(c->errs[0]), "%s", text);
	return c->errs[c->nerrs++];
}

static const char *curl_error(struct http2_client *c, struct slot *s, CURLcode rc)
{
	return keep_error(c, s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
}

static void finish(struct http2_client *c, struct batch *b, struct http2_request *r,
		   enum http2_outcome o, const char *error)
{
	r->outcome = o;
	r->error = error;
	if (o == HTTP2_CONNECT_FAILED || o == HTTP2_CONNECTION_LOST || o == HTTP2_FAILED)
		c->stats.failures++;
	b->left--;
}

static void release(struct http2_client *c, struct batch *b, struct slot *s)
{
	curl_multi_remove_handle(c->multi, s->easy);
	s->req = SLOT_IDLE;
	c->idle[c->nidle++] = (size_t)(s - c->slots);
	b->inflight--;
}

static bool line_ok(const char *h)
{
	return h && h[0] && !strpbrk(h, "\r\n");
}

static bool has_header(const char *const *h, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (strncasecmp(h[i], name, len) == 0 && h[i][len] == ':')
			return true;
	return false;
}

/* The slot's header list for r: the caller's lines, and empty entries that keep libcurl from
 * adding its own Accept, Content-Type (form-encoded for a POST) and Expect. */
static bool slot_headers(struct slot *s, const struct http2_request *r)
{
	static const char *const suppress[] = { "Accept", "Content-Type", "Expect" };
	struct curl_slist *l = NULL, *t;
	char empty[32];
	size_t i;

	if (s->hdrs && s->hdrs_src == r->headers && s->hdrs_n == r->nheaders)
		return true;
	for (i = 0; i < r->nheaders; i++) {
		if (!line_ok(r->headers[i]) || !(t = curl_slist_append(l, r->headers[i])))
			goto fail;
		l = t;
	}
	for (i = 0; i < sizeof(suppress) / sizeof(suppress[0]); i++) {
		if (has_header(r->headers, r->nheaders, suppress[i]))
			continue;
		snprintf(empty, sizeof(empty), "%s:", suppress[i]);
		if (!(t = curl_slist_append(l, empty)))
			goto fail;
		l = t;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = l;
	s->hdrs_src = r->headers;
	s->hdrs_n = r->nheaders;
	return true;
fail:
	curl_slist_free_all(l);
	return false;
}

static bool path_ok(const char *p)
{
	size_t i, len = strlen(p);

	if (p[0] != '/' || len >= HTTP2_PATH_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return false;
	return true;
}

static bool method_ok(const char *m)
{
	size_t i;

	for (i = 0; m[i]; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return false;
	return i > 0 && i < 16;
}

/* Sets the request's own options on the slot's handle. */
static const char *slot_prepare(struct slot *s, const struct http2_request *r, int64_t timeout)
{
	CURL *e = s->easy;
	bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;
	CURLcode rc;

	if (!method_ok(r->method))
		return "bad method";
	if (!path_ok(r->path))
		return "bad path (must start with '/', visible ASCII, shorter than HTTP2_PATH_MAX)";
	if (!slot_headers(s, r))
		return "bad header line, or out of memory";
	snprintf(s->url, sizeof(s->url), "%s%s", s->c->origin, r->path);
	rc = curl_easy_setopt(e, CURLOPT_URL, s->url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
				      (long)(timeout + CURL_TIMEOUT_SLACK_MS));
	if (rc == CURLE_OK && get && !r->body_len) {
		rc = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (rc == CURLE_OK) {
		rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	}
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, post || get ? NULL : r->method);
	return rc == CURLE_OK ? NULL : curl_easy_strerror(rc);
}

static void reset_result(struct http2_request *r)
{
	buf_clear(&r->resp_body);
	r->status = 0;
	r->error = NULL;
	r->header_value[0] = '\0';
}

/* Puts request i in flight on an idle slot. */
static void start(struct http2_client *c, struct batch *b, size_t i)
{
	struct http2_request *r = &b->reqs[i];
	struct slot *s = &c->slots[c->idle[c->nidle - 1]];
	const char *why = slot_prepare(s, r, b->deadline - time_mono_ms());
	CURLMcode mc;

	if (why) {
		finish(c, b, r, HTTP2_FAILED, keep_error(c, why));
		return;
	}
	s->req = i;
	s->epoch = b->epoch;
	s->probe = b->probe;
	s->too_big = false;
	s->errbuf[0] = '\0';
	mc = curl_multi_add_handle(c->multi, s->easy);
	if (mc != CURLM_OK) {
		s->req = SLOT_IDLE;
		finish(c, b, r, HTTP2_FAILED, curl_multi_strerror(mc));
		return;
	}
	c->nidle--;
	b->inflight++;
	r->sends++;
	c->stats.sent++;
}

static bool can_admit(const struct http2_client *c, const struct batch *b)
{
	size_t limit = b->probe ? 1 : c->nslots;

	return b->inflight < limit && c->nidle > 0 && (b->nresend > 0 || b->next < b->n);
}

static void admit(struct http2_client *c, struct batch *b)
{
	while (can_admit(c, b)) {
		size_t i = b->nresend > 0 ? c->resend[--b->nresend] : b->next++;

		start(c, b, i);
	}
}

/* Ends the batch now: what is in flight gets in_flight, what waits to be sent again gets
 * CONNECTION_LOST, what was never sent gets unsent. */
static void end_all(struct http2_client *c, struct batch *b, enum http2_outcome in_flight,
		    enum http2_outcome unsent, const char *why)
{
	size_t i;

	for (i = 0; i < c->nslots && b->inflight > 0; i++) {
		struct slot *s = &c->slots[i];
		size_t req = s->req;

		if (req == SLOT_IDLE)
			continue;
		release(c, b, s);
		if (in_flight == HTTP2_TIMEOUT)
			c->stats.timeouts++;
		finish(c, b, &b->reqs[req], in_flight, why);
	}
	while (b->nresend > 0)
		finish(c, b, &b->reqs[c->resend[--b->nresend]],
		       unsent == HTTP2_NOT_SENT ? HTTP2_CONNECTION_LOST : unsent, why);
	while (b->next < b->n)
		finish(c, b, &b->reqs[b->next++], unsent, why);
}

enum kind { K_OK, K_TOO_BIG, K_CONNECT, K_LOST, K_OTHER };

static enum kind classify(CURLcode rc, bool too_big)
{
	switch (rc) {
	case CURLE_OK:
		return K_OK;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return too_big || rc == CURLE_FILESIZE_EXCEEDED ? K_TOO_BIG : K_OTHER;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT: /* only the connect timeout fires before our deadline */
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return K_CONNECT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return K_LOST;
	default:
		return K_OTHER;
	}
}

static void capture_header(struct slot *s, struct http2_request *r)
{
	struct curl_header *h = NULL;
	size_t len;

	if (!r->capture ||
	    curl_easy_header(s->easy, r->capture, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return;
	len = strlen(h->value);
	if (len < sizeof(r->header_value))
		memcpy(r->header_value, h->value, len + 1);
}

static void answered(struct http2_client *c, struct batch *b, struct slot *s,
		     struct http2_request *r, long status, bool too_big)
{
	long version = 0;

	r->status = (int)status;
	capture_header(s, r);
	curl_easy_getinfo(s->easy, CURLINFO_HTTP_VERSION, &version);
	if (version != CURL_HTTP_VERSION_2_0 && !c->h1_warned) {
		c->h1_warned = true;
		log_warn("http2: %s answered without HTTP/2: requests go one at a time", c->origin);
	}
	c->last_answer_ms = time_mono_ms();
	if (s->epoch == b->epoch) {
		b->probe = false;
		b->probe_losses = 0;
	}
	c->stats.answered++;
	release(c, b, s);
	if (too_big)
		finish(c, b, r, HTTP2_TOO_BIG, "response larger than the client's cap");
	else
		finish(c, b, r, HTTP2_ANSWERED, NULL);
}

/* The connection died under a request before its answer: send it again on a new one, unless it
 * went out often enough or lone requests keep dying (the server drops us: fail fast). */
static void lost(struct http2_client *c, struct batch *b, struct slot *s, struct http2_request *r,
		 const char *why)
{
	size_t req = s->req;
	bool was_probe = s->probe && s->epoch == b->epoch;

	release(c, b, s);
	c->last_answer_ms = 0;
	if (!b->probe)
		b->epoch++;
	b->probe = true;
	log_debug("http2: %s: connection lost under a request (%s)", c->origin, why);
	if (was_probe && ++b->probe_losses >= HTTP2_SENDS_MAX) {
		log_warn("http2: %s: the connection failed %d times in a row before any answer: %s",
			 c->origin, b->probe_losses, why);
		finish(c, b, r, HTTP2_CONNECTION_LOST, why);
		end_all(c, b, HTTP2_CONNECTION_LOST, HTTP2_CONNECTION_LOST, why);
		return;
	}
	if (r->sends >= HTTP2_SENDS_MAX) {
		finish(c, b, r, HTTP2_CONNECTION_LOST, why);
		return;
	}
	reset_result(r);
	c->resend[b->nresend++] = req;
	c->stats.resent++;
}

static void transfer_done(struct http2_client *c, struct batch *b, struct slot *s, CURLcode rc)
{
	struct http2_request *r = &b->reqs[s->req];
	long status = 0, connects = 0;
	const char *why;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects);
	c->stats.connects += (uint64_t)connects;
	switch (classify(rc, s->too_big)) {
	case K_OK:
		answered(c, b, s, r, status, false);
		return;
	case K_TOO_BIG:
		answered(c, b, s, r, status, true);
		return;
	case K_CONNECT:
		why = curl_error(c, s, rc);
		if (!b->connect_logged) {
			b->connect_logged = true;
			log_warn("http2: cannot connect to %s: %s", c->origin, why);
		}
		c->last_answer_ms = 0;
		release(c, b, s);
		finish(c, b, r, HTTP2_CONNECT_FAILED, why);
		end_all(c, b, HTTP2_CONNECT_FAILED, HTTP2_CONNECT_FAILED, why);
		return;
	case K_LOST:
		lost(c, b, s, r, curl_error(c, s, rc));
		return;
	case K_OTHER:
		why = curl_error(c, s, rc);
		log_warn("http2: %s: request failed: %s", c->origin, why);
		release(c, b, s);
		finish(c, b, r, HTTP2_FAILED, why);
		return;
	}
}

static void drain(struct http2_client *c, struct batch *b)
{
	CURLMsg *m;
	int queued;

	while (b->left > 0 && (m = curl_multi_info_read(c->multi, &queued))) {
		struct slot *s = NULL;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s && s->req != SLOT_IDLE)
			transfer_done(c, b, s, rc);
	}
}

static bool batch_args_ok(struct http2_request *reqs, size_t n, int64_t timeout_ms)
{
	size_t i;

	if (timeout_ms <= 0 || (n > 0 && !reqs))
		return false;
	for (i = 0; i < n; i++)
		if (!reqs[i].method || !reqs[i].path || (reqs[i].nheaders > 0 && !reqs[i].headers))
			return false;
	return true;
}

enum loy_err http2_batch_run(struct http2_client *c, struct http2_request *reqs, size_t n,
			     int64_t timeout_ms)
{
	struct batch b = { .reqs = reqs, .n = n, .left = n, .timeout_ms = timeout_ms };
	enum loy_err err = LOY_OK;
	CURLMcode mc;
	int64_t now;
	size_t i;
	int running;

	for (i = 0; reqs && i < n; i++) {
		buf_cleanup(&reqs[i].resp_body);
		buf_init(&reqs[i].resp_body, c ? c->max_response : 0);
		reqs[i].outcome = HTTP2_NOT_SENT;
		reqs[i].sends = 0;
		reset_result(&reqs[i]);
	}
	if (!c || !batch_args_ok(reqs, n, timeout_ms)) {
		for (i = 0; reqs && i < n; i++) {
			reqs[i].outcome = HTTP2_FAILED;
			reqs[i].error = "invalid batch";
		}
		return LOY_EINVALID;
	}
	c->b = &b;
	c->nerrs = 0;
	for (i = 0; i < c->nslots; i++)
		c->slots[i].hdrs_src = NULL; /* the caller may have changed its arrays */
	now = time_mono_ms();
	b.deadline = now + timeout_ms;
	b.probe = !(c->last_answer_ms > 0 && now - c->last_answer_ms < HTTP2_WARM_MS);
	while (b.left > 0) {
		admit(c, &b);
		if (b.left == 0)
			break;
		mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK) {
			log_error("http2: %s: curl_multi_perform: %s", c->origin,
				  curl_multi_strerror(mc));
			end_all(c, &b, HTTP2_FAILED, HTTP2_FAILED, curl_multi_strerror(mc));
			err = LOY_EINTERNAL;
			break;
		}
		drain(c, &b);
		if (b.left == 0)
			break;
		now = time_mono_ms();
		if (now >= b.deadline) {
			end_all(c, &b, HTTP2_TIMEOUT, HTTP2_NOT_SENT,
				"no answer before the batch's deadline");
			break;
		}
		if (can_admit(c, &b))
			continue;
		mc = curl_multi_poll(c->multi, NULL, 0,
				     (int)(b.deadline - now < POLL_MAX_MS ? b.deadline - now
									  : POLL_MAX_MS),
				     NULL);
		if (mc != CURLM_OK) {
			log_error("http2: %s: curl_multi_poll: %s", c->origin,
				  curl_multi_strerror(mc));
			end_all(c, &b, HTTP2_FAILED, HTTP2_FAILED, curl_multi_strerror(mc));
			err = LOY_EINTERNAL;
			break;
		}
	}
	c->b = NULL;
	return err;
}
