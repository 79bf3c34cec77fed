/* Test helpers: run a suite against the store named by LV_TEST_STORE (SQLite by default, or a
 * PostgreSQL server given as a postgresql:// URL, on which each store gets a fresh database). */
#ifndef LV_TEST_STORE_UTIL_H
#define LV_TEST_STORE_UTIL_H

/* The PostgreSQL server named by LV_TEST_STORE, or NULL when the suites run on SQLite. */
const char *lv_test_pg_server(void);
/* A "store" string for a fresh, empty store: "sqlite:DIR/NAME.db", or a new database on the
 * PostgreSQL server `pg_server` (NULL: SQLite).  Caller frees. */
char *lv_test_fresh_store(const char *pg_server, const char *dir);
/* The config JSON text `json` (NULL: "{}") with "store" set to a fresh PostgreSQL database when
 * LV_TEST_STORE names one (and LV_MASTER_KEY set for the whole run); else a copy of it. */
char *lv_test_config_with_store(const char *json, const char *dir);
/* Run one SQL statement on a store directly (outside the store interface); 0 on success.  With
 * `out`, the first column of the first row (caller frees). */
int lv_test_store_sql(const char *spec, const char *sql, char **out);

#endif
