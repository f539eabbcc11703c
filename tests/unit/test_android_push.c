/* End-to-end tests of the Android pass push client (wallet/apple/android_push over net/http2)
 * against the strict fake WalletPasses push API in tests/fakes/walletpasses.js, run as a child
 * process on the development server certificate: every outcome (done, per-token results, 429 with
 * Retry-After, 5xx, 401/403 stopping the sender, other 4xx, stall, unreachable, untrusted server),
 * batching, malformed tokens and pass types, and configurations refused at open. What the fake
 * received is read back from the JSON line it prints per request and its {"stats":true} answer.
 *
 * Needs node (make test installs it); without it the test reports itself skipped (exit 77). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/rand.h"
#include "base/timeutil.h"
#include "crypto/devcerts.h"
#include "fake_proc.h"
#include "support.h"
#include "wallet/apple/android_push.h"

#define KEY "wp-test-key-5d2c8fb3e1e34dab"
#define PTID "pass.dev.loy.demo"
#define TOKEN_LEN 28
#define MANY (ANDROID_PUSH_BATCH * (ANDROID_PUSH_CHUNK + 1)) /* one chunk and one more POST */
#define LINE_MAX_ 65536

/* ---- the fake as a child process ------------------------------------------------------------ */

struct fake {
	struct fake_proc proc;
	char url[96]; /* origin + /api/v1/push */
};

struct fake_stats {
	long connections, requests;
};

static char dir[64];
static char fake_js[512];
static struct fake main_fake;
static struct android_push *ap; /* the long-lived client, on main_fake */
static int log_fd = -1;
static char line[LINE_MAX_];

/* Starts node tests/fakes/walletpasses.js on a free port with extra arguments (NULL-terminated,
 * or NULL). */
static int fake_spawn(struct fake *f, const char *const *extra)
{
	const char *argv[16] = { "node",      fake_js,
				 "--cert",    in(dir, "localhost.pem"),
				 "--key",     in(dir, "localhost.key"),
				 "--api-key", KEY,
				 "--port",    "0" };
	int argc = 10;

	while (extra && *extra && argc < 15)
		argv[argc++] = *extra++;
	if (fake_proc_start(&f->proc, argv) != 0)
		return -1;
	snprintf(f->url, sizeof(f->url), "%s/api/v1/push", f->proc.origin);
	return 0;
}

/* Sends a control line (NULL: none), then {"stats":true}, and waits for the answer: the fake
 * handles its stdin in order, so the control line has taken effect when the answer comes. */
static void fake_control(struct fake *f, const char *json, struct fake_stats *st)
{
	size_t from = fake_proc_mark(&f->proc);

	if (json)
		fake_proc_send(&f->proc, json);
	fake_proc_send(&f->proc, "{\"stats\":true}");
	assert_true(fake_proc_wait_line(&f->proc, from, "{\"stats\":", line, sizeof(line)));
	if (st) {
		st->connections = fake_proc_field(line, "connections");
		st->requests = fake_proc_field(line, "requests");
	}
}

static void control(const char *json)
{
	fake_control(&main_fake, json, NULL);
}

static long requests_so_far(struct fake *f)
{
	struct fake_stats st;

	fake_control(f, NULL, &st);
	return st.requests;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static void new_token(char out[TOKEN_LEN + 1])
{
	memcpy(out, "tok-", 4);
	rand_hex(out + 4, (TOKEN_LEN - 4) / 2);
}

/* n fresh tokens in static storage (one set per call site is enough). */
static const char **tokens_new(char (*store)[TOKEN_LEN + 1], const char **ptrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		new_token(store[i]);
		ptrs[i] = store[i];
	}
	return ptrs;
}

static struct android_push_config config_for(const struct fake *f)
{
	return (struct android_push_config){ .url = f->url,
					     .api_key = KEY,
					     .ca_file = in(dir, "ca.pem") };
}

