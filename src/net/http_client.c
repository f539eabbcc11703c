/* net/http_client: one blocking request at a time over one libcurl easy handle, whose connection
 * cache keeps the connection alive between requests (http_client.h explains the design).
 *
 * Options that never change are set once when the handle is made; per request only the URL, the
 * method and body, the header list and the timeout. The header list is built per request (it is
 * short) and freed at once, so that no bearer token outlives its request in our memory. */
#include "net/http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"

/* Bounds of the connect timeout and of a request's timeout (ten minutes). */
#define TIMEOUT_MAX_MS 600000
/* TCP keep-alive, so that a peer that vanished under a kept-alive connection is noticed. */
#define TCP_KEEPIDLE_S 60L
#define TCP_KEEPINTVL_S 30L

struct http_client {
	CURL *easy;
	char *ca_file;
	int64_t connect_timeout_ms;
	size_t max_response;
	struct http_client_response *resp; /* the response being filled, during a request */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
	struct http_client_stats stats;
};

/* The methods a request may use; the others (HEAD, CONNECT, ...) change what libcurl expects of the
 * answer. */
static const struct method {
	const char *name;
	bool body; /* may carry a body */
} methods[] = {
	{ "GET", false }, { "DELETE", true }, { "POST", true }, { "PUT", true }, { "PATCH", true },
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_client *c = arg;
	size_t n = size * nmemb;

	if (buf_append(&c->resp->body, p, n) != LOY_OK) {
		c->too_big = c->resp->body.len + n > c->resp->body.max;
		return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

static bool easy_setup(struct http_client *c)
{
	CURL *e = c->easy;

	return curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) ==
		       CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	       (!c->ca_file || curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) == CURLE_OK) &&
	       curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms) ==
		       CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, TCP_KEEPIDLE_S) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, TCP_KEEPINTVL_S) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_WRITEDATA, c) == CURLE_OK &&
	       curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK;
}

enum loy_err http_client_open(const struct http_client_options *o, struct http_client **out)
{
	struct http_client *c;
	enum loy_err err = LOY_ENOMEM;

