/*
 * The store conformance suite: every store primitive, and every business rule that depends on
 * one, against the store named by LV_TEST_STORE (SQLite by default; a postgresql:// URL runs it
 * on that server, a fresh database per test).  `test_store --pg` takes the server from
 * LV_TEST_PG_URL and skips (exit 77) when the run provides none.
 */
#include "core/engine.h"
#include "harness.h"
#include "core/task.h"
#include "longvideo.h"
#include "store/store.h"
#include "store_util.h"
#include "testutil.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/time.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OPS(s) ((s)->ops)

static const char *g_server; /* PostgreSQL server, or NULL for SQLite */
static char *g_dir, *g_spec;

static void setup(void)
{
	g_dir = lv_test_mkdtemp("store");
	ck_assert_ptr_nonnull(g_dir);
	g_spec = lv_test_fresh_store(g_server, g_dir);
	ck_assert_ptr_nonnull(g_spec);
}

static void teardown(void)
{
	lv_test_rmdir(g_dir);
	free(g_dir);
	free(g_spec);
	g_dir = g_spec = NULL;
}

static const unsigned char key_a[32] = { 1, 2, 3 };
static const unsigned char key_b[32] = { 9, 8, 7 };

static lv_store *open_store(void)
{
	lv_store_open_options o;
	lv_store *s = NULL;
	memset(&o, 0, sizeof(o));
	o.spec = g_spec;
	o.master_key = key_a;
	ck_assert_msg(lv_store_open_ex(&s, &o) == LV_OK, "open %s: %s", g_spec, lv_error_last()->message);
	return s;
}

static lv_engine *open_engine(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	char *json = lv_asprintf("{\"store\": \"%s\"}", g_spec);
	o.data_dir = g_dir;
	o.config_json = json;
	ck_assert_msg(lv_engine_open(&e, &o) == LV_OK, "engine: %s", lv_error_last()->message);
	free(json);
	return e;
}

static lv_store_tx *begin(lv_store *s, int write)
{
	lv_store_tx *tx = NULL;
	ck_assert_msg(OPS(s)->begin(s, write, &tx) == LV_OK, "begin: %s", lv_error_last()->message);
	return tx;
}

static void commit(lv_store *s, lv_store_tx *tx)
{
	ck_assert_msg(OPS(s)->commit(tx) == LV_OK, "commit: %s", lv_error_last()->message);
}

static void make_key(lv_key_rec *k, const char *id, int64_t balance)
{
	memset(k, 0, sizeof(*k));
	lv_strlcpy(k->id, id, sizeof(k->id));
	k->name = (char *)"test";
	snprintf(k->hash, sizeof(k->hash), "%064d", (int)(strlen(id) * 7919 + (unsigned char)id[strlen(id) - 1]));
	lv_strlcpy(k->prefix, "sk-abcdefgh", sizeof(k->prefix));
	lv_strlcpy(k->webhook_salt, "c2FsdA==", sizeof(k->webhook_salt));
	k->created_at = 1000;
	k->balance = balance;
}

static void make_task(lv_task_rec *t, const char *id, const char *key_id, int status)
{
	memset(t, 0, sizeof(*t));
	lv_strlcpy(t->id, id, sizeof(t->id));
	lv_strlcpy(t->key_id, key_id, sizeof(t->key_id));
	t->status = status;
	t->prompt = (char *)"a prompt with 'quotes' and \xe4\xb8\xad\xe6\x96\x87";
	t->duration = 12;
	lv_strlcpy(t->resolution, "720p", sizeof(t->resolution));
	lv_strlcpy(t->aspect_ratio, "16:9", sizeof(t->aspect_ratio));
	t->provider = (char *)"local";
	lv_strlcpy(t->language, "en", sizeof(t->language));
	t->subtitles = LV_SUBTITLES_SOFT;
	t->metadata = (char *)"{\"a\":1}";
	t->cost_estimate = 330000;
	t->cost_actual = -1;
	t->error_stage = -1;
	t->error_shot = -1;
	t->created_at = t->updated_at = 2000;
}

/* ---- primitives ----------------------------------------------------------------------------------- */

START_TEST(keys_and_ledger_round_trip)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	lv_key_rec k, got, *list = NULL;
	lv_ledger_entry e;
	int64_t sums[LV_LEDGER_KINDS];
	size_t n = 0;
	make_key(&k, "key_1", 5000);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	make_key(&k, "key_2", 0);
	k.created_at = 1001;
	k.revoked_at = 77;
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	memset(&e, 0, sizeof(e));
	lv_strlcpy(e.key_id, "key_1", sizeof(e.key_id));
	e.kind = LV_LEDGER_GRANT;
	e.amount = 5000;
	e.created_at = 1;
	ck_assert_int_eq(OPS(s)->ledger_append(tx, &e), LV_OK);
	lv_strlcpy(e.task_id, "task_1", sizeof(e.task_id));
	e.kind = LV_LEDGER_RESERVE;
	e.amount = 300;
	ck_assert_int_eq(OPS(s)->ledger_append(tx, &e), LV_OK);
	e.kind = LV_LEDGER_SETTLE;
	e.amount = 200;
	ck_assert_int_eq(OPS(s)->ledger_append(tx, &e), LV_OK);
	e.kind = LV_LEDGER_REFUND;
	e.amount = 100;
	ck_assert_int_eq(OPS(s)->ledger_append(tx, &e), LV_OK);
	commit(s, tx);

	tx = begin(s, 0);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_1", 0, &got), LV_OK);
	ck_assert_str_eq(got.name, "test");
	ck_assert_str_eq(got.prefix, "sk-abcdefgh");
	ck_assert_str_eq(got.webhook_salt, "c2FsdA==");
	ck_assert_int_eq(got.balance, 5000);
	ck_assert_int_eq(got.revoked_at, 0);
	make_key(&k, "key_2", 0);
	ck_assert_int_eq(OPS(s)->key_by_hash(tx, k.hash, &k), LV_OK);
	ck_assert_str_eq(k.id, "key_2");
	ck_assert_int_eq(k.revoked_at, 77);
	lv_key_rec_clear(&k);
	lv_key_rec_clear(&got);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_none", 0, &got), LV_ENOTFOUND);
	ck_assert_int_eq(OPS(s)->key_by_hash(tx, "nope", &got), LV_ENOTFOUND);
	ck_assert_int_eq(OPS(s)->key_list(tx, &list, &n), LV_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].id, "key_1");
	ck_assert_str_eq(list[1].id, "key_2");
	lv_key_recs_free(list, n);
	ck_assert_int_eq(OPS(s)->ledger_sums(tx, "key_1", NULL, sums), LV_OK);
	ck_assert_int_eq(sums[LV_LEDGER_GRANT], 5000);
	ck_assert_int_eq(sums[LV_LEDGER_RESERVE], 300);
	ck_assert_int_eq(sums[LV_LEDGER_SETTLE], 200);
	ck_assert_int_eq(sums[LV_LEDGER_REFUND], 100);
	ck_assert_int_eq(OPS(s)->ledger_sums(tx, "key_1", "task_1", sums), LV_OK);
	ck_assert_int_eq(sums[LV_LEDGER_GRANT], 0);
	ck_assert_int_eq(sums[LV_LEDGER_RESERVE], 300);
	OPS(s)->rollback(tx);

	/* key_update writes name, revoked_at, balance, reserved. */
	tx = begin(s, 1);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_1", 1, &got), LV_OK);
	got.balance = 4700;
	got.reserved = 300;
	got.revoked_at = 99;
	ck_assert_int_eq(lv_strset(&got.name, "renamed"), LV_OK);
	ck_assert_int_eq(OPS(s)->key_update(tx, &got), LV_OK);
	lv_key_rec_clear(&got);
	commit(s, tx);
	tx = begin(s, 0);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_1", 0, &got), LV_OK);
	ck_assert_str_eq(got.name, "renamed");
	ck_assert_int_eq(got.balance, 4700);
	ck_assert_int_eq(got.reserved, 300);
	ck_assert_int_eq(got.revoked_at, 99);
	lv_key_rec_clear(&got);
	OPS(s)->rollback(tx);

	/* A duplicate id and a negative balance are refused; a refused write leaves nothing. */
	tx = begin(s, 1);
	make_key(&k, "key_1", 1);
	ck_assert_int_ne(OPS(s)->key_insert(tx, &k), LV_OK);
	OPS(s)->rollback(tx);
	tx = begin(s, 1);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_2", 1, &got), LV_OK);
	got.balance = -1;
	ck_assert_int_ne(OPS(s)->key_update(tx, &got), LV_OK);
	lv_key_rec_clear(&got);
	OPS(s)->rollback(tx);
	lv_store_close(s);
}
END_TEST

START_TEST(ledger_is_append_only)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	lv_key_rec k;
	lv_ledger_entry e;
	char *count = NULL;
	make_key(&k, "key_1", 10);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	memset(&e, 0, sizeof(e));
	lv_strlcpy(e.key_id, "key_1", sizeof(e.key_id));
	e.amount = 10;
	ck_assert_int_eq(OPS(s)->ledger_append(tx, &e), LV_OK);
	commit(s, tx);
	lv_store_close(s);
	/* Directly in the database, around the store interface: both refused. */
	ck_assert_int_ne(lv_test_store_sql(g_spec, "UPDATE ledger SET amount = 0", NULL), 0);
	ck_assert_int_ne(lv_test_store_sql(g_spec, "DELETE FROM ledger", NULL), 0);
	ck_assert_int_eq(lv_test_store_sql(g_spec, "SELECT SUM(amount) FROM ledger", &count), 0);
	ck_assert_str_eq(count, "10");
	free(count);
}
END_TEST

