/*
 * Live progress: the events of GET /v1/videos/{id}/events.  A watcher polls; each poll compares the
 * task's detail view with the latest stored event and records a new event when it changed, then
 * returns the events after the watcher's last one.  Events live in the store (the last 1000 per
 * task), so ids are one increasing sequence per task whichever process runs the task or serves the
 * watcher, and a reconnect with Last-Event-ID resumes from the store.
 */
#include "core/keys.h"
#include "core/task.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS(e) ((e)->store->ops)
#define EVENTS_KEPT 1000
#define EVENTS_PER_POLL 100

struct lv_task_events {
	lv_event_rec *ev;
	size_t n;
	int *terminal;
	int done;
	char owner[LV_ID_MAX];
};

int lv_task_events_token(char out[33], lv_engine *e, const char *task_id)
{
	unsigned char mac[32];
	char msg[LV_ID_MAX + 8];
	if (!e || !task_id)
		return lv_error_set(LV_EINVALID, "lv_task_events_token: engine and task_id are required");
	snprintf(msg, sizeof(msg), "events:%s", task_id);
	lv_hmac_key_sign(e->events_mac, e->master_key, sizeof(e->master_key), mac, msg, strlen(msg));
	lv_hex_encode(out, mac, 16);
	return LV_OK;
}

typedef struct {
	lv_engine *e;
	const lv_key *key;
	const char *token;
	const char *task_id;
	int64_t after;
	char *current; /* the detail view now */
	lv_event_rec *ev;
	size_t n;
	char owner[LV_ID_MAX];
	int write;
	int need_write; /* a read saw a change: record it in a write transaction */
	int done;       /* the current state is terminal */
} poll_ctx;

/* The task's detail view (with its events_url) as JSON text. */
static int detail(lv_engine *e, lv_store_tx *tx, const lv_task_rec *t, char **out)
{
	lv_segment_rec *segs = NULL;
	size_t n = 0;
	char token[33];
	cJSON *o;
	int rc = OPS(e)->segment_list(tx, t->id, &segs, &n);
	*out = NULL;
	if (rc)
		return rc;
	lv_task_events_token(token, e, t->id);
	o = lv_task_json_build(t, segs, n, e->cfg->public_url, LV_TASK_JSON_DETAIL);
	lv_segment_recs_free(segs, n);
	if (!o || lv_task_json_add_events_url(o, e->cfg->public_url, t->id, token)) {
		cJSON_Delete(o);
		return LV_ENOMEM;
	}
	*out = lv_json_print(o);
	cJSON_Delete(o);
	return *out ? LV_OK : LV_ENOMEM;
}

static int poll_tx(lv_store_tx *tx, void *p)
{
	poll_ctx *c = p;
	lv_task_rec t;
	lv_event_rec last;
	int64_t first = 0;
	int rc, changed;
	memset(&last, 0, sizeof(last));
	memset(&t, 0, sizeof(t)); /* lv_task_load_owned() releases what t held first */
	if (c->key) {
		rc = lv_task_load_owned(c->e, tx, c->key->rec.id, c->task_id, &t, NULL, NULL);
	} else {
		char want[33];
		rc = OPS(c->e)->task_get(tx, c->task_id, 0, &t);
		lv_task_events_token(want, c->e, c->task_id);
		if (rc == LV_OK && (strlen(c->token) != 32 || CRYPTO_memcmp(want, c->token, 32) != 0)) {
			lv_task_rec_clear(&t);
			rc = LV_ENOTFOUND;
		}
		if (rc == LV_ENOTFOUND)
			rc = lv_error_set(LV_ENOTFOUND, "no such event stream");
	}
	if (rc)
		return rc;
	lv_strlcpy(c->owner, t.key_id, sizeof(c->owner));
	free(c->current);
	c->current = NULL;
	lv_event_recs_free(c->ev, c->n);
	c->ev = NULL;
	c->n = 0;
	rc = detail(c->e, tx, &t, &c->current);
	lv_task_rec_clear(&t);
	if (rc)
		return rc;
	rc = OPS(c->e)->event_last(tx, c->task_id, &last);
	if (rc && rc != LV_ENOTFOUND)
		return rc;
	changed = rc == LV_ENOTFOUND || strcmp(last.data, c->current) != 0;
	free(last.data);
	if (changed) {
		lv_event_rec e;
		if (!c->write) {
			c->need_write = 1;
			return LV_OK;
		}
		e.data = c->current;
		e.created_at = lv_now_ms();
		if ((rc = OPS(c->e)->event_append(tx, c->task_id, &e, EVENTS_KEPT)))
			return rc;
	}
	if ((rc = OPS(c->e)->event_first_seq(tx, c->task_id, &first)))
		return rc;
	/* Without a resumable position, start from the current state (the latest event). */
	if (c->after < 0 || c->after + 1 < first) {
		if ((rc = OPS(c->e)->event_last(tx, c->task_id, &last)))
			return rc;
		if (!(c->ev = lv_calloc(1, sizeof(*c->ev)))) {
			free(last.data);
			return LV_ENOMEM;
		}
		c->ev[0] = last;
		c->n = 1;
		return LV_OK;
	}
	return OPS(c->e)->event_list(tx, c->task_id, c->after, EVENTS_PER_POLL, &c->ev, &c->n);
}

