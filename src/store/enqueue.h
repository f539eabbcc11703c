/* Private to src/store/: queueing outbox jobs with a conditional INSERT ... SELECT ... WHERE, and
 * counting the ones that went in (store_tx.jobs_queued, which wakes the outbox after the commit). */
#ifndef LOY_STORE_ENQUEUE_H
#define LOY_STORE_ENQUEUE_H

#include "store/db.h"
#include "store/store.h"

enum loy_err enqueue_counted(struct store_tx *tx, const char *sql, const struct db_param *p, int n);

#endif