	*out = NULL;
	if (o->connect_timeout_ms < 0 || o->connect_timeout_ms > TIMEOUT_MAX_MS ||
	    o->max_response > HTTP_CLIENT_RESPONSE_MAX_LIMIT) {
		log_error("http_client: connect timeout must be 0..%d ms, response cap at most %d "
			  "bytes",
			  TIMEOUT_MAX_MS, HTTP_CLIENT_RESPONSE_MAX_LIMIT);
		return LOY_EINVALID;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		log_error("http_client: curl_global_init: %s", curl_easy_strerror(global_rc));
		return LOY_EINTERNAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return LOY_ENOMEM;
	c->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
						      : HTTP_CLIENT_CONNECT_TIMEOUT_DEFAULT_MS;
	c->max_response = o->max_response ? o->max_response : HTTP_CLIENT_RESPONSE_MAX_DEFAULT;
	if (o->ca_file && !(c->ca_file = strdup(o->ca_file)))
		goto out;
	err = LOY_EINTERNAL;
	c->easy = curl_easy_init();
	if (!c->easy || !easy_setup(c))
		goto out;
	*out = c;
	return LOY_OK;
out:
	if (err == LOY_EINTERNAL)
		log_error("http_client: libcurl refused to set up a client");
	http_client_close(c);
	return err;
}

void http_client_close(struct http_client *c)
{
	if (!c)
		return;
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free(c->ca_file);
	free(c);
}

void http_client_stats(const struct http_client *c, struct http_client_stats *out)
{
	*out = c->stats;
}

void http_client_response_cleanup(struct http_client_response *resp)
{
	buf_cleanup(&resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* ---- one request ---------------------------------------------------------------------------- */

static const struct method *method_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

static bool url_ok(const char *u)
{
	size_t i, len;

	if (!u || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
		return false;
	len = strlen(u);
	if (len >= HTTP_CLIENT_URL_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return false;
	return true;
}

static bool line_ok(const char *h)
{
	const char *colon = h ? strchr(h, ':') : NULL;

	return colon && colon != h && strlen(h) < HTTP_CLIENT_HEADER_LINE_MAX &&
	       !strpbrk(h, "\r\n");
}

static bool has_header(const char *const *h, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (strncasecmp(h[i], name, len) == 0 && h[i][len] == ':')
			return true;
	return false;
}

/* The request's header lines, and empty entries that keep libcurl from adding its own
 * Content-Type (form-encoded for any body) and Expect (a 100-continue round trip). NULL when a
 * line is bad or memory ran out (*bad tells which). */
static struct curl_slist *header_list(const struct http_client_request *r, bool *bad)
{
	static const char *const suppress[] = { "Content-Type", "Expect" };
	struct curl_slist *l = NULL, *t;
	char empty[32];
	size_t i;

	*bad = r->nheaders > HTTP_CLIENT_HEADERS_MAX || (r->nheaders > 0 && !r->headers);
	for (i = 0; !*bad && i < r->nheaders; i++) {
		if (!line_ok(r->headers[i])) {
			*bad = true;
			break;
		}
		if (!(t = curl_slist_append(l, r->headers[i])))
			goto fail;
		l = t;
	}
	if (*bad)
		goto fail;
	for (i = 0; i < sizeof(suppress) / sizeof(suppress[0]); i++) {
		if (has_header(r->headers, r->nheaders, suppress[i]))
			continue;
		snprintf(empty, sizeof(empty), "%s:", suppress[i]);
		if (!(t = curl_slist_append(l, empty)))
			goto fail;
		l = t;
	}
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

/* The method and body options. A handle keeps them from request to request, so each is set. */
static CURLcode set_method(CURL *e, const struct method *m, const struct http_client_request *r)
{
	CURLcode rc;

	if (!m->body)
		rc = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else {
		rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	}
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
				      strcmp(m->name, "GET") == 0 || strcmp(m->name, "POST") == 0
					      ? NULL
					      : m->name);
	return rc;
}

/* Retry-After (RFC 9110 §10.2.3) as delta-seconds or an HTTP-date, in ms from now, at most
 * HTTP_CLIENT_RETRY_AFTER_MAX_MS; 0 when absent, unreadable or past. */
static int64_t retry_after(CURL *e)
{
	const int64_t max_s = HTTP_CLIENT_RETRY_AFTER_MAX_MS / 1000;
	struct curl_header *h = NULL;
	const char *v;
	int64_t s = 0;
	time_t when;
	size_t i;

	if (curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return 0;
	v = h->value;
	for (i = 0; v[i] >= '0' && v[i] <= '9'; i++)
		if (s <= max_s)
			s = s * 10 + (v[i] - '0');
	if (i == 0 || v[i] != '\0') {
		when = curl_getdate(v, NULL);
		s = when == (time_t)-1 ? 0 : (int64_t)(when - time(NULL));
	}
	if (s <= 0)
		return 0;
	return (s < max_s ? s : max_s) * 1000;
}

/* What a libcurl result means to the caller (http_client.h lists the errors). */
static enum loy_err classify(CURLcode rc, bool too_big)
{
	switch (rc) {
	case CURLE_OK:
		return LOY_OK;
	case CURLE_WRITE_ERROR:
		return too_big ? LOY_ETOOBIG : LOY_ENOMEM;
	case CURLE_OUT_OF_MEMORY:
		return LOY_ENOMEM;
	case CURLE_URL_MALFORMAT:
		return LOY_EINVALID;
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_NOT_BUILT_IN:
	case CURLE_FAILED_INIT:
		return LOY_EINTERNAL;
	default:
		/* DNS, connect, TLS handshake and certificate, send/receive, a connection closed
		 * under the request, a malformed answer, the timeout: nothing usable came. */
		return LOY_EUNAVAILABLE;
	}
}

static void reset_response(struct http_client *c, struct http_client_response *resp)
{
	if (resp->body.max != c->max_response) {
		buf_cleanup(&resp->body);
		buf_init(&resp->body, c->max_response);
	}
	buf_clear(&resp->body);
	resp->status = 0;
	resp->retry_after_ms = 0;
	resp->http_version = 0;
	resp->reason[0] = '\0';
}

static enum loy_err refuse(struct http_client_response *resp, const char *why)
{
	snprintf(resp->reason, sizeof(resp->reason), "%s", why);
	return LOY_EINVALID;
}

/* Reads what came back into resp after the transfer ended with rc. */
static enum loy_err collect(struct http_client *c, CURLcode rc, struct http_client_response *resp)
{
	enum loy_err err = classify(rc, c->too_big);
	long status = 0, version = 0, connects = 0;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c->easy, CURLINFO_HTTP_VERSION, &version);
	curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects);
	c->stats.connects += (uint64_t)connects;
	resp->status = (int)status;
	if (status > 0) {
		c->stats.answered += err == LOY_OK || err == LOY_ETOOBIG;
		resp->http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : 1;
		resp->retry_after_ms = retry_after(c->easy);
	}
	if (err == LOY_ETOOBIG)
		snprintf(resp->reason, sizeof(resp->reason),
			 "the response body is larger than %zu bytes", c->max_response);
	else if (err != LOY_OK)
		snprintf(resp->reason, sizeof(resp->reason), "%s",
			 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	if (err == LOY_EUNAVAILABLE)
		c->stats.failures++;
	return err;
}

enum loy_err http_client_request(struct http_client *c, const struct http_client_request *r,
				 struct http_client_response *resp)
{
	int64_t timeout = r->timeout_ms ? r->timeout_ms : HTTP_CLIENT_TIMEOUT_DEFAULT_MS;
	const struct method *m = method_find(r->method);
	struct curl_slist *hdrs;
	enum loy_err err;
	CURLcode rc;
	bool bad;

	reset_response(c, resp);
	if (!m)
		return refuse(resp, "bad method (GET, POST, PUT, PATCH or DELETE)");
	if (!url_ok(r->url))
		return refuse(resp, "bad URL (http:// or https://, visible ASCII, shorter than "
				    "HTTP_CLIENT_URL_MAX)");
	if (timeout < 0 || timeout > TIMEOUT_MAX_MS)
		return refuse(resp, "bad timeout");
	if ((r->body_len > 0 && !r->body) || (!m->body && r->body_len > 0))
		return refuse(resp, "a body needs a method that carries one");
	hdrs = header_list(r, &bad);
	if (bad)
		return refuse(resp, "bad header line (\"Name: value\", no CR or LF, at most "
				    "HTTP_CLIENT_HEADERS_MAX lines)");
	if (!hdrs) {
		snprintf(resp->reason, sizeof(resp->reason), "out of memory");
		return LOY_ENOMEM;
	}
	rc = curl_easy_setopt(c->easy, CURLOPT_URL, r->url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdrs);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	if (rc == CURLE_OK)
		rc = set_method(c->easy, m, r);
	if (rc != CURLE_OK) {
		snprintf(resp->reason, sizeof(resp->reason), "%s", curl_easy_strerror(rc));
		err = rc == CURLE_OUT_OF_MEMORY ? LOY_ENOMEM : LOY_EINTERNAL;
		goto out;
	}
	c->resp = resp;
	c->too_big = false;
	c->errbuf[0] = '\0';
	c->stats.requests++;
	rc = curl_easy_perform(c->easy);
	err = collect(c, rc, resp);
	c->resp = NULL;
out:
	/* The list must not outlive the request: the handle would point at freed lines. */
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return err;
}
