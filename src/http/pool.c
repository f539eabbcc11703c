/* The request-thread pool (see pool.h): a mutex-protected FIFO of tasks. */
#include "http/pool.h"

#include <pthread.h>
#include <stdlib.h>

struct task {
	pool_fn fn;
	void *arg;
	struct task *next;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct task *head, *tail;
	int stopping;
	int nthreads;
	pthread_t threads[];
};

static void *pool_main(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct task *t;
		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		t = p->head;
		if (!t) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		p->head = t->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		t->fn(t->arg);
		free(t);
	}
}

enum loy_err pool_start(int threads, struct pool **out)
{
	struct pool *p = calloc(1, sizeof(*p) + sizeof(pthread_t) * (size_t)threads);
	if (!p)
		return LOY_ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
			p->nthreads = i;
			pool_stop(p);
			return LOY_EINTERNAL;
		}
	}
	p->nthreads = threads;
	*out = p;
	return LOY_OK;
}

enum loy_err pool_submit(struct pool *p, pool_fn fn, void *arg)
{
	struct task *t = malloc(sizeof(*t));
	if (!t)
		return LOY_ENOMEM;
	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		free(t);
		return LOY_EUNAVAILABLE;
	}
	if (p->tail)
		p->tail->next = t;
	else
		p->head = t;
	p->tail = t;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return LOY_OK;
}

void pool_stop(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
