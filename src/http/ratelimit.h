/* Per-key rate limits (a key is usually "purpose:client-ip"): a token bucket per key refilled
 * continuously at `per_minute` tokens a minute, holding at most `per_minute` tokens. The table is
 * bounded: when it is full the stalest bucket is reused, so a flood of distinct addresses costs
 * memory that never grows. In-process: with several nodes each enforces its own share. */
#ifndef LOY_HTTP_RATELIMIT_H
#define LOY_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(unsigned slots);
void ratelimit_free(struct ratelimit *rl);
/* Takes one token for key. False when none is left; then *retry_after_s says when one will be. */
bool ratelimit_take(struct ratelimit *rl, const char *key, int64_t per_minute, int *retry_after_s);

#endif
