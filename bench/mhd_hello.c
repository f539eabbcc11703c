/* The bare-server reference: libmicrohttpd answering {"hello":"world"} from one epoll thread, with
 * nothing else — no routing, no auth, no JSON library, no logging. Loy's card lookup is measured
 * against this figure.
 *
 *   mhd_hello [PORT]     (default 0: any free port)
 *
 * Binds 127.0.0.1, prints "port=N" on stdout once listening, runs until SIGTERM or SIGINT.
 * The response is queued on the second access-handler call (after the request is complete):
 * queueing on the first call costs keep-alive, as DESIGN.md notes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "{\"hello\":\"world\"}";
static struct MHD_Response *hello;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int first_call;
	(void)cls, (void)url, (void)method, (void)version, (void)upload_data;

	if (*req_cls == NULL) {
		*req_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0; /* discard any body */
		return MHD_YES;
	}
	return MHD_queue_response(c, MHD_HTTP_OK, hello);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t set;
	int sig;
	long port = 0;

	if (argc > 1) {
		char *end;
		port = strtol(argv[1], &end, 10);
		if (*end || port < 0 || port > 65535) {
			fprintf(stderr, "usage: %s [PORT]\n", argv[0]);
			return 2;
		}
	}
	/* Block the stop signals before any thread starts, then wait for them here. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	hello = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!hello || MHD_add_response_header(hello, "Content-Type", "application/json") != MHD_YES)
		return 1;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
			     NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "mhd_hello: cannot start on 127.0.0.1:%ld\n", port);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("port=%u\n", info ? (unsigned)info->port : (unsigned)port);
	fflush(stdout);

	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(hello);
	return 0;
}