static bool log_contains(const char *needle)
{
	static char buf[1 << 20];
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

static void send_ok(struct android_push *a, const char *const *tokens, size_t n,
		    struct android_push_result *res)
{
	assert_int_equal(android_push_send(a, PTID, tokens, n, res), LOY_OK);
}

static void expect(const struct android_push_result *r, enum android_push_status st, int http,
		   const char *reason)
{
	assert_string_equal(android_push_status_name(r->status), android_push_status_name(st));
	assert_int_equal(r->http_status, http);
	if (reason)
		assert_string_equal(r->reason, reason);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	struct android_push_config cfg;
	const char *extra[] = { "--max-tokens", "50", NULL };

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/loy-android-push-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	log_fd = open(in(dir, "test.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	log_set_fd(log_fd);
	log_set_level(LOG_DEBUG);
	if (devcerts_create(dir, &o, quiet_report, NULL) != LOY_OK)
		return -1;
	/* The fake refuses more than ANDROID_PUSH_BATCH tokens in a POST (413): no test passes
	 * unless the client batches. */
	if (fake_spawn(&main_fake, extra) != 0) {
		fprintf(stderr, "test_android_push: the fake did not start (%s)\n", fake_js);
		return -1;
	}
	cfg = config_for(&main_fake);
	return android_push_open(&cfg, &ap) == LOY_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[200];

	(void)state;
	android_push_close(ap);
	fake_proc_stop(&main_fake.proc);
	log_set_fd(1);
	if (log_fd >= 0)
		close(log_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* 200 for every token; the fake saw POST /api/v1/push over HTTP/2 with the bare key, JSON content
 * type and {"passTypeIdentifier", "pushTokens"} in order, a token needing JSON escapes intact. */
static void test_push_ok(void **state)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];
	const char *tokens[3] = { a, b, "q\"uote\\d" };
	struct android_push_result res[3];
	char want[256];
	size_t from = fake_proc_mark(&main_fake.proc), i;

	(void)state;
	new_token(a);
	new_token(b);
	send_ok(ap, tokens, 3, res);
	for (i = 0; i < 3; i++) {
		expect(&res[i], ANDROID_PUSH_DONE, 200, "");
		assert_int_equal(res[i].retry_after_s, 0);
	}
	snprintf(want, sizeof(want), "\"tokens\":[\"%s\",\"%s\",\"q\\\"uote\\\\d\"]", a, b);
	assert_true(fake_proc_wait_line(&main_fake.proc, from, want, line, sizeof(line)));
	assert_non_null(strstr(line, "\"httpVersion\":\"2.0\""));
	assert_non_null(strstr(line, "\"method\":\"POST\""));
	assert_non_null(strstr(line, "\"path\":\"/api/v1/push\""));
	assert_non_null(strstr(line, "\"authorization\":\"" KEY "\""));
	assert_non_null(strstr(line, "\"contentType\":\"application/json\""));
	assert_non_null(strstr(line, "\"passTypeIdentifier\":\"" PTID "\""));
	assert_non_null(strstr(line, "\"protocolError\":null"));
	assert_non_null(strstr(line, "\"status\":200"));
}

/* ANDROID_PUSH_BATCH tokens go in one POST, one more makes two; MANY tokens take a second chunk;
 * all over the one connection, which outlives the call. */
static void test_batches(void **state)
{
	static char store[MANY][TOKEN_LEN + 1];
	static const char *ptrs[MANY];
	static struct android_push_result res[MANY];
	struct fake_stats st;
	size_t i;

	(void)state;
	tokens_new(store, ptrs, MANY);
	control("{\"reset\":true}");
	send_ok(ap, ptrs, ANDROID_PUSH_BATCH, res); /* N */
	fake_control(&main_fake, NULL, &st);
	assert_int_equal(st.requests, 1);
	send_ok(ap, ptrs, ANDROID_PUSH_BATCH + 1, res); /* N + 1 */
	fake_control(&main_fake, NULL, &st);
	assert_int_equal(st.requests, 3);
	send_ok(ap, ptrs, MANY, res);
	for (i = 0; i < MANY; i++)
		expect(&res[i], ANDROID_PUSH_DONE, 200, "");
	fake_control(&main_fake, NULL, &st);
	assert_int_equal(st.requests, 3 + ANDROID_PUSH_CHUNK + 1);
	assert_int_equal(st.connections, 0); /* reset after the connection opened: none new */
}

/* A 200 carrying one result per token decides per token (GCM/FCM rules). */
static void test_per_token_results(void **state)
{
	static const struct {
		const char *error;
		enum android_push_status status;
	} cases[] = {
		{ "NotRegistered", ANDROID_PUSH_UNREGISTERED },
		{ "InvalidRegistration", ANDROID_PUSH_UNREGISTERED },
		{ "Unavailable", ANDROID_PUSH_RETRY },
		{ "DeviceMessageRateExceeded", ANDROID_PUSH_RETRY },
		{ "MismatchSenderId", ANDROID_PUSH_FAILED },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	char store[N + 1][TOKEN_LEN + 1], cmd[1024];
	const char *ptrs[N + 1];
	struct android_push_result res[N + 1];
	size_t i, len;

	(void)state;
	tokens_new(store, ptrs, N + 1);
	len = (size_t)snprintf(cmd, sizeof(cmd), "{\"tokenErrors\":{");
	for (i = 0; i < N; i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s\"%s\":\"%s\"",
					i ? "," : "", store[i], cases[i].error);
	snprintf(cmd + len, sizeof(cmd) - len, "}}");
	control(cmd);
	send_ok(ap, ptrs, N + 1, res);
	for (i = 0; i < N; i++)
		expect(&res[i], cases[i].status, 200, cases[i].error);
	expect(&res[N], ANDROID_PUSH_DONE, 200, "");
	control("{\"tokenErrors\":null}");
	assert_true(log_contains("200 MismatchSenderId for token tok-"));
}

/* Without per-token results the batch's status applies to every token. */
static void test_plain_200(void **state)
{
	const char *extra[] = { "--no-results", NULL };
	char store[3][TOKEN_LEN + 1];
	const char *ptrs[3];
	struct android_push_result res[3];
	struct android_push_config cfg;
	struct android_push *a = NULL;
	struct fake plain;
	size_t i;

	(void)state;
	assert_int_equal(fake_spawn(&plain, extra), 0);
	cfg = config_for(&plain);
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	tokens_new(store, ptrs, 3);
	send_ok(a, ptrs, 3, res);
	for (i = 0; i < 3; i++)
		expect(&res[i], ANDROID_PUSH_DONE, 200, "");
	android_push_close(a);
	fake_proc_stop(&plain.proc);
}

/* 429: the batch is RETRY with Retry-After; the chunk's other POSTs were answered, the next chunk
 * is not sent and carries the same Retry-After. Without the header, retry_after_s is 0. */
static void test_rate_limited(void **state)
{
	static char store[MANY][TOKEN_LEN + 1];
	static const char *ptrs[MANY];
	static struct android_push_result res[MANY];
	size_t i, limited = 0, done = 0, not_sent = 0;
	long before;

	(void)state;
	tokens_new(store, ptrs, MANY);
	control("{\"mode\":\"tooMany\",\"opts\":{\"count\":1,\"retryAfter\":7}}");
	before = requests_so_far(&main_fake);
	send_ok(ap, ptrs, MANY, res);
	for (i = 0; i < MANY; i++) {
		if (res[i].http_status == 429) {
			expect(&res[i], ANDROID_PUSH_RETRY, 429, "rate limit exceeded");
			assert_int_equal(res[i].retry_after_s, 7);
			limited++;
		} else if (res[i].status == ANDROID_PUSH_DONE) {
			done++;
		} else {
			expect(&res[i], ANDROID_PUSH_RETRY, 0, "NotSent: rate limited (429)");
			assert_int_equal(res[i].retry_after_s, 7);
			not_sent++;
		}
	}
	assert_int_equal(limited, ANDROID_PUSH_BATCH);
	assert_int_equal(done, ANDROID_PUSH_BATCH * (ANDROID_PUSH_CHUNK - 1));
	assert_int_equal(not_sent, ANDROID_PUSH_BATCH);
	assert_int_equal(requests_so_far(&main_fake) - before, ANDROID_PUSH_CHUNK);

	control("{\"mode\":\"tooMany\",\"opts\":{\"count\":1,\"retryAfter\":null}}");
	send_ok(ap, ptrs, 1, res);
	expect(&res[0], ANDROID_PUSH_RETRY, 429, "rate limit exceeded");
	assert_int_equal(res[0].retry_after_s, 0);
	send_ok(ap, ptrs, 1, res);
	expect(&res[0], ANDROID_PUSH_DONE, 200, "");
}

/* 500 and 503 are RETRY with the API's message; a long message is cut to fit. */
static void test_server_errors_retry(void **state)
{
	char t[TOKEN_LEN + 1], cmd[512], longmsg[301];
	const char *tokens[1] = { t };
	struct android_push_result res;

	(void)state;
	new_token(t);
	control("{\"mode\":\"error\",\"opts\":{\"count\":1}}");
	send_ok(ap, tokens, 1, &res);
	expect(&res, ANDROID_PUSH_RETRY, 500, "internal error");
	control("{\"mode\":\"unavailable\",\"opts\":{\"count\":1}}");
	send_ok(ap, tokens, 1, &res);
	expect(&res, ANDROID_PUSH_RETRY, 503, "service unavailable");

	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	snprintf(cmd, sizeof(cmd), "{\"mode\":\"error\",\"opts\":{\"count\":1,\"message\":\"%s\"}}",
		 longmsg);
	control(cmd);
	send_ok(ap, tokens, 1, &res);
	assert_int_equal(res.status, ANDROID_PUSH_RETRY);
	assert_int_equal(strlen(res.reason), ANDROID_PUSH_REASON_MAX - 1);
	assert_int_equal(strspn(res.reason, "m"), ANDROID_PUSH_REASON_MAX - 1);
	send_ok(ap, tokens, 1, &res);
	expect(&res, ANDROID_PUSH_DONE, 200, "");
}

/* 401 (a key the API does not know, or a revoked one) and 403: AUTH_BROKEN with the reason; the
 * client then sends nothing more. */
static void test_key_refused(void **state)
{
	static const struct {
		const char *key, *mode, *reason, *broken;
		int status;
	} cases[] = {
		{ "not-the-key", NULL, "invalid API key", "401 invalid API key", 401 },
		{ KEY, "{\"mode\":\"unauthorized\",\"opts\":{\"count\":1}}", "invalid API key",
		  "401 invalid API key", 401 },
		{ KEY, "{\"mode\":\"forbidden\",\"opts\":{\"count\":1}}", "API key disabled",
		  "403 API key disabled", 403 },
	};
	char store[2][TOKEN_LEN + 1], reason[ANDROID_PUSH_REASON_MAX];
	const char *ptrs[2];
	struct android_push_result res[2];
	struct android_push_config cfg = config_for(&main_fake);
	struct android_push *a;
	size_t i;
	long before;

	(void)state;
	tokens_new(store, ptrs, 2);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg.api_key = cases[i].key;
		assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
		assert_false(android_push_auth_broken(a, reason, sizeof(reason)));
		if (cases[i].mode)
			control(cases[i].mode);
		send_ok(a, ptrs, 2, res);
		expect(&res[0], ANDROID_PUSH_AUTH_BROKEN, cases[i].status, cases[i].reason);
		expect(&res[1], ANDROID_PUSH_AUTH_BROKEN, cases[i].status, cases[i].reason);
		assert_true(android_push_auth_broken(a, reason, sizeof(reason)));
		assert_string_equal(reason, cases[i].broken);

		before = requests_so_far(&main_fake);
		send_ok(a, ptrs, 2, res); /* the fake would say 200 now: nothing is sent */
		assert_int_equal(requests_so_far(&main_fake), before);
		expect(&res[0], ANDROID_PUSH_AUTH_BROKEN, 0, NULL);
		assert_non_null(strstr(res[0].reason, "NotSent: key refused"));
		android_push_close(a);
	}
	assert_true(log_contains("refused the key (401 invalid API key)"));
	/* the long-lived client was not affected */
	send_ok(ap, ptrs, 1, res);
	expect(&res[0], ANDROID_PUSH_DONE, 200, "");
}

/* Other 4xx are FAILED with the API's message: a wrong path (404), a batch over the server's limit
 * (413). */
static void test_other_4xx_failed(void **state)
{
	const char *extra[] = { "--max-tokens", "10", NULL };
	char store[ANDROID_PUSH_BATCH][TOKEN_LEN + 1], url[128];
	const char *ptrs[ANDROID_PUSH_BATCH];
	struct android_push_result res[ANDROID_PUSH_BATCH];
	struct android_push_config cfg = config_for(&main_fake);
	struct android_push *a;
	struct fake small;

	(void)state;
	tokens_new(store, ptrs, ANDROID_PUSH_BATCH);
	snprintf(url, sizeof(url), "%s/api/v1/pushes", main_fake.proc.origin);
	cfg.url = url;
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	send_ok(a, ptrs, 2, res);
	expect(&res[0], ANDROID_PUSH_FAILED, 404, "no such path /api/v1/pushes");
	expect(&res[1], ANDROID_PUSH_FAILED, 404, "no such path /api/v1/pushes");
	android_push_close(a);
	assert_true(log_contains("404 no such path /api/v1/pushes for token tok-"));

	assert_int_equal(fake_spawn(&small, extra), 0);
	cfg = config_for(&small);
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	send_ok(a, ptrs, ANDROID_PUSH_BATCH, res);
	expect(&res[0], ANDROID_PUSH_FAILED, 413, "too many pushTokens: 50 > 10");
	expect(&res[ANDROID_PUSH_BATCH - 1], ANDROID_PUSH_FAILED, 413, NULL);
	android_push_close(a);
	fake_proc_stop(&small.proc);
}

/* A POST with no answer is RETRY (Timeout) once the call's timeout passes. */
static void test_stall_times_out(void **state)
{
	struct android_push_config cfg = config_for(&main_fake);
	char t[TOKEN_LEN + 1];
	const char *tokens[1] = { t };
	struct android_push_result res;
	struct android_push *a;
	int64_t start;

	(void)state;
	new_token(t);
	cfg.timeout_ms = 500;
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	control("{\"mode\":\"stall\",\"opts\":{\"count\":1}}");
	start = time_mono_ms();
	send_ok(a, tokens, 1, &res);
	assert_true(time_mono_ms() - start < 3000);
	expect(&res, ANDROID_PUSH_RETRY, 0, NULL);
	assert_non_null(strstr(res.reason, "Timeout: "));
	send_ok(a, tokens, 1, &res);
	expect(&res, ANDROID_PUSH_DONE, 200, "");
	android_push_close(a);
}

/* Nothing listening: every POST is RETRY (ConnectFailed) and the second chunk is not tried. A
 * server whose certificate we do not trust is the same. */
static void test_unreachable(void **state)
{
	static char store[MANY][TOKEN_LEN + 1];
	static const char *ptrs[MANY];
	static struct android_push_result res[MANY];
	struct android_push_config cfg = config_for(&main_fake);
	struct android_push *a;
	size_t i;

	(void)state;
	tokens_new(store, ptrs, MANY);
	cfg.url = "https://127.0.0.1:9/api/v1/push"; /* discard: nothing listens */
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	send_ok(a, ptrs, MANY, res);
	for (i = 0; i < MANY; i++) {
		expect(&res[i], ANDROID_PUSH_RETRY, 0, NULL);
		if (i < ANDROID_PUSH_BATCH * ANDROID_PUSH_CHUNK)
			assert_non_null(strstr(res[i].reason, "ConnectFailed: "));
		else
			assert_non_null(
				strstr(res[i].reason, "NotSent: the push API is unreachable"));
	}
	android_push_close(a);

	cfg = config_for(&main_fake);
	cfg.ca_file = NULL; /* the development CA is not trusted */
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	send_ok(a, ptrs, 1, res);
	expect(&res[0], ANDROID_PUSH_RETRY, 0, NULL);
	assert_non_null(strstr(res[0].reason, "ConnectFailed: "));
	android_push_close(a);
}

/* Malformed tokens are UNREGISTERED and never sent; ANDROID_PUSH_TOKEN_MAX characters is sent,
 * one more is not. */
static void test_malformed_tokens(void **state)
{
	static char at_max[ANDROID_PUSH_TOKEN_MAX + 1], over[ANDROID_PUSH_TOKEN_MAX + 2];
	char good[TOKEN_LEN + 1], want[64];
	const char *tokens[7] = { "", "has space", "tab\there", "caf\xc3\xa9", NULL, over, good };
	struct android_push_result res[7];
	size_t i, from;
	long before;

	(void)state;
	new_token(good);
	memset(at_max, 'a', ANDROID_PUSH_TOKEN_MAX);
	memset(over, 'b', ANDROID_PUSH_TOKEN_MAX + 1);
	before = requests_so_far(&main_fake);
	from = fake_proc_mark(&main_fake.proc);
	send_ok(ap, tokens, 7, res);
	for (i = 0; i < 6; i++)
		expect(&res[i], ANDROID_PUSH_UNREGISTERED, 0, "malformed push token (not sent)");
	expect(&res[6], ANDROID_PUSH_DONE, 200, "");
	snprintf(want, sizeof(want), "\"tokens\":[\"%s\"]", good);
	assert_true(fake_proc_wait_line(&main_fake.proc, from, want, line, sizeof(line)));
	assert_int_equal(requests_so_far(&main_fake) - before, 1);

	tokens[0] = at_max;
	send_ok(ap, tokens, 1, res);
	expect(&res[0], ANDROID_PUSH_DONE, 200, "");
	assert_true(android_push_token_ok(at_max));
	assert_false(android_push_token_ok(over));
}

/* A bad pass type identifier sends nothing and leaves the results alone. */
static void test_bad_pass_type(void **state)
{
	char ptid[ANDROID_PUSH_PASS_TYPE_MAX + 2], t[TOKEN_LEN + 1];
	const char *tokens[1] = { t };
	struct android_push_result res = { .status = ANDROID_PUSH_FAILED, .http_status = 999 };
	long before;

	(void)state;
	new_token(t);
	memset(ptid, 'p', sizeof(ptid) - 1);
	ptid[sizeof(ptid) - 1] = '\0'; /* N + 1 */
	before = requests_so_far(&main_fake);
	assert_int_equal(android_push_send(ap, ptid, tokens, 1, &res), LOY_EINVALID);
	assert_int_equal(android_push_send(ap, "", tokens, 1, &res), LOY_EINVALID);
	assert_int_equal(android_push_send(ap, NULL, tokens, 1, &res), LOY_EINVALID);
	assert_int_equal(android_push_send(ap, "pass.with space", tokens, 1, &res), LOY_EINVALID);
	assert_int_equal(android_push_send(ap, PTID, NULL, 1, &res), LOY_EINVALID);
	assert_int_equal(android_push_send(NULL, PTID, tokens, 1, &res), LOY_EINVALID);
	assert_int_equal(res.http_status, 999);
	assert_int_equal(requests_so_far(&main_fake), before);
	ptid[ANDROID_PUSH_PASS_TYPE_MAX] = '\0'; /* N */
	assert_int_equal(android_push_send(ap, ptid, tokens, 1, &res), LOY_OK);
	expect(&res, ANDROID_PUSH_DONE, 200, "");
	assert_int_equal(android_push_send(ap, PTID, NULL, 0, NULL), LOY_OK);
}

/* Malformed configuration is refused at open, with an error naming the setting. */
static void test_config_refused(void **state)
{
	static const char *const bad_urls[] = {
		"http://127.0.0.1:1/api/v1/push",
		"ftp://host/x",
		"https://",
		"https:///api/v1/push",
		"https://a b/x",
		"https://user@host/x",
		"https://host?x=1",
		"https://host/x#frag",
		"https://host/x y",
		"walletpasses.appspot.com/api/v1/push",
	};
	char key[ANDROID_PUSH_KEY_MAX + 2];
	struct android_push_config cfg = config_for(&main_fake);
	struct android_push *a = (struct android_push *)&cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		cfg.url = bad_urls[i];
		assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
		assert_null(a);
	}
	assert_true(log_contains("LOY_ANDROID_PUSH_URL must be https://host[:port][/path]"));
	cfg = config_for(&main_fake);
	cfg.api_key = "";
	assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
	assert_true(log_contains("LOY_ANDROID_PUSH_KEY is empty"));
	cfg.api_key = NULL;
	assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
	cfg.api_key = "two words";
	assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
	cfg.api_key = "line\r\nX-Injected: 1";
	assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
	assert_true(log_contains("LOY_ANDROID_PUSH_KEY must be 1..256 visible ASCII characters"));
	assert_false(log_contains("two words"));
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0'; /* N + 1 */
	cfg.api_key = key;
	assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
	key[ANDROID_PUSH_KEY_MAX] = '\0'; /* N */
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	android_push_close(a);
	cfg.api_key = KEY;
	cfg.timeout_ms = -1;
	assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
	cfg.timeout_ms = ANDROID_PUSH_TIMEOUT_MAX_MS + 1;
	assert_int_equal(android_push_open(&cfg, &a), LOY_EINVALID);
	cfg.timeout_ms = ANDROID_PUSH_TIMEOUT_MAX_MS;
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	android_push_close(a);
	/* the defaults: WalletPasses' URL, no extra CA */
	cfg = (struct android_push_config){ .api_key = KEY };
	assert_int_equal(android_push_open(&cfg, &a), LOY_OK);
	android_push_close(a);
}

struct worker {
	char store[20][TOKEN_LEN + 1];
	const char *ptrs[20];
	struct android_push_result res[20];
	enum loy_err err;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	w->err = android_push_send(ap, PTID, w->ptrs, 20, w->res);
	return NULL;
}

/* Four threads share the client: they take turns, every push is done. */
static void test_threads(void **state)
{
	static struct worker w[4];
	pthread_t th[4];
	size_t i, j;

	(void)state;
	for (i = 0; i < 4; i++) {
		tokens_new(w[i].store, w[i].ptrs, 20);
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].err, LOY_OK);
		for (j = 0; j < 20; j++)
			expect(&w[i].res[j], ANDROID_PUSH_DONE, 200, "");
	}
}

