/* End-to-end tests of the APNs client (wallet/apple/apns over net/http2) against the strict fake
 * APNs in tests/fakes/apns.js, run as a child process: development certificates are made in a
 * temporary directory, the fake requires our pass certificate (with the WWDR stand-in) as the TLS
 * client certificate, and its control lines on stdin switch its modes. What the fake received is
 * read back from the JSON lines it prints and from its {"stats":true} answer, which counts
 * connections and concurrent streams.
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
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/rand.h"
#include "base/timeutil.h"
#include "crypto/devcerts.h"
#include "crypto/signer.h"
#include "fake_proc.h"
#include "support.h"
#include "wallet/apple/apns.h"

#define TOPIC "pass.dev.loy.demo"
#define MANY 300

/* ---- the fake as a child process ------------------------------------------------------------ */

static char dir[64];   /* development certificates, the log */
static char other[80]; /* a second set, from another root CA */
static char fake_js[512];
static struct fake_proc main_fake;
static struct signer *signer;
static struct apns *apns; /* the long-lived client, on main_fake */
static int log_fd = -1;

/* Starts node tests/fakes/apns.js with the given certificates, on a free port, and extra
 * arguments (NULL-terminated, or NULL). */
static int fake_spawn(struct fake_proc *f, const char *ca, const char *cert, const char *key,
		      const char *const *extra)
{
	const char *argv[16] = { "node", fake_js, "--ca", ca,	    "--cert",
				 cert,	 "--key", key,	  "--port", "0" };
	int argc = 10;

	while (extra && *extra && argc < 15)
		argv[argc++] = *extra++;
	return fake_proc_start(f, argv);
}

struct fake_stats {
	long connections, max_streams, streams, tls_errors_len;
};

/* Sends a control line (NULL: none), then {"stats":true}, and waits for the stats answer: the fake
 * handles its stdin in order, so the control line has taken effect when the answer comes. */
static void fake_control(struct fake_proc *f, const char *json, struct fake_stats *st)
{
	char line[4096];
	size_t from = fake_proc_mark(f);

	if (json)
		fake_proc_send(f, json);
	fake_proc_send(f, "{\"stats\":true}");
	assert_true(fake_proc_wait_line(f, from, "{\"stats\":", line, sizeof(line)));
	if (st) {
		st->connections = fake_proc_field(line, "connections");
		st->max_streams = fake_proc_field(line, "maxConcurrentStreams");
		st->streams = fake_proc_field(line, "streams");
		st->tls_errors_len = strstr(line, "\"tlsErrors\":[]") ? 0 : 1;
	}
}

/* ---- helpers -------------------------------------------------------------------------------- */

static void new_token(char out[APNS_TOKEN_LEN + 1])
{
	rand_hex(out, APNS_TOKEN_LEN / 2);
}

static struct apns_config config_for(const struct fake_proc *f)
{
	return (struct apns_config){ .url = f->origin, .ca_file = in(dir, "ca.pem") };
}