START_TEST(tasks_and_segments_round_trip)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	lv_key_rec k;
	lv_task_rec t, got, *list = NULL;
	lv_segment_rec seg, *segs = NULL;
	size_t n = 0;
	int i;
	int64_t seqs[5];
	make_key(&k, "key_1", 10);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	for (i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof(id), "task_%d", i);
		make_task(&t, id, "key_1", i == 3 ? LV_TASK_COMPLETED : LV_TASK_QUEUED);
		ck_assert_int_eq(OPS(s)->task_insert(tx, &t), LV_OK);
		seqs[i] = t.seq;
		ck_assert(i == 0 || seqs[i] > seqs[i - 1]);
	}
	memset(&seg, 0, sizeof(seg));
	lv_strlcpy(seg.task_id, "task_0", sizeof(seg.task_id));
	for (i = 0; i < 3; i++) {
		seg.idx = i;
		seg.start = i * 4;
		seg.seconds = 4;
		seg.billed_seconds = 4;
		seg.price = 110000;
		seg.status = LV_SEG_PENDING;
		seg.updated_at = 5;
		ck_assert_int_eq(OPS(s)->segment_insert(tx, &seg), LV_OK);
	}
	commit(s, tx);

	/* Every mutable column survives a round trip, NULLs included. */
	tx = begin(s, 1);
	ck_assert_int_eq(OPS(s)->task_get(tx, "task_0", 1, &got), LV_OK);
	ck_assert_str_eq(got.prompt, "a prompt with 'quotes' and \xe4\xb8\xad\xe6\x96\x87");
	ck_assert_str_eq(got.metadata, "{\"a\":1}");
	ck_assert_int_eq(got.cost_actual, -1);
	ck_assert_int_eq(got.error_stage, -1);
	ck_assert_int_eq(got.error_shot, -1);
	ck_assert_int_eq(got.completed_at, 0);
	ck_assert_ptr_null(got.lease_owner);
	ck_assert_ptr_null(got.webhook_url);
	ck_assert_int_eq(got.seq, seqs[0]);
	got.status = LV_TASK_FAILED;
	got.progress = 42;
	got.shots_done = 2;
	got.shots_total = 3;
	got.cost_actual = 0;
	got.error_stage = LV_TASK_GENERATING;
	got.error_shot = 1;
	got.completed_at = 9000;
	got.updated_at = 9000;
	got.compose_generation = 2;
	got.subtitles = LV_SUBTITLES_BURN;
	ck_assert_int_eq(lv_strset(&got.error_code, "shot_failed"), LV_OK);
	ck_assert_int_eq(lv_strset(&got.error_message, "boom"), LV_OK);
	ck_assert_int_eq(lv_strset(&got.script, "{\"shots\":[]}"), LV_OK);
	ck_assert_int_eq(lv_strset(&got.state, "{}"), LV_OK);
	ck_assert_int_eq(lv_strset(&got.result_url, "/media/x.mp4"), LV_OK);
	ck_assert_int_eq(OPS(s)->task_update(tx, &got), LV_OK);
	lv_task_rec_clear(&got);
	ck_assert_int_eq(OPS(s)->segment_list(tx, "task_0", &segs, &n), LV_OK);
	ck_assert_uint_eq(n, 3);
	segs[1].status = LV_SEG_READY;
	ck_assert_int_eq(lv_strset(&segs[1].job_id, "job-1"), LV_OK);
	ck_assert_int_eq(lv_strset(&segs[1].job_state, "{\"poll\":1}"), LV_OK);
	ck_assert_int_eq(lv_strset(&segs[1].output, "tasks/task_0/segments/001.mp4"), LV_OK);
	segs[1].attempts = 2;
	segs[1].billed_seconds = 5;
	segs[1].price = 137500;
	ck_assert_int_eq(OPS(s)->segment_update(tx, &segs[1]), LV_OK);
	lv_segment_recs_free(segs, n);
	commit(s, tx);

	tx = begin(s, 0);
	ck_assert_int_eq(OPS(s)->task_get(tx, "task_0", 0, &got), LV_OK);
	ck_assert_int_eq(got.status, LV_TASK_FAILED);
	ck_assert_int_eq(got.progress, 42);
	ck_assert_int_eq(got.cost_actual, 0);
	ck_assert_int_eq(got.error_stage, LV_TASK_GENERATING);
	ck_assert_int_eq(got.error_shot, 1);
	ck_assert_int_eq(got.completed_at, 9000);
	ck_assert_int_eq(got.compose_generation, 2);
	ck_assert_int_eq(got.subtitles, LV_SUBTITLES_BURN);
	ck_assert_str_eq(got.error_code, "shot_failed");
	ck_assert_str_eq(got.script, "{\"shots\":[]}");
	ck_assert_str_eq(got.result_url, "/media/x.mp4");
	lv_task_rec_clear(&got);
	ck_assert_int_eq(OPS(s)->task_get(tx, "task_none", 0, &got), LV_ENOTFOUND);
	ck_assert_int_eq(OPS(s)->segment_list(tx, "task_0", &segs, &n), LV_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(segs[0].status, LV_SEG_PENDING);
	ck_assert_ptr_null(segs[0].job_id);
	ck_assert_int_eq(segs[1].status, LV_SEG_READY);
	ck_assert_str_eq(segs[1].job_id, "job-1");
	ck_assert_str_eq(segs[1].job_state, "{\"poll\":1}");
	ck_assert_int_eq(segs[1].attempts, 2);
	ck_assert_int_eq(segs[1].billed_seconds, 5);
	ck_assert_int_eq(segs[1].price, 137500);
	ck_assert_int_eq(segs[2].start, 8);
	lv_segment_recs_free(segs, n);

	/* Lists: newest first, paged by seq, filtered by status. */
	ck_assert_int_eq(OPS(s)->task_list(tx, "key_1", 0, -1, 2, &list, &n), LV_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].id, "task_4");
	ck_assert_str_eq(list[1].id, "task_3");
	lv_task_recs_free(list, n);
	ck_assert_int_eq(OPS(s)->task_list(tx, "key_1", seqs[3], -1, 10, &list, &n), LV_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0].id, "task_2");
	ck_assert_str_eq(list[2].id, "task_0");
	lv_task_recs_free(list, n);
	ck_assert_int_eq(OPS(s)->task_list(tx, "key_1", 0, LV_TASK_QUEUED, 10, &list, &n), LV_OK);
	ck_assert_uint_eq(n, 3);
	lv_task_recs_free(list, n);
	ck_assert_int_eq(OPS(s)->task_list(tx, "key_other", 0, -1, 10, &list, &n), LV_OK);
	ck_assert_uint_eq(n, 0);
	lv_task_recs_free(list, n);
	OPS(s)->rollback(tx);
	lv_store_close(s);
}
END_TEST

START_TEST(idempotency_records)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	lv_idem_rec r, got;
	memset(&r, 0, sizeof(r));
	lv_strlcpy(r.key_id, "key_1", sizeof(r.key_id));
	r.idem_key = (char *)"idem-1";
	lv_strlcpy(r.request_hash, "abc", sizeof(r.request_hash));
	lv_strlcpy(r.task_id, "task_1", sizeof(r.task_id));
	r.created_at = 100;
	ck_assert_int_eq(OPS(s)->idem_insert(tx, &r), LV_OK);
	r.idem_key = (char *)"idem-2";
	r.created_at = 300;
	ck_assert_int_eq(OPS(s)->idem_insert(tx, &r), LV_OK);
	commit(s, tx);
	tx = begin(s, 1);
	ck_assert_int_eq(OPS(s)->idem_get(tx, "key_1", "idem-1", &got), LV_OK);
	ck_assert_str_eq(got.task_id, "task_1");
	ck_assert_str_eq(got.request_hash, "abc");
	ck_assert_int_eq(got.created_at, 100);
	lv_idem_rec_clear(&got);
	ck_assert_int_eq(OPS(s)->idem_get(tx, "key_2", "idem-1", &got), LV_ENOTFOUND);
	ck_assert_int_eq(OPS(s)->idem_purge(tx, 200), LV_OK);
	ck_assert_int_eq(OPS(s)->idem_get(tx, "key_1", "idem-1", &got), LV_ENOTFOUND);
	ck_assert_int_eq(OPS(s)->idem_get(tx, "key_1", "idem-2", &got), LV_OK);
	lv_idem_rec_clear(&got);
	commit(s, tx);
	/* The same (key, idempotency key) twice is refused. */
	tx = begin(s, 1);
	ck_assert_int_ne(OPS(s)->idem_insert(tx, &r), LV_OK);
	OPS(s)->rollback(tx);
	lv_store_close(s);
}
END_TEST

/* ---- claims and leases ------------------------------------------------------------------------------ */

