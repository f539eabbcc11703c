/* Tests of the Google Wallet API client (wallet/google/gapi over net/http_client) against the fake
 * Google in tests/fakes/google.js, run as a child process over HTTPS with the development CA: it
 * checks the assertion's RS256 signature with our service account's public key, the bearer token
 * on every call and every body against the walletobjects schema, and can be told to answer 401,
 * 404, 409, 429, 500, 503 or to stall. The service account is made here: an RSA key from the
 * openssl CLI and a key file whose token_uri points at the fake. What the fake received is read
 * back from the JSON line it prints per answered request and from its {"stats":true} answer.
 *
 * Needs node and openssl (make test installs them); without node the test reports itself skipped
 * (exit 77). */
#define _GNU_SOURCE /* asprintf, strptime, timegm, strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "crypto/devcerts.h"
#include "crypto/google_sa.h"
#include "fake_proc.h"
#include "support.h"
#include "wallet/google/gapi.h"

#define ISSUER "3388000000012345678"
#define EMAIL "loy-wallet@loy-test.iam.gserviceaccount.com"
#define API "/walletobjects/v1"
#define LIST_CLASSES API "/loyaltyClass?issuerId=" ISSUER

/* ---- the fake as a child process ------------------------------------------------------------ */

struct fake {
	struct fake_proc proc; /* proc.origin is the API's URL */
	char token_uri[80];
};

static char dir[64];
static char fake_js[512];
static struct fake main_fake;
static struct google_sa *sa; /* the account the fakes know, token_uri on main_fake */
static int log_fd = -1;

/* Starts node tests/fakes/google.js for our key file over HTTPS, with extra arguments
 * (NULL-terminated, or NULL). */
static int fake_spawn(struct fake *f, const char *const *extra)
{
	const char *argv[24] = { "node",	fake_js,
				 "--issuer-id", ISSUER,
				 "--key-file",	in(dir, "sa.json"),
				 "--tls-cert",	in(dir, "localhost.pem"),
				 "--tls-key",	in(dir, "localhost.key"),
				 "--port",	"0" };
	int argc = 12;
	char line[256];

	while (extra && *extra && argc < 23)
		argv[argc++] = *extra++;
	if (fake_proc_start(&f->proc, argv) != 0)
		return -1;
	if (!fake_proc_wait_line(&f->proc, 0, "token_uri ", line, sizeof(line))) {
		fake_proc_stop(&f->proc);
		return -1;
	}
	snprintf(f->token_uri, sizeof(f->token_uri), "%s", strchr(line, ' ') + 1);
	return 0;
}

struct fake_stats {
	long requests, token_requests, tokens_issued, api_calls, rate_limited, connections;
};

static long stat_of(json_t *st, const char *key)
{
	json_t *v = json_object_get(st, key);

	assert_true(json_is_integer(v));
	return (long)json_integer_value(v);
}

/* Sends a control line (NULL: none), then {"stats":true}, and waits for the answer: the fake
 * handles its stdin in order, so the control line has taken effect when the answer comes. */
static void fake_control(struct fake *f, const char *json, struct fake_stats *out)
{
	char line[8192];
	size_t from = fake_proc_mark(&f->proc);
	json_t *doc, *st;

	if (json)
		fake_proc_send(&f->proc, json);
	fake_proc_send(&f->proc, "{\"stats\":true}");
	assert_true(fake_proc_wait_line(&f->proc, from, "{\"stats\":", line, sizeof(line)));
	if (!out)
		return;
	doc = json_loads(line, 0, NULL);
	assert_non_null(doc);
	st = json_object_get(doc, "stats");
	out->requests = stat_of(st, "requests");
	out->token_requests = stat_of(st, "tokenRequests");
	out->tokens_issued = stat_of(st, "tokensIssued");
	out->api_calls = stat_of(st, "apiCalls");
	out->rate_limited = stat_of(st, "rateLimited");
	out->connections = stat_of(st, "connections");
	json_decref(doc);
}

static void mode(const char *json)
{
	fake_control(&main_fake, json, NULL);
}

static void reset(struct fake *f)
{
	fake_control(f, "{\"mode\":\"ok\"}\n{\"reset\":true}", NULL);
}

/* ---- the service account -------------------------------------------------------------------- */

