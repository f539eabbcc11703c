/* The API-key cache (see keycache.h): a direct-mapped table, one mutex. Misses and collisions only
 * cost the database read the cache exists to save. */
#include "api/keycache.h"

#include <pthread.h>

#include "base/timeutil.h"

struct slot {
	struct keycache_entry e;
	int64_t expires; /* monotonic ms; 0: empty */
};

static struct slot slots[KEYCACHE_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *slot_of(int64_t key_id)
{
	return &slots[(uint64_t)key_id % KEYCACHE_SLOTS];
}

bool keycache_get(int64_t key_id, struct keycache_entry *out)
{
	struct slot *s = slot_of(key_id);
	bool hit;

	pthread_mutex_lock(&lock);
	hit = s->expires > time_mono_ms() && s->e.key_id == key_id;
	if (hit)
		*out = s->e;
	pthread_mutex_unlock(&lock);
	return hit;
}

void keycache_put(const struct keycache_entry *e)
{
	struct slot *s = slot_of(e->key_id);

	pthread_mutex_lock(&lock);
	s->e = *e;
	s->expires = time_mono_ms() + KEYCACHE_TTL_MS;
	pthread_mutex_unlock(&lock);
}

void keycache_forget(int64_t key_id)
{
	struct slot *s = slot_of(key_id);

	pthread_mutex_lock(&lock);
	if (s->e.key_id == key_id)
		s->expires = 0;
	pthread_mutex_unlock(&lock);
}