static void seed_tasks(lv_store *s, int n, int terminal_every)
{
	lv_store_tx *tx = begin(s, 1);
	lv_key_rec k;
	lv_task_rec t;
	int i;
	make_key(&k, "key_1", 10);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	for (i = 0; i < n; i++) {
		char id[24];
		snprintf(id, sizeof(id), "task_%03d", i);
		make_task(&t, id, "key_1",
		          terminal_every && i % terminal_every == terminal_every - 1 ? LV_TASK_CANCELED : LV_TASK_QUEUED);
		ck_assert_int_eq(OPS(s)->task_insert(tx, &t), LV_OK);
	}
	commit(s, tx);
}

static int claim(lv_store *s, const char *owner, int64_t lease_ms, char id[LV_ID_MAX])
{
	lv_store_tx *tx = begin(s, 1);
	lv_task_rec t;
	int64_t now = lv_now_ms();
	int rc = OPS(s)->task_claim(tx, owner, now, now + lease_ms, &t);
	if (rc) {
		OPS(s)->rollback(tx);
		return rc;
	}
	ck_assert_str_eq(t.lease_owner, owner);
	ck_assert_int_ge(t.lease_until, now + lease_ms - 5000);
	lv_strlcpy(id, t.id, LV_ID_MAX);
	lv_task_rec_clear(&t);
	rc = OPS(s)->commit(tx);
	return rc;
}

static void lease_op(lv_store *s, const char *owner, int64_t lease_ms, int release)
{
	lv_store_tx *tx = begin(s, 1);
	int64_t now = lv_now_ms();
	ck_assert_int_eq(release ? OPS(s)->lease_release(tx, owner) : OPS(s)->lease_renew(tx, owner, now, now + lease_ms),
	                 LV_OK);
	commit(s, tx);
}

START_TEST(claims_and_leases)
{
	lv_store *s = open_store();
	char a[LV_ID_MAX], b[LV_ID_MAX], c[LV_ID_MAX];
	lv_store_tx *tx;
	lv_task_rec t;
	seed_tasks(s, 3, 2); /* task_001 is terminal */
	/* Oldest first; a terminal task is never claimed; a held lease is not taken. */
	ck_assert_int_eq(claim(s, "A", 60000, a), LV_OK);
	ck_assert_str_eq(a, "task_000");
	ck_assert_int_eq(claim(s, "B", 300, b), LV_OK);
	ck_assert_str_eq(b, "task_002");
	ck_assert_int_eq(claim(s, "C", 60000, c), LV_ENOTFOUND);
	/* B's short lease expires (by the store's clock): C takes the task over; B's renewal then
	 * touches nothing, A's extends its own. */
	lv_sleep_ms(600);
	ck_assert_int_eq(claim(s, "C", 60000, c), LV_OK);
	ck_assert_str_eq(c, "task_002");
	lease_op(s, "B", 60000, 0);
	lease_op(s, "A", 120000, 0);
	tx = begin(s, 0);
	ck_assert_int_eq(OPS(s)->task_get(tx, "task_002", 0, &t), LV_OK);
	ck_assert_str_eq(t.lease_owner, "C");
	lv_task_rec_clear(&t);
	ck_assert_int_eq(OPS(s)->task_get(tx, "task_000", 0, &t), LV_OK);
	ck_assert_str_eq(t.lease_owner, "A");
	ck_assert_int_ge(t.lease_until, lv_now_ms() + 100000);
	lv_task_rec_clear(&t);
	OPS(s)->rollback(tx);
	/* A releases: its task is claimable at once. */
	lease_op(s, "A", 0, 1);
	ck_assert_int_eq(claim(s, "D", 60000, c), LV_OK);
	ck_assert_str_eq(c, "task_000");
	ck_assert_int_eq(claim(s, "E", 60000, c), LV_ENOTFOUND);
	lv_store_close(s);
}
END_TEST

#define CLAIM_TASKS 40
#define CLAIMERS 8

typedef struct {
	lv_store *s;
	int idx;
	pthread_barrier_t *start;
	char got[CLAIM_TASKS][LV_ID_MAX];
	int n, errors;
} claimer;

static void *claim_loop(void *p)
{
	claimer *c = p;
	char owner[16];
	snprintf(owner, sizeof(owner), "w%d", c->idx);
	pthread_barrier_wait(c->start);
	for (;;) {
		lv_store_tx *tx = NULL;
		lv_task_rec t;
		int64_t now = lv_now_ms();
		int rc = OPS(c->s)->begin(c->s, 1, &tx);
		if (rc == LV_OK) {
			rc = OPS(c->s)->task_claim(tx, owner, now, now + 600000, &t);
			if (rc == LV_OK) {
				rc = OPS(c->s)->commit(tx);
				if (rc == LV_OK && c->n < CLAIM_TASKS)
					lv_strlcpy(c->got[c->n++], t.id, LV_ID_MAX);
				lv_task_rec_clear(&t);
			} else {
				OPS(c->s)->rollback(tx);
			}
		}
		if (rc == LV_ENOTFOUND)
			break;
		if (rc == LV_EBUSY)
			continue;
		if (rc) {
			c->errors++;
			break;
		}
	}
	return NULL;
}

START_TEST(concurrent_claims_are_exclusive)
{
	lv_store *s = open_store();
	claimer *c = lv_calloc(CLAIMERS, sizeof(*c));
	pthread_t th[CLAIMERS];
	pthread_barrier_t start;
	int seen[CLAIM_TASKS] = { 0 }, i, j, total = 0;
	seed_tasks(s, CLAIM_TASKS, 0);
	pthread_barrier_init(&start, NULL, CLAIMERS);
	for (i = 0; i < CLAIMERS; i++) {
		c[i].s = s;
		c[i].idx = i;
		c[i].start = &start;
		pthread_create(&th[i], NULL, claim_loop, &c[i]);
	}
	for (i = 0; i < CLAIMERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < CLAIMERS; i++) {
		ck_assert_int_eq(c[i].errors, 0);
		for (j = 0; j < c[i].n; j++) {
			int k = atoi(c[i].got[j] + 5);
			ck_assert(k >= 0 && k < CLAIM_TASKS);
			seen[k]++;
			total++;
		}
	}
	ck_assert_int_eq(total, CLAIM_TASKS);
	for (i = 0; i < CLAIM_TASKS; i++)
		ck_assert_msg(seen[i] == 1, "task %d was claimed %d times", i, seen[i]);
	free(c);
	lv_store_close(s);
}
END_TEST

/* ---- outbox ------------------------------------------------------------------------------------------ */

typedef struct {
	lv_store *s;
	pthread_barrier_t *start;
	char got[CLAIM_TASKS][LV_ID_MAX];
	int n, errors;
} sender;

static void *send_loop(void *p)
{
	sender *c = p;
	pthread_barrier_wait(c->start);
	for (;;) {
		lv_store_tx *tx = NULL;
		lv_outbox_rec *due = NULL;
		size_t n = 0;
		int64_t now = lv_now_ms();
		int rc = OPS(c->s)->begin(c->s, 1, &tx);
		if (rc == LV_OK) {
			rc = OPS(c->s)->outbox_due(tx, now, 1, &due, &n);
			lv_sleep_ms(1); /* widen the window another sender would slip through */
			if (rc == LV_OK && n == 0)
				rc = LV_ENOTFOUND;
			if (rc == LV_OK) {
				due[0].next_attempt_at = now + 3600000; /* the claim */
				due[0].attempts++;
				rc = OPS(c->s)->outbox_update(tx, &due[0]);
			}
			if (rc == LV_OK)
				rc = OPS(c->s)->commit(tx);
			else
				OPS(c->s)->rollback(tx);
			if (rc == LV_OK && c->n < CLAIM_TASKS)
				lv_strlcpy(c->got[c->n++], due[0].id, LV_ID_MAX);
			lv_outbox_recs_free(due, n);
		}
		if (rc == LV_ENOTFOUND)
			break;
		if (rc == LV_EBUSY)
			continue;
		if (rc) {
			c->errors++;
			break;
		}
	}
	return NULL;
}

