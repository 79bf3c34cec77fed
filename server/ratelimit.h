/*
 * lvserver: a token bucket per API key (server.rate_limit_per_minute).
 *
 * Each key's bucket holds up to N tokens (N requests per minute) and refills
 * continuously at N per 60 s; every authenticated request takes one.  The
 * buckets live in this object (owned by the server's context) behind its own
 * mutex: there is no global state.
 */
#ifndef LVSERVER_RATELIMIT_H
#define LVSERVER_RATELIMIT_H

#include <stdint.h>

typedef struct srv_ratelimit srv_ratelimit;

/* A limiter allowing `per_minute` (> 0) requests per minute per key.  NULL when out of memory. */
srv_ratelimit *srv_ratelimit_new(int per_minute);
void srv_ratelimit_free(srv_ratelimit *rl);

/* Take one token from `key_id`'s bucket at monotonic time `now_ms`.  Returns 0 when allowed;
 * otherwise the whole seconds (>= 1) until a token is available, for Retry-After.  When
 * `remaining` / `reset_s` are not NULL they receive the tokens left after this request and the
 * whole seconds until the bucket is full again (the RateLimit header's r and t). */
int srv_ratelimit_take(srv_ratelimit *rl, const char *key_id, int64_t now_ms, int *remaining, int *reset_s);

#endif
