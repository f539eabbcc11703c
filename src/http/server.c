/* libmicrohttpd glue (see server.h).
 *
 * Each request goes through MHD's access handler several times: first with no data (we set up the
 * request and match the route), then once per chunk of body, then once with no data when the body is
 * complete. The response is queued only then — queueing it earlier costs keep-alive. Routes marked
 * ROUTE_POOLED suspend the connection and run on a request thread; when the handler is done the
 * connection is resumed and the access handler, called again, queues the response. */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/rand.h"
#include "base/timeutil.h"
#include "http/metrics.h"
#include "http/pool.h"

#define CONNECTION_TIMEOUT_S 60
#define CONNECTION_LIMIT 10000

enum req_state { ST_READING, ST_RUNNING, ST_DONE };

/* req comes first: http_complete finds the state from the request. */
struct conn_state {
	struct http_request req;
	struct http_response res;
	_Atomic enum req_state state; /* written by whichever thread finishes the request */
	struct http_server *srv;
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct pool *pool;
	struct http_options opt;
	int port;
	atomic_int deferred; /* requests suspended until someone calls http_complete */
};

#define STOP_DRAIN_MS 10000 /* how long shutdown waits for deferred requests to finish */

const char *http_header(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct unknown_scan {
	const char *const *allowed;
	const char *found;
};

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct unknown_scan *s = cls;
	for (const char *const *a = s->allowed; *a; a++)
		if (strcmp(*a, key) == 0)
			return MHD_YES;
	s->found = key;
	return MHD_NO;
}

const char *http_query_unknown(struct http_request *req, const char *const *allowed)
{
	struct unknown_scan s = { allowed, NULL };
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, scan_arg, &s);
	return s.found;
}

void http_set_header(struct http_response *res, const char *name, const char *value)
{
	if (res->nheaders < HTTP_HEADERS_MAX) {
		res->headers[res->nheaders].name = name;
		res->headers[res->nheaders].value = value;
		res->nheaders++;
	}
}

/* Request ids need to be unique, not secret: a random per-thread prefix and a counter, so that
 * naming a request costs no system call. */
static void request_id_next(char out[HTTP_REQUEST_ID_MAX + 1])
{
	static _Thread_local char prefix[17];
	static _Thread_local uint64_t counter;

	if (!prefix[0])
		rand_hex(prefix, 8);
	snprintf(out, HTTP_REQUEST_ID_MAX + 1, "%s%08llx", prefix, (unsigned long long)++counter);
}

static void set_request_id(struct http_request *req)
{
	const char *given = http_header(req, "X-Request-Id");
	if (given) {
		struct str s = str_from(given);
		bool ok = s.len > 0 && s.len <= HTTP_REQUEST_ID_MAX;
		/* Only characters that are safe in logs and headers; anything else gets our own id. */
		for (size_t i = 0; ok && i < s.len; i++)
			ok = (s.p[i] >= 'a' && s.p[i] <= 'z') || (s.p[i] >= 'A' && s.p[i] <= 'Z') ||
			     (s.p[i] >= '0' && s.p[i] <= '9') || strchr("._:-", s.p[i]);
		if (ok) {
			memcpy(req->request_id, given, s.len + 1);
			return;
		}
	}
	request_id_next(req->request_id);
}

/* True if ip is one of the comma-separated addresses in list. */
static bool listed(const char *list, const char *ip)
{
	size_t n = strlen(ip);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && *p == ' ')
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && memcmp(p, ip, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* Behind a trusted reverse proxy the client is the one its X-Real-IP names — if that is an
 * address at all; from anyone else the header is ignored, so it cannot be forged. */
static void apply_real_ip(struct http_request *req, const char *trusted)
{
	const char *real = http_header(req, "X-Real-IP");
	unsigned char buf[sizeof(struct in6_addr)];

	if (!real || !trusted || !*trusted || !listed(trusted, req->ip) ||
	    strlen(real) >= sizeof(req->ip))
		return;
	if (inet_pton(AF_INET, real, buf) == 1 || inet_pton(AF_INET6, real, buf) == 1)
		memcpy(req->ip, real, strlen(real) + 1);
}

static void set_client_ip(struct http_request *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	req->ip[0] = '\0';
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		const void *addr =
			sa->sa_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (!inet_ntop(sa->sa_family, addr, req->ip, sizeof(req->ip)))
			req->ip[0] = '\0';
	}
}

