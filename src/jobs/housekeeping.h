/* Periodic upkeep, run by `loy serve` every LOY_HOUSEKEEPING_INTERVAL seconds: points of customers
 * inactive for their business's expirationDays expire (an `expiry` ledger row takes the balance to
 * zero), Idempotency-Key records older than HOUSEKEEPING_KEY_TTL_MS are dropped, and expired
 * sessions are deleted. Every step is an ordinary durable transaction, so it is safe to run on
 * several nodes at once: a customer whose points another node just expired has nothing left. */
#ifndef LOY_JOBS_HOUSEKEEPING_H
#define LOY_JOBS_HOUSEKEEPING_H

#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define HOUSEKEEPING_KEY_TTL_MS (24LL * 3600 * 1000)
#define HOUSEKEEPING_BATCH 200 /* customers expired per transaction */

struct housekeeping;

enum loy_err housekeeping_start(struct store *st, int64_t interval_ms, struct housekeeping **out);
/* Runs one round now, on the calling thread (also what the thread does each interval). */
enum loy_err housekeeping_round(struct store *st, int64_t *expired, int64_t *pruned);
void housekeeping_stop(struct housekeeping *hk);

#endif