/* Writes a key file shaped as Google issues it, for the RSA key in key_pem_path. */
static void write_key_file(const char *path, const char *key_pem_path, const char *token_uri)
{
	char pem[8192];
	json_t *doc;
	FILE *f = fopen(key_pem_path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	pem[n] = '\0';
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "service_account",
			"project_id", "loy-test", "private_key_id",
			"0123456789abcdef0123456789abcdef01234567", "private_key", pem,
			"client_email", EMAIL, "client_id", "100000000000000000001", "token_uri",
			token_uri);
	assert_non_null(doc);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2)), 0);
	json_decref(doc);
}

static struct google_sa *load_sa(const char *key_pem, const char *token_uri)
{
	struct google_sa *s = NULL;
	const char *why = NULL;

	write_key_file(in(dir, "other.json"), key_pem, token_uri);
	if (google_sa_load(in(dir, "other.json"), &s, &why) != LOY_OK)
		fail_msg("google_sa_load: %s", why);
	return s;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static struct gapi_config config(void)
{
	return (struct gapi_config){ .api_url = main_fake.proc.origin,
				     .ca_file = in(dir, "ca.pem"),
				     .timeout_ms = 5000,
				     .rate_per_s = 10 };
}

static struct gapi *open_gapi(const struct gapi_config *cfg, struct google_sa *account)
{
	struct gapi *g = NULL;

	assert_int_equal(gapi_open(cfg, account, &g), LOY_OK);
	return g;
}

static void call(struct gapi *g, const char *method, const char *path, const char *body,
		 struct gapi_result *res)
{
	assert_int_equal(gapi_call(g, method, path, body, res, NULL), LOY_OK);
}

static void expect(struct gapi *g, const char *method, const char *path, const char *body,
		   enum gapi_status status, int http_status)
{
	struct gapi_result res;