static struct conn_state *state_new(struct http_server *srv, struct MHD_Connection *conn,
				    const char *url, const char *method)
{
	struct conn_state *st = calloc(1, sizeof(*st));
	struct http_request *req;

	if (!st)
		return NULL;
	st->srv = srv;
	req = &st->req;
	arena_init(&req->arena, HTTP_ARENA_CAP);
	req->conn = conn;
	req->app = srv->opt.app;
	req->method = method;
	req->path = str_from(url);
	req->started_us = time_mono_us();
	set_request_id(req);
	set_client_ip(req);
	apply_real_ip(req, srv->opt.trusted_proxies);
	req->match = router_match(srv->opt.routes, srv->opt.nroutes, method, req->path, &req->route,
				  req->params, &req->nparams);
	if (req->match != ROUTE_FOUND)
		req->route = NULL;
	buf_init(&req->body, req->route && req->route->body_max ? req->route->body_max : 0);
	buf_init(&st->res.body, HTTP_RESPONSE_MAX);
	st->res.status = 500;
	return st;
}

static void state_free(struct conn_state *st)
{
	buf_cleanup(&st->req.body);
	buf_cleanup(&st->res.body);
	arena_free(&st->req.arena);
	free(st);
}

static void run_dispatch(struct conn_state *st)
{
	st->srv->opt.dispatch(&st->req, &st->res);
	st->state = ST_DONE;
}

void http_defer(struct http_request *req, void (*start)(void *arg), void *arg)
{
	req->defer_start = start;
	req->defer_arg = arg;
}

void http_complete(struct http_request *req)
{
	struct conn_state *st = (struct conn_state *)req;
	struct http_server *srv = st->srv;

	st->state = ST_DONE;
	MHD_resume_connection(req->conn);
	atomic_fetch_sub(&srv->deferred, 1); /* st may be gone from here on */
}

static void run_pooled(void *arg)
{
	struct conn_state *st = arg;
	run_dispatch(st);
	MHD_resume_connection(st->req.conn);
}

static void log_request(struct conn_state *st, int64_t duration_us)
{
	struct http_request *req = &st->req;
	char path[256];
	struct log_ctx ctx = LOG_CTX_NONE;

	if (!log_enabled(LOG_HTTP))
		return;
	snprintf(path, sizeof(path), "%.*s", (int)req->path.len, req->path.p);
	ctx.request_id = req->request_id;
	ctx.method = req->method;
	ctx.path = path;
	ctx.status = st->res.status;
	ctx.ip = req->ip;
	ctx.user_agent = http_header(req, "User-Agent");
	ctx.duration_ms = duration_us / 1000;
	ctx.customer_id = req->log_customer_id;
	ctx.source = "http";
	log_write(LOG_HTTP, &ctx, "request");
}

static enum MHD_Result queue_response(struct conn_state *st, struct MHD_Connection *conn)
{
	struct http_response *res = &st->res;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = 0;
	char *body = buf_detach(&res->body, &len);
	int64_t duration = time_mono_us() - st->req.started_us;

