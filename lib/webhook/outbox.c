/*
 * The webhook outbox: deliveries are rows in the store, so a restart loses none.  A sender
 * claims a due row by pushing its next attempt past the delivery timeout (a lease, so two
 * processes do not send the same attempt) and counting the attempt in the same transaction,
 * makes the attempt, and records the outcome: delivered, another attempt after the next
 * configured delay, or given up.  Because an attempt counts from the moment it is claimed, one
 * cut short by a crash counts too: a crash loop gives up after the schedule like failures do.
 * Delivery is at least once (a crash after the receiver answered but before the outcome was
 * stored sends the same webhook-id again).  Every time written or compared here is the store's
 * clock (lv_store_now), so processes whose clocks disagree agree on what is due.
 */
#include "core/engine.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"
#include "webhook/outbox.h"
#include "webhook/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS(e) ((e)->store->ops)
#define IDLE_MS 100
/* With nothing committed anywhere the sender does not read the store; it looks anyway this often,
 * since a change count is only a hint on some backends. */
#define RECHECK_MS 2000

typedef struct {
	lv_engine *e;
	lv_outbox_rec rec;
	lv_key_rec key;
	int got;
} claim_ctx;

static int claim_tx(lv_store_tx *tx, void *p)
{
	claim_ctx *c = p;
	lv_outbox_rec *due = NULL;
	size_t n = 0;
	int64_t now = 0;
	int rc = lv_store_now(c->e->store, tx, &now);
	if (rc == LV_OK)
		rc = OPS(c->e)->outbox_due(tx, now, 1, &due, &n);
	if (rc || n == 0) {
		lv_outbox_recs_free(due, n);
		return rc;
	}
	c->rec = due[0];
	free(due);
	c->rec.updated_at = now;
	if ((size_t)c->rec.attempts >= c->e->cfg->n_webhook_delays) {
		/* Every attempt of the schedule was claimed and the last one never reported back. */
		c->rec.status = LV_OUTBOX_FAILED;
		LV_WARN("webhook %s for task %s: giving up after %d attempts (%s)", c->rec.id, c->rec.task_id,
		        c->rec.attempts, c->rec.last_error ? c->rec.last_error : "no outcome");
		return OPS(c->e)->outbox_update(tx, &c->rec);
	}
	c->got = 1;
	/* The claim: nobody else picks this attempt up until it has had time to finish, and it counts
	 * (with the reason it failed should it never report back). */
	c->rec.attempts++;
	c->rec.next_attempt_at = now + c->e->cfg->webhook_timeout_ms + 5000;
	if ((rc = lv_strset(&c->rec.last_error, "the attempt was interrupted (the sending process stopped)")) ||
	    (rc = OPS(c->e)->outbox_update(tx, &c->rec)))
		return rc;
	rc = OPS(c->e)->key_get(tx, c->rec.key_id, 0, &c->key);
	return rc == LV_ENOTFOUND ? LV_OK : rc;
}

typedef struct {
	lv_engine *e;
	lv_outbox_rec *rec;
	int64_t delay; /* the next attempt this long after the outcome is recorded */
} done_ctx;

static int done_tx(lv_store_tx *tx, void *p)
{
	done_ctx *c = p;
	int64_t now = 0;
	int rc = lv_store_now(c->e->store, tx, &now);
	if (rc)
		return rc;
	c->rec->updated_at = now;
	if (c->rec->status == LV_OUTBOX_PENDING)
		c->rec->next_attempt_at = now + c->delay;
	return OPS(c->e)->outbox_update(tx, c->rec);
}

