/* Tests of net/http_client against a small node server (written below, run as a child process):
 * one plain HTTP/1.1 port and one TLS port that offers HTTP/2 and HTTP/1.1, with the development
 * certificates (devcerts) made in a temporary directory. The server echoes what it received and
 * counts the TCP connections it accepted, so keep-alive reuse is seen from the server's side too.
 *
 * Needs node (make test installs it); without it the test reports itself skipped (exit 77). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "crypto/devcerts.h"
#include "net/http_client.h"
#include "support.h"

/* The server: GET/POST/... /echo answers what came; /status/N answers N; /retry-after?v=V answers
 * 503 with Retry-After: V; /big?n=N answers N bytes; /stall never answers; /stall-body sends the
 * status and part of a body, then nothing; /close answers with Connection: close; /count answers
 * the connections and requests (but itself) so far. It prints "ports <http> <https>" once listening and exits
 * when its stdin closes. */
static const char server_js[] =
	"const http = require('http'), http2 = require('http2'), fs = require('fs');\n"
	"const [cert, key] = process.argv.slice(2);\n"
	"let conns = 0, requests = 0;\n"
	"const stalled = [];\n"
	"function handle(req, res) {\n"
	"  const u = new URL(req.url, 'http://x'), chunks = [];\n"
	"  if (u.pathname !== '/count') requests++;\n"
	"  req.on('data', (c) => chunks.push(c));\n"
	"  req.on('end', () => {\n"
	"    const p = u.pathname, body = Buffer.concat(chunks).toString();\n"
	"    if (p === '/echo') {\n"
	"      const h = {};\n"
	"      for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':')) h[k] = v;\n"
	"      res.setHeader('Content-Type', 'application/json');\n"
	"      res.end(JSON.stringify({ method: req.method, path: req.url, headers: h,\n"
	"                               body: body.length > 1000 ? null : body, length: body.length,\n"
	"                               version: req.httpVersion, conns, requests }));\n"
	"    } else if (p.startsWith('/status/')) {\n"
	"      res.statusCode = +p.slice(8);\n"
	"      res.end(res.statusCode === 204 ? undefined : JSON.stringify({ status: res.statusCode }));\n"
	"    } else if (p === '/retry-after') {\n"
	"      res.statusCode = 503;\n"
	"      res.setHeader('Retry-After', u.searchParams.get('v'));\n"
	"      res.end('{}');\n"
	"    } else if (p === '/big') {\n"
	"      res.end('x'.repeat(+u.searchParams.get('n')));\n"
	"    } else if (p === '/stall') {\n"
	"      stalled.push(res);\n"
	"    } else if (p === '/stall-body') {\n"
	"      res.writeHead(200, { 'Content-Length': '100' });\n"
	"      res.write('partial');\n"
	"      stalled.push(res);\n"
	"    } else if (p === '/close') {\n"
	"      res.setHeader('Connection', 'close');\n"
	"      res.end('bye');\n"
	"    } else if (p === '/count') {\n"
	"      res.end(JSON.stringify({ conns, requests }));\n"
	"    } else {\n"
	"      res.statusCode = 404;\n"
	"      res.end();\n"
	"    }\n"
	"  });\n"
	"}\n"
	"const plain = http.createServer(handle);\n"
	"const tls = http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key),\n"
	"                                       allowHTTP1: true }, handle);\n"
	"plain.on('connection', () => conns++);\n"
	"tls.on('connection', () => conns++);\n"
	"plain.listen(0, '127.0.0.1', () => tls.listen(0, '127.0.0.1', () =>\n"
	"  console.log(`ports ${plain.address().port} ${tls.address().port}`)));\n"
	"process.stdin.on('data', () => {});\n"
	"process.stdin.on('end', () => process.exit(0));\n";

static char dir[64];
static pid_t server_pid;
static int server_in = -1;
static char http_base[64], https_base[64];
static struct http_client *client; /* plain, trusting the development CA */