	if (body)
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (res->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	MHD_add_response_header(r, "X-Request-Id", st->req.request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	bool cache_control = false;
	for (int i = 0; i < res->nheaders; i++) {
		MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
		cache_control |= strcasecmp(res->headers[i].name, "Cache-Control") == 0;
	}
	/* API answers are personal and live: never cached, unless the handler says otherwise (the
	 * PassKit pass download revalidates with If-Modified-Since). */
	if (!cache_control)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
	metrics_record(st->req.route, res->status, duration);
	log_request(st, duration);
	return ret;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct http_server *srv = cls;
	struct conn_state *st = *con_cls;

	if (!st) {
		st = state_new(srv, conn, url, method);
		if (!st)
			return MHD_NO;
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_data_size) {
		struct http_request *req = &st->req;
		if (req->route && req->route->body_max && !req->body_too_big &&
		    buf_append(&req->body, upload_data, *upload_data_size) != LOY_OK)
			req->body_too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->state == ST_READING && st->req.route && st->req.route->exec == ROUTE_DEFERRABLE &&
	    srv->opt.defer_inline) {
		struct http_request *req = &st->req;
		req->can_defer = true;
		srv->opt.dispatch(req, &st->res);
		req->can_defer = false;
		if (!req->defer_start) {
			st->state = ST_DONE;
			return queue_response(st, conn);
		}
		/* Suspend before the work starts: it may finish (and resume) on another thread at
		 * once. */
		st->state = ST_RUNNING;
		atomic_fetch_add(&srv->deferred, 1);
		MHD_suspend_connection(conn);
		req->defer_start(req->defer_arg);
		return MHD_YES;
	}
	if (st->state == ST_READING) {
		if (st->req.route && (st->req.route->exec == ROUTE_POOLED ||
				      st->req.route->exec == ROUTE_DEFERRABLE)) {
			st->state = ST_RUNNING;
			MHD_suspend_connection(conn);
			if (pool_submit(srv->pool, run_pooled, st) != LOY_OK) {
				MHD_resume_connection(conn);
				return MHD_NO;
			}
			return MHD_YES;
		}
		run_dispatch(st);
	}
	if (st->state == ST_DONE)
		return queue_response(st, conn);
	return MHD_YES;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct conn_state *st = *con_cls;
	if (st)
		state_free(st);
	*con_cls = NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding of the path and query, except %00: a decoded NUL would cut the C string MHD
 * hands us, so "/customers/1%00x" would quietly become "/customers/1". Left encoded, it stays a
 * segment that matches nothing. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
		    (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static enum loy_err resolve_listen(const char *listen, struct sockaddr_storage *ss, bool *ipv6)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	size_t hlen;

	if (!colon || colon == listen)
		return LOY_EINVALID;
	hlen = (size_t)(colon - listen);
	if (listen[0] == '[' && hlen >= 2 && listen[hlen - 1] == ']') {
		listen++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return LOY_EINVALID;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
		return LOY_EINVALID;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*ipv6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return LOY_OK;
}

enum loy_err http_start(const struct http_options *opt, struct http_server **out)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_storage ss;
	bool ipv6 = false;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	enum loy_err err;

	if (!srv)
		return LOY_ENOMEM;
	srv->opt = *opt;
	err = resolve_listen(opt->listen, &ss, &ipv6);
	if (err != LOY_OK) {
		log_error("cannot resolve listen address %s", opt->listen);
		free(srv);
		return err;
	}
	if (ipv6)
		flags |= MHD_USE_IPv6;
	err = metrics_init(opt->routes, opt->nroutes);
	if (err == LOY_OK)
		err = pool_start(opt->workers, &srv->pool);
	if (err != LOY_OK) {
		metrics_shutdown();
		free(srv);
		return err;
	}
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, srv,
				       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				       MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opt->threads,
				       MHD_OPTION_CONNECTION_TIMEOUT,
				       (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
				       (unsigned)CONNECTION_LIMIT, MHD_OPTION_NOTIFY_COMPLETED,
				       request_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK,
				       unescape, srv, MHD_OPTION_END);
	/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: on Linux it sets SO_REUSEPORT, and a second loy
	 * started by mistake on the same port would silently take half the traffic. MHD's default
	 * (SO_REUSEADDR) still allows a quick restart. */
	if (!srv->daemon) {
		log_error("cannot listen on %s", opt->listen);
		pool_stop(srv->pool);
		metrics_shutdown();
		free(srv);
		return LOY_EUNAVAILABLE;
	}
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : 0;
	*out = srv;
	return LOY_OK;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_quiesce_daemon(s->daemon);
	/* Deferred requests finish on the store's writer and resume their connections, which needs
	 * the daemon alive: MHD must not be stopped with connections still suspended. */
	for (int waited = 0; atomic_load(&s->deferred) > 0 && waited < STOP_DRAIN_MS; waited++)
		usleep(1000);
	/* Request threads finish what they run; resuming their connections needs the daemon alive. */
	pool_stop(s->pool);
	MHD_stop_daemon(s->daemon);
	metrics_shutdown();
	free(s);
}

int http_port(const struct http_server *s)
{
	return s->port;
}
