/* `loy serve`: the HTTP server in the foreground, logging JSON lines to stdout, until SIGINT or
 * SIGTERM. On the first start of an empty database it creates the owner account and prints its
 * login once, to stderr (never to the log). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "base/log.h"
#include "base/rand.h"
#include "cli/cli.h"
#include "crypto/password.h"
#include "crypto/token.h"
#include "jobs/housekeeping.h"
#include "jobs/outbox.h"
#include "wallet/apple/wallet.h"
#include "wallet/google/gwallet.h"

#define RATELIMIT_SLOTS 65536
/* The outbox: jobs claimed per round and how often an idle worker looks for jobs that came due
 * (a retry's time). New jobs do not wait for it: the commit that queued them wakes the workers.
 * A worker runs the jobs of its claim one after the other, so the claim's lease must outlast them
 * all at their slowest — each an APNs round and an Android round of LOY_APNS_TIMEOUT — with room
 * for their database work; a job whose worker died (a crash, a kill) is taken again when its
 * lease runs out. Small claims keep that wait short (about 4 minutes at the default timeout). */
#define OUTBOX_BATCH 4
#define OUTBOX_IDLE_MS 1000
#define OUTBOX_LEASE_SLACK_MS 5000

struct owner_ctx {
	struct user u;
	bool created;
};

static enum loy_err owner_tx(struct store_tx *tx, void *arg)
{
	struct owner_ctx *o = arg;
	struct business b;
	int64_t users = 0;
	enum loy_err err = store_user_count(tx, &users);

	if (err != LOY_OK || users > 0)
		return err;
	err = store_business_default(tx, &b);
	if (err != LOY_OK)
		return err;
	o->u.business_id = b.id;
	err = store_user_insert(tx, &o->u);
	o->created = err == LOY_OK;
	return err;
}

static int ensure_owner(struct store *st, const struct conf *c)
{
	struct owner_ctx o = {
		.u = { .email = c->owner_email, .name = "Owner", .role = ROLE_OWNER }
	};
	char password[33], hash[PASSWORD_HASH_MAX];
	struct arena a;
	enum loy_err err;

	rand_token(password, 15);
	if (password_hash(password, strlen(password), hash) != LOY_OK)
		return 1;
	o.u.password_hash = hash;
	arena_init(&a, 1 << 16);
	err = store_write(st, &a, owner_tx, &o);
	arena_free(&a);
	if (err != LOY_OK && err != LOY_ECONFLICT) {
		fprintf(stderr, "cannot create the owner account: %s\n", err_code(err));
		return 1;
	}
	if (o.created)
		fprintf(stderr,
			"\n  Loy is ready. Owner login (shown once, change it after signing in):\n"
			"    e-mail:   %s\n    password: %s\n\n",
			c->owner_email, password);
	return 0;
}

static int init_token_key(const struct conf *c)
{
	unsigned char key[64];
	size_t n = strlen(c->secret_key);

	if (n == 0) {
		log_warn("LOY_SECRET_KEY is not set: using a random key, so access tokens will "
			 "not survive a restart (fine for development only)");
		rand_bytes(key, sizeof(key));
		return token_init(key, sizeof(key)) == LOY_OK ? 0 : 1;
	}
	if (n < 32) {
		fprintf(stderr, "LOY_SECRET_KEY must be at least 32 characters\n");
		return 1;
	}
	return token_init((const unsigned char *)c->secret_key, n) == LOY_OK ? 0 : 1;
}

static void wake_outbox(void *arg)
{
	outbox_wake(arg);
}

/* The job kinds of the wallets that are on, each with its wallet as the handler's ctx. Static:
 * the outbox keeps the table for as long as it runs. */
static struct job_kind outbox_kinds[8];

static enum loy_err start_outbox(struct store *st, const struct conf *c, struct apple_wallet *apple,
				 struct gwallet *google, struct outbox **out)
{
	size_t n = 0;

