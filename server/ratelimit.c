#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 256
#define WINDOW_MS 60000
/* Above this many buckets, buckets that are full again (idle keys) are dropped. */
#define PRUNE_ABOVE 4096

/* Token amounts are kept in "token-milliseconds" so that the arithmetic stays exact in
 * integers: one token is WINDOW_MS units, and a bucket gains `per_minute` units per ms. */
typedef struct bucket {
	struct bucket *next;
	int64_t level;   /* units; full = per_minute * WINDOW_MS */
	int64_t last_ms; /* when level was last brought up to date */
	char key_id[];
} bucket;

struct srv_ratelimit {
	pthread_mutex_t mu;
	int64_t per_minute;
	size_t count;
	bucket *slots[SLOTS];
};

srv_ratelimit *srv_ratelimit_new(int per_minute)
{
	srv_ratelimit *rl;
	if (per_minute <= 0 || !(rl = calloc(1, sizeof(*rl))))
		return NULL;
	if (pthread_mutex_init(&rl->mu, NULL) != 0) {
		free(rl);
		return NULL;
	}
	rl->per_minute = per_minute;
	return rl;
}

void srv_ratelimit_free(srv_ratelimit *rl)
{
	size_t i;
	if (!rl)
		return;
	for (i = 0; i < SLOTS; i++) {
		bucket *b = rl->slots[i];
		while (b) {
			bucket *next = b->next;
			free(b);
			b = next;
		}
	}
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % SLOTS;
}

static void refill(const srv_ratelimit *rl, bucket *b, int64_t now_ms)
{
	int64_t full = rl->per_minute * WINDOW_MS, elapsed = now_ms - b->last_ms;
	if (elapsed <= 0)
		return;
	if (elapsed >= WINDOW_MS || b->level + elapsed * rl->per_minute >= full)
		b->level = full;
	else
		b->level += elapsed * rl->per_minute;
	b->last_ms = now_ms;
}

/* Drop the buckets of keys that have been idle long enough to be full again. */
static void prune(srv_ratelimit *rl, int64_t now_ms)
{
	size_t i;
	for (i = 0; i < SLOTS; i++) {
		bucket **p = &rl->slots[i];
		while (*p) {
			bucket *b = *p;
			refill(rl, b, now_ms);
			if (b->level == rl->per_minute * WINDOW_MS) {
				*p = b->next;
				free(b);
				rl->count--;
			} else {
				p = &b->next;
			}
		}
	}
}

int srv_ratelimit_take(srv_ratelimit *rl, const char *key_id, int64_t now_ms, int *remaining, int *reset_s)
{
	unsigned slot = hash(key_id);
	int64_t wait_ms;
	bucket *b;
	int seconds = 0;

	pthread_mutex_lock(&rl->mu);
	for (b = rl->slots[slot]; b; b = b->next)
		if (!strcmp(b->key_id, key_id))
			break;
	if (!b) {
		size_t len = strlen(key_id);
		if (rl->count >= PRUNE_ABOVE)
			prune(rl, now_ms);
		b = malloc(sizeof(*b) + len + 1);
		if (!b) {
			/* Out of memory: let the request through rather than refuse service. */
			pthread_mutex_unlock(&rl->mu);
			if (remaining)
				*remaining = rl->per_minute;
			if (reset_s)
				*reset_s = 0;
			return 0;
		}
		memcpy(b->key_id, key_id, len + 1);
		b->level = rl->per_minute * WINDOW_MS;
		b->last_ms = now_ms;
		b->next = rl->slots[slot];
		rl->slots[slot] = b;
		rl->count++;
	}
	refill(rl, b, now_ms);
	if (b->level >= WINDOW_MS) {
		b->level -= WINDOW_MS;
	} else {
		wait_ms = (WINDOW_MS - b->level + rl->per_minute - 1) / rl->per_minute;
		seconds = (int)((wait_ms + 999) / 1000);
		if (seconds < 1)
			seconds = 1;
	}
	if (remaining)
		*remaining = (int)(b->level / WINDOW_MS);
	if (reset_s)
		*reset_s = (int)(((int64_t)rl->per_minute * WINDOW_MS - b->level) / rl->per_minute + 999) / 1000;
	pthread_mutex_unlock(&rl->mu);
	return seconds;
}
