/*
 * Internal: the provider interfaces, one versioned vtable per stage kind.
 *
 * A provider instance is built from its config block by the registry
 * (registry.c) according to its `type`; one instance may serve several
 * stages (the built-in `local` serves all six).  Calls are made from pipeline
 * threads; an instance must be safe to call from several threads at once.
 *
 * Synchronous stages (script, moderation, anchor, speech, music) are one
 * call each.  Video is asynchronous by nature — submit, poll, fetch — and
 * each of those calls is short (one HTTP exchange or a little local work),
 * so a few driver threads carry hundreds of jobs: between calls a job waits
 * in the driver's timer queue, not in a thread.
 *
 * Failure is data: a failing call fills an lv_provider_error with a task
 * error code ("script_failed", "segment_failed", "provider_timeout", ...)
 * and a message a user can act on.  Messages never contain keys or raw
 * vendor bodies.
 */
#ifndef LV_PROVIDERS_PROVIDER_H
#define LV_PROVIDERS_PROVIDER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "longvideo/sys/provider.h"
#include "http/http.h"
#include "providers/caps.h"

#define LV_PROVIDER_ABI_VERSION 1

/* The interface types (lv_provider_error, lv_call_ctx, lv_script_request, the per-stage *_ops vtables,
 * lv_segment_job, lv_job_status, ...), lv_provider_fail() and the lv_provider_conf_* getters are public
 * for plug-ins: longvideo/sys/provider.h. */

/* ---- an instance ------------------------------------------------------------------------------------ */

typedef struct lv_provider {
	unsigned version;              /* LV_PROVIDER_ABI_VERSION */
	const char *name;              /* config name */
	const lv_provider_conf *conf;
	void *self;
	const lv_script_ops *script;   /* NULL where the type does not serve the stage */
	const lv_moderation_ops *moderation;
	const lv_anchor_ops *anchor;
	const lv_video_ops *video;
	const lv_speech_ops *speech;
	const lv_music_ops *music;
	int cpu_bound;                 /* calls are local CPU work (take a CPU slot); 0: network waits */
	void (*destroy)(void *self);
	/* Online check (lvctl doctor --online): one cheap authenticated request; NULL when there is none. */
	int (*ping)(void *self, lv_provider_error *err);
} lv_provider;

/* The provider's API key from the environment variable its config names (api_key_env).  *out is the
 * variable's value (not a copy: do not free, do not log).  A missing variable fails with `stage_code`
 * (the stage's error code, e.g. "segment_failed") and a message naming the variable, never the value. */
int lv_provider_api_key(const lv_provider_conf *conf, const char *stage_code, const char **out,
                        lv_provider_error *err);

/* Check a provider block's keys against the ones its type understands (plus the common ones): an unknown
 * or repeated key is LV_ECONFIG naming it. */
int lv_provider_check_keys(const lv_provider_conf *conf, const char *const *type_keys);

/* Free a string that held a secret (a header with the key), wiping it first (NULL is fine). */
void lv_provider_free_secret(char *s);

/* A request to the provider: `method`, `url`, `headers`, `secrets` and `what` (the provider's name for
 * messages, "provider 'NAME'") as given, the provider's timeout_ms and connect_timeout_ms, the rest zero. */
void lv_provider_request(lv_http_request *req, const lv_provider_conf *conf, const char *method, const char *url,
                         const char *const *headers, const char *const *secrets, const char *what);

/* For ping hooks (lvctl doctor --online): GET `url` — an endpoint any valid key may read, such as the
 * vendor's model list — with `headers`; LV_OK on 2xx, else an error saying whether the key was refused
 * or the server could not be reached. */
int lv_provider_ping_url(const lv_provider_conf *conf, const char *url, const char *const *headers,
                         const char *const *secrets, lv_provider_error *err);

/* lv_provider_ping_url with the key (if not NULL) as "Authorization: Bearer KEY". */
int lv_provider_ping_bearer(const lv_provider_conf *conf, const char *url, const char *key, lv_provider_error *err);

/* A provider type's constructor. */
typedef int (*lv_provider_factory)(lv_provider *p, const lv_provider_conf *conf);

/* The constructor for a type, or NULL when this build has none. */
lv_provider_factory lv_provider_factory_find(const char *type);

/* Build the provider of one config block (its type built in or a program's type, conf->plugin) into *p.
 * Errors name the block ("config: providers.NAME..."). */
int lv_provider_build(lv_provider *p, const lv_provider_conf *conf);

/* A public handle (longvideo/provider.h) on an instance someone else owns (providers/public.c). */
struct lv_provider_options;
int lv_provider_borrow(lv_provider **out, const lv_provider *instance, const struct lv_provider_options *opts);

/* All configured providers, built. */
typedef struct lv_providers {
	lv_provider *items;
	size_t n;
} lv_providers;

int lv_providers_build(lv_providers **out, const lv_config *cfg);
const lv_provider *lv_providers_get(const lv_providers *ps, const char *name);
void lv_providers_free(lv_providers *ps);

#endif