START_TEST(outbox_claims_are_exclusive)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	sender *c = lv_calloc(CLAIMERS, sizeof(*c));
	pthread_t th[CLAIMERS];
	pthread_barrier_t start;
	lv_outbox_rec r, *rows = NULL;
	size_t n = 0;
	int seen[CLAIM_TASKS] = { 0 }, i, j, total = 0;
	memset(&r, 0, sizeof(r));
	lv_strlcpy(r.task_id, "task_1", sizeof(r.task_id));
	lv_strlcpy(r.key_id, "key_1", sizeof(r.key_id));
	r.url = (char *)"http://127.0.0.1:9/hook";
	r.payload = (char *)"{\"task_id\":\"task_1\"}";
	for (i = 0; i < CLAIM_TASKS; i++) {
		snprintf(r.id, sizeof(r.id), "msg_%03d", i);
		r.next_attempt_at = lv_now_ms() - 1000 + i;
		r.created_at = r.updated_at = i;
		ck_assert_int_eq(OPS(s)->outbox_insert(tx, &r), LV_OK);
	}
	/* Not due yet, and delivered: never handed out. */
	snprintf(r.id, sizeof(r.id), "msg_later");
	r.next_attempt_at = lv_now_ms() + 3600000;
	ck_assert_int_eq(OPS(s)->outbox_insert(tx, &r), LV_OK);
	snprintf(r.id, sizeof(r.id), "msg_done");
	r.next_attempt_at = 0;
	r.status = LV_OUTBOX_DELIVERED;
	ck_assert_int_eq(OPS(s)->outbox_insert(tx, &r), LV_OK);
	commit(s, tx);
	pthread_barrier_init(&start, NULL, CLAIMERS);
	for (i = 0; i < CLAIMERS; i++) {
		c[i].s = s;
		c[i].start = &start;
		pthread_create(&th[i], NULL, send_loop, &c[i]);
	}
	for (i = 0; i < CLAIMERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < CLAIMERS; i++) {
		ck_assert_int_eq(c[i].errors, 0);
		for (j = 0; j < c[i].n; j++) {
			ck_assert_msg(strcmp(c[i].got[j], "msg_later") && strcmp(c[i].got[j], "msg_done"), "%s handed out",
			              c[i].got[j]);
			seen[atoi(c[i].got[j] + 4)]++;
			total++;
		}
	}
	ck_assert_int_eq(total, CLAIM_TASKS);
	for (i = 0; i < CLAIM_TASKS; i++)
		ck_assert_msg(seen[i] == 1, "message %d was claimed %d times", i, seen[i]);
	tx = begin(s, 0);
	ck_assert_int_eq(OPS(s)->outbox_for_task(tx, "task_1", &rows, &n), LV_OK);
	ck_assert_uint_eq(n, CLAIM_TASKS + 2);
	for (i = 0; i < (int)n; i++)
		if (rows[i].status == LV_OUTBOX_PENDING && strcmp(rows[i].id, "msg_later") != 0)
			ck_assert_int_eq(rows[i].attempts, 1);
	ck_assert_str_eq(rows[0].payload, "{\"task_id\":\"task_1\"}");
	lv_outbox_recs_free(rows, n);
	OPS(s)->rollback(tx);
	free(c);
	lv_store_close(s);
}
END_TEST

/* ---- business rules under concurrency ------------------------------------------------------------------- */

#define RACERS 24

typedef struct {
	lv_engine *e;
	const char *secret;
	pthread_barrier_t *start;
	char task_id[LV_ID_MAX];
	int rc, replayed;
} racer;

static void *race(void *p)
{
	racer *r = p;
	const char *body = "{\"prompt\":\"Night market in the rain\",\"duration\":24}";
	lv_key *k = NULL;
	lv_task *t = NULL;
	r->rc = lv_key_authenticate(&k, r->e, r->secret);
	pthread_barrier_wait(r->start);
	if (r->rc == LV_OK)
		r->rc = lv_task_create_json(&t, r->e, k, body, strlen(body), "race-key-1");
	if (r->rc == LV_OK) {
		lv_strlcpy(r->task_id, lv_task_id(t), sizeof(r->task_id));
		r->replayed = lv_task_replayed(t);
	}
	lv_task_free(t);
	lv_key_free(k);
	return NULL;
}

START_TEST(idempotency_race_creates_one_task)
{
	lv_engine *engines[3];
	lv_key *key = NULL;
	lv_credits cr;
	pthread_t th[RACERS];
	racer r[RACERS];
	pthread_barrier_t start;
	lv_task_page *page = NULL;
	int i, fresh = 0;
	/* Three engines on one store: three processes' worth of pools. */
	for (i = 0; i < 3; i++)
		engines[i] = open_engine();
	ck_assert_int_eq(lv_key_create(&key, engines[0], "racer", 100000000), LV_OK);
	pthread_barrier_init(&start, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].e = engines[i % 3];
		r[i].secret = lv_key_secret(key);
		r[i].start = &start;
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	for (i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(r[i].rc == LV_OK, "racer %d: %d", i, r[i].rc);
		ck_assert_str_eq(r[i].task_id, r[0].task_id);
		fresh += !r[i].replayed;
	}
	ck_assert_int_eq(fresh, 1);
	ck_assert_int_eq(lv_key_credits(&cr, engines[1], key), LV_OK);
	ck_assert_int_eq(cr.reserved, 24 * 27500);
	ck_assert_int_eq(cr.balance, 100000000 - 24 * 27500);
	ck_assert_int_eq(lv_task_list(&page, engines[2], key, NULL), LV_OK);
	ck_assert_uint_eq(lv_task_page_count(page), 1);
	lv_task_page_free(page);
	ck_assert_int_eq(lv_ledger_verify(engines[0], NULL), LV_OK);
	lv_key_free(key);
	for (i = 0; i < 3; i++)
		lv_engine_close(engines[i]);
}
END_TEST

#define CHURNERS 8
#define CHURN_OPS 24

typedef struct {
	lv_engine *e;
	lv_key *key;
	unsigned seed;
	int created, canceled, settled, errors;
} churner;

typedef struct {
	lv_engine *e;
	const char *id;
	int64_t charge;
	int done;
} settle_ctx;

/* What the pipeline does when a task completes: lock the task, settle, refund the rest. */
static int settle_tx(lv_store_tx *tx, void *p)
{
	settle_ctx *c = p;
	lv_task_rec t;
	int rc = c->e->store->ops->task_get(tx, c->id, 1, &t);
	if (rc)
		return rc;
	if (!lv_task_status_is_terminal((lv_task_status)t.status)) {
		int64_t charge = c->charge < t.cost_estimate ? c->charge : t.cost_estimate;
		rc = lv_task_finish(c->e, tx, &t, LV_TASK_COMPLETED, charge, lv_now_ms());
		c->done = rc == LV_OK;
	}
	lv_task_rec_clear(&t);
	return rc;
}

static void *churn(void *p)
{
	churner *w = p;
	char ids[CHURN_OPS][LV_ID_MAX];
	int n = 0, i;
	for (i = 0; i < CHURN_OPS; i++) {
		unsigned r = (unsigned)rand_r(&w->seed);
		if (n > 0 && r % 3 == 0) {
			lv_task *t = NULL;
			int rc = lv_task_cancel(&t, w->e, w->key, ids[(r >> 8) % (unsigned)n]);
			if (rc == LV_OK)
				w->canceled++;
			else
				w->errors++;
			lv_task_free(t);
		} else if (n > 0 && r % 3 == 1) {
			settle_ctx c = { w->e, ids[(r >> 8) % (unsigned)n], (int64_t)((r >> 4) % 400000), 0 };
			if (lv_engine_tx(w->e, 1, settle_tx, &c) == LV_OK)
				w->settled += c.done;
			else
				w->errors++;
		} else {
			char body[160], idem[32];
			lv_task *t = NULL;
			snprintf(body, sizeof(body), "{\"prompt\":\"shot %u\",\"duration\":%u}", r % 7, 3 + (r >> 4) % 60);
			snprintf(idem, sizeof(idem), "idem-%u", (r >> 10) % 12);
			if (lv_task_create_json(&t, w->e, w->key, body, strlen(body), (r & 16) ? idem : NULL) == LV_OK) {
				lv_strlcpy(ids[n++], lv_task_id(t), LV_ID_MAX);
				w->created++;
			}
			/* A reused idempotency key with another body is refused; that is fine here. */
			lv_task_free(t);
		}
	}
	return NULL;
}

START_TEST(ledger_invariant_after_concurrent_creates_cancels_settlements)
{
	lv_engine *engines[2];
	lv_key *key = NULL;
	churner w[CHURNERS];
	pthread_t th[CHURNERS];
	char *report = NULL;
	lv_credits cr;
	int i, created = 0, canceled = 0, settled = 0;
	for (i = 0; i < 2; i++)
		engines[i] = open_engine();
	ck_assert_int_eq(lv_key_create(&key, engines[0], "churn", 400000000), LV_OK);
	for (i = 0; i < CHURNERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].e = engines[i % 2];
		w[i].key = key;
		w[i].seed = 1234u + (unsigned)i;
		pthread_create(&th[i], NULL, churn, &w[i]);
	}
	for (i = 0; i < CHURNERS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].errors, 0);
		created += w[i].created;
		canceled += w[i].canceled;
		settled += w[i].settled;
	}
	ck_assert_int_gt(created, 20);
	ck_assert_int_gt(settled, 3);
	ck_assert_int_gt(canceled, 3);
	ck_assert_msg(lv_ledger_verify(engines[1], &report) == LV_OK, "ledger: %s",
	              report ? report : lv_error_last()->message);
	lv_free(report);
	/* Credits are conserved: what is not in balance or reserved was settled. */
	ck_assert_int_eq(lv_key_credits(&cr, engines[0], key), LV_OK);
	ck_assert_int_le(cr.balance + cr.reserved, 400000000);
	ck_assert_int_ge(cr.reserved, 0);
	lv_key_free(key);
	for (i = 0; i < 2; i++)
		lv_engine_close(engines[i]);
}
END_TEST

/* ---- migrations ----------------------------------------------------------------------------------------- */


/* ---- ledger listing, live events, optional ops ------------------------------------------------ */

