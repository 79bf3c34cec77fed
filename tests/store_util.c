#include "store_util.h"
#include "util/error.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef LV_WITH_POSTGRES
#include <libpq-fe.h>
#endif

/* A fixed master key for a test run on PostgreSQL (every process of the run shares it). */
#define TEST_MASTER_KEY "bHYtdGVzdC1tYXN0ZXIta2V5LWZvci1wb3N0Z3Jlc3FsLXJ1bnM="

const char *lv_test_pg_server(void)
{
	const char *s = getenv("LV_TEST_STORE");
	return s && !strncmp(s, "postgres", 8) ? s : NULL;
}

#ifdef LV_WITH_POSTGRES
static int pg_sql(const char *url, const char *sql, char **out)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	int rc = -1;
	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK) {
			rc = 0;
			if (out)
				*out = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? lv_strdup(PQgetvalue(r, 0, 0)) : NULL;
		} else {
			fprintf(stderr, "sql: %s", PQerrorMessage(c));
		}
		PQclear(r);
	} else {
		fprintf(stderr, "connect: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return rc;
}
#endif

char *lv_test_fresh_store(const char *pg_server, const char *dir)
{
	static int counter; /* per process: names stay unique with the pid */
	if (!pg_server)
		return lv_asprintf("sqlite:%s/store%d.db", dir, counter++);
#ifdef LV_WITH_POSTGRES
	{
		char name[64], sql[128];
		unsigned r = (unsigned)rand();
		snprintf(name, sizeof(name), "lvt_%ld_%d_%u", (long)getpid(), counter++, r % 100000u);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
		if (pg_sql(pg_server, sql, NULL))
			return NULL;
		return lv_asprintf("%s%sdbname=%s", pg_server, strchr(pg_server, '?') ? "&" : "?", name);
	}
#else
	return NULL;
#endif
}

char *lv_test_config_with_store(const char *json, const char *dir)
{
	const char *pg = lv_test_pg_server();
	cJSON *o;
	char *spec, *text;
	if (!pg)
		return lv_strdup(json ? json : "{}");
	setenv("LV_MASTER_KEY", TEST_MASTER_KEY, 0);
	if (!(o = cJSON_Parse(json ? json : "{}")) || !(spec = lv_test_fresh_store(pg, dir))) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, "store");
	cJSON_AddStringToObject(o, "store", spec);
	free(spec);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int lv_test_store_sql(const char *spec, const char *sql, char **out)
{
	if (out)
		*out = NULL;
	if (!strncmp(spec, "sqlite:", 7)) {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		int rc = -1, s;
		if (sqlite3_open_v2(spec + 7, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			s = sqlite3_step(st);
			if (s == SQLITE_ROW || s == SQLITE_DONE) {
				rc = 0;
				if (out && s == SQLITE_ROW && sqlite3_column_text(st, 0))
					*out = lv_strdup((const char *)sqlite3_column_text(st, 0));
			}
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
		return rc;
	}
#ifdef LV_WITH_POSTGRES
	return pg_sql(spec, sql, out);
#else
	return -1;
#endif
}
