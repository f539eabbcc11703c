/* The outbox worker. DESIGN: every external effect (a pass push, a Google patch, an SMS, a webhook)
 * is a row in `jobs`, written in the same transaction as the change that caused it, so a crash can
 * never lose it or send it for a change that rolled back. Workers claim due rows with a lease
 * (state running, locked_until), run the kind's handler outside any transaction, then mark the row
 * done, schedule a retry with exponential backoff and full jitter, or dead-letter it after the
 * kind's last attempt. A worker that dies mid-job loses only its lease: when it expires the row is
 * claimed again, so handlers must be idempotent (delivery is at least once).
 *
 * Kinds are a table handed in by the caller (the wallet and notification issues add theirs). */
#ifndef LOY_JOBS_OUTBOX_H
#define LOY_JOBS_OUTBOX_H

#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

enum job_result { JOB_DONE, JOB_RETRY, JOB_FAIL };

struct job {
	int64_t id, business_id;
	const char *kind, *payload;
	int attempts; /* including this one */
};

/* Runs one job. Blocking is fine (it runs on a worker thread, outside any transaction). On
 * JOB_RETRY / JOB_FAIL, *error (static or arena) says why; it is kept on the row for the admin. */
typedef enum job_result (*job_handler)(const struct job *job, struct arena *a, void *ctx,
				       const char **error);

struct job_kind {
	const char *kind;
	job_handler handler;
	int max_attempts;
	int64_t backoff_base_ms; /* delay before attempt n+1 is random in [0, base·2^(n-1)], capped */
	int64_t backoff_max_ms;
	void *ctx; /* handed to the handler; NULL: the outbox's ctx */
};

struct outbox_options {
	const struct job_kind *kinds;
	size_t nkinds;
	void *ctx;	  /* handed to every handler */
	int threads;	  /* worker threads */
	int batch;	  /* rows claimed per round */
	int64_t lease_ms; /* how long a claim holds before another worker may take the row */
	int64_t idle_ms;  /* poll interval when nothing is due */
};

struct outbox;

enum loy_err outbox_start(struct store *st, const struct outbox_options *opt, struct outbox **out);
/* Wakes the workers now (call after committing a transaction that enqueued jobs). */
void outbox_wake(struct outbox *ob);
/* Stops claiming, waits for the jobs in hand to finish, joins the threads. */
void outbox_stop(struct outbox *ob);

/* The delay before the next attempt after `attempts` attempts, with full jitter. */
int64_t outbox_backoff_ms(const struct job_kind *k, int attempts);

#endif