START_TEST(ledger_list_pages_newest_first)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	lv_key_rec k, got;
	lv_ledger_entry e, *rows = NULL;
	size_t n = 0, seen = 0;
	int64_t before = 0, last_id = INT64_MAX;
	char expect[LV_ID_MAX];
	int i;
	make_key(&k, "key_1", 0);
	k.granted = 7000;
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	make_key(&k, "key_2", 0);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	for (i = 0; i < 7; i++) {
		memset(&e, 0, sizeof(e));
		lv_strlcpy(e.key_id, i == 3 ? "key_2" : "key_1", sizeof(e.key_id));
		e.kind = i == 0 ? LV_LEDGER_GRANT : LV_LEDGER_RESERVE;
		if (i)
			snprintf(e.task_id, sizeof(e.task_id), "task_%d", i);
		e.amount = 100 + i;
		e.created_at = 5000 + i;
		ck_assert_int_eq(OPS(s)->ledger_append(tx, &e), LV_OK);
	}
	commit(s, tx);
	tx = begin(s, 0);
	/* granted round-trips */
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_1", 0, &got), LV_OK);
	ck_assert_int_eq(got.granted, 7000);
	lv_key_rec_clear(&got);
	/* key_1 has 6 entries: pages of 4 then 2, ids strictly decreasing, amounts 106..100 without 103 */
	do {
		ck_assert_int_eq(OPS(s)->ledger_list(tx, "key_1", before, 4, &rows, &n), LV_OK);
		for (i = 0; i < (int)n; i++) {
			ck_assert_int_lt(rows[i].id, last_id);
			last_id = rows[i].id;
			ck_assert_str_eq(rows[i].key_id, "key_1");
			ck_assert_int_ne(rows[i].amount, 103);
			ck_assert_int_eq(rows[i].created_at, 5000 + rows[i].amount - 100);
			ck_assert_int_eq(rows[i].kind, rows[i].amount == 100 ? LV_LEDGER_GRANT : LV_LEDGER_RESERVE);
			if (rows[i].amount == 100)
				expect[0] = '\0';
			else
				snprintf(expect, sizeof(expect), "task_%d", (int)(rows[i].amount - 100));
			ck_assert_str_eq(rows[i].task_id, expect);
		}
		if (seen == 0) {
			ck_assert_int_eq(n, 4);
			ck_assert_int_eq(rows[0].amount, 106);
		}
		seen += n;
		before = n ? rows[n - 1].id : 0;
		free(rows);
		rows = NULL;
	} while (n == 4);
	ck_assert_int_eq(seen, 6);
	ck_assert_int_eq(OPS(s)->ledger_list(tx, "key_3", 0, 4, &rows, &n), LV_OK);
	ck_assert_int_eq(n, 0);
	free(rows);
	OPS(s)->rollback(tx);
	lv_store_close(s);
}
END_TEST

START_TEST(events_append_list_and_prune)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	lv_event_rec e, last, *rows = NULL;
	int64_t first = -1;
	size_t n = 0;
	char data[32];
	int i;
	ck_assert_int_eq(OPS(s)->event_last(tx, "task_1", &last), LV_ENOTFOUND);
	ck_assert_int_eq(OPS(s)->event_first_seq(tx, "task_1", &first), LV_OK);
	ck_assert_int_eq(first, 0);
	for (i = 1; i <= 8; i++) {
		snprintf(data, sizeof(data), "{\"n\":%d}", i);
		e.data = data;
		e.created_at = 1000 + i;
		e.seq = 0;
		ck_assert_int_eq(OPS(s)->event_append(tx, "task_1", &e, 5), LV_OK);
		ck_assert_int_eq(e.seq, i);
	}
	e.data = (char *)"{\"other\":1}";
	e.created_at = 1;
	ck_assert_int_eq(OPS(s)->event_append(tx, "task_2", &e, 5), LV_OK);
	ck_assert_int_eq(e.seq, 1);
	commit(s, tx);
	tx = begin(s, 0);
	/* the last 5 are kept: 4..8 */
	ck_assert_int_eq(OPS(s)->event_first_seq(tx, "task_1", &first), LV_OK);
	ck_assert_int_eq(first, 4);
	ck_assert_int_eq(OPS(s)->event_last(tx, "task_1", &last), LV_OK);
	ck_assert_int_eq(last.seq, 8);
	ck_assert_str_eq(last.data, "{\"n\":8}");
	ck_assert_int_eq(last.created_at, 1008);
	free(last.data);
	ck_assert_int_eq(OPS(s)->event_list(tx, "task_1", 5, 2, &rows, &n), LV_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(rows[0].seq, 6);
	ck_assert_str_eq(rows[0].data, "{\"n\":6}");
	ck_assert_int_eq(rows[1].seq, 7);
	lv_event_recs_free(rows, n);
	ck_assert_int_eq(OPS(s)->event_list(tx, "task_1", 0, 100, &rows, &n), LV_OK);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(rows[0].seq, 4);
	lv_event_recs_free(rows, n);
	ck_assert_int_eq(OPS(s)->event_list(tx, "task_1", 8, 100, &rows, &n), LV_OK);
	ck_assert_int_eq(n, 0);
	lv_event_recs_free(rows, n);
	OPS(s)->rollback(tx);
	lv_store_close(s);
}
END_TEST

START_TEST(savepoint_undoes_only_its_part)
{
	lv_store *s = open_store();
	lv_store_tx *tx;
	lv_key_rec k, got;
	if (!OPS(s)->savepoint) {
		lv_store_close(s);
		return;
	}
	tx = begin(s, 1);
	make_key(&k, "key_1", 10);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	ck_assert_int_eq(OPS(s)->savepoint(tx, LV_SP_BEGIN), LV_OK);
	make_key(&k, "key_2", 20);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	ck_assert_int_ne(OPS(s)->key_insert(tx, &k), LV_OK); /* a failed statement inside the savepoint */
	ck_assert_int_eq(OPS(s)->savepoint(tx, LV_SP_ROLLBACK), LV_OK);
	ck_assert_int_eq(OPS(s)->savepoint(tx, LV_SP_BEGIN), LV_OK);
	make_key(&k, "key_3", 30);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	ck_assert_int_eq(OPS(s)->savepoint(tx, LV_SP_RELEASE), LV_OK);
	commit(s, tx);
	tx = begin(s, 0);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_1", 0, &got), LV_OK);
	lv_key_rec_clear(&got);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_2", 0, &got), LV_ENOTFOUND);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_3", 0, &got), LV_OK);
	ck_assert_int_eq(got.balance, 30);
	lv_key_rec_clear(&got);
	OPS(s)->rollback(tx);
	lv_store_close(s);
}
END_TEST

START_TEST(lease_held_status_counts_and_credit_totals)
{
	lv_store *s = open_store();
	lv_store_tx *tx = begin(s, 1);
	lv_key_rec k;
	lv_task_rec t;
	char(*ids)[LV_ID_MAX] = NULL;
	int64_t tasks[LV_STORE_STATUS_SLOTS], outbox[3];
	size_t n = 0;
	int64_t credits[3];
	make_key(&k, "key_1", 0);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	/* Two keys' running totals, summed by credit_totals. */
	make_key(&k, "key_2", 7000);
	k.reserved = 500;
	k.granted = 9000;
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	make_key(&k, "key_3", 1000);
	k.granted = 1500;
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	make_task(&t, "task_1", "key_1", LV_TASK_QUEUED);
	t.lease_owner = (char *)"w1";
	t.lease_until = 99999;
	ck_assert_int_eq(OPS(s)->task_insert(tx, &t), LV_OK);
	make_task(&t, "task_2", "key_1", LV_TASK_COMPLETED);
	ck_assert_int_eq(OPS(s)->task_insert(tx, &t), LV_OK);
	make_task(&t, "task_3", "key_1", LV_TASK_QUEUED);
	ck_assert_int_eq(OPS(s)->task_insert(tx, &t), LV_OK);
	commit(s, tx);
	tx = begin(s, 0);
	if (OPS(s)->lease_held) {
		ck_assert_int_eq(OPS(s)->lease_held(tx, "w1", &ids, &n), LV_OK);
		ck_assert_int_eq(n, 1);
		ck_assert_str_eq(ids[0], "task_1");
		free(ids);
		ids = NULL;
		ck_assert_int_eq(OPS(s)->lease_held(tx, "w2", &ids, &n), LV_OK);
		ck_assert_int_eq(n, 0);
		free(ids);
	}
	if (OPS(s)->status_counts) {
		ck_assert_int_eq(OPS(s)->status_counts(tx, tasks, outbox), LV_OK);
		ck_assert_int_eq(tasks[LV_TASK_QUEUED], 2);
		ck_assert_int_eq(tasks[LV_TASK_COMPLETED], 1);
		ck_assert_int_eq(outbox[LV_OUTBOX_PENDING], 0);
	}
	ck_assert_ptr_nonnull(OPS(s)->credit_totals); /* both backends total */
	ck_assert_int_eq(OPS(s)->credit_totals(tx, credits), LV_OK);
	ck_assert_int_eq(credits[0], 10500);
	ck_assert_int_eq(credits[1], 8000);
	ck_assert_int_eq(credits[2], 500);
	OPS(s)->rollback(tx);
	lv_store_close(s);
}
END_TEST

static int schema_versions(char **out)
{
	return g_server ? lv_test_store_sql(g_spec, "SELECT COUNT(*) || ':' || MAX(version) FROM lv_migrations", out)
	                : lv_test_store_sql(g_spec, "PRAGMA user_version", out);
}

