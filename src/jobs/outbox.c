/* The outbox worker (see outbox.h for the design). */
#include "jobs/outbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/rand.h"

#define JOB_ARENA_CAP (32u * 1024u * 1024u) /* a card read with every template image at its cap */

struct outbox {
	struct store *st;
	struct outbox_options opt;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
	unsigned wakeups; /* bumped by outbox_wake so a sleeping worker notices */
	int nthreads;
	pthread_t threads[];
};

int64_t outbox_backoff_ms(const struct job_kind *k, int attempts)
{
	int64_t ceiling = k->backoff_base_ms;
	for (int i = 1; i < attempts && ceiling < k->backoff_max_ms; i++)
		ceiling *= 2;
	if (ceiling > k->backoff_max_ms)
		ceiling = k->backoff_max_ms;
	/* Full jitter: spreads the retries of many jobs that failed together (one outage). */
	return ceiling > 0 ? (int64_t)rand_below((uint64_t)ceiling + 1) : 0;
}

static const struct job_kind *find_kind(const struct outbox *ob, const char *kind)
{
	for (size_t i = 0; i < ob->opt.nkinds; i++)
		if (strcmp(ob->opt.kinds[i].kind, kind) == 0)
			return &ob->opt.kinds[i];
	return NULL;
}

struct claim_ctx {
	const struct outbox *ob;
	struct job_row *rows;
	int n;
};

static enum loy_err claim_tx(struct store_tx *tx, void *arg)
{
	struct claim_ctx *c = arg;
	return store_job_claim(tx, c->ob->opt.batch, c->ob->opt.lease_ms, &c->rows, &c->n);
}

struct settle_ctx {
	const struct job_row *row;
	const char *state, *error;
	int64_t delay_ms;
};

static enum loy_err settle_tx(struct store_tx *tx, void *arg)
{
	struct settle_ctx *s = arg;
	return store_job_settle(tx, s->row->id, s->row->attempts, s->state, tx->now + s->delay_ms,
				s->error);
}

static void run_one(struct outbox *ob, const struct job_row *row, struct arena *a)
{
	const struct job_kind *k = find_kind(ob, row->kind);
	struct job job = { row->id, row->business_id, row->kind, row->payload, row->attempts };
	struct settle_ctx s = { .row = row, .state = "done" };
	enum job_result r;
	enum loy_err err;

	if (!k) {
		r = JOB_FAIL;
		s.error = "no handler for this job kind";
	} else {
		r = k->handler(&job, a, k->ctx ? k->ctx : ob->opt.ctx, &s.error);
	}
	if (r == JOB_RETRY && k && row->attempts < k->max_attempts) {
		s.state = "queued";
		s.delay_ms = outbox_backoff_ms(k, row->attempts);
	} else if (r != JOB_DONE) {
		s.state = "dead";
		log_warn("job %lld (%s) dead-lettered after %d attempts: %s", (long long)row->id,
			 row->kind, row->attempts, s.error ? s.error : "failed");
	}
	err = store_write(ob->st, a, settle_tx, &s);
	if (err != LOY_OK)
		log_error("job %lld: cannot record its outcome (%s); it will run again when its "
			  "lease expires",
			  (long long)row->id, err_code(err));
}

static void wait_for_work(struct outbox *ob, unsigned seen)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ob->opt.idle_ms / 1000;
	until.tv_nsec += (long)(ob->opt.idle_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ob->lock);
	while (!ob->stopping && ob->wakeups == seen)
		if (pthread_cond_timedwait(&ob->cond, &ob->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&ob->lock);
}

static void *worker_main(void *arg)
{
	struct outbox *ob = arg;
	struct arena a;

	arena_init(&a, JOB_ARENA_CAP);
	for (;;) {
		struct claim_ctx c = { .ob = ob };
		unsigned seen;
		enum loy_err err;

		pthread_mutex_lock(&ob->lock);
		seen = ob->wakeups;
		if (ob->stopping) {
			pthread_mutex_unlock(&ob->lock);
			break;
		}
		pthread_mutex_unlock(&ob->lock);

		arena_reset(&a);
		err = store_write(ob->st, &a, claim_tx, &c);
		if (err != LOY_OK)
			log_error("outbox: cannot claim jobs: %s", err_code(err));
		for (int i = 0; err == LOY_OK && i < c.n; i++)
			run_one(ob, &c.rows[i], &a);
		if (err != LOY_OK || c.n < ob->opt.batch)
			wait_for_work(ob, seen);
	}
	arena_free(&a);
	return NULL;
}

enum loy_err outbox_start(struct store *st, const struct outbox_options *opt, struct outbox **out)
{
	struct outbox *ob = calloc(1, sizeof(*ob) + sizeof(pthread_t) * (size_t)opt->threads);

	if (!ob)
		return LOY_ENOMEM;
	ob->st = st;
	ob->opt = *opt;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_cond_init(&ob->cond, NULL);
	for (int i = 0; i < opt->threads; i++) {
		if (pthread_create(&ob->threads[i], NULL, worker_main, ob) != 0) {
			ob->nthreads = i;
			outbox_stop(ob);
			return LOY_EINTERNAL;
		}
	}
	ob->nthreads = opt->threads;
	*out = ob;
	return LOY_OK;
}

void outbox_wake(struct outbox *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->wakeups++;
	pthread_cond_broadcast(&ob->cond);
	pthread_mutex_unlock(&ob->lock);
}

void outbox_stop(struct outbox *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->stopping = 1;
	pthread_cond_broadcast(&ob->cond);
	pthread_mutex_unlock(&ob->lock);
	for (int i = 0; i < ob->nthreads; i++)
		pthread_join(ob->threads[i], NULL);
	pthread_mutex_destroy(&ob->lock);
	pthread_cond_destroy(&ob->cond);
	free(ob);
}
