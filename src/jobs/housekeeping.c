/* Periodic upkeep (see housekeeping.h). */
#include "jobs/housekeeping.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/log.h"

#define HOUSEKEEPING_ARENA_CAP (8u * 1024u * 1024u)

struct housekeeping {
	struct store *st;
	int64_t interval_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
};

struct expire_ctx {
	int64_t expired;
	int found;
};

/* Reads who is due and expires them in the same transaction, so the balance taken is the balance
 * there is. */
static enum loy_err expire_tx(struct store_tx *tx, void *arg)
{
	struct expire_ctx *x = arg;
	struct expiry_due *due;
	enum loy_err err = store_expiry_due(tx, HOUSEKEEPING_BATCH, &due, &x->found);

	x->expired = 0;
	for (int i = 0; err == LOY_OK && i < x->found; i++) {
		struct ledger_entry e = {
			.business_id = due[i].business_id,
			.customer_id = due[i].customer_id,
			.type = LEDGER_EXPIRY,
			.amount = -due[i].balance,
			.description = arena_printf(tx->a,
						    "Points expired after %lld days without "
						    "activity",
						    (long long)due[i].expiration_days),
			.channel = "system",
		};
		err = store_ledger_post(tx, &e, 0);
		if (err == LOY_OK)
			x->expired++;
	}
	return err;
}

struct prune_ctx {
	int64_t pruned;
};

static enum loy_err prune_tx(struct store_tx *tx, void *arg)
{
	struct prune_ctx *p = arg;
	return store_prune(tx, tx->now - HOUSEKEEPING_KEY_TTL_MS, &p->pruned);
}

enum loy_err housekeeping_round(struct store *st, int64_t *expired, int64_t *pruned)
{
	struct arena a;
	struct expire_ctx x;
	struct prune_ctx p = { 0 };
	enum loy_err err;

	*expired = 0;
	arena_init(&a, HOUSEKEEPING_ARENA_CAP);
	do {
		arena_reset(&a);
		err = store_write(st, &a, expire_tx, &x);
		if (err == LOY_OK)
			*expired += x.expired;
	} while (err == LOY_OK && x.found == HOUSEKEEPING_BATCH);
	if (err == LOY_OK) {
		arena_reset(&a);
		err = store_write(st, &a, prune_tx, &p);
		*pruned = p.pruned;
	}
	arena_free(&a);
	return err;
}

static void *housekeeping_main(void *arg)
{
	struct housekeeping *hk = arg;

	pthread_mutex_lock(&hk->lock);
	while (!hk->stopping) {
		struct timespec until;
		int64_t expired = 0, pruned = 0;
		enum loy_err err;

		pthread_mutex_unlock(&hk->lock);
		err = housekeeping_round(hk->st, &expired, &pruned);
		if (err != LOY_OK)
			log_error("housekeeping: %s", err_code(err));
		else if (expired || pruned)
			log_info("housekeeping: %lld balances expired, %lld old keys and sessions "
				 "removed",
				 (long long)expired, (long long)pruned);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += hk->interval_ms / 1000;
		until.tv_nsec += (long)(hk->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&hk->lock);
		while (!hk->stopping &&
		       pthread_cond_timedwait(&hk->cond, &hk->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&hk->lock);
	return NULL;
}

enum loy_err housekeeping_start(struct store *st, int64_t interval_ms, struct housekeeping **out)
{
	struct housekeeping *hk = calloc(1, sizeof(*hk));

	if (!hk)
		return LOY_ENOMEM;
	hk->st = st;
	hk->interval_ms = interval_ms;
	pthread_mutex_init(&hk->lock, NULL);
	pthread_cond_init(&hk->cond, NULL);
	if (pthread_create(&hk->thread, NULL, housekeeping_main, hk) != 0) {
		pthread_mutex_destroy(&hk->lock);
		pthread_cond_destroy(&hk->cond);
		free(hk);
		return LOY_EINTERNAL;
	}
	*out = hk;
	return LOY_OK;
}

void housekeeping_stop(struct housekeeping *hk)
{
	if (!hk)
		return;
	pthread_mutex_lock(&hk->lock);
	hk->stopping = 1;
	pthread_cond_broadcast(&hk->cond);
	pthread_mutex_unlock(&hk->lock);
	pthread_join(hk->thread, NULL);
	pthread_mutex_destroy(&hk->lock);
	pthread_cond_destroy(&hk->cond);
	free(hk);
}