START_TEST(migrations_on_fresh_and_existing_databases)
{
	lv_store *s = open_store();
	lv_store_tx *tx;
	lv_key_rec k, got;
	char *v1 = NULL, *v2 = NULL;
	tx = begin(s, 1);
	make_key(&k, "key_1", 42);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	commit(s, tx);
	lv_store_close(s);
	ck_assert_int_eq(schema_versions(&v1), 0);
	ck_assert_ptr_nonnull(v1);
	/* Reopening an up-to-date store changes nothing and keeps the data. */
	s = open_store();
	ck_assert_int_eq(schema_versions(&v2), 0);
	ck_assert_str_eq(v1, v2);
	tx = begin(s, 0);
	ck_assert_int_eq(OPS(s)->key_get(tx, "key_1", 0, &got), LV_OK);
	ck_assert_int_eq(got.balance, 42);
	lv_key_rec_clear(&got);
	OPS(s)->rollback(tx);
	lv_store_close(s);
	free(v1);
	free(v2);
	/* A store from a newer build is refused by name. */
	if (g_server)
		ck_assert_int_eq(lv_test_store_sql(g_spec, "INSERT INTO lv_migrations (version) VALUES (999)", NULL), 0);
	else
		ck_assert_int_eq(lv_test_store_sql(g_spec, "PRAGMA user_version = 999", NULL), 0);
	{
		lv_store_open_options o;
		memset(&o, 0, sizeof(o));
		o.spec = g_spec;
		ck_assert_int_ne(lv_store_open_ex(&s, &o), LV_OK);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "newer than this build"));
	}
}
END_TEST

#define MIGRATORS 10

START_TEST(processes_migrating_at_once_migrate_once)
{
	pid_t pids[MIGRATORS];
	int gate[2], i, failed = 0;
	char *v = NULL;
	lv_store *s;
	lv_store_tx *tx;
	lv_key_rec k;
	ck_assert_int_eq(pipe(gate), 0);
	for (i = 0; i < MIGRATORS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			lv_store_open_options o;
			lv_store *st = NULL;
			char c;
			close(gate[1]);
			/* Everyone starts when the parent closes the gate. */
			while (read(gate[0], &c, 1) > 0)
				;
			memset(&o, 0, sizeof(o));
			o.spec = g_spec;
			o.master_key = key_a;
			if (lv_store_open_ex(&st, &o) != LV_OK) {
				fprintf(stderr, "migrator %d: %s\n", i, lv_error_last()->message);
				_exit(1);
			}
			lv_store_close(st);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (i = 0; i < MIGRATORS; i++) {
		int status = 0;
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(schema_versions(&v), 0);
	/* On PostgreSQL one row per version ("count:max" agree); on SQLite the version is set. */
	if (g_server) {
		char *colon = strchr(v, ':');
		ck_assert_ptr_nonnull(colon);
		ck_assert_int_eq(atoi(v), atoi(colon + 1));
	}
	ck_assert_int_ge(atoi(v), 1);
	free(v);
	s = open_store();
	tx = begin(s, 1);
	make_key(&k, "key_1", 1);
	ck_assert_int_eq(OPS(s)->key_insert(tx, &k), LV_OK);
	commit(s, tx);
	lv_store_close(s);
}
END_TEST

/* ---- the store's clock and wake-up hints ------------------------------------------------------------------ */

START_TEST(store_clock_decides_webhook_times)
{
	lv_engine *e = open_engine(); /* creates the schema */
	lv_store_tx *tx;
	lv_task_rec t;
	lv_key_rec k;
	lv_outbox_rec *rows = NULL;
	size_t n = 0;
	int64_t now = 0, local, skew = g_server ? 3600 * 1000 : 0;
	lv_engine_close(e);
	/* On PostgreSQL the database's clock is set an hour ahead of this process's: whatever the
	 * processes write for each other to compare must come from the database's. */
	if (g_server)
		ck_assert_int_eq(lv_test_store_sql(g_spec,
		                                   "CREATE OR REPLACE FUNCTION lv_now_ms() RETURNS bigint LANGUAGE sql "
		                                   "VOLATILE AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)"
		                                   "::bigint + 3600000 $$",
		                                   NULL),
		                 0);
	e = open_engine();
	local = lv_now_ms();
	tx = begin(e->store, 1);
	ck_assert_int_eq(lv_store_now(e->store, tx, &now), LV_OK);
	ck_assert_int_ge(now, local + skew - 60000);
	ck_assert_int_le(now, lv_now_ms() + skew + 60000);
	make_key(&k, "key_1", 0);
	ck_assert_int_eq(OPS(e->store)->key_insert(tx, &k), LV_OK);
	make_task(&t, "task_1", "key_1", LV_TASK_CANCELED);
	t.webhook_url = (char *)"http://127.0.0.1:9/hook";
	ck_assert_int_eq(OPS(e->store)->task_insert(tx, &t), LV_OK);
	ck_assert_int_eq(lv_webhook_enqueue(e, tx, &t, local), LV_OK);
	commit(e->store, tx);
	tx = begin(e->store, 0);
	ck_assert_int_eq(OPS(e->store)->outbox_for_task(tx, "task_1", &rows, &n), LV_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_ge(rows[0].created_at, now);
	ck_assert_int_ge(rows[0].next_attempt_at, now);
	/* Due by the store's clock. */
	lv_outbox_recs_free(rows, n);
	rows = NULL;
	ck_assert_int_eq(lv_store_now(e->store, tx, &now), LV_OK);
	ck_assert_int_eq(OPS(e->store)->outbox_due(tx, now, 10, &rows, &n), LV_OK);
	ck_assert_uint_eq(n, 1);
	lv_outbox_recs_free(rows, n);
	OPS(e->store)->rollback(tx);
	lv_engine_close(e);
}
END_TEST

/* Hints arrive asynchronously: wait (up to 30 s) until the count differs from `from`. */
static int wait_change(lv_store *s, uint64_t from, uint64_t *now_v)
{
	int i;
	for (i = 0; i < 600; i++) {
		if (OPS(s)->change_counter(s, now_v) == LV_OK && *now_v != from)
			return 1;
		lv_sleep_ms(50);
	}
	return 0;
}

static int listeners(void)
{
	char *v = NULL;
	int n;
	ck_assert_int_eq(lv_test_store_sql(g_spec,
	                                   "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
	                                   "AND application_name = 'liblongvideo listener'",
	                                   &v),
	                 0);
	n = atoi(v);
	free(v);
	return n;
}

START_TEST(pg_wake_ups_reach_other_processes)
{
	lv_store *a = open_store(), *b = open_store();
	lv_store_tx *tx;
	lv_key_rec k;
	lv_task_rec t;
	lv_outbox_rec r;
	uint64_t v = 0, v0 = 0;
	ck_assert_ptr_nonnull(OPS(a)->change_counter);
	/* The first call starts listening; the count is there once it listens. */
	ck_assert(wait_change(a, UINT64_MAX, &v0));
	ck_assert_int_eq(listeners(), 1);
	/* Another process (another store) queues a task. */
	tx = begin(b, 1);
	make_key(&k, "key_1", 0);
	ck_assert_int_eq(OPS(b)->key_insert(tx, &k), LV_OK);
	make_task(&t, "task_1", "key_1", LV_TASK_QUEUED);
	ck_assert_int_eq(OPS(b)->task_insert(tx, &t), LV_OK);
	commit(b, tx);
	ck_assert(wait_change(a, v0, &v));
	/* ... cancels it ... */
	v0 = v;
	tx = begin(b, 1);
	ck_assert_int_eq(OPS(b)->task_get(tx, "task_1", 1, &t), LV_OK);
	t.status = LV_TASK_CANCELED;
	ck_assert_int_eq(OPS(b)->task_update(tx, &t), LV_OK);
	lv_task_rec_clear(&t);
	commit(b, tx);
	ck_assert(wait_change(a, v0, &v));
	/* ... queues a webhook. */
	v0 = v;
	memset(&r, 0, sizeof(r));
	lv_strlcpy(r.id, "msg_1", sizeof(r.id));
	lv_strlcpy(r.task_id, "task_1", sizeof(r.task_id));
	lv_strlcpy(r.key_id, "key_1", sizeof(r.key_id));
	r.url = (char *)"http://127.0.0.1:9/hook";
	r.payload = (char *)"{}";
	tx = begin(b, 1);
	ck_assert_int_eq(OPS(b)->outbox_insert(tx, &r), LV_OK);
	commit(b, tx);
	ck_assert(wait_change(a, v0, &v));
	/* The listening connection is cut: it connects again and hints flow again. */
	v0 = v;
	ck_assert_int_eq(lv_test_store_sql(g_spec,
	                                   "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
	                                   "datname = current_database() AND application_name = 'liblongvideo listener'",
	                                   NULL),
	                 0);
	ck_assert(wait_change(a, v0, &v));
	{
		int i;
		for (i = 0; i < 600 && listeners() != 1; i++)
			lv_sleep_ms(50);
		ck_assert_int_eq(listeners(), 1);
	}
	for (v0 = v; OPS(a)->change_counter(a, &v) != LV_OK || v != v0; v0 = v) /* settled */
		lv_sleep_ms(100);
	tx = begin(b, 1);
	make_task(&t, "task_2", "key_1", LV_TASK_QUEUED);
	ck_assert_int_eq(OPS(b)->task_insert(tx, &t), LV_OK);
	commit(b, tx);
	ck_assert(wait_change(a, v0, &v));
	lv_store_close(b);
	/* Closing stops the listener. */
	lv_store_close(a);
	{
		int i;
		for (i = 0; i < 600 && listeners() != 0; i++)
			lv_sleep_ms(50);
		ck_assert_int_eq(listeners(), 0);
	}
}
END_TEST

/* PostgreSQL may answer any statement with a serialization failure or a deadlock: the engine runs the
 * whole transaction again.  The server is made to fail the first two attempts of a key's insert
 * with each (a sequence counts attempts: it is not rolled back with them). */
START_TEST(pg_serialization_failures_and_deadlocks_are_retried)
{
	static const char *const codes[] = { "40001", "40P01" };
	lv_engine *e = open_engine();
	size_t i;
	for (i = 0; i < 2; i++) {
		lv_key *key = NULL;
		char *sql = lv_asprintf(
			"DROP TRIGGER IF EXISTS lv_test_fail ON api_keys; DROP SEQUENCE IF EXISTS lv_test_attempts; "
			"CREATE SEQUENCE lv_test_attempts; "
			"CREATE OR REPLACE FUNCTION lv_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
			"IF nextval('lv_test_attempts') <= 2 THEN RAISE EXCEPTION 'injected' USING ERRCODE = '%s'; END IF; "
			"RETURN NEW; END $$; "
			"CREATE TRIGGER lv_test_fail BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE PROCEDURE lv_test_fail()",
			codes[i]);
		char *n = NULL;
		ck_assert_int_eq(lv_test_store_sql(g_spec, sql, NULL), 0);
		free(sql);
		ck_assert_msg(lv_key_create(&key, e, "retried", 1000) == LV_OK, "%s: %s", codes[i],
		              lv_error_last()->message);
		lv_key_free(key);
		ck_assert_int_eq(lv_test_store_sql(g_spec, "SELECT last_value FROM lv_test_attempts", &n), 0);
		ck_assert_str_eq(n, "3"); /* two failures, then the insert */
		free(n);
	}
	ck_assert_int_eq(lv_ledger_verify(e, NULL), LV_OK);
	lv_engine_close(e);
}
END_TEST

/* ---- PostgreSQL start-up checks ----------------------------------------------------------------------------- */

START_TEST(master_key_mismatch_is_refused)
{
	lv_store_open_options o;
	lv_store *s = open_store(); /* created with key_a */
	lv_store_close(s);
	memset(&o, 0, sizeof(o));
	o.spec = g_spec;
	o.master_key = key_b;
	ck_assert_int_eq(lv_store_open_ex(&s, &o), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "master key"));
	o.master_key = key_a;
	ck_assert_int_eq(lv_store_open_ex(&s, &o), LV_OK);
	lv_store_close(s);
	if (!g_server) {
		/* An embedded deployment: a process given LV_MASTER_KEY cannot join processes that use the
		 * data directory's master.key. */
		lv_engine_options eo = LV_ENGINE_OPTIONS_INIT;
		lv_engine *e = NULL;
		char *dir = lv_asprintf("%s/embedded", g_dir);
		char *json = lv_asprintf("{\"store\": \"sqlite:%s/lv.db\"}", dir);
		eo.data_dir = dir;
		eo.config_json = json;
		unsetenv("LV_MASTER_KEY");
		ck_assert_msg(lv_engine_open(&e, &eo) == LV_OK, "%s", lv_error_last()->message);
		lv_engine_close(e);
		setenv("LV_MASTER_KEY", "b3RoZXIta2V5LW9mLWFub3RoZXItZGVwbG95bWVudC0wMTIzNDU2Nzg5", 1);
		ck_assert_int_eq(lv_engine_open(&e, &eo), LV_ECONFIG);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "master key"));
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "lv.db"));
		unsetenv("LV_MASTER_KEY");
		ck_assert_msg(lv_engine_open(&e, &eo) == LV_OK, "%s", lv_error_last()->message);
		lv_engine_close(e);
		free(dir);
		free(json);
	}
}
END_TEST