int lv_task_events_poll(lv_task_events **out, lv_engine *e, const lv_key *key, const char *token,
                        const char *task_id, int64_t after)
{
	poll_ctx c;
	lv_task_events *r;
	size_t i;
	int rc;
	if (!out || (!key && !token))
		return lv_error_set(LV_EINVALID, "lv_task_events_poll: out and a key or token are required");
	*out = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if ((rc = lv_task_check_id(task_id)))
		return rc;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.key = key;
	c.token = token;
	c.task_id = task_id;
	c.after = after;
	/* Mostly nothing changed: a read transaction answers; a change is recorded in a write one. */
	rc = lv_engine_tx(e, 0, poll_tx, &c);
	if (rc == LV_OK && c.need_write) {
		c.write = 1;
		rc = lv_engine_tx(e, 1, poll_tx, &c);
	}
	if (rc == LV_OK && c.current) {
		cJSON *o = cJSON_Parse(c.current);
		lv_task_status st;
		c.done = o && lv_task_status_parse(&st, lv_json_get_str(o, "status")) == LV_OK &&
		         lv_task_status_is_terminal(st);
		cJSON_Delete(o);
	}
	free(c.current);
	if (rc) {
		lv_event_recs_free(c.ev, c.n);
		return rc;
	}
	if (!(r = lv_calloc(1, sizeof(*r))) || !(r->terminal = lv_calloc(c.n + 1, sizeof(int)))) {
		free(r);
		lv_event_recs_free(c.ev, c.n);
		return LV_ENOMEM;
	}
	r->ev = c.ev;
	r->n = c.n;
	r->done = c.done;
	lv_strlcpy(r->owner, c.owner, sizeof(r->owner));
	for (i = 0; i < r->n; i++) {
		cJSON *o = cJSON_Parse(r->ev[i].data);
		lv_task_status st;
		r->terminal[i] = o && lv_task_status_parse(&st, lv_json_get_str(o, "status")) == LV_OK &&
		                 lv_task_status_is_terminal(st);
		cJSON_Delete(o);
	}
	lv_error_clear();
	*out = r;
	return LV_OK;
}

size_t lv_task_events_count(const lv_task_events *r)
{
	return r ? r->n : 0;
}

int64_t lv_task_events_id(const lv_task_events *r, size_t i)
{
	return r && i < r->n ? r->ev[i].seq : 0;
}

const char *lv_task_events_data(const lv_task_events *r, size_t i)
{
	return r && i < r->n ? r->ev[i].data : NULL;
}

int lv_task_events_terminal(const lv_task_events *r, size_t i)
{
	return r && i < r->n ? r->terminal[i] : 0;
}

int lv_task_events_done(const lv_task_events *r)
{
	return r ? r->done : 0;
}

const char *lv_task_events_owner(const lv_task_events *r)
{
	return r ? r->owner : NULL;
}

void lv_task_events_free(lv_task_events *r)
{
	if (!r)
		return;
	lv_event_recs_free(r->ev, r->n);
	free(r->terminal);
	free(r);
}