/* One delivery attempt of one due row; returns 1 if there was one. */
static int send_one(lv_engine *e)
{
	claim_ctx c;
	done_ctx d;
	lv_webhook_request req;
	lv_webhook_result res;
	unsigned char secret[32];
	int rc;
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	c.e = e;
	if ((rc = lv_engine_tx(e, 1, claim_tx, &c)) != LV_OK || !c.got) {
		int had = !rc && c.rec.id[0] != 0; /* a row given up on: look for the next at once */
		lv_outbox_rec_clear(&c.rec);
		lv_key_rec_clear(&c.key);
		return had;
	}
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	lv_engine_webhook_secret(e, &c.key, secret);
	req.url = c.rec.url;
	req.body = c.rec.payload;
	req.body_len = strlen(c.rec.payload);
	req.msg_id = c.rec.id;
	req.timestamp = lv_now_ms() / 1000;
	req.secret = secret;
	req.secret_len = sizeof(secret);
	req.timeout_ms = e->cfg->webhook_timeout_ms;
	req.allow_private = e->cfg->webhook_allow_private;
	if (!c.key.id[0]) {
		snprintf(res.error, sizeof(res.error), "the API key no longer exists");
	} else if (lv_webhook_deliver(&req, &res)) {
		snprintf(res.error, sizeof(res.error), "%s", lv_error_last()->message);
	}
	memset(secret, 0, sizeof(secret));
	c.rec.last_status = (int)res.http_status;
	if (lv_strset(&c.rec.last_error, res.delivered ? NULL : res.error)) {
		lv_outbox_rec_clear(&c.rec);
		lv_key_rec_clear(&c.key);
		return 1;
	}
	if (res.delivered) {
		c.rec.status = LV_OUTBOX_DELIVERED;
		LV_INFO("webhook %s for task %s delivered (HTTP %ld, attempt %d)", c.rec.id, c.rec.task_id,
		        res.http_status, c.rec.attempts);
	} else if ((size_t)c.rec.attempts < e->cfg->n_webhook_delays) {
		d.delay = e->cfg->webhook_delays_ms[c.rec.attempts];
		LV_WARN("webhook %s for task %s: attempt %d failed (%s); next in %lld ms", c.rec.id, c.rec.task_id,
		        c.rec.attempts, res.error, (long long)e->cfg->webhook_delays_ms[c.rec.attempts]);
	} else {
		c.rec.status = LV_OUTBOX_FAILED;
		LV_WARN("webhook %s for task %s: giving up after %d attempts (%s)", c.rec.id, c.rec.task_id,
		        c.rec.attempts, res.error);
	}
	d.e = e;
	d.rec = &c.rec;
	if (lv_engine_tx(e, 1, done_tx, &d))
		LV_ERROR("webhook %s: could not record the attempt: %s", c.rec.id, lv_error_last()->message);
	lv_outbox_rec_clear(&c.rec);
	lv_key_rec_clear(&c.key);
	return 1;
}

typedef struct {
	lv_engine *e;
	int64_t wait; /* ms (store clock) until the earliest pending attempt is due: <= 0 due, INT64_MAX none */
} peek_ctx;

static int peek_tx(lv_store_tx *tx, void *p)
{
	peek_ctx *c = p;
	lv_outbox_rec *due = NULL;
	size_t n = 0;
	int64_t now = 0;
	int rc = OPS(c->e)->outbox_due(tx, INT64_MAX, 1, &due, &n);
	if (rc == LV_OK)
		rc = lv_store_now(c->e->store, tx, &now);
	c->wait = rc == LV_OK && n > 0 ? due[0].next_attempt_at - now : INT64_MAX;
	lv_outbox_recs_free(due, n);
	return rc;
}

/* A sender takes the write lock only to claim a delivery that is due: it first reads (an index
 * search) how long until the next attempt, and while nothing commits anywhere (the store's change
 * counter stands still) it does not read again before then (or RECHECK_MS).  Its own waiting is
 * timed by the monotonic clock; what is due is decided by the store's. */
void lv_outbox_run(lv_engine *e, lv_waiter *stop)
{
	uint64_t seen = 0;
	int64_t next = 0; /* monotonic time of the next look; 0: look */
	for (;;) {
		uint64_t version = 0;
		int have = OPS(e)->change_counter && OPS(e)->change_counter(e->store, &version) == LV_OK;
		int64_t now = lv_mono_ms();
		if (!have || version != seen || now >= next) {
			peek_ctx c = { e, 0 };
			if (lv_engine_tx(e, 0, peek_tx, &c) != LV_OK)
				c.wait = IDLE_MS;
			seen = version;
			next = !have ? 0 : now + (c.wait < RECHECK_MS ? c.wait : RECHECK_MS);
			if (c.wait <= 0 && send_one(e)) {
				next = 0;
				if (lv_waiter_sleep(stop, 0)) /* stopped: no sleep, just the question */
					break;
				continue;
			}
		}
		if (lv_waiter_sleep(stop, IDLE_MS))
			break;
	}
}