START_TEST(pg_password_in_url_is_refused_and_never_shown)
{
	lv_store_open_options o;
	lv_store *s = NULL;
	memset(&o, 0, sizeof(o));
	o.spec = "postgresql://lvtest:Sup3rSecretPw@127.0.0.1:1/lvdb";
	ck_assert_int_eq(lv_store_open_ex(&s, &o), LV_ECONFIG);
	ck_assert_ptr_null(strstr(lv_error_last()->message, "Sup3rSecretPw"));
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "password"));
	o.spec = "postgresql://lvtest@127.0.0.1:1/lvdb?password=Sup3rSecretPw";
	ck_assert_int_eq(lv_store_open_ex(&s, &o), LV_ECONFIG);
	ck_assert_ptr_null(strstr(lv_error_last()->message, "Sup3rSecretPw"));
	/* store_password_env naming an unset variable is named. */
	o.spec = g_spec;
	o.password_env = "LV_TEST_UNSET_PASSWORD_VAR";
	ck_assert_int_eq(lv_store_open_ex(&s, &o), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "LV_TEST_UNSET_PASSWORD_VAR"));
}
END_TEST

/* A role that must give its password (scripts/pg.sh makes the cluster ask `lvpass` for one). */
START_TEST(pg_wrong_password_names_the_database_not_the_password)
{
	lv_store_open_options o;
	lv_store *st = NULL;
	char *have = NULL, *spec, *at = strstr(g_spec, "lvtest@"), msg[1024];
	const char *m;
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(lv_test_store_sql(g_spec,
	                                   "SELECT COUNT(*) FROM pg_hba_file_rules WHERE 'lvpass' = ANY(user_name) "
	                                   "AND auth_method <> 'trust'",
	                                   &have),
	                 0);
	if (atoi(have) == 0) { /* a cluster not made by scripts/pg.sh */
		printf("pg_wrong_password: the server trusts every role; not checked\n");
		free(have);
		return;
	}
	free(have);
	ck_assert_int_eq(lv_test_store_sql(g_spec,
	                                   "DO $$ BEGIN CREATE ROLE lvpass LOGIN PASSWORD 'Right-Pass-42'; "
	                                   "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
	                                   NULL),
	                 0);
	spec = lv_asprintf("%.*slvpass@%s", (int)(at - g_spec), g_spec, at + strlen("lvtest@"));
	memset(&o, 0, sizeof(o));
	o.spec = spec;
	o.master_key = key_a;
	o.password_env = "LV_TEST_STORE_PASSWORD";
	setenv("LV_TEST_STORE_PASSWORD", "Wrong-Pass-17", 1);
	ck_assert_int_eq(lv_store_open_ex(&st, &o), LV_ESTORE);
	m = lv_error_last()->message;
	ck_assert_ptr_nonnull(strstr(m, "host 127.0.0.1"));
	ck_assert_ptr_nonnull(strstr(m, "database lvt_"));
	ck_assert_ptr_nonnull(strstr(m, "password authentication failed"));
	ck_assert_ptr_null(strstr(m, "Wrong-Pass-17"));
	/* lvctl doctor's check says the same. */
	ck_assert_int_ne(lv_store_check(&o, msg, sizeof(msg)), LV_OK);
	ck_assert_ptr_nonnull(strstr(msg, "password authentication failed"));
	ck_assert_ptr_null(strstr(msg, "Wrong-Pass-17"));
	/* With the right one the server lets it in. */
	setenv("LV_TEST_STORE_PASSWORD", "Right-Pass-42", 1);
	ck_assert_msg(lv_store_check(&o, msg, sizeof(msg)) == LV_OK, "%s", msg);
	unsetenv("LV_TEST_STORE_PASSWORD");
	free(spec);
}
END_TEST

START_TEST(pg_unreachable_database_names_host_port_and_database)
{
	lv_store_open_options o;
	lv_store *s = NULL;
	const char *msg;
	memset(&o, 0, sizeof(o));
	/* Port 1 on loopback: nothing listens there. */
	o.spec = "postgresql://lvtest@127.0.0.1:1/somedb";
	ck_assert_int_eq(lv_store_open_ex(&s, &o), LV_ESTORE);
	msg = lv_error_last()->message;
	ck_assert_ptr_nonnull(strstr(msg, "host 127.0.0.1"));
	ck_assert_ptr_nonnull(strstr(msg, "port 1 "));
	ck_assert_ptr_nonnull(strstr(msg, "database somedb"));
	/* A database that does not exist on a live server. */
	o.spec = lv_test_fresh_store(g_server, g_dir);
	{
		char *bad = lv_asprintf("%s_missing", o.spec);
		free((char *)o.spec);
		o.spec = bad;
	}
	ck_assert_int_eq(lv_store_open_ex(&s, &o), LV_ESTORE);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "_missing"));
	free((char *)o.spec);
}
END_TEST

/* ---- lvctl store migrate -------------------------------------------------------------------------------------- */

static lv_engine *open_engine_on(const char *spec)
{
	char *saved = g_spec;
	lv_engine *e;
	g_spec = (char *)spec;
	e = open_engine();
	g_spec = saved;
	return e;
}