static bool log_contains(const char *needle)
{
	char buf[65536];
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

static void mode(const char *json)
{
	fake_control(&main_fake, json, NULL);
}

static void push_one(struct apns *a, const char *token, struct apns_result *res)
{
	const char *tokens[1] = { token };

	assert_int_equal(apns_push(a, tokens, 1, res), LOY_OK);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	struct apns_config cfg;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/loy-apns-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(other, sizeof(other), "%s/other", dir);
	log_fd = open(in(dir, "test.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	log_set_fd(log_fd);
	log_set_level(LOG_DEBUG);
	if (devcerts_create(dir, &o, quiet_report, NULL) != LOY_OK ||
	    devcerts_create(other, &o, quiet_report, NULL) != LOY_OK)
		return -1;
	if (signer_open_pem(in(dir, "pass.pem"), in(dir, "pass.key"), NULL, in(dir, "wwdr.pem"),
			    &signer) != LOY_OK)
		return -1;
	if (fake_spawn(&main_fake, in(dir, "ca.pem"), in(dir, "localhost.pem"),
		       in(dir, "localhost.key"), NULL) != 0) {
		fprintf(stderr, "test_apns: the fake APNs did not start (%s)\n", fake_js);
		return -1;
	}
	cfg = config_for(&main_fake);
	return apns_open(&cfg, signer, &apns) == LOY_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[200];

	(void)state;
	apns_close(apns);
	fake_proc_stop(&main_fake);
	signer_close(signer);
	log_set_fd(1);
	if (log_fd >= 0)
		close(log_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* 200 for a good token; the fake saw our path, topic and the payload {} (2 bytes, no protocol
 * error: it checks the Wallet body strictly). */
static void test_push_ok(void **state)
{
	char token[APNS_TOKEN_LEN + 1], line[4096], want[128];
	struct apns_result res;
	size_t from = fake_proc_mark(&main_fake);

	(void)state;
	new_token(token);
	push_one(apns, token, &res);
	assert_int_equal(res.status, APNS_DONE);
	assert_int_equal(res.http_status, 200);
	assert_string_equal(res.reason, "");
	assert_int_equal(strlen(res.apns_id), 36); /* the fake's UUID, echoed to the admin panel */
	snprintf(want, sizeof(want), "\"path\":\"/3/device/%s\"", token);
	assert_true(fake_proc_wait_line(&main_fake, from, want, line, sizeof(line)));
	assert_non_null(strstr(line, "\"method\":\"POST\""));
	assert_non_null(strstr(line, "\"topic\":\"" TOPIC "\""));
	assert_non_null(strstr(line, "\"bytes\":2,"));
	assert_non_null(strstr(line, "\"protocolError\":null"));
	assert_non_null(strstr(line, "\"pushType\":null")); /* omitted by default (spec §1c) */
	assert_non_null(strstr(line, "\"status\":200"));
}

/* Issue 3: "multiplexed streams over one long-lived connection". */
static void test_many_pushes_one_connection(void **state)
{
	static char tokens[MANY][APNS_TOKEN_LEN + 1];
	static const char *ptrs[MANY];
	static struct apns_result res[MANY];
	struct fake_stats st;
	size_t i;

	(void)state;
	fake_control(&main_fake, "{\"reset\":true}", NULL);
	for (i = 0; i < MANY; i++) {
		new_token(tokens[i]);
		ptrs[i] = tokens[i];
	}
	assert_int_equal(apns_push(apns, ptrs, MANY, res), LOY_OK);
	for (i = 0; i < MANY; i++)
		assert_int_equal(res[i].status, APNS_DONE);
	fake_control(&main_fake, NULL, &st);
	assert_int_equal(st.connections, 1);
	assert_true(st.max_streams > 1);
	assert_int_equal(st.streams, MANY);
	print_message("    %d pushes: %ld connection, %ld streams at once at most\n", MANY,
		      st.connections, st.max_streams);
}

/* The connection outlives a call: a second call opens none. */
static void test_connection_survives(void **state)
{
	char a[APNS_TOKEN_LEN + 1], b[APNS_TOKEN_LEN + 1];
	struct apns_result res;
	struct fake_stats st;

	(void)state;
	fake_control(&main_fake, "{\"reset\":true}", NULL);
	new_token(a);
	new_token(b);
	push_one(apns, a, &res);
	assert_int_equal(res.status, APNS_DONE);
	push_one(apns, b, &res);
	assert_int_equal(res.status, APNS_DONE);
	fake_control(&main_fake, NULL, &st);
	assert_int_equal(st.connections, 1);
	assert_int_equal(st.streams, 2);
}

static void test_unregistered(void **state)
{
	char t1[APNS_TOKEN_LEN + 1], t2[APNS_TOKEN_LEN + 1], cmd[256];
	const char *tokens[2] = { t1, t2 };
	struct apns_result res[2];
	int64_t before = time_now_ms();

	(void)state;
	new_token(t1);
	new_token(t2);
	snprintf(cmd, sizeof(cmd), "{\"mode\":\"unregistered\",\"opts\":{\"tokens\":[\"%s\"]}}",
		 t1);
	mode(cmd);
	assert_int_equal(apns_push(apns, tokens, 2, res), LOY_OK);
	assert_int_equal(res[0].status, APNS_UNREGISTERED);
	assert_int_equal(res[0].http_status, 410);
	assert_string_equal(res[0].reason, "Unregistered");
	assert_true(res[0].timestamp_ms >= before - 1000 && res[0].timestamp_ms <= time_now_ms());
	assert_int_equal(strlen(res[0].apns_id), 36);
	assert_int_equal(res[1].status, APNS_DONE);

	snprintf(
		cmd, sizeof(cmd),
		"{\"mode\":\"unregistered\",\"opts\":{\"reason\":\"ExpiredToken\",\"tokens\":[\"%s\"]}}",
		t2);
	mode(cmd);
	push_one(apns, t2, res);
	assert_int_equal(res[0].status, APNS_UNREGISTERED);
	assert_string_equal(res[0].reason, "ExpiredToken");
	mode("{\"mode\":\"ok\"}");
}

static void test_bad_device_token(void **state)
{
	char t[APNS_TOKEN_LEN + 1], cmd[256];
	struct apns_result res;

	(void)state;
	new_token(t);
	snprintf(cmd, sizeof(cmd), "{\"mode\":\"badToken\",\"opts\":{\"tokens\":[\"%s\"]}}", t);
	mode(cmd);
	push_one(apns, t, &res);
	assert_int_equal(res.status, APNS_BAD_TOKEN);
	assert_int_equal(res.http_status, 400);
	assert_string_equal(res.reason, "BadDeviceToken");

	snprintf(cmd, sizeof(cmd), "{\"mode\":\"notForTopic\",\"opts\":{\"tokens\":[\"%s\"]}}", t);
	mode(cmd);
	push_one(apns, t, &res);
	assert_int_equal(res.status, APNS_BAD_TOKEN);
	assert_string_equal(res.reason, "DeviceTokenNotForTopic");
	mode("{\"mode\":\"ok\"}");
}

static void test_too_many_then_ok(void **state)
{
	char t[APNS_TOKEN_LEN + 1];
	struct apns_result res;

	(void)state;
	new_token(t);
	mode("{\"mode\":\"tooMany\",\"opts\":{\"count\":1}}");
	push_one(apns, t, &res);
	assert_int_equal(res.status, APNS_RETRY);
	assert_int_equal(res.http_status, 429);
	assert_string_equal(res.reason, "TooManyRequests");
	push_one(apns, t, &res);
	assert_int_equal(res.status, APNS_DONE);
}

static void test_server_errors_retry(void **state)
{
	static const struct {
		const char *mode;
		int status;
		const char *reason;
	} cases[] = {
		{ "{\"mode\":\"error\",\"opts\":{\"count\":1}}", 500, "InternalServerError" },
		{ "{\"mode\":\"unavailable\",\"opts\":{\"count\":1}}", 503, "ServiceUnavailable" },
		{ "{\"mode\":\"unavailable\",\"opts\":{\"count\":1,\"reason\":\"Shutdown\"}}", 503,
		  "Shutdown" },
	};
	char t[APNS_TOKEN_LEN + 1];
	struct apns_result res;
	size_t i;

	(void)state;
	new_token(t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mode(cases[i].mode);
		push_one(apns, t, &res);
		assert_int_equal(res.status, APNS_RETRY);
		assert_int_equal(res.http_status, cases[i].status);
		assert_string_equal(res.reason, cases[i].reason);
	}
	push_one(apns, t, &res);
	assert_int_equal(res.status, APNS_DONE);
}

/* Tokens that are not 64 hex digits are BAD_TOKEN and never reach the fake. */
static void test_malformed_token_not_sent(void **state)
{
	char good[APNS_TOKEN_LEN + 1], short_[APNS_TOKEN_LEN], long_[APNS_TOKEN_LEN + 2];
	char nonhex[APNS_TOKEN_LEN + 1], slash[APNS_TOKEN_LEN + 1];
	const char *tokens[7] = { "abc", short_, long_, nonhex, slash, NULL, good };
	struct apns_result res[7];
	struct fake_stats st;
	size_t i;

	(void)state;
	new_token(good);
	memcpy(short_, good, APNS_TOKEN_LEN - 1); /* 63: N-1 */
	short_[APNS_TOKEN_LEN - 1] = '\0';
	memcpy(long_, good, APNS_TOKEN_LEN); /* 65: N+1 */
	long_[APNS_TOKEN_LEN] = 'a';
	long_[APNS_TOKEN_LEN + 1] = '\0';
	memcpy(nonhex, good, sizeof(nonhex));
	nonhex[10] = 'g';
	memcpy(slash, good, sizeof(slash));
	slash[0] = '/';
	fake_control(&main_fake, "{\"reset\":true}", NULL);
	assert_int_equal(apns_push(apns, tokens, 7, res), LOY_OK);
	for (i = 0; i < 6; i++) {
		assert_int_equal(res[i].status, APNS_BAD_TOKEN);
		assert_int_equal(res[i].http_status, 0);
		assert_non_null(strstr(res[i].reason, "not sent"));
	}
	assert_int_equal(res[6].status, APNS_DONE);
	fake_control(&main_fake, NULL, &st);
	assert_int_equal(st.streams, 1);
	assert_true(apns_token_ok(good));
	assert_false(apns_token_ok(short_));
	assert_false(apns_token_ok(long_));
}

/* GOAWAY after a 503 (mode unavailable + goaway), and a GOAWAY between calls: the client reconnects
 * and only the 503 is a RETRY. */
static void test_goaway_reconnects(void **state)
{
	static char tokens[40][APNS_TOKEN_LEN + 1];
	const char *ptrs[40];
	struct apns_result res[40];
	struct fake_stats st;
	size_t i, retry = 0, done = 0;

	(void)state;
	for (i = 0; i < 40; i++) {
		new_token(tokens[i]);
		ptrs[i] = tokens[i];
	}
	fake_control(&main_fake, "{\"reset\":true}", NULL);
	mode("{\"mode\":\"unavailable\",\"opts\":{\"count\":1,\"goaway\":true,\"reason\":\"Shutdown\"}}");
	assert_int_equal(apns_push(apns, ptrs, 40, res), LOY_OK);
	for (i = 0; i < 40; i++) {
		retry += res[i].status == APNS_RETRY;
		done += res[i].status == APNS_DONE;
		if (res[i].status == APNS_RETRY)
			assert_int_equal(res[i].http_status, 503);
	}
	assert_int_equal(retry, 1);
	assert_int_equal(done, 39);

	fake_control(&main_fake, "{\"goaway\":\"Shutdown\"}", NULL);
	assert_int_equal(apns_push(apns, ptrs, 10, res), LOY_OK);
	for (i = 0; i < 10; i++)
		assert_int_equal(res[i].status, APNS_DONE);
	fake_control(&main_fake, NULL, &st);
	assert_true(st.connections >= 2);
	print_message("    after two GOAWAYs: %ld connections in all\n", st.connections);
}

/* 403 marks the certificate broken: nothing more is sent until the apns is reopened. */
static void test_forbidden_cert_broken(void **state)
{
	struct apns_config cfg = config_for(&main_fake);
	char t[APNS_TOKEN_LEN + 1], why[APNS_REASON_MAX];
	struct apns_result res;
	struct fake_stats st;
	struct apns *a = NULL;

	(void)state;
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	new_token(t);
	mode("{\"mode\":\"forbidden\",\"opts\":{\"count\":1}}");
	assert_false(apns_cert_broken(a, why, sizeof(why)));
	push_one(a, t, &res);
	assert_int_equal(res.status, APNS_CERT_BROKEN);
	assert_int_equal(res.http_status, 403);
	assert_string_equal(res.reason, "BadCertificate");
	assert_true(apns_cert_broken(a, why, sizeof(why)));
	assert_string_equal(why, "403 BadCertificate");
	assert_true(log_contains("APNs refused the certificate"));

	fake_control(&main_fake, "{\"reset\":true}", NULL);
	push_one(a, t, &res); /* the fake answers 200 again, but we send nothing */
	assert_int_equal(res.status, APNS_CERT_BROKEN);
	assert_int_equal(res.http_status, 0);
	fake_control(&main_fake, NULL, &st);
	assert_int_equal(st.streams, 0);
	apns_close(a);
}

/* Any other 4xx is our bug: FAILED, logged, not retried. A topic that is not the certificate's
 * gets 400 TopicDisallowed. */
static void test_other_4xx_failed(void **state)
{
	struct apns_config cfg = config_for(&main_fake);
	char t[APNS_TOKEN_LEN + 1];
	struct apns_result res;
	struct apns *a = NULL;

	(void)state;
	cfg.topic = "pass.dev.loy.other";
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	new_token(t);
	push_one(a, t, &res);
	assert_int_equal(res.status, APNS_FAILED);
	assert_int_equal(res.http_status, 400);
	assert_string_equal(res.reason, "TopicDisallowed");
	assert_true(log_contains("TopicDisallowed for token"));
	apns_close(a);
}

/* A server that never answers: RETRY within the timeout, no hang; the client works afterwards. */
static void test_stall_times_out(void **state)
{
	struct apns_config cfg = config_for(&main_fake);
	char t[3][APNS_TOKEN_LEN + 1];
	const char *tokens[3] = { t[0], t[1], t[2] };
	struct apns_result res[3];
	struct apns *a = NULL;
	int64_t start, took;
	size_t i;

	(void)state;
	cfg.timeout_ms = 400;
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	for (i = 0; i < 3; i++)
		new_token(t[i]);
	push_one(a, t[0], res); /* connect first, so that only the answers stall */
	assert_int_equal(res[0].status, APNS_DONE);
	mode("{\"mode\":\"stall\"}");
	start = time_mono_ms();
	assert_int_equal(apns_push(a, tokens, 3, res), LOY_OK);
	took = time_mono_ms() - start;
	mode("{\"mode\":\"ok\"}");
	for (i = 0; i < 3; i++) {
		assert_int_equal(res[i].status, APNS_RETRY);
		assert_int_equal(res[i].http_status, 0);
		assert_non_null(strstr(res[i].reason, "Timeout"));
	}
	assert_true(took >= 350 && took < 1500);
	print_message("    stalled server: gave up after %lld ms (timeout 400 ms)\n",
		      (long long)took);
	push_one(a, t[1], res);
	assert_int_equal(res[0].status, APNS_DONE);
	apns_close(a);
}

/* A server certificate that our CA did not sign: a connection error, RETRY, and the log says
 * why. Nothing reaches the server's HTTP/2 layer, and the batch gives up at once. */
static void test_untrusted_server_cert(void **state)
{
	struct fake_proc bad;
	struct apns_config cfg;
	char t[5][APNS_TOKEN_LEN + 1];
	const char *tokens[5];
	struct apns_result res[5];
	struct fake_stats st;
	struct apns *a = NULL;
	int64_t start;
	size_t i;

	(void)state;
	assert_int_equal(fake_spawn(&bad, in(dir, "ca.pem"), in(other, "localhost.pem"),
				    in(other, "localhost.key"), NULL),
			 0);
	cfg = config_for(&bad);
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	for (i = 0; i < 5; i++) {
		new_token(t[i]);
		tokens[i] = t[i];
	}
	start = time_mono_ms();
	assert_int_equal(apns_push(a, tokens, 5, res), LOY_OK);
	assert_true(time_mono_ms() - start < 2000);
	for (i = 0; i < 5; i++) {
		assert_int_equal(res[i].status, APNS_RETRY);
		assert_int_equal(res[i].http_status, 0);
		assert_non_null(strstr(res[i].reason, "ConnectFailed: SSL certificate problem"));
	}
	assert_true(log_contains("cannot connect to https://127.0.0.1:"));
	assert_true(log_contains("SSL certificate problem"));
	print_message("    %s\n", res[0].reason);
	fake_control(&bad, NULL, &st);
	assert_int_equal(st.streams, 0);
	apns_close(a);
	fake_proc_stop(&bad);
}

/* Nothing listens: RETRY with the reason, quickly. */
static void test_connection_refused(void **state)
{
	struct apns_config cfg = { .url = "https://127.0.0.1:1", .ca_file = in(dir, "ca.pem") };
	char t[APNS_TOKEN_LEN + 1];
	struct apns_result res;
	struct apns *a = NULL;

	(void)state;
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	new_token(t);
	push_one(a, t, &res);
	assert_int_equal(res.status, APNS_RETRY);
	assert_non_null(strstr(res.reason, "ConnectFailed"));
	apns_close(a);
}

/* libcurl 7.88 ends every completed stream with RST_STREAM, and the fake's nghttp2 (rapid-reset
 * protection) answers about 1 000 of them with GOAWAY: a long call crosses several GOAWAYs, and
 * every push must still be delivered, over new connections. */
static void test_long_call_survives_goaways(void **state)
{
	enum { LONG = 2500 };
	static char tokens[LONG][APNS_TOKEN_LEN + 1];
	static const char *ptrs[LONG];
	static struct apns_result res[LONG];
	struct fake_stats st;
	size_t i;

	(void)state;
	for (i = 0; i < LONG; i++) {
		new_token(tokens[i]);
		ptrs[i] = tokens[i];
	}
	fake_control(&main_fake, "{\"reset\":true}", NULL);
	assert_int_equal(apns_push(apns, ptrs, LONG, res), LOY_OK);
	for (i = 0; i < LONG; i++)
		assert_int_equal(res[i].status, APNS_DONE);
	fake_control(&main_fake, NULL, &st);
	assert_true(st.streams >= LONG);
	print_message("    %d pushes in one call: %ld connection(s), %ld streams received\n", LONG,
		      st.connections, st.streams);
}

/* Once a chunk found APNs unreachable, the later chunks of the call are not tried. */
static void test_unreachable_stops_the_call(void **state)
{
	enum { MORE = APNS_CHUNK + 10 };
	static char tokens[MORE][APNS_TOKEN_LEN + 1];
	static const char *ptrs[MORE];
	static struct apns_result res[MORE];
	struct apns_config cfg = { .url = "https://127.0.0.1:1", .ca_file = in(dir, "ca.pem") };
	struct apns *a = NULL;
	int64_t start;
	size_t i;

	(void)state;
	for (i = 0; i < MORE; i++) {
		new_token(tokens[i]);
		ptrs[i] = tokens[i];
	}
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	start = time_mono_ms();
	assert_int_equal(apns_push(a, ptrs, MORE, res), LOY_OK);
	assert_true(time_mono_ms() - start < 2000);
	for (i = 0; i < MORE; i++)
		assert_int_equal(res[i].status, APNS_RETRY);
	assert_non_null(strstr(res[0].reason, "ConnectFailed"));
	assert_non_null(strstr(res[MORE - 1].reason, "NotSent: APNs unreachable"));
	apns_close(a);
}

/* A server that allows only 8 streams, and our cap of 500: still one connection (the first
 * request goes alone, so libcurl knows the server's SETTINGS before the rest go out). */
static void test_low_server_stream_limit(void **state)
{
	static const char *const eight[] = { "--max-streams", "8", NULL };
	static char tokens[200][APNS_TOKEN_LEN + 1];
	const char *ptrs[200];
	struct apns_result res[200];
	struct fake_proc narrow;
	struct apns_config cfg;
	struct fake_stats st;
	struct apns *a = NULL;
	size_t i;

	(void)state;
	assert_int_equal(fake_spawn(&narrow, in(dir, "ca.pem"), in(dir, "localhost.pem"),
				    in(dir, "localhost.key"), eight),
			 0);
	cfg = config_for(&narrow);
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	for (i = 0; i < 200; i++) {
		new_token(tokens[i]);
		ptrs[i] = tokens[i];
	}
	assert_int_equal(apns_push(a, ptrs, 200, res), LOY_OK);
	for (i = 0; i < 200; i++)
		assert_int_equal(res[i].status, APNS_DONE);
	fake_control(&narrow, NULL, &st);
	assert_int_equal(st.connections, 1);
	assert_true(st.max_streams > 1 && st.max_streams <= 8);
	print_message("    server limit 8: %ld connection, %ld streams at once\n", st.connections,
		      st.max_streams);
	apns_close(a);
	fake_proc_stop(&narrow);
}

static void test_config_refused(void **state)
{
	struct apns_config cfg = config_for(&main_fake);
	struct apns *a = NULL;

	(void)state;
	cfg.max_streams = APNS_STREAMS_MAX + 1; /* N+1 */
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_EINVALID);
	cfg.max_streams = APNS_STREAMS_MAX; /* N */
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	apns_close(a);
	cfg.max_streams = 0;
	cfg.url = "http://127.0.0.1:1";
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_EINVALID);
	cfg.url = "https://127.0.0.1:1/path";
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_EINVALID);
	cfg.url = main_fake.origin;
	cfg.push_type = "voip";
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_EINVALID);
	cfg.push_type = NULL;
	cfg.priority = 7;
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_EINVALID);
}

