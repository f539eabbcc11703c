/* Token buckets in an open-addressed table with linear probing over a short window (see
 * ratelimit.h). Tokens are counted in millitokens so refill needs no floating point. */
#include "http/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"

#define RL_KEY_MAX 96
#define RL_PROBE 16

struct bucket {
	char key[RL_KEY_MAX];
	int64_t milli;	 /* tokens × 1000 */
	int64_t updated; /* ms, monotonic */
};

struct ratelimit {
	pthread_mutex_t lock;
	unsigned nslots;
	struct bucket slots[];
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct ratelimit *ratelimit_new(unsigned slots)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl) + sizeof(struct bucket) * slots);
	if (!rl)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->nslots = slots;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

bool ratelimit_take(struct ratelimit *rl, const char *key, int64_t per_minute, int *retry_after_s)
{
	uint64_t h = hash_key(key);
	int64_t now = time_mono_ms();
	int64_t cap = per_minute * 1000;
	struct bucket *b = NULL, *stalest = NULL;
	bool ok;

	pthread_mutex_lock(&rl->lock);
	for (unsigned i = 0; i < RL_PROBE; i++) {
		struct bucket *s = &rl->slots[(h + i) % rl->nslots];
		if (strncmp(s->key, key, RL_KEY_MAX - 1) == 0 && s->key[0]) {
			b = s;
			break;
		}
		if (!stalest || s->updated < stalest->updated)
			stalest = s;
	}
	if (!b) {
		b = stalest;
		memset(b->key, 0, sizeof(b->key));
		strncpy(b->key, key, RL_KEY_MAX - 1);
		b->milli = cap;
		b->updated = now;
	}
	/* Refill: per_minute tokens per 60 000 ms = per_minute millitokens per 60 ms. */
	b->milli += (now - b->updated) * per_minute / 60;
	if (b->milli > cap)
		b->milli = cap;
	b->updated = now;
	ok = b->milli >= 1000;
	if (ok) {
		b->milli -= 1000;
	} else {
		int64_t missing = 1000 - b->milli;
		int64_t wait_ms = missing * 60 / (per_minute > 0 ? per_minute : 1);
		*retry_after_s = (int)(wait_ms / 1000 + 1);
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}
