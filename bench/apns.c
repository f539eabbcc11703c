/* Pushes per second of the APNs client (wallet/apple/apns over net/http2): N device tokens handed
 * to one apns_push, over one multiplexed connection, to the HTTP/2 server at URL. Driven by
 * bench/apns.sh, which runs it against the fake APNs and nghttpd and puts it beside each server's
 * own ceiling.
 *   apns CERTDIR URL N [STREAMS] [ROUNDS]
 * Makes development certificates in CERTDIR when missing (crypto/devcerts), opens a signer on them
 * and an apns trusting CERTDIR/ca.pem, connects with one push, then times ROUNDS calls of N fresh
 * tokens each. Prints one line per round and then the best:
 *   pushes_per_s=R done=D of=N cpu_us_per_push=C
 * cpu_us_per_push is this process's CPU time (user + system) per push: the client's own cost,
 * whatever the server's speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/log.h"
#include "base/rand.h"
#include "crypto/devcerts.h"
#include "crypto/signer.h"
#include "wallet/apple/apns.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void no_report(const char *path, enum devcerts_action action, void *arg)
{
	(void)path, (void)action, (void)arg;
}

static const char *at(const char *dir, const char *name)
{
	static char p[4][512];
	static int n;
	char *s = p[n++ % 4];
	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

int main(int argc, char **argv)
{
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	struct apns_config cfg = { 0 };
	struct signer *s = NULL;
	struct apns *a = NULL;
	struct apns_result *res;
	const char **ptrs;
	char(*tokens)[APNS_TOKEN_LEN + 1];
	double best = 0, best_cpu = 0;
	size_t n, i, done = 0, best_done = 0;
	int rounds, r;

	if (argc < 4) {
		fprintf(stderr, "usage: apns CERTDIR URL N [STREAMS] [ROUNDS]\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 10);
	cfg.url = argv[2];
	cfg.ca_file = at(argv[1], "ca.pem");
	cfg.max_streams = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 0;
	cfg.timeout_ms = 300000;
	rounds = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 1;
	log_set_fd(2);
	log_set_level(LOG_WARN);
	if (n == 0 || devcerts_create(argv[1], &o, no_report, NULL) != LOY_OK ||
	    signer_open_pem(at(argv[1], "pass.pem"), at(argv[1], "pass.key"), NULL,
			    at(argv[1], "wwdr.pem"), &s) != LOY_OK ||
	    apns_open(&cfg, s, &a) != LOY_OK)
		return 1;
	res = calloc(n, sizeof(*res));
	ptrs = calloc(n, sizeof(*ptrs));
	tokens = calloc(n, sizeof(*tokens));
	if (!res || !ptrs || !tokens)
		return 1;
	for (i = 0; i < n; i++)
		ptrs[i] = tokens[i];
	rand_hex(tokens[0], APNS_TOKEN_LEN / 2);
	if (apns_push(a, ptrs, 1, res) != LOY_OK || res[0].status != APNS_DONE) {
		fprintf(stderr, "apns bench: the first push failed: %s %s\n",
			apns_status_name(res[0].status), res[0].reason);
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		double t0, c0, t, c;

		for (i = 0; i < n; i++)
			rand_hex(tokens[i], APNS_TOKEN_LEN / 2);
		t0 = now_s();
		c0 = cpu_s();
		if (apns_push(a, ptrs, n, res) != LOY_OK)
			return 1;
		t = now_s() - t0;
		c = cpu_s() - c0;
		for (done = 0, i = 0; i < n; i++)
			done += res[i].status == APNS_DONE;
		printf("round %d: %zu pushes in %.3f s: %.0f pushes/s, %zu done, client CPU %.2f us "
		       "per push\n",
		       r + 1, n, t, (double)n / t, done, c * 1e6 / (double)n);
		if (done < n)
			for (i = 0; i < n; i++)
				if (res[i].status != APNS_DONE) {
					printf("  first not done: %s %d %s\n",
					       apns_status_name(res[i].status), res[i].http_status,
					       res[i].reason);
					break;
				}
		if ((double)n / t > best) {
			best = (double)n / t;
			best_cpu = c * 1e6 / (double)n;
			best_done = done;
		}
	}
	printf("pushes_per_s=%.0f done=%zu of=%zu cpu_us_per_push=%.2f\n", best, best_done, n,
	       best_cpu);
	apns_close(a);
	signer_close(s);
	free(res);
	free(ptrs);
	free(tokens);
	return best_done == n ? 0 : 1;
}