START_TEST(pg_lvctl_store_migrate_copies_everything)
{
	char *src = lv_asprintf("sqlite:%s/embedded.db", g_dir), *cfg_json = lv_asprintf("{\"store\": \"%s\"}", src);
	char *cfg = lv_test_write_file(g_dir, "config.json", cfg_json), *bin = lv_test_bin("lvctl"), *cmd, *count = NULL;
	const char *body = "{\"prompt\":\"Harbour at dawn\",\"duration\":12,\"webhook_url\":\"http://127.0.0.1:9/h\"}";
	lv_engine *e = open_engine_on(src), *pg;
	lv_key *key = NULL, *key2 = NULL;
	lv_task *t = NULL;
	lv_task_page *page = NULL;
	lv_credits before, after;
	char ids[3][LV_ID_MAX];
	settle_ctx sc;
	size_t i;
	int status, shots;
	/* An embedded deployment with some history: created, canceled, settled (with a webhook). */
	ck_assert_int_eq(lv_key_create(&key, e, "embedded", 5000000), LV_OK);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(lv_task_create_json(&t, e, key, body, strlen(body), i == 0 ? "idem-migrate" : NULL), LV_OK);
		lv_strlcpy(ids[i], lv_task_id(t), LV_ID_MAX);
		lv_task_free(t);
	}
	ck_assert_int_eq(lv_task_cancel(&t, e, key, ids[1]), LV_OK);
	lv_task_free(t);
	sc.e = e;
	sc.id = ids[2];
	sc.charge = 110000;
	sc.done = 0;
	ck_assert_int_eq(lv_engine_tx(e, 1, settle_tx, &sc), LV_OK);
	ck_assert_int_eq(sc.done, 1);
	ck_assert_int_eq(lv_key_credits(&before, e, key), LV_OK);
	{ /* live progress events of the first task */
		lv_store_tx *etx = begin(e->store, 1);
		lv_event_rec ev;
		for (i = 0; i < 2; i++) {
			ev.data = (char *)(i ? "{\"progress\":50}" : "{\"progress\":0}");
			ev.created_at = 100 + (int64_t)i;
			ck_assert_int_eq(OPS(e->store)->event_append(etx, ids[0], &ev, 1000), LV_OK);
		}
		commit(e->store, etx);
	}
	lv_engine_close(e);

	cmd = lv_asprintf("%s --config %s --data-dir %s store migrate --from %s --to '%s' >%s/out.txt 2>&1", bin, cfg,
	                  g_dir, src, g_spec, g_dir);
	status = system(cmd);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "lvctl store migrate failed: %d", status);
	/* A second run finds the destination not empty and copies nothing. */
	status = system(cmd);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	free(cmd);
	/* lvctl store verify agrees on the source. */
	cmd = lv_asprintf("%s --config %s --data-dir %s store verify >%s/verify.txt 2>&1", bin, cfg, g_dir, g_dir);
	status = system(cmd);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(cmd);

	pg = open_engine_on(g_spec);
	ck_assert_int_eq(lv_ledger_verify(pg, NULL), LV_OK);
	ck_assert_int_eq(lv_key_lookup(&key2, pg, lv_key_id(key)), LV_OK);
	ck_assert_int_eq(lv_key_credits(&after, pg, key2), LV_OK);
	ck_assert_int_eq(after.balance, before.balance);
	ck_assert_int_eq(after.reserved, before.reserved);
	ck_assert_int_eq(after.granted, before.granted);
	ck_assert_int_eq(after.settled, before.settled);
	ck_assert_int_eq(lv_task_list(&page, pg, key2, NULL), LV_OK);
	ck_assert_uint_eq(lv_task_page_count(page), 3);
	/* Newest first, as on SQLite. */
	ck_assert_str_eq(lv_task_id(lv_task_page_get(page, 0)), ids[2]);
	ck_assert_str_eq(lv_task_id(lv_task_page_get(page, 2)), ids[0]);
	ck_assert_int_eq(lv_task_get_status(lv_task_page_get(page, 1)), LV_TASK_CANCELED);
	ck_assert_int_eq(lv_task_get_status(lv_task_page_get(page, 0)), LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_cost_actual(lv_task_page_get(page, 0)), 110000);
	shots = lv_task_shots_total(lv_task_page_get(page, 0));
	ck_assert_int_gt(shots, 0);
	lv_task_page_free(page);
	/* The idempotency record came along: the same request replays the same task. */
	ck_assert_int_eq(lv_task_create_json(&t, pg, key2, body, strlen(body), "idem-migrate"), LV_OK);
	ck_assert_str_eq(lv_task_id(t), ids[0]);
	ck_assert_int_eq(lv_task_replayed(t), 1);
	lv_task_free(t);
	/* Segments and queued webhooks too (the canceled and the settled task each queued one). */
	ck_assert_int_eq(lv_test_store_sql(g_spec, "SELECT COUNT(*) FROM webhook_outbox", &count), 0);
	ck_assert_str_eq(count, "2");
	free(count);
	ck_assert_int_eq(lv_test_store_sql(g_spec, "SELECT COUNT(*) FROM segments", &count), 0);
	ck_assert_int_eq(atoi(count), 3 * shots);
	free(count);
	cmd = lv_asprintf("SELECT string_agg(seq || '=' || data, ' ' ORDER BY seq) FROM task_events WHERE task_id = '%s'",
	                  ids[0]);
	ck_assert_int_eq(lv_test_store_sql(g_spec, cmd, &count), 0);
	ck_assert_str_eq(count, "1={\"progress\":0} 2={\"progress\":50}");
	free(count);
	free(cmd);
	lv_key_free(key);
	lv_key_free(key2);
	lv_engine_close(pg);
	free(src);
	free(cfg_json);
	free(cfg);
	free(bin);
}
END_TEST

/* lvctl doctor --online: the store check reaches PostgreSQL without changing it. */
static const lv_doctor_check *doctor_store(lv_doctor **d, const char *spec)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	char *json = lv_asprintf("{\"store\": \"%s\"}", spec);
	size_t i;
	o.data_dir = g_dir;
	o.config_json = json;
	o.flags = LV_ENGINE_NO_STORE;
	ck_assert_msg(lv_engine_open(&e, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_engine_doctor(d, e, LV_DOCTOR_ONLINE), LV_OK);
	lv_engine_close(e);
	free(json);
	for (i = 0; i < lv_doctor_count(*d); i++)
		if (!strcmp(lv_doctor_get(*d, i)->check, "store"))
			return lv_doctor_get(*d, i);
	ck_abort_msg("no store check");
	return NULL;
}

START_TEST(pg_doctor_online_checks_the_store)
{
	lv_doctor *d = NULL;
	const lv_doctor_check *c = doctor_store(&d, g_spec);
	char *v = NULL;
	ck_assert_int_eq(c->ok, 1);
	ck_assert_ptr_nonnull(strstr(c->message, "schema version 0"));
	lv_doctor_free(d);
	/* Nothing was created. */
	ck_assert_int_eq(lv_test_store_sql(g_spec, "SELECT to_regclass('lv_migrations') IS NULL", &v), 0);
	ck_assert_str_eq(v, "t");
	free(v);
	c = doctor_store(&d, "postgresql://lvtest@127.0.0.1:1/somedb");
	ck_assert_int_eq(c->ok, 0);
	ck_assert_ptr_nonnull(strstr(c->message, "host 127.0.0.1 port 1 database somedb"));
	lv_doctor_free(d);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create(g_server ? "store_pg" : "store_sqlite");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, keys_and_ledger_round_trip);
	tcase_add_test(tc, ledger_is_append_only);
	tcase_add_test(tc, tasks_and_segments_round_trip);
	tcase_add_test(tc, idempotency_records);
	tcase_add_test(tc, claims_and_leases);
	tcase_add_test(tc, concurrent_claims_are_exclusive);
	tcase_add_test(tc, outbox_claims_are_exclusive);
	tcase_add_test(tc, idempotency_race_creates_one_task);
	tcase_add_test(tc, ledger_invariant_after_concurrent_creates_cancels_settlements);
	tcase_add_test(tc, ledger_list_pages_newest_first);
	tcase_add_test(tc, events_append_list_and_prune);
	tcase_add_test(tc, savepoint_undoes_only_its_part);
	tcase_add_test(tc, lease_held_status_counts_and_credit_totals);
	tcase_add_test(tc, migrations_on_fresh_and_existing_databases);
	tcase_add_test(tc, processes_migrating_at_once_migrate_once);
	tcase_add_test(tc, store_clock_decides_webhook_times);
	tcase_add_test(tc, master_key_mismatch_is_refused);
	if (g_server) {
		tcase_add_test(tc, pg_wake_ups_reach_other_processes);
		tcase_add_test(tc, pg_serialization_failures_and_deadlocks_are_retried);
		tcase_add_test(tc, pg_password_in_url_is_refused_and_never_shown);
		tcase_add_test(tc, pg_unreachable_database_names_host_port_and_database);
		tcase_add_test(tc, pg_wrong_password_names_the_database_not_the_password);
		tcase_add_test(tc, pg_lvctl_store_migrate_copies_everything);
		tcase_add_test(tc, pg_doctor_online_checks_the_store);
	}
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--pg")) {
		const char *url = getenv("LV_TEST_PG_URL");
		if (!url || !*url) {
			printf("test_store --pg: no PostgreSQL server for this run (LV_TEST_PG_URL unset): skipped\n");
			return 77;
		}
#ifndef LV_WITH_POSTGRES
		printf("test_store --pg: this build has no PostgreSQL backend: skipped\n");
		return 77;
#endif
		setenv("LV_TEST_STORE", url, 1);
	}
	g_server = lv_test_pg_server();
	if (g_server)
		setenv("LV_MASTER_KEY", "bHYtdGVzdC1tYXN0ZXIta2V5LWZvci1wb3N0Z3Jlc3FsLXJ1bnM=", 0);
	srand((unsigned)getpid());
	return lv_test_run_suite(store_suite());
}
