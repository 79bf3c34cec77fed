/* Every statement the SQLite store prepares is planned with an index: EXPLAIN QUERY PLAN shows no
 * SCAN of tasks, segments, ledger or the webhook outbox (the tables that grow with traffic), so a
 * request, a claim or an idle loop costs the same with ten tasks or a million.  The ledger's
 * per-key sums are audits (lv_ledger_verify), allowed to read a key's whole history. */
#include "testutil.h"
#include "store/sqlite.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const grown[] = { "tasks", "segments", "ledger", "webhook_outbox" };

/* Audit statements: they read history on purpose and run on no request or claim path.  The two
 * counts by status feed the operator's /metrics scrape (one covering-index scan per scrape, never per
 * API request). */
static const char *const audits[] = {
	"SELECT kind, SUM(amount) FROM ledger WHERE key_id = ?",
	"SELECT status, COUNT(*) FROM tasks GROUP BY status",
	"SELECT status, COUNT(*) FROM webhook_outbox GROUP BY status",
};

static int is_audit(const char *sql)
{
	size_t i;
	for (i = 0; i < sizeof(audits) / sizeof(audits[0]); i++)
		if (!strncmp(sql, audits[i], strlen(audits[i])))
			return 1;
	return 0;
}

/* 1 if a plan row's detail is a full scan of a table that grows ("SCAN tasks", "SCAN TABLE tasks",
 * "SCAN tasks USING INDEX ..." alike: reading an index from end to end is a scan too). */
static int scans_grown_table(const char *detail)
{
	size_t i;
	const char *p = strstr(detail, "SCAN ");
	if (!p)
		return 0;
	p += 5;
	if (!strncmp(p, "TABLE ", 6))
		p += 6;
	for (i = 0; i < sizeof(grown) / sizeof(grown[0]); i++) {
		size_t l = strlen(grown[i]);
		if (!strncmp(p, grown[i], l) && (p[l] == '\0' || p[l] == ' '))
			return 1;
	}
	return 0;
}

/* The plan's rows joined with "; ", and whether any scans a grown table. */
static int plan(sqlite3 *db, const char *sql, char *text, size_t cap)
{
	sqlite3_stmt *st;
	char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	int bad = 0, rc;
	size_t used = 0;
	text[0] = '\0';
	ck_assert_ptr_nonnull(q);
	rc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
	ck_assert_msg(rc == SQLITE_OK, "cannot plan %s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		if (!d)
			continue;
		bad |= scans_grown_table(d);
		if (used + strlen(d) + 3 < cap)
			used += (size_t)snprintf(text + used, cap - used, "%s%s", used ? "; " : "", d);
	}
	sqlite3_finalize(st);
	sqlite3_free(q);
	return bad;
}

static sqlite3 *open_migrated(char **dir)
{
	lv_store *store = NULL;
	sqlite3 *db = NULL;
	char path[512];
	*dir = lv_test_mkdtemp("plans");
	snprintf(path, sizeof(path), "%s/store.db", *dir);
	ck_assert_int_eq(lv_store_sqlite_open(&store, path), 0);
	lv_store_close(store);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

START_TEST(no_statement_scans_a_growing_table)
{
	char *dir, text[2048];
	sqlite3 *db = open_migrated(&dir);
	const char *sql;
	int i, checked = 0, failures = 0;
	for (i = 0; (sql = lv_store_sqlite_statement(i)) != NULL; i++) {
		if (strncmp(sql, "SELECT", 6) && strncmp(sql, "UPDATE", 6) && strncmp(sql, "DELETE", 6) &&
		    strncmp(sql, "INSERT", 6))
			continue; /* BEGIN, COMMIT, ROLLBACK */
		checked++;
		if (plan(db, sql, text, sizeof(text)) && !is_audit(sql)) {
			fprintf(stderr, "full scan: %s\n  plan: %s\n", sql, text);
			failures++;
		}
	}
	ck_assert_int_gt(checked, 20);
	ck_assert_msg(failures == 0, "%d statement(s) scan a table that grows", failures);
	sqlite3_close(db);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* The check itself finds scans: a query on an unindexed column is flagged, an indexed one is not. */
START_TEST(the_check_sees_a_scan)
{
	char *dir, text[2048];
	sqlite3 *db = open_migrated(&dir);
	ck_assert_int_eq(plan(db, "SELECT id FROM tasks WHERE prompt = ?", text, sizeof(text)), 1);
	ck_assert_int_eq(plan(db, "SELECT id FROM tasks WHERE status NOT IN ('completed','failed','canceled') "
	                          "AND (lease_until IS NULL OR lease_until < ?1) ORDER BY seq LIMIT 1",
	                      text, sizeof(text)),
	                 1);
	ck_assert_int_eq(plan(db, "SELECT id FROM tasks WHERE id = ?", text, sizeof(text)), 0);
	ck_assert_int_eq(plan(db, "SELECT amount FROM ledger WHERE created_at > ?", text, sizeof(text)), 1);
	sqlite3_close(db);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("query_plans");
	TCase *tc = tcase_create("plans");
	tcase_add_test(tc, no_statement_scans_a_growing_table);
	tcase_add_test(tc, the_check_sees_a_scan);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