	call(g, method, path, body, &res);
	if (res.status != status || res.http_status != http_status)
		fail_msg("%s %s: %s %d (%s), expected %s %d", method, path,
			 gapi_status_name(res.status), res.http_status, res.message,
			 gapi_status_name(status), http_status);
}

static size_t count_lines(const char *text, const char *needle)
{
	size_t n = 0;
	const char *p = text;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static bool log_contains(const char *needle)
{
	char buf[1 << 18];
	ssize_t n;
	int fd = open(in(dir, "test.log"), O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* A class the fake accepts (UNDER_REVIEW: it approves it, so objects may join it). */
static char *class_body(const char *suffix, const char *review)
{
	char *s = NULL;

	assert_true(
		asprintf(&s,
			 "{\"id\":\"" ISSUER ".%s\",\"issuerName\":\"Loy Cafe\","
			 "\"programName\":\"Loy Points\",\"reviewStatus\":\"%s\","
			 "\"programLogo\":{\"sourceUri\":{\"uri\":\"https://example.com/logo.png\"},"
			 "\"contentDescription\":{\"defaultValue\":{\"language\":\"en-US\","
			 "\"value\":\"Logo\"}}}}",
			 suffix, review) > 0);
	return s;
}

/* Threads that make calls at once. */
struct worker {
	pthread_t t;
	struct gapi *g;
	pthread_barrier_t *start;
	int calls;
	int ok;
	enum gapi_status last;
	char message[GAPI_MESSAGE_MAX];
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct gapi_result res;
	int i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < w->calls; i++) {
		if (gapi_call(w->g, "GET", LIST_CLASSES, NULL, &res, NULL) != LOY_OK)
			continue;
		w->ok += res.status == GAPI_OK;
		w->last = res.status;
		snprintf(w->message, sizeof(w->message), "%s", res.message);
	}
	return NULL;
}

/* n threads, each making calls_each calls at once; returns the calls answered GAPI_OK. */
static int run_workers(struct gapi *g, struct worker *w, int n, int calls_each)
{
	pthread_barrier_t start;
	int i, ok = 0;

	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		w[i] = (struct worker){ .g = g, .start = &start, .calls = calls_each };
		assert_int_equal(pthread_create(&w[i].t, NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		ok += w[i].ok;
	}
	pthread_barrier_destroy(&start);
	return ok;
}

/* "2026-11-26T00:11:22.123Z" as ms since the epoch. */
static int64_t iso_ms(const char *s)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	assert_non_null(end);
	assert_true(end[0] == '.');
	return (int64_t)timegm(&tm) * 1000 + strtol(end + 1, NULL, 10);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	const char *why = NULL;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/loy-gapi-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	log_fd = open(in(dir, "test.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	log_set_fd(log_fd);
	log_set_level(LOG_DEBUG);
	if (devcerts_create(dir, &o, quiet_report, NULL) != LOY_OK)
		return -1;
	/* Our service account's key, and another key the fake does not know. */
	if (run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s",
		in(dir, "sa.key")) != 0 ||
	    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s",
		in(dir, "rogue.key")) != 0)
		return -1;
	/* The fake reads the account's email and public key from the key file; its port, and so
	 * the token_uri, is known once it runs: the file is written again with it. */
	write_key_file(in(dir, "sa.json"), in(dir, "sa.key"), "https://127.0.0.1:1/token");
	if (fake_spawn(&main_fake, NULL) != 0) {
		fprintf(stderr, "test_gapi: the fake Google did not start (%s)\n", fake_js);
		return -1;
	}
	write_key_file(in(dir, "sa.json"), in(dir, "sa.key"), main_fake.token_uri);
	if (google_sa_load(in(dir, "sa.json"), &sa, &why) != LOY_OK) {
		fprintf(stderr, "test_gapi: %s\n", why);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[100];

	(void)state;
	google_sa_close(sa);
	fake_proc_stop(&main_fake.proc);
	log_set_fd(1);
	if (log_fd >= 0)
		close(log_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* 4 threads × 5 calls from a cold start: one token fetch (the others wait for it), every call
 * authenticated, at most 4 connections; the answer's body comes back on GAPI_OK. */
static void test_token_fetched_once(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g = open_gapi(&cfg, sa);
	struct worker w[4];
	struct fake_stats fs;
	struct gapi_stats st;
	struct gapi_result res;
	char *resp = NULL;

	(void)state;
	reset(&main_fake);
	assert_int_equal(run_workers(g, w, 4, 5), 20);
	fake_control(&main_fake, NULL, &fs);
	assert_int_equal(fs.token_requests, 1);
	assert_int_equal(fs.tokens_issued, 1);
	assert_int_equal(fs.api_calls, 20);
	assert_true(fs.connections >= 1 && fs.connections <= 4);
	gapi_stats(g, &st);
	assert_int_equal(st.token_fetches, 1);
	assert_int_equal(st.requests, 20);
	assert_int_equal(st.refreshes_401, 0);
	assert_int_equal(st.connections, (uint64_t)fs.connections);

	assert_int_equal(gapi_call(g, "GET", LIST_CLASSES, NULL, &res, &resp), LOY_OK);
	assert_int_equal(res.status, GAPI_OK);
	assert_int_equal(res.http_status, 200);
	assert_string_equal(res.message, "");
	assert_non_null(resp);
	assert_non_null(strstr(resp, "\"resources\""));
	free(resp);
	print_message("    20 calls from 4 threads: %ld token request, %ld connections\n",
		      fs.token_requests, fs.connections);
	gapi_close(g);
}

/* A token is used until 60 s before expires_in runs out, then fetched again (no 401 needed). */
static void test_token_expiry_refetch(void **state)
{
	static const char *const short_life[] = { "--expires-in", "61", NULL };
	struct gapi_config cfg = config();
	struct fake f;
	struct fake_stats fs;
	struct gapi_stats st;
	struct gapi *g;

	(void)state;
	assert_int_equal(fake_spawn(&f, short_life), 0);
	/* The same account, its token_uri on this fake. */
	{
		struct google_sa *account = load_sa(in(dir, "sa.key"), f.token_uri);

		cfg.api_url = f.proc.origin;
		g = open_gapi(&cfg, account);
		expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
		expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
		gapi_stats(g, &st);
		assert_int_equal(st.token_fetches, 1);
		usleep(1200 * 1000); /* 61 - 60 s: stale now */
		expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
		expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
		gapi_stats(g, &st);
		assert_int_equal(st.token_fetches, 2);
		assert_int_equal(st.refreshes_401, 0);
		fake_control(&f, NULL, &fs);
		assert_int_equal(fs.tokens_issued, 2);
		assert_int_equal(fs.api_calls, 4);
		gapi_close(g);
		google_sa_close(account);
	}
	fake_proc_stop(&f.proc);
}

/* A 401 drops the token, a new one is fetched and the call is sent once more: the caller sees
 * only the success. Also when Google revoked every token. */
static void test_401_once_refreshes_and_replays(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g = open_gapi(&cfg, sa);
	struct gapi_stats st;
	struct fake_stats fs;
	size_t from;
	char *lines;

	(void)state;
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	reset(&main_fake);
	from = fake_proc_mark(&main_fake.proc);
	mode("{\"mode\":\"unauthenticated\",\"opts\":{\"count\":1}}");
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	fake_control(&main_fake, NULL, &fs);
	assert_int_equal(fs.api_calls, 2);
	assert_int_equal(fs.tokens_issued, 1);
	lines = fake_proc_since(&main_fake.proc, from);
	assert_int_equal(count_lines(lines, "\"status\":401"), 1);
	free(lines);
	gapi_stats(g, &st);
	assert_int_equal(st.token_fetches, 2);
	assert_int_equal(st.refreshes_401, 1);
	assert_int_equal(st.requests, 3);

	fake_control(&main_fake, "{\"revokeTokens\":true}", NULL);
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	gapi_stats(g, &st);
	assert_int_equal(st.token_fetches, 3);
	assert_int_equal(st.refreshes_401, 2);
	gapi_close(g);
}

/* A second 401, with a token fetched for the replay, is FAILED with a message; the next call
 * starts afresh. */
static void test_401_twice_failed(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g = open_gapi(&cfg, sa);
	struct gapi_result res;
	struct fake_stats fs;

	(void)state;
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	reset(&main_fake);
	mode("{\"mode\":\"unauthenticated\",\"opts\":{\"count\":2}}");
	call(g, "GET", LIST_CLASSES, NULL, &res);
	assert_int_equal(res.status, GAPI_FAILED);
	assert_int_equal(res.http_status, 401);
	assert_non_null(strstr(res.message, "freshly fetched access token"));
	assert_non_null(strstr(res.message, "Request had invalid authentication credentials"));
	fake_control(&main_fake, NULL, &fs);
	assert_int_equal(fs.api_calls, 2); /* replayed once, not more */
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	gapi_close(g);
}

/* The token endpoint answering 500, unreachable, or stalled: RETRY with the reason, and OK once it
 * is back. While it stalls, the callers waiting for the same fetch get its failure, not a fetch
 * each. */
static void test_token_endpoint_down_then_up(void **state)
{
	struct gapi_config cfg = config();
	struct google_sa *nowhere = load_sa(in(dir, "sa.key"), "http://127.0.0.1:1/token");
	struct gapi *g = open_gapi(&cfg, sa), *g2;
	struct worker w[4];
	struct gapi_result res;
	struct fake_stats fs;
	int i;

	(void)state;
	reset(&main_fake);
	mode("{\"mode\":\"tokenError\",\"opts\":{\"count\":1}}");
	call(g, "GET", LIST_CLASSES, NULL, &res);
	assert_int_equal(res.status, GAPI_RETRY);
	assert_int_equal(res.http_status, 500);
	assert_non_null(
		strstr(res.message, "token endpoint: HTTP 500: internal_failure: Backend Error"));
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	fake_control(&main_fake, NULL, &fs);
	assert_int_equal(fs.token_requests, 2);
	assert_int_equal(fs.api_calls, 1); /* nothing was sent without a token */

	g2 = open_gapi(&cfg, nowhere);
	call(g2, "GET", LIST_CLASSES, NULL, &res);
	assert_int_equal(res.status, GAPI_RETRY);
	assert_int_equal(res.http_status, 0);
	assert_non_null(strstr(res.message, "token endpoint: Failed to connect"));
	gapi_close(g2);

	cfg.timeout_ms = 1000;
	g2 = open_gapi(&cfg, sa);
	reset(&main_fake);
	mode("{\"mode\":\"tokenStall\"}");
	assert_int_equal(run_workers(g2, w, 4, 1), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(w[i].last, GAPI_RETRY);
		assert_non_null(strstr(w[i].message, "token endpoint: Operation timed out"));
	}
	mode("{\"mode\":\"ok\"}");
	fake_control(&main_fake, NULL, &fs);
	assert_int_equal(fs.token_requests, 1);
	assert_int_equal(fs.api_calls, 0);
	expect(g2, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	gapi_close(g2);
	gapi_close(g);
	google_sa_close(nowhere);
}

/* invalid_grant is FAILED with the clock-skew hint: told by the fake, and earned with a key the
 * fake does not know (its signature does not verify). */
static void test_invalid_grant_failed(void **state)
{
	struct gapi_config cfg = config();
	struct google_sa *rogue = load_sa(in(dir, "rogue.key"), main_fake.token_uri);
	struct gapi *g = open_gapi(&cfg, sa);
	struct gapi_result res;
	struct fake_stats fs;

	(void)state;
	reset(&main_fake);
	mode("{\"mode\":\"tokenInvalidGrant\",\"opts\":{\"count\":1}}");
	call(g, "GET", LIST_CLASSES, NULL, &res);
	assert_int_equal(res.status, GAPI_FAILED);
	assert_int_equal(res.http_status, 400);
	assert_non_null(strstr(res.message, "invalid_grant: Invalid grant: account not found"));
	assert_non_null(strstr(res.message, "clock skew"));
	print_message("    %s\n", res.message);
	gapi_close(g);

	g = open_gapi(&cfg, rogue);
	call(g, "GET", LIST_CLASSES, NULL, &res);
	assert_int_equal(res.status, GAPI_FAILED);
	assert_int_equal(res.http_status, 400);
	assert_non_null(strstr(res.message, "Invalid JWT Signature."));
	fake_control(&main_fake, NULL, &fs);
	assert_int_equal(fs.tokens_issued, 0);
	assert_int_equal(fs.api_calls, 0);
	assert_true(log_contains("no access token for " EMAIL));
	gapi_close(g);
	google_sa_close(rogue);
}

/* Google's answers, real and forced, as the caller's statuses, with Google's message. */
static void test_statuses_mapped(void **state)
{
	static const struct {
		const char *mode;
		enum gapi_status status;
		int http;
		const char *message;
	} forced[] = {
		{ "{\"mode\":404,\"opts\":{\"count\":1}}", GAPI_NOT_FOUND, 404, "not found" },
		{ "{\"mode\":409,\"opts\":{\"count\":1}}", GAPI_CONFLICT, 409, "already exists" },
		{ "{\"mode\":429,\"opts\":{\"count\":1}}", GAPI_RETRY, 429, "Quota exceeded" },
		{ "{\"mode\":500,\"opts\":{\"count\":1}}", GAPI_RETRY, 500, "Internal error" },
		{ "{\"mode\":503,\"opts\":{\"count\":1}}", GAPI_RETRY, 503, "unavailable" },
	};
	struct gapi_config cfg = config();
	struct gapi *g = open_gapi(&cfg, sa);
	char *cls = class_body("statuses", "UNDER_REVIEW"), *approved = class_body("x", "APPROVED");
	char *other = NULL, *resp = NULL;
	struct gapi_result res;
	size_t i;

	(void)state;
	reset(&main_fake);
	/* Real answers of the fake. */
	assert_int_equal(gapi_call(g, "POST", API "/loyaltyClass", cls, &res, &resp), LOY_OK);
	assert_int_equal(res.status, GAPI_OK);
	assert_non_null(strstr(resp, "\"id\":\"" ISSUER ".statuses\""));
	free(resp);
	assert_int_equal(gapi_call(g, "POST", API "/loyaltyClass", cls, &res, &resp), LOY_OK);
	assert_int_equal(res.status, GAPI_CONFLICT);
	assert_int_equal(res.http_status, 409);
	assert_null(resp);
	assert_non_null(strstr(res.message, ISSUER ".statuses already exists"));
	call(g, "GET", API "/loyaltyObject/" ISSUER ".nobody", NULL, &res);
	assert_int_equal(res.status, GAPI_NOT_FOUND);
	assert_non_null(strstr(res.message, "not found"));
	call(g, "POST", API "/loyaltyClass", approved, &res);
	assert_int_equal(res.status, GAPI_FAILED);
	assert_int_equal(res.http_status, 400);
	assert_non_null(strstr(res.message, "reviewStatus"));
	call(g, "GET", API "/loyaltyClass/1111.other", NULL, &res);
	assert_int_equal(res.status, GAPI_FAILED);
	assert_int_equal(res.http_status, 403);
	assert_non_null(strstr(res.message, "has not authorized"));
	assert_true(asprintf(&other, "{\"issuerName\":\"%s\"}", "Loy Bakery") > 0);
	expect(g, "PATCH", API "/loyaltyClass/" ISSUER ".statuses", other, GAPI_OK, 200);

	/* Forced answers. */
	for (i = 0; i < sizeof(forced) / sizeof(forced[0]); i++) {
		mode(forced[i].mode);
		call(g, "GET", API "/loyaltyClass/" ISSUER ".statuses", NULL, &res);
		assert_int_equal(res.status, forced[i].status);
		assert_int_equal(res.http_status, forced[i].http);
		assert_non_null(strcasestr(res.message, forced[i].message));
		assert_int_equal(res.retry_after_ms, 0);
	}
	mode("{\"mode\":503,\"opts\":{\"count\":1,\"retryAfter\":3}}");
	call(g, "GET", API "/loyaltyClass/" ISSUER ".statuses", NULL, &res);
	assert_int_equal(res.status, GAPI_RETRY);
	assert_int_equal(res.retry_after_ms, 3000);
	free(cls);
	free(approved);
	free(other);
	gapi_close(g);
}

/* A stalled API: RETRY at the timeout, no answer; then OK. */
static void test_stall_retry(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g;
	struct gapi_result res;
	int64_t start, took;

	(void)state;
	cfg.timeout_ms = 500;
	g = open_gapi(&cfg, sa);
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200); /* the token first */
	mode("{\"mode\":\"stall\"}");
	start = time_mono_ms();
	call(g, "GET", LIST_CLASSES, NULL, &res);
	took = time_mono_ms() - start;
	mode("{\"mode\":\"ok\"}");
	assert_int_equal(res.status, GAPI_RETRY);
	assert_int_equal(res.http_status, 0);
	assert_non_null(strstr(res.message, "timed out"));
	assert_true(took >= 450 && took < 2500);
	expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
	gapi_close(g);
}

/* The per-pass notification budget: the fourth notifying PATCH (or TEXT_AND_NOTIFY message) is
 * QUOTA; the same change without notification goes through. A rate-limit 429 on a notifying call
 * stays RETRY. */
static void test_notification_quota(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g = open_gapi(&cfg, sa);
	char *cls = class_body("quota", "UNDER_REVIEW"), body[512];
	struct gapi_result res;
	int i;

	(void)state;
	reset(&main_fake);
	expect(g, "POST", API "/loyaltyClass", cls, GAPI_OK, 200);
	expect(g, "POST", API "/loyaltyObject",
	       "{\"id\":\"" ISSUER ".card1\",\"classId\":\"" ISSUER ".quota\",\"state\":\"ACTIVE\","
	       "\"loyaltyPoints\":{\"label\":\"Points\",\"balance\":{\"int\":0}}}",
	       GAPI_OK, 200);
	for (i = 1; i <= 4; i++) {
		snprintf(body, sizeof(body),
			 "{\"loyaltyPoints\":{\"label\":\"Points\",\"balance\":{\"int\":%d}},"
			 "\"notifyPreference\":\"NOTIFY_ON_UPDATE\"}",
			 i * 10);
		call(g, "PATCH", API "/loyaltyObject/" ISSUER ".card1", body, &res);
		assert_int_equal(res.status, i <= 3 ? GAPI_OK : GAPI_QUOTA);
	}
	assert_int_equal(res.http_status, 429);
	assert_non_null(strstr(res.message, "QuotaExceededException"));
	expect(g, "PATCH", API "/loyaltyObject/" ISSUER ".card1",
	       "{\"loyaltyPoints\":{\"label\":\"Points\",\"balance\":{\"int\":40}}}", GAPI_OK, 200);
	call(g, "POST", API "/loyaltyObject/" ISSUER ".card1/addMessage",
	     "{\"message\":{\"id\":\"m1\",\"header\":\"News\",\"body\":\"Double points\","
	     "\"messageType\":\"TEXT_AND_NOTIFY\"}}",
	     &res);
	assert_int_equal(res.status, GAPI_QUOTA);
	expect(g, "POST", API "/loyaltyObject/" ISSUER ".card1/addMessage",
	       "{\"message\":{\"id\":\"m1\",\"header\":\"News\",\"body\":\"Double points\","
	       "\"messageType\":\"TEXT\"}}",
	       GAPI_OK, 200);
	mode("{\"mode\":429,\"opts\":{\"count\":1}}");
	call(g, "PATCH", API "/loyaltyObject/" ISSUER ".card1",
	     "{\"loyaltyPoints\":{\"label\":\"Points\",\"balance\":{\"int\":50}},"
	     "\"notifyPreference\":\"NOTIFY_ON_UPDATE\"}",
	     &res);
	assert_int_equal(res.status, GAPI_RETRY);
	assert_int_equal(res.http_status, 429);
	free(cls);
	gapi_close(g);
}

/* 100 calls from 4 threads at the default rate (15/s): the fake's arrival times hold no more than
 * 15 requests (token requests included) in any second, give or take RATE_JITTER_MS between our
 * claim of a slot and the fake's clock reading; and the calls took at least the time the rate
 * allows. */
#define RATE_CALLS 100
#define RATE_JITTER_MS 50
static void test_rate_limit(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g;
	struct worker w[4];
	struct gapi_stats st;
	int64_t times[RATE_CALLS + 8], start, took;
	size_t n = 0, i, from, worst = 0;
	int64_t tightest = INT64_MAX;
	char *lines, *p;

	(void)state;
	cfg.rate_per_s = 0; /* the default */
	g = open_gapi(&cfg, sa);
	reset(&main_fake);
	from = fake_proc_mark(&main_fake.proc);
	start = time_mono_ms();
	assert_int_equal(run_workers(g, w, 4, RATE_CALLS / 4), RATE_CALLS);
	took = time_mono_ms() - start;
	fake_control(&main_fake, NULL, NULL);
	lines = fake_proc_since(&main_fake.proc, from);
	for (p = lines; (p = strstr(p, "{\"time\":\"")) && n < sizeof(times) / sizeof(times[0]);
	     p++)
		times[n++] = iso_ms(p + 9);
	free(lines);
	assert_int_equal(n, RATE_CALLS + 1); /* the calls and one token request */
	qsort(times, n, sizeof(times[0]), cmp_i64);
	for (i = 0; i + GAPI_RATE_DEFAULT < n; i++) {
		size_t j = i, in_window;

		if (times[i + GAPI_RATE_DEFAULT] - times[i] < 1000 - RATE_JITTER_MS)
			fail_msg("requests %zu..%zu arrived within %lld ms", i,
				 i + GAPI_RATE_DEFAULT,
				 (long long)(times[i + GAPI_RATE_DEFAULT] - times[i]));
		if (times[i + GAPI_RATE_DEFAULT] - times[i] < tightest)
			tightest = times[i + GAPI_RATE_DEFAULT] - times[i];
		while (j < n && times[j] - times[i] < 1000)
			j++;
		in_window = j - i;
		worst = in_window > worst ? in_window : worst;
	}
	assert_true(took >= (RATE_CALLS * 1000) / GAPI_RATE_DEFAULT);
	gapi_stats(g, &st);
	assert_int_equal(st.requests, RATE_CALLS);
	assert_true(st.rate_waits > RATE_CALLS / 2);
	print_message(
		"    %d calls + 1 token request from 4 threads in %lld ms; at most %zu in any "
		"1 s window of arrivals (rate %d); %d arrived within %lld ms at the tightest\n",
		RATE_CALLS, (long long)took, worst, GAPI_RATE_DEFAULT, GAPI_RATE_DEFAULT + 1,
		(long long)tightest);
	gapi_close(g);
}

/* Calls that are not well formed are refused before anything is sent. */
static void test_bad_calls_not_sent(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g = open_gapi(&cfg, sa);
	struct gapi_result res;
	struct fake_stats fs;
	char path[GAPI_PATH_MAX + 1], *big = malloc(GAPI_BODY_MAX + 2), *resp = (char *)"x";

	(void)state;
	assert_non_null(big);
	reset(&main_fake);
	assert_int_equal(gapi_call(g, "DELETE", LIST_CLASSES, NULL, &res, &resp), LOY_EINVALID);
	assert_null(resp);
	assert_int_equal(res.status, GAPI_FAILED);
	assert_int_equal(gapi_call(g, "get", LIST_CLASSES, NULL, &res, NULL), LOY_EINVALID);
	assert_int_equal(gapi_call(g, NULL, LIST_CLASSES, NULL, &res, NULL), LOY_EINVALID);
	assert_int_equal(gapi_call(g, "GET", "walletobjects/v1/x", NULL, &res, NULL), LOY_EINVALID);
	assert_int_equal(gapi_call(g, "GET", API "/a b", NULL, &res, NULL), LOY_EINVALID);
	assert_int_equal(gapi_call(g, "GET", API "/a\r\nX-Evil: 1", NULL, &res, NULL),
			 LOY_EINVALID);
	assert_int_equal(gapi_call(g, "GET", NULL, NULL, &res, NULL), LOY_EINVALID);
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[GAPI_PATH_MAX] = '\0'; /* GAPI_PATH_MAX characters: one too many */
	assert_int_equal(gapi_call(g, "GET", path, NULL, &res, NULL), LOY_EINVALID);
	memset(big, ' ', GAPI_BODY_MAX + 1);
	big[0] = '{';
	big[GAPI_BODY_MAX] = '}'; /* GAPI_BODY_MAX + 1 bytes */
	big[GAPI_BODY_MAX + 1] = '\0';
	assert_int_equal(gapi_call(g, "PATCH", API "/loyaltyClass/" ISSUER ".x", big, &res, NULL),
			 LOY_ETOOBIG);
	assert_int_equal(gapi_call(g, "GET", LIST_CLASSES, NULL, NULL, NULL), LOY_EINVALID);
	fake_control(&main_fake, NULL, &fs);
	assert_int_equal(fs.requests, 0);
	/* GAPI_BODY_MAX bytes (N) go out; the fake (maxBody 1 MiB) reads them. */
	big[GAPI_BODY_MAX - 1] = '}';
	big[GAPI_BODY_MAX] = '\0';
	call(g, "PATCH", API "/loyaltyClass/" ISSUER ".x", big, &res);
	assert_int_not_equal(res.http_status, 0);
	free(big);
	gapi_close(g);
}

/* Bad configurations are refused, naming the setting; bounds at N and N+1. */
static void test_config_refused(void **state)
{
	struct gapi_config cfg = config();
	struct gapi *g = NULL;

	(void)state;
	cfg.rate_per_s = GAPI_RATE_MAX + 1;
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	assert_null(g);
	assert_true(log_contains("gapi: the rate must be 1..20"));
	cfg.rate_per_s = -1;
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	cfg.rate_per_s = GAPI_RATE_MAX;
	cfg.connections = GAPI_CONNECTIONS_MAX + 1;
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	cfg.connections = GAPI_CONNECTIONS_MAX;
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_OK);
	gapi_close(g);
	cfg.connections = 0;
	cfg.timeout_ms = GAPI_TIMEOUT_MAX_MS + 1;
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	cfg.timeout_ms = 0;
	cfg.api_url = "ftp://walletobjects.googleapis.com";
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	cfg.api_url = "https://";
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	cfg.api_url = "https://walletobjects.googleapis.com/?x=1";
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	cfg.api_url = "https://wallet objects";
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_EINVALID);
	cfg.api_url = NULL; /* the default */
	assert_int_equal(gapi_open(&cfg, NULL, &g), LOY_EINVALID);
	assert_int_equal(gapi_open(&cfg, sa, &g), LOY_OK);
	gapi_close(g);
	/* A trailing '/' is dropped: paths start with one. */
	cfg.api_url = main_fake.proc.origin;
	{
		char with_slash[80];

		snprintf(with_slash, sizeof(with_slash), "%s/", main_fake.proc.origin);
		cfg.api_url = with_slash;
		g = open_gapi(&cfg, sa);
		expect(g, "GET", LIST_CLASSES, NULL, GAPI_OK, 200);
		gapi_close(g);
	}
}

/* Last: neither the access tokens (the fake's start with "ya29.") nor an assertion (a JWT starts
 * "eyJ") reached the log, which recorded every fetch and failure at debug level. */
static void test_no_secrets_logged(void **state)
{
	(void)state;
	assert_true(log_contains("gapi: access token fetched for " EMAIL));
	assert_false(log_contains("ya29."));
	assert_false(log_contains("eyJ"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_fetched_once),
		cmocka_unit_test(test_token_expiry_refetch),
		cmocka_unit_test(test_401_once_refreshes_and_replays),
		cmocka_unit_test(test_401_twice_failed),
		cmocka_unit_test(test_token_endpoint_down_then_up),
		cmocka_unit_test(test_invalid_grant_failed),
		cmocka_unit_test(test_statuses_mapped),
		cmocka_unit_test(test_stall_retry),
		cmocka_unit_test(test_notification_quota),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_bad_calls_not_sent),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_no_secrets_logged),
	};
	const char *env = getenv("LOY_GOOGLE_FAKE");
	const char *unit = strstr(__FILE__, "/unit/test_gapi.c");

	if (env)
		snprintf(fake_js, sizeof(fake_js), "%s", env);
	else if (unit)
		snprintf(fake_js, sizeof(fake_js), "%.*s/fakes/google.js", (int)(unit - __FILE__),
			 __FILE__);
	else
		snprintf(fake_js, sizeof(fake_js), "tests/fakes/google.js");
	if (system("node --version >/dev/null 2>&1") != 0) {
		printf("test_gapi: SKIPPED: node is not installed (make test installs it); the fake "
		       "Google needs it\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
