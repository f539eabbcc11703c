/* A fast local stand-in for APNs, for bench/apns.sh only: HTTP/2 over TLS (ALPN h2, TLS 1.2+) on
 * libnghttp2 and OpenSSL, that answers every request with 200, an empty body and an apns-id header
 * once it has read the whole request, as APNs does. It checks nothing else (tests/fakes/apns.js is
 * the strict fake; it is Node, and too slow to measure the client). A client certificate is
 * verified against CERTDIR/ca.pem when one is sent, so the APNs client's TLS set-up is the real
 * one; h2load, which cannot send one, is let in without, to measure this server's own ceiling.
 *   apns_server CERTDIR [PORT] [MAX_STREAMS] [RESET_LIMIT]
 * Prints "listening https://127.0.0.1:PORT" and serves until killed, one process per connection.
 *
 * RESET_LIMIT: libcurl 7.88 ends every completed stream with RST_STREAM(STREAM_CLOSED) while the
 * connection stays open (the curl command line does the same, GETs included), and nghttp2's
 * rapid-reset protection (CVE-2023-44487; Debian backported it to 1.52) answers about 1 000 resets
 * with GOAWAY. 0 (the default) keeps nghttp2's limit, as a protected server would; N > 0 allows a
 * burst of N, to measure the client's multiplexing without the reconnects.
 *
 * Why not nginx's `return 200`: it answers before reading the body and then resets the stream with
 * NO_ERROR (RFC 9113 §8.1 allows it); libcurl 7.88 counts that as a failed transfer. Why not
 * nghttpd --echo-upload: it tops out near 12 000 requests/s on one connection here. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_MAX (256 * 1024)

struct conn {
	SSL *ssl;
	nghttp2_session *h2;
	unsigned long long answered;
	unsigned char out[OUT_MAX];
	size_t outlen;
};

static const char *at(const char *dir, const char *name)
{
	static char p[4][512];
	static int n;
	char *s = p[n++ % 4];
	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl, (void)arg;
	for (unsigned int i = 0; i + 1 <= inlen; i += 1u + in[i])
		if (in[i] == 2 && i + 3 <= inlen && memcmp(in + i + 1, "h2", 2) == 0) {
			*out = in + i + 1;
			*outlen = 2;
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct conn *c = arg;
	char id[40];
	nghttp2_nv nv[2] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"apns-id", (uint8_t *)id, 7, 36, NGHTTP2_NV_FLAG_NONE },
	};

	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	c->answered++;
	snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012llx", (unsigned)getpid(), c->answered);
	return nghttp2_submit_response(s, f->hd.stream_id, nv, 2, NULL) == 0
		       ? 0
		       : NGHTTP2_ERR_CALLBACK_FAILURE;
}

/* Everything nghttp2 has to send, in as few TLS writes as fit OUT_MAX. */
static int flush(struct conn *c)
{
	const uint8_t *data;
	ssize_t n;

	for (;;) {
		n = nghttp2_session_mem_send(c->h2, &data);
		if (n < 0)
			return -1;
		if (n == 0 || c->outlen + (size_t)n > OUT_MAX) {
			if (c->outlen > 0 && SSL_write(c->ssl, c->out, (int)c->outlen) <= 0)
				return -1;
			c->outlen = 0;
			if (n == 0)
				return 0;
		}
		if ((size_t)n > OUT_MAX) {
			if (SSL_write(c->ssl, data, (int)n) <= 0)
				return -1;
			continue;
		}
		memcpy(c->out + c->outlen, data, (size_t)n);
		c->outlen += (size_t)n;
	}
}

static void serve(SSL_CTX *ctx, int fd, unsigned max_streams, unsigned long reset_limit)
{
	nghttp2_option *opt;
	static struct conn c;
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry set[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 },
	};
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;
	unsigned char in[16384];
	int n;

	c.ssl = SSL_new(ctx);
	SSL_set_fd(c.ssl, fd);
	if (SSL_accept(c.ssl) != 1)
		return;
	SSL_get0_alpn_selected(c.ssl, &alpn, &alpnlen);
	if (alpnlen != 2)
		return;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_option_new(&opt);
	if (reset_limit > 0)
		nghttp2_option_set_stream_reset_rate_limit(opt, reset_limit, reset_limit);
	nghttp2_session_server_new2(&c.h2, cb, &c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(c.h2, NGHTTP2_FLAG_NONE, set, 2);
	nghttp2_session_set_local_window_size(c.h2, NGHTTP2_FLAG_NONE, 0, 1 << 24);
	while (flush(&c) == 0 &&
	       (nghttp2_session_want_read(c.h2) || nghttp2_session_want_write(c.h2))) {
		n = SSL_read(c.ssl, in, sizeof(in));
		if (n <= 0 || nghttp2_session_mem_recv(c.h2, in, (size_t)n) < 0)
			break;
	}
	nghttp2_session_del(c.h2);
	SSL_shutdown(c.ssl);
	SSL_free(c.ssl);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	static const unsigned char sid_ctx[] = "loy-apns-bench";
	unsigned long reset_limit;
	unsigned max_streams;
	SSL_CTX *ctx;
	int lfd, one = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: apns_server CERTDIR [PORT] [MAX_STREAMS] [RESET_LIMIT]\n");
		return 2;
	}
	max_streams = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 1000;
	reset_limit = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, at(argv[1], "localhost.pem")) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, at(argv[1], "localhost.key"), SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, at(argv[1], "ca.pem"), NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* Needed with client certificates once a client resumes a session (libcurl does). */
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)(argc > 2 ? strtoul(argv[2], NULL, 10) : 0));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0) {
		perror("apns_server");
		return 1;
	}
	printf("listening https://127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			serve(ctx, fd, max_streams, reset_limit);
			_exit(0);
		}
		close(fd);
	}
}