	for (size_t i = 0; apple && i < apple_wallet_njobs; i++) {
		outbox_kinds[n] = apple_wallet_jobs[i];
		outbox_kinds[n++].ctx = apple;
	}
	for (size_t i = 0; google && i < gwallet_njobs; i++) {
		outbox_kinds[n] = gwallet_jobs[i];
		outbox_kinds[n++].ctx = google;
	}
	struct outbox_options o = { .kinds = outbox_kinds,
				    .nkinds = n,
				    .threads = (int)c->outbox_threads,
				    .batch = OUTBOX_BATCH,
				    .lease_ms = OUTBOX_BATCH * 2 * c->apns_timeout * 1000 +
						OUTBOX_LEASE_SLACK_MS,
				    .idle_ms = OUTBOX_IDLE_MS };
	return outbox_start(st, &o, out);
}

int cli_serve(int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *config = NULL;
	struct conf c;
	struct store *st = NULL;
	struct app app = { 0 };
	struct http_server *srv = NULL;
	struct housekeeping *hk = NULL;
	struct apple_wallet *apple = NULL;
	struct gwallet *google = NULL;
	const char *google_problem = NULL;
	struct outbox *ob = NULL;
	struct http_options hopt;
	sigset_t sigs;
	int sig, opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (opt == 'c') {
			config = optarg;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: loy serve [--config FILE]\n\nRuns the HTTP server in the "
				"foreground until SIGINT/SIGTERM.\nListens on LOY_LISTEN; see `loy "
				"config --defaults` for every setting.\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	/* Block the signals before any thread starts so that only sigwait below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cli_open(config, &c, &st) != 0 || ensure_owner(st, &c) != 0 || init_token_key(&c) != 0)
		goto out;
	if (apple_wallet_open(&c, st, &apple) != LOY_OK)
		goto out;
	/* A Google set-up that cannot work is reported (here and in the admin's status) but does not
	 * stop the server: the cards, the API and Apple Wallet do not depend on it. */
	if (gwallet_open(&c, st, &google, &google_problem) != LOY_OK && google_problem)
		log_error("Google Wallet is off: %s", google_problem);
	app = (struct app){
		.st = st,
		.conf = &c,
		.rl = ratelimit_new(RATELIMIT_SLOTS),
		.apple = apple,
		.google = google,
		.google_problem = google_problem,
	};
	app.secure_cookies = strncmp(c.base_url, "https://", 8) == 0;
	if (!app.rl)
		goto out;
	hopt = (struct http_options){ .listen = c.listen,
				      .threads = (int)c.threads,
				      .workers = (int)c.workers,
				      .routes = api_routes,
				      .nroutes = api_nroutes,
				      .dispatch = api_dispatch,
				      .app = &app,
				      .defer_inline = store_can_write_async(st),
				      .trusted_proxies = c.trusted_proxies };
	if ((apple || google) && start_outbox(st, &c, apple, google, &ob) != LOY_OK)
		goto out;
	if (ob)
		store_on_jobs(st, wake_outbox, ob);
	if (http_start(&hopt, &srv) != LOY_OK)
		goto out;
	if (housekeeping_start(st, c.housekeeping_interval * 1000, &hk) != LOY_OK) {
		http_stop(srv);
		goto out;
	}
	log_info("loy %s listening on %s (database: %s)", LOY_VERSION, c.listen,
		 store_is_postgres(st) ? "postgresql" : "sqlite");
	sigwait(&sigs, &sig);
	log_info("signal %d: shutting down", sig);
	http_stop(srv);
	housekeeping_stop(hk);
	rc = 0;
out:
	/* The workers may be in the middle of a push: stop them before what they use goes away. */
	if (ob) {
		outbox_stop(ob);
		store_on_jobs(st, NULL, NULL); /* every writer has stopped: nothing calls it now */
	}
	apple_wallet_close(apple);
	gwallet_close(google);
	ratelimit_free(app.rl);
	store_close(st);
	token_shutdown();
	return rc;
}
