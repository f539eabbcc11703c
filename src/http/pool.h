/* A fixed pool of request threads for handlers that block (durable commits, password hashing), so
 * that the event-loop threads never wait and many writes are in flight at once — which is what lets
 * the store commit them in groups. */
#ifndef LOY_HTTP_POOL_H
#define LOY_HTTP_POOL_H

#include "base/err.h"

struct pool;

typedef void (*pool_fn)(void *arg);

enum loy_err pool_start(int threads, struct pool **out);
/* Queues fn(arg); never blocks. LOY_EUNAVAILABLE while stopping. */
enum loy_err pool_submit(struct pool *p, pool_fn fn, void *arg);
/* Runs every queued task, then joins the threads and frees the pool. */
void pool_stop(struct pool *p);

#endif