/* Run last: the key was never written to the log. */
static void test_key_never_logged(void **state)
{
	(void)state;
	assert_true(log_contains("android push:"));
	assert_false(log_contains(KEY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_ok),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_per_token_results),
		cmocka_unit_test(test_plain_200),
		cmocka_unit_test(test_rate_limited),
		cmocka_unit_test(test_server_errors_retry),
		cmocka_unit_test(test_key_refused),
		cmocka_unit_test(test_other_4xx_failed),
		cmocka_unit_test(test_stall_times_out),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_malformed_tokens),
		cmocka_unit_test(test_bad_pass_type),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_key_never_logged),
	};
	const char *env = getenv("LOY_WALLETPASSES_FAKE");
	const char *unit = strstr(__FILE__, "/unit/test_android_push.c");

	if (env)
		snprintf(fake_js, sizeof(fake_js), "%s", env);
	else if (unit)
		snprintf(fake_js, sizeof(fake_js), "%.*s/fakes/walletpasses.js",
			 (int)(unit - __FILE__), __FILE__);
	else
		snprintf(fake_js, sizeof(fake_js), "tests/fakes/walletpasses.js");
	if (system("node --version >/dev/null 2>&1") != 0) {
		printf("test_android_push: SKIPPED: node is not installed (make test installs it); "
		       "the fake WalletPasses API needs it\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
