/* Internal: what the SQLite backend shows of itself beyond the store interface. */
#ifndef LV_STORE_SQLITE_H
#define LV_STORE_SQLITE_H

/* The text of the backend's i-th prepared statement (NULL past the last), for query-plan checks. */
const char *lv_store_sqlite_statement(int i);

#endif