/* push_type "background" goes with priority 5 (Apple requires it for background pushes). */
static void test_background_push_type(void **state)
{
	struct apns_config cfg = config_for(&main_fake);
	char t[APNS_TOKEN_LEN + 1], line[4096], want[128];
	struct apns_result res;
	struct apns *a = NULL;
	size_t from = fake_proc_mark(&main_fake);

	(void)state;
	cfg.push_type = "background";
	assert_int_equal(apns_open(&cfg, signer, &a), LOY_OK);
	new_token(t);
	push_one(a, t, &res);
	assert_int_equal(res.status, APNS_DONE);
	snprintf(want, sizeof(want), "\"path\":\"/3/device/%s\"", t);
	assert_true(fake_proc_wait_line(&main_fake, from, want, line, sizeof(line)));
	assert_non_null(strstr(line, "\"pushType\":\"background\""));
	assert_non_null(strstr(line, "\"priority\":\"5\""));
	apns_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_ok),
		cmocka_unit_test(test_many_pushes_one_connection),
		cmocka_unit_test(test_connection_survives),
		cmocka_unit_test(test_unregistered),
		cmocka_unit_test(test_bad_device_token),
		cmocka_unit_test(test_too_many_then_ok),
		cmocka_unit_test(test_server_errors_retry),
		cmocka_unit_test(test_malformed_token_not_sent),
		cmocka_unit_test(test_goaway_reconnects),
		cmocka_unit_test(test_forbidden_cert_broken),
		cmocka_unit_test(test_other_4xx_failed),
		cmocka_unit_test(test_stall_times_out),
		cmocka_unit_test(test_untrusted_server_cert),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_low_server_stream_limit),
		cmocka_unit_test(test_long_call_survives_goaways),
		cmocka_unit_test(test_unreachable_stops_the_call),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_background_push_type),
	};
	const char *env = getenv("LOY_APNS_FAKE");
	const char *unit = strstr(__FILE__, "/unit/test_apns.c");

	if (env)
		snprintf(fake_js, sizeof(fake_js), "%s", env);
	else if (unit)
		snprintf(fake_js, sizeof(fake_js), "%.*s/fakes/apns.js", (int)(unit - __FILE__),
			 __FILE__);
	else
		snprintf(fake_js, sizeof(fake_js), "tests/fakes/apns.js");
	if (system("node --version >/dev/null 2>&1") != 0) {
		printf("test_apns: SKIPPED: node is not installed (make test installs it); the fake "
		       "APNs needs it\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