static int server_start(void)
{
	int to_child[2], from_child[2], port_http = 0, port_https = 0;
	char line[128];
	FILE *out;

	write_bytes(in(dir, "server.js"), server_js, sizeof(server_js) - 1);
	if (pipe(to_child) != 0 || pipe(from_child) != 0)
		return -1;
	server_pid = fork();
	if (server_pid < 0)
		return -1;
	if (server_pid == 0) {
		/* A failed assertion skips the teardown: the server must not outlive the test. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		close(to_child[1]);
		close(from_child[0]);
		execlp("node", "node", in(dir, "server.js"), in(dir, "localhost.pem"),
		       in(dir, "localhost.key"), (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	server_in = to_child[1];
	out = fdopen(from_child[0], "r");
	if (!out || !fgets(line, sizeof(line), out) || strncmp(line, "ports ", 6) != 0)
		return -1;
	port_http = (int)strtol(line + 6, NULL, 10);
	port_https = (int)strtol(strchr(line + 6, ' ') + 1, NULL, 10);
	fclose(out);
	snprintf(http_base, sizeof(http_base), "http://127.0.0.1:%d", port_http);
	snprintf(https_base, sizeof(https_base), "https://localhost:%d", port_https);
	return port_http > 0 && port_https > 0 ? 0 : -1;
}

static int group_setup(void **state)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	struct http_client_options co = { 0 };

	(void)state;
	log_set_level(LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/loy-httpc-XXXXXX");
	if (!mkdtemp(dir) || devcerts_create(dir, &o, quiet_report, NULL) != LOY_OK)
		return -1;
	if (server_start() != 0) {
		fprintf(stderr, "test_http_client: the node server did not start\n");
		return -1;
	}
	co.ca_file = in(dir, "ca.pem");
	return http_client_open(&co, &client) == LOY_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[100];

	(void)state;
	http_client_close(client);
	if (server_pid > 0) {
		close(server_in);
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static const char *url(const char *base, const char *path)
{
	static char u[4][256];
	static int next;
	char *p = u[next++ % 4];

	snprintf(p, sizeof(u[0]), "%s%s", base, path);
	return p;
}

static enum loy_err get(struct http_client *c, const char *u, struct http_client_response *resp)
{
	struct http_client_request r = { .method = "GET", .url = u, .timeout_ms = 5000 };

	return http_client_request(c, &r, resp);
}

/* The body as JSON (the caller decrefs). */
static json_t *body_json(const struct http_client_response *resp)
{
	json_t *doc = json_loadb(resp->body.p ? resp->body.p : "", resp->body.len, 0, NULL);

	assert_non_null(doc);
	return doc;
}

static long json_int(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	assert_true(json_is_integer(v));
	return (long)json_integer_value(v);
}

static const char *json_str(json_t *doc, const char *path1, const char *path2)
{
	json_t *v = json_object_get(doc, path1);

	if (path2)
		v = json_object_get(v, path2);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Requests the server has seen so far (it does not count these questions). */
static long server_requests(void)
{
	struct http_client_response resp = { 0 };
	json_t *doc;
	long n;

	assert_int_equal(get(client, url(http_base, "/count"), &resp), LOY_OK);
	doc = body_json(&resp);
	n = json_int(doc, "requests");
	json_decref(doc);
	http_client_response_cleanup(&resp);
	return n;
}

static long server_connections(void)
{
	struct http_client_response resp = { 0 };
	json_t *doc;
	long n;

	assert_int_equal(get(client, url(http_base, "/count"), &resp), LOY_OK);
	doc = body_json(&resp);
	n = json_int(doc, "conns");
	json_decref(doc);
	http_client_response_cleanup(&resp);
	return n;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* A GET with a header: the server saw both; the answer's status, body and version come back. */
static void test_get_echo(void **state)
{
	static const char *const h[] = { "X-Loy-Test: yes", "Accept: application/json" };
	struct http_client_request r = {
		.method = "GET", .url = url(http_base, "/echo?a=1"), .headers = h, .nheaders = 2
	};
	struct http_client_response resp = { 0 };
	json_t *doc;

	(void)state;
	assert_int_equal(http_client_request(client, &r, &resp), LOY_OK);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.http_version, 1);
	assert_int_equal(resp.retry_after_ms, 0);
	assert_string_equal(resp.reason, "");
	doc = body_json(&resp);
	assert_string_equal(json_str(doc, "method", NULL), "GET");
	assert_string_equal(json_str(doc, "path", NULL), "/echo?a=1");
	assert_string_equal(json_str(doc, "headers", "x-loy-test"), "yes");
	assert_string_equal(json_str(doc, "headers", "accept"), "application/json");
	assert_string_equal(json_str(doc, "body", NULL), "");
	json_decref(doc);
	http_client_response_cleanup(&resp);
}

/* Each method with a body sends it as is, with the caller's Content-Type, or none at all (libcurl
 * would say form-encoded), and never Expect: 100-continue, even for a large body. */
static void test_bodies_and_methods(void **state)
{
	static const char *const methods[] = { "POST", "PUT", "PATCH", "DELETE" };
	static const char *const ctype[] = { "Content-Type: application/json" };
	struct http_client_response resp = { 0 };
	char *large = malloc(200001);
	json_t *doc;
	size_t i;

	(void)state;
	assert_non_null(large);
	for (i = 0; i < 4; i++) {
		struct http_client_request r = { .method = methods[i],
						 .url = url(http_base, "/echo"),
						 .headers = ctype,
						 .nheaders = 1,
						 .body = "{\"a\":1}",
						 .body_len = 7 };

		assert_int_equal(http_client_request(client, &r, &resp), LOY_OK);
		assert_int_equal(resp.status, 200);
		doc = body_json(&resp);
		assert_string_equal(json_str(doc, "method", NULL), methods[i]);
		assert_string_equal(json_str(doc, "body", NULL), "{\"a\":1}");
		assert_string_equal(json_str(doc, "headers", "content-type"), "application/json");
		json_decref(doc);
	}
	memset(large, 'b', 200000);
	large[200000] = '\0';
	{
		struct http_client_request r = { .method = "POST",
						 .url = url(http_base, "/echo"),
						 .body = large,
						 .body_len = 200000 };

		assert_int_equal(http_client_request(client, &r, &resp), LOY_OK);
	}
	doc = json_loadb(resp.body.p, resp.body.len, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_int(doc, "length"), 200000);
	assert_null(json_str(doc, "headers", "content-type"));
	assert_null(json_str(doc, "headers", "expect"));
	json_decref(doc);
	{
		/* A POST without a body says Content-Length: 0. */
		struct http_client_request r = { .method = "POST", .url = url(http_base, "/echo") };

		assert_int_equal(http_client_request(client, &r, &resp), LOY_OK);
	}
	doc = body_json(&resp);
	assert_string_equal(json_str(doc, "headers", "content-length"), "0");
	json_decref(doc);
	free(large);
	http_client_response_cleanup(&resp);
}

/* Every status is an answer (LOY_OK): the caller classifies. 204 has an empty body. */
static void test_statuses(void **state)
{
	static const int statuses[] = { 201, 204, 400, 401, 404, 409, 429, 500, 503 };
	struct http_client_response resp = { 0 };
	char path[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		snprintf(path, sizeof(path), "/status/%d", statuses[i]);
		assert_int_equal(get(client, url(http_base, path), &resp), LOY_OK);
		assert_int_equal(resp.status, statuses[i]);
		if (statuses[i] == 204)
			assert_int_equal(resp.body.len, 0);
		else
			assert_non_null(strstr(resp.body.p, "\"status\":"));
	}
	http_client_response_cleanup(&resp);
}

/* Retry-After as seconds, as an HTTP-date, capped, and ignored when unreadable or past. */
static void test_retry_after(void **state)
{
	struct http_client_response resp = { 0 };
	char path[128], date[64];
	time_t later = time(NULL) + 30;
	struct tm tm;

	(void)state;
	assert_int_equal(get(client, url(http_base, "/retry-after?v=7"), &resp), LOY_OK);
	assert_int_equal(resp.status, 503);
	assert_int_equal(resp.retry_after_ms, 7000);
	assert_int_equal(get(client, url(http_base, "/retry-after?v=0"), &resp), LOY_OK);
	assert_int_equal(resp.retry_after_ms, 0);
	assert_int_equal(get(client, url(http_base, "/retry-after?v=99999999999999999999"), &resp),
			 LOY_OK);
	assert_int_equal(resp.retry_after_ms, HTTP_CLIENT_RETRY_AFTER_MAX_MS);
	assert_int_equal(get(client, url(http_base, "/retry-after?v=soon"), &resp), LOY_OK);
	assert_int_equal(resp.retry_after_ms, 0);
	assert_int_equal(get(client, url(http_base, "/retry-after?v=-5"), &resp), LOY_OK);
	assert_int_equal(resp.retry_after_ms, 0);
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", &tm);
	snprintf(path, sizeof(path), "/retry-after?v=%s", date);
	assert_int_equal(get(client, url(http_base, path), &resp), LOY_OK);
	assert_in_range(resp.retry_after_ms, 28000, 31000);
	later = time(NULL) - 30;
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", &tm);
	snprintf(path, sizeof(path), "/retry-after?v=%s", date);
	assert_int_equal(get(client, url(http_base, path), &resp), LOY_OK);
	assert_int_equal(resp.retry_after_ms, 0);
	/* Not carried over to the next answer. */
	assert_int_equal(get(client, url(http_base, "/status/200"), &resp), LOY_OK);
	assert_int_equal(resp.retry_after_ms, 0);
	http_client_response_cleanup(&resp);
}

/* Consecutive requests share one connection, over HTTP/1.1 and over TLS with HTTP/2; a server
 * that closes its side is met by a new connection on the next request. */
static void test_keep_alive(void **state)
{
	struct http_client_options o = { .ca_file = in(dir, "ca.pem") };
	struct http_client_response resp = { 0 };
	struct http_client_stats st;
	struct http_client *c;
	long before;
	int i;

	(void)state;
	before = server_connections();
	assert_int_equal(http_client_open(&o, &c), LOY_OK);
	for (i = 0; i < 5; i++) {
		assert_int_equal(get(c, url(http_base, "/status/200"), &resp), LOY_OK);
		assert_int_equal(get(c, url(https_base, "/status/200"), &resp), LOY_OK);
		assert_int_equal(resp.http_version, 2);
	}
	http_client_stats(c, &st);
	assert_int_equal(st.requests, 10);
	assert_int_equal(st.answered, 10);
	assert_int_equal(st.connects, 2);
	assert_int_equal(server_connections(), before + 2);

	assert_int_equal(get(c, url(http_base, "/close"), &resp), LOY_OK);
	assert_string_equal(resp.body.p, "bye");
	assert_int_equal(get(c, url(http_base, "/status/200"), &resp), LOY_OK);
	assert_int_equal(resp.status, 200);
	http_client_stats(c, &st);
	assert_int_equal(st.connects, 3);
	assert_int_equal(st.failures, 0);
	http_client_close(c);
	http_client_response_cleanup(&resp);
}

/* HTTPS with the development CA: HTTP/2 where offered; without the CA the certificate is refused
 * before anything is sent. */
static void test_https(void **state)
{
	struct http_client_options none = { 0 };
	struct http_client_response resp = { 0 };
	struct http_client *c;
	long before;
	json_t *doc;

	(void)state;
	assert_int_equal(get(client, url(https_base, "/echo"), &resp), LOY_OK);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.http_version, 2);
	doc = body_json(&resp);
	assert_string_equal(json_str(doc, "version", NULL), "2.0");
	json_decref(doc);

	before = server_requests();
	assert_int_equal(http_client_open(&none, &c), LOY_OK);
	assert_int_equal(get(c, url(https_base, "/echo"), &resp), LOY_EUNAVAILABLE);
	assert_int_equal(resp.status, 0);
	assert_non_null(strstr(resp.reason, "certificate"));
	print_message("    untrusted server: %s\n", resp.reason);
	assert_int_equal(server_requests(), before);
	http_client_close(c);
	http_client_response_cleanup(&resp);
}

/* A server that does not answer: EUNAVAILABLE at the timeout, and the client works afterwards.
 * Also when the status came but the body stalls. */
static void test_stall_times_out(void **state)
{
	struct http_client_request r = { .method = "GET",
					 .url = url(http_base, "/stall"),
					 .timeout_ms = 400 };
	struct http_client_response resp = { 0 };
	int64_t start, took;

	(void)state;
	start = time_mono_ms();
	assert_int_equal(http_client_request(client, &r, &resp), LOY_EUNAVAILABLE);
	took = time_mono_ms() - start;
	assert_int_equal(resp.status, 0);
	assert_non_null(strstr(resp.reason, "timed out"));
	assert_true(took >= 350 && took < 2000);
	print_message("    stalled server: %s (%lld ms)\n", resp.reason, (long long)took);

	r.url = url(https_base, "/stall-body");
	assert_int_equal(http_client_request(client, &r, &resp), LOY_EUNAVAILABLE);
	assert_int_equal(resp.status, 200);
	assert_non_null(strstr(resp.reason, "timed out"));

	assert_int_equal(get(client, url(http_base, "/status/200"), &resp), LOY_OK);
	assert_int_equal(get(client, url(https_base, "/status/200"), &resp), LOY_OK);
	http_client_response_cleanup(&resp);
}

/* Nothing listens: EUNAVAILABLE at once, with the reason. */
static void test_connection_refused(void **state)
{
	struct http_client_response resp = { 0 };
	struct http_client_stats st;
	int64_t start = time_mono_ms();

	(void)state;
	assert_int_equal(get(client, "http://127.0.0.1:1/x", &resp), LOY_EUNAVAILABLE);
	assert_true(time_mono_ms() - start < 2000);
	assert_int_equal(resp.status, 0);
	assert_non_null(strstr(resp.reason, "connect"));
	print_message("    %s\n", resp.reason);
	http_client_stats(client, &st);
	assert_true(st.failures >= 1);
	http_client_response_cleanup(&resp);
}

/* The body cap: N bytes are kept, N+1 are ETOOBIG with the status; the next request works. */
static void test_oversized_body(void **state)
{
	struct http_client_options o = { .ca_file = in(dir, "ca.pem"), .max_response = 1000 };
	struct http_client_response resp = { 0 };
	struct http_client *c;

	(void)state;
	assert_int_equal(http_client_open(&o, &c), LOY_OK);
	assert_int_equal(get(c, url(http_base, "/big?n=1000"), &resp), LOY_OK);
	assert_int_equal(resp.body.len, 1000);
	assert_int_equal(get(c, url(http_base, "/big?n=1001"), &resp), LOY_ETOOBIG);
	assert_int_equal(resp.status, 200);
	assert_true(resp.body.len <= 1000);
	assert_non_null(strstr(resp.reason, "larger than 1000 bytes"));
	assert_int_equal(get(c, url(https_base, "/big?n=500000"), &resp), LOY_ETOOBIG);
	assert_int_equal(get(c, url(https_base, "/big?n=10"), &resp), LOY_OK);
	assert_string_equal(resp.body.p, "xxxxxxxxxx");
	http_client_close(c);
	http_client_response_cleanup(&resp);

	o.max_response = HTTP_CLIENT_RESPONSE_MAX_LIMIT + 1; /* N+1 */
	assert_int_equal(http_client_open(&o, &c), LOY_EINVALID);
	o.max_response = HTTP_CLIENT_RESPONSE_MAX_LIMIT; /* N */
	assert_int_equal(http_client_open(&o, &c), LOY_OK);
	http_client_close(c);
}

/* Requests that are not well formed are refused with a reason and never reach the server. */
static void test_bad_requests_not_sent(void **state)
{
	static const char *const crlf[] = { "X-A: 1\r\nX-Injected: 2" };
	static const char *const noname[] = { ": value" };
	static const char *const nocolon[] = { "Authorization Bearer x" };
	static const char *many[HTTP_CLIENT_HEADERS_MAX + 1];
	struct http_client_response resp = { 0 };
	char longurl[HTTP_CLIENT_URL_MAX + 8], echo[80], spaced[80];
	struct {
		struct http_client_request r;
		const char *why;
	} cases[] = {
		{ { .method = "get", .url = echo }, "bad method" },
		{ { .method = "HEAD", .url = echo }, "bad method" },
		{ { .method = NULL, .url = echo }, "bad method" },
		{ { .method = "GET", .url = "ftp://127.0.0.1/x" }, "bad URL" },
		{ { .method = "GET", .url = spaced }, "bad URL" },
		{ { .method = "GET", .url = NULL }, "bad URL" },
		{ { .method = "GET", .url = longurl }, "bad URL" },
		{ { .method = "GET", .url = echo, .headers = crlf, .nheaders = 1 }, "bad header" },
		{ { .method = "GET", .url = echo, .headers = noname, .nheaders = 1 },
		  "bad header" },
		{ { .method = "GET", .url = echo, .headers = nocolon, .nheaders = 1 },
		  "bad header" },
		{ { .method = "GET",
		    .url = echo,
		    .headers = many,
		    .nheaders = HTTP_CLIENT_HEADERS_MAX + 1 },
		  "bad header" },
		{ { .method = "GET", .url = echo, .body = "x", .body_len = 1 }, "a body needs" },
		{ { .method = "GET", .url = echo, .timeout_ms = -1 }, "bad timeout" },
	};
	long before;
	size_t i;

	(void)state;
	snprintf(echo, sizeof(echo), "%s/echo", http_base);
	snprintf(spaced, sizeof(spaced), "%s/echo x", http_base);
	for (i = 0; i <= HTTP_CLIENT_HEADERS_MAX; i++)
		many[i] = "X-Many: 1";
	snprintf(longurl, sizeof(longurl), "%s/", http_base);
	memset(longurl + strlen(longurl), 'a', HTTP_CLIENT_URL_MAX - strlen(longurl));
	longurl[HTTP_CLIENT_URL_MAX] = '\0'; /* HTTP_CLIENT_URL_MAX characters: one too many */
	before = server_requests();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(http_client_request(client, &cases[i].r, &resp), LOY_EINVALID);
		assert_non_null(strstr(resp.reason, cases[i].why));
		assert_int_equal(resp.status, 0);
	}
	assert_int_equal(server_requests(), before);
	{
		/* HTTP_CLIENT_HEADERS_MAX lines (N) go out. */
		struct http_client_request r = { .method = "GET",
						 .url = echo,
						 .headers = many,
						 .nheaders = HTTP_CLIENT_HEADERS_MAX };

		assert_int_equal(http_client_request(client, &r, &resp), LOY_OK);
		assert_int_equal(resp.status, 200);
	}
	http_client_response_cleanup(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_echo),
		cmocka_unit_test(test_bodies_and_methods),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_https),
		cmocka_unit_test(test_stall_times_out),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_oversized_body),
		cmocka_unit_test(test_bad_requests_not_sent),
	};

	if (system("node --version >/dev/null 2>&1") != 0) {
		printf("test_http_client: SKIPPED: node is not installed (make test installs it)\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
