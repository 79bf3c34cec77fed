/*
 * lvctl as a program: every command's output and exit code, good and bad.
 * Each test runs build/bin/lvctl in its own data directory and reads the
 * store back through the library where the output alone would not prove it.
 */
#include "harness.h"
#include "testutil.h"
#include "longvideo.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------- */

/* Run lvctl with "--data-dir DIR" (when dir is not NULL) and then the NULL-terminated arguments. */
static void ctl_env(lv_test_run *r, const char *dir, const char *const *env, ...)
{
	const char *argv[64];
	int argc = 0;
	va_list ap;
	if (dir) {
		argv[argc++] = "--data-dir";
		argv[argc++] = dir;
	}
	va_start(ap, env);
	for (;;) {
		const char *a = va_arg(ap, const char *);
		ck_assert_int_lt(argc, 63);
		argv[argc++] = a;
		if (!a)
			break;
	}
	va_end(ap);
	ck_assert_int_eq(lv_test_exec(r, "lvctl", argv, NULL, env), 0);
}

#define ctl(r, dir, ...) ctl_env((r), (dir), NULL, __VA_ARGS__, (const char *)NULL)
#define ctl_e(r, dir, env, ...) ctl_env((r), (dir), (env), __VA_ARGS__, (const char *)NULL)

/* Assert an exit code, showing the output when it differs. */
#define ck_exit(r, code)                                                                                    \
	ck_assert_msg((r)->exit_code == (code), "exit %d, expected %d\nstdout: %s\nstderr: %s", (r)->exit_code, \
	              (code), (r)->out, (r)->err)

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Line i (0-based) of s, copied into buf. */
static char *line_of(const char *s, int i, char *buf, size_t cap)
{
	while (i-- > 0) {
		s = strchr(s, '\n');
		ck_assert_ptr_nonnull(s);
		s++;
	}
	{
		size_t n = strcspn(s, "\n");
		ck_assert_uint_lt(n, cap);
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	return buf;
}

static int matches(const char *pattern, const char *text)
{
	regex_t re;
	int ok;
	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* stdout as exactly one JSON document on one line. */
static cJSON *json_doc(const lv_test_run *r)
{
	cJSON *j;
	ck_assert_msg(count_lines(r->out) == 1, "expected one line of JSON, got: %s", r->out);
	j = cJSON_Parse(r->out);
	ck_assert_msg(j != NULL, "not JSON: %s", r->out);
	return j;
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsString(v), "%s: not a string", name);
	return v->valuestring;
}

static double jnum(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsNumber(v), "%s: not a number", name);
	return v->valuedouble;
}

static int jbool(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsBool(v), "%s: not a boolean", name);
	return cJSON_IsTrue(v);
}

static void jnull(const cJSON *o, const char *name)
{
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, name)), "%s: not null", name);
}

/* The error document printed with --json: {"error":{"code","message"[,"details"]}}; returns the code. */
static void expect_json_error(const lv_test_run *r, const char *code, const char *message_part)
{
	cJSON *j = json_doc(r);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	ck_assert(cJSON_IsObject(e));
	ck_assert_str_eq(jstr(e, "code"), code);
	ck_assert_ptr_nonnull(strstr(jstr(e, "message"), message_part));
	cJSON_Delete(j);
	ck_assert_ptr_nonnull(strstr(r->err, "lvctl: "));
}

typedef struct test_key {
	char secret[64];
	char id[64];
} test_key;

/* Create a key with `credits` through lvctl --json. */
static void make_key(test_key *k, const char *dir, const char *credits)
{
	lv_test_run r;
	cJSON *j;
	memset(k, 0, sizeof(*k));
	ctl(&r, dir, "--json", "keys", "create", "--name", "test key", "--credits", credits);
	ck_exit(&r, 0);
	j = json_doc(&r);
	snprintf(k->secret, sizeof(k->secret), "%s", jstr(j, "api_key"));
	snprintf(k->id, sizeof(k->id), "%s", jstr(j, "id"));
	cJSON_Delete(j);
	lv_test_run_free(&r);
}

/* Create a task as key k (--json) and return its id in id[64]. */
static void make_task(char *id, const char *dir, const test_key *k, const char *duration)
{
	lv_test_run r;
	cJSON *j;
	ctl(&r, dir, "--json", "create", "--key", k->secret, "--prompt", "a lighthouse at dawn", "--duration", duration);
	ck_exit(&r, 0);
	j = json_doc(&r);
	snprintf(id, 64, "%s", jstr(j, "task_id"));
	cJSON_Delete(j);
	lv_test_run_free(&r);
}

/* The key's credits read through lvctl --json credits. */
static void credits_of(const char *dir, const test_key *k, double *balance, double *reserved)
{
	lv_test_run r;
	cJSON *j;
	ctl(&r, dir, "--json", "credits", "--key-id", k->id);
	ck_exit(&r, 0);
	j = json_doc(&r);
	*balance = jnum(j, "balance");
	*reserved = jnum(j, "reserved");
	cJSON_Delete(j);
	lv_test_run_free(&r);
}

/* The ledger invariant, checked through the library on the same store. */
static void ledger_holds(const char *dir)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	char *report = NULL;
	int rc;
	o.data_dir = dir;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	rc = lv_ledger_verify(e, &report);
	ck_assert_msg(rc == LV_OK, "ledger: %s", report ? report : lv_error_last()->message);
	lv_free(report);
	lv_engine_close(e);
}

/* Mark segments [from, to) of a task ready, as a worker would have. */
static void segments_ready(const char *dir, const char *task_id, int from, int to)
{
	char *path = lv_asprintf("%s/longvideo.db", dir), *sql;
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sql = lv_asprintf("UPDATE segments SET status = 'ready' WHERE task_id = '%s' AND idx >= %d AND idx < %d",
	                  task_id, from, to);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_changes(db), to - from);
	sqlite3_close(db);
	free(sql);
	free(path);
}

/* ---- global options, help, usage errors ------------------------------------------------------- */

START_TEST(version_and_help)
{
	static const char *const commands[] = { "keys", "estimate", "create", "list", "get", "cancel",
		                                "compose", "credits", NULL };
	lv_test_run r;
	size_t i;

	ctl(&r, NULL, "--version");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, LV_VERSION));
	lv_test_run_free(&r);

	ctl(&r, NULL, "--help");
	ck_exit(&r, 0);
	for (i = 0; commands[i]; i++)
		ck_assert_msg(strstr(r.out, commands[i]) != NULL, "--help lacks %s", commands[i]);
	ck_assert_ptr_nonnull(strstr(r.out, "exit codes"));
	ck_assert_ptr_nonnull(strstr(r.out, "8  configuration error"));
	ck_assert_ptr_nonnull(strstr(r.out, "LV_API_KEY"));
	lv_test_run_free(&r);

	for (i = 0; commands[i]; i++) {
		ctl(&r, NULL, commands[i], "--help");
		ck_exit(&r, 0);
		ck_assert_ptr_nonnull(strstr(r.out, "usage: lvctl"));
		lv_test_run_free(&r);
	}
	ctl(&r, NULL, "create", "--help");
	ck_assert_ptr_nonnull(strstr(r.out, "--idempotency-key"));
	ck_assert_ptr_nonnull(strstr(r.out, "--key-id"));
	lv_test_run_free(&r);
	ctl(&r, NULL, "keys", "create", "--help");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--credits C"));
	lv_test_run_free(&r);

	/* No command: usage on stderr, exit 2. */
	ctl(&r, NULL, "--json");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "usage: lvctl"));
	lv_test_run_free(&r);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	char *dir = lv_test_mkdtemp("cli");
	lv_test_run r;
	test_key k;

	ctl(&r, dir, "frobnicate");
	ck_exit(&r, 2);
	ck_assert_str_eq(r.err, "lvctl: unknown command 'frobnicate' (see lvctl --help)\n");
	ck_assert_str_eq(r.out, "");
	lv_test_run_free(&r);

	ctl(&r, dir, "--json", "frobnicate");
	ck_exit(&r, 2);
	expect_json_error(&r, "usage_error", "unknown command 'frobnicate'");
	lv_test_run_free(&r);

	ctl(&r, dir, "--verbose", "list");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--verbose'"));
	lv_test_run_free(&r);

	ctl(&r, dir, "list", "--bogus");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "list: unknown option --bogus"));
	lv_test_run_free(&r);

	/* Global options are taken anywhere on the line: --json after the command is machine output too. */
	make_key(&k, dir, "10");
	ctl(&r, dir, "list", "--key", k.secret, "--json");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"object\":\"list\""));
	lv_test_run_free(&r);

	/* -h, --help and "help CMD" print help and exit 0; "help" of an unknown command is a usage error. */
	ctl(&r, dir, "get", "-h");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: lvctl [global options] get"));
	lv_test_run_free(&r);
	ctl(&r, dir, "help", "create");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: lvctl [global options] create"));
	lv_test_run_free(&r);
	ctl(&r, dir, "-h");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "commands:"));
	lv_test_run_free(&r);
	ctl(&r, dir, "help", "frobnicate");
	ck_exit(&r, 2);
	lv_test_run_free(&r);

	/* Options may follow the positional arguments; a switch given a value is refused by name. */
	ctl(&r, dir, "get", "vid_doesnotexist", "--key", k.secret);
	ck_exit(&r, 6);
	lv_test_run_free(&r);
	ctl(&r, dir, "generate", "--quiet=yes", "--prompt", "x", "--duration", "5");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--quiet takes no value"));
	lv_test_run_free(&r);

	ctl(&r, dir, "get");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "get: missing task ID"));
	lv_test_run_free(&r);

	ctl(&r, dir, "get", "vid_a", "vid_b");
	ck_exit(&r, 2);
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--prompt");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--prompt needs a value"));
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--prompt", "x");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--duration is required"));
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--prompt", "x", "--duration", "ten");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--duration: 'ten' is not an integer"));
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--prompt", "x", "--duration", "10", "--metadata", "novalue");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--metadata: expected KEY=VALUE"));
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--no-music=yes", "--prompt", "x", "--duration", "10");
	ck_exit(&r, 2);
	lv_test_run_free(&r);

	ctl(&r, dir, "keys");
	ck_exit(&r, 2);
	lv_test_run_free(&r);
	ctl(&r, dir, "keys", "delete", "key_x");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown subcommand 'delete'"));
	lv_test_run_free(&r);

	ctl(&r, dir, "keys", "create", "--name", "n", "--credits", "1.0625");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--credits: '1.0625'"));
	lv_test_run_free(&r);
	ctl(&r, dir, "keys", "create", "--credits", "5");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--name is required"));
	lv_test_run_free(&r);

	make_key(&k, dir, "10");
	ctl(&r, dir, "compose", "vid_x", "--key-id", k.id, "--narration", "maybe");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--narration: must be on or off"));
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key", k.secret, "--key-id", k.id);
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "not both"));
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key-id", k.id, "--limit", "many");
	ck_exit(&r, 2);
	lv_test_run_free(&r);

	/* Usage errors are found before anything is opened: no key, no task was created. */
	ctl(&r, dir, "--json", "list", "--key-id", k.id);
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"data\":[]"));
	lv_test_run_free(&r);

	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- keys ------------------------------------------------------------------------------ */

START_TEST(keys_create_prints_key_and_secret_once)
{
	char *dir = lv_test_mkdtemp("cli");
	char key[128], secret[128], prefix[16];
	unsigned char raw[64];
	lv_test_run r;
	cJSON *j;

	ctl(&r, dir, "keys", "create", "--name", "ops", "--credits", "100");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 2);
	line_of(r.out, 0, key, sizeof(key));
	line_of(r.out, 1, secret, sizeof(secret));
	ck_assert_msg(matches("^sk-[A-Za-z0-9]{40}$", key), "key line: %s", key);
	ck_assert_msg(matches("^whsec_[A-Za-z0-9+/]+=*$", secret), "secret line: %s", secret);
	ck_assert_int_eq(lv_base64_decode(raw, secret + 6, strlen(secret + 6)), 32);
	/* The key id and a reminder go to stderr, never the secrets. */
	ck_assert_ptr_nonnull(strstr(r.err, "key_"));
	ck_assert_ptr_nonnull(strstr(r.err, "only once"));
	ck_assert_ptr_null(strstr(r.err, key));
	ck_assert_ptr_null(strstr(r.err, secret));
	lv_test_run_free(&r);

	/* keys list: the table, with the key's prefix and no secret. */
	ctl(&r, dir, "keys", "list");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 2);
	ck_assert_msg(matches("^ID +NAME +PREFIX +BALANCE +RESERVED +STATUS\n", r.out), "%s", r.out);
	snprintf(prefix, sizeof(prefix), "%.11s", key);
	ck_assert_msg(matches("\nkey_[A-Za-z0-9]+ +ops +sk-[A-Za-z0-9]{8} +100 +0 +active\n", r.out), "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, prefix));
	ck_assert_ptr_null(strstr(r.out, key));
	lv_test_run_free(&r);

	/* --json: the key's JSON, with the plaintext only at creation. */
	ctl(&r, dir, "--json", "keys", "create", "--name", "batch", "--credits", "12.345");
	ck_exit(&r, 0);
	j = json_doc(&r);
	ck_assert_str_eq(jstr(j, "object"), "api_key");
	ck_assert_str_eq(jstr(j, "name"), "batch");
	ck_assert(matches("^key_", jstr(j, "id")));
	ck_assert(matches("^sk-[A-Za-z0-9]{40}$", jstr(j, "api_key")));
	ck_assert(matches("^whsec_", jstr(j, "webhook_secret")));
	ck_assert_double_eq(jnum(j, "balance"), 12.345);
	ck_assert_double_eq(jnum(j, "reserved"), 0);
	ck_assert(!jbool(j, "revoked"));
	cJSON_Delete(j);
	lv_test_run_free(&r);

	ctl(&r, dir, "--json", "keys", "list");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 2);
	ck_assert_ptr_null(strstr(r.out, "\"api_key\":"));
	ck_assert_ptr_null(strstr(r.out, "webhook_secret"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"balance\":12.345"));
	lv_test_run_free(&r);

	/* The library validates the name. */
	{
		char longname[102];
		memset(longname, 'n', 101);
		longname[101] = '\0';
		ctl(&r, dir, "keys", "create", "--name", longname, "--credits", "1");
		ck_exit(&r, 3);
		ck_assert_str_eq(r.err, "lvctl: name: must be 1 to 100 characters\n");
		ck_assert_str_eq(r.out, "");
		lv_test_run_free(&r);
	}

	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* lv_key_create() itself: the webhook secret is "whsec_" + base64 of 32 bytes (50 characters; its
 * buffer once had room for 48, which the sanitizer build caught). */
START_TEST(library_key_secrets_are_whole)
{
	char *dir = lv_test_mkdtemp("cli");
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_key *k = NULL;
	unsigned char raw[64];
	const char *whsec;
	o.data_dir = dir;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	ck_assert_int_eq(lv_key_create(&k, e, "library", 1000), LV_OK);
	whsec = lv_key_webhook_secret(k);
	ck_assert_int_eq(strlen(whsec), 50);
	ck_assert_int_eq(strncmp(whsec, "whsec_", 6), 0);
	ck_assert_int_eq(lv_base64_decode(raw, whsec + 6, 44), 32);
	ck_assert(matches("^sk-[A-Za-z0-9]{40}$", lv_key_secret(k)));
	ck_assert_str_eq(lv_key_name(k), "library");
	lv_key_free(k);
	lv_engine_close(e);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(keys_grant_and_revoke)
{
	char *dir = lv_test_mkdtemp("cli");
	lv_test_run r;
	test_key k;
	cJSON *j;

	make_key(&k, dir, "100");
	ctl(&r, dir, "keys", "grant", k.id, "50.5");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "granted: balance 150.5 reserved 0"));
	lv_test_run_free(&r);

	ctl(&r, dir, "--json", "keys", "grant", k.id, "0.125");
	ck_exit(&r, 0);
	j = json_doc(&r);
	ck_assert_double_eq(jnum(j, "balance"), 150.625);
	ck_assert_double_eq(jnum(j, "granted"), 150.625);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "api_key"));
	cJSON_Delete(j);
	lv_test_run_free(&r);

	ctl(&r, dir, "keys", "grant", k.id, "0");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "credits: must be more than 0"));
	lv_test_run_free(&r);
	ctl(&r, dir, "keys", "grant", k.id, "-5");
	ck_exit(&r, 2);
	lv_test_run_free(&r);
	ctl(&r, dir, "keys", "grant", "key_doesnotexist", "5");
	ck_exit(&r, 6);
	ck_assert_ptr_nonnull(strstr(r.err, "no key with id 'key_doesnotexist'"));
	lv_test_run_free(&r);
	ctl(&r, dir, "keys", "grant", k.id);
	ck_exit(&r, 2);
	lv_test_run_free(&r);

	/* The key works, then is revoked and no longer authenticates. */
	ctl(&r, dir, "credits", "--key", k.secret);
	ck_exit(&r, 0);
	ck_assert_str_eq(r.out, "balance   150.625\nreserved  0\n");
	lv_test_run_free(&r);

	ctl(&r, dir, "keys", "revoke", k.id);
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "revoked"));
	lv_test_run_free(&r);
	ctl(&r, dir, "keys", "revoke", k.id); /* twice is fine */
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	ctl(&r, dir, "keys", "revoke", "key_doesnotexist");
	ck_exit(&r, 6);
	lv_test_run_free(&r);

	ctl(&r, dir, "credits", "--key", k.secret);
	ck_exit(&r, 4);
	ck_assert_str_eq(r.err, "lvctl: the API key is unknown or revoked\n");
	lv_test_run_free(&r);
	ctl(&r, dir, "--json", "create", "--key", k.secret, "--prompt", "x", "--duration", "3");
	ck_exit(&r, 4);
	expect_json_error(&r, "invalid_api_key", "revoked");
	lv_test_run_free(&r);

	ctl(&r, dir, "keys", "list");
	ck_exit(&r, 0);
	ck_assert_msg(matches("150.625 +0 +revoked\n", r.out), "%s", r.out);
	lv_test_run_free(&r);

	/* An operator still reaches a revoked key by id. */
	ctl(&r, dir, "credits", "--key-id", k.id);
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	ledger_holds(dir);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- estimate ----------------------------------------------------------------------------- */

static cJSON *estimate_json(const char *duration, const char *resolution)
{
	lv_test_run r;
	cJSON *j;
	if (resolution)
		ctl(&r, NULL, "--json", "estimate", "--duration", duration, "--resolution", resolution);
	else
		ctl(&r, NULL, "--json", "estimate", "--duration", duration);
	ck_exit(&r, 0);
	j = json_doc(&r);
	lv_test_run_free(&r);
	ck_assert_str_eq(jstr(j, "object"), "estimate");
	return j;
}

static void expect_segments(const cJSON *j, const int *lengths, int n)
{
	const cJSON *segs = cJSON_GetObjectItemCaseSensitive(j, "segments");
	int i, start = 0;
	ck_assert_int_eq(cJSON_GetArraySize(segs), n);
	ck_assert_int_eq((int)jnum(j, "shots_total"), n);
	for (i = 0; i < n; i++) {
		const cJSON *s = cJSON_GetArrayItem(segs, i);
		ck_assert_int_eq((int)jnum(s, "index"), i);
		ck_assert_int_eq((int)jnum(s, "start"), start);
		ck_assert_int_eq((int)jnum(s, "duration"), lengths[i]);
		ck_assert_int_eq((int)jnum(s, "billed_seconds"), lengths[i]);
		start += lengths[i];
	}
}

START_TEST(estimate_matches_the_billing_rules)
{
	static const int l60[] = { 8, 8, 8, 8, 7, 7, 7, 7 }, l17[] = { 6, 6, 5 }, l3[] = { 3 };
	char *dir = lv_test_mkdtemp("cli"), *nostore = lv_asprintf("%s/never-created", dir);
	lv_test_run r;
	cJSON *j;

	j = estimate_json("60", NULL);
	ck_assert_double_eq(jnum(j, "cost_estimate"), 1650);
	ck_assert_str_eq(jstr(j, "resolution"), "720p");
	ck_assert_str_eq(jstr(j, "provider"), "local");
	expect_segments(j, l60, 8);
	ck_assert_double_eq(jnum(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "segments"), 0), "price"), 220);
	ck_assert_double_eq(jnum(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "segments"), 7), "price"),
	                    192.5);
	cJSON_Delete(j);

	j = estimate_json("3", NULL);
	ck_assert_double_eq(jnum(j, "cost_estimate"), 82.5);
	expect_segments(j, l3, 1);
	cJSON_Delete(j);

	j = estimate_json("180", "1080p");
	ck_assert_double_eq(jnum(j, "cost_estimate"), 8496);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "segments")), 23);
	cJSON_Delete(j);

	j = estimate_json("17", NULL);
	expect_segments(j, l17, 3);
	ck_assert_double_eq(jnum(j, "cost_estimate"), 467.5);
	cJSON_Delete(j);

	/* Human output: the plan and the total; no store is needed or created. */
	ctl(&r, nostore, "estimate", "--duration", "17");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "segments    3 (6+6+5 s)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "billed      17 s\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "estimate    467.5 credits\n"));
	ck_assert_msg(matches("\n +2 +12 +5 +5 +137.5\n", r.out), "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "\ntotal 467.5\n"));
	lv_test_run_free(&r);
	ck_assert_int_ne(access(nostore, F_OK), 0);

	ctl(&r, NULL, "estimate", "--duration", "60");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "segments    8 (8+8+8+8+7+7+7+7 s)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "estimate    1650 credits\n"));
	lv_test_run_free(&r);

	ctl(&r, NULL, "estimate", "--duration", "180", "--resolution", "1080p", "--aspect-ratio", "9:16");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "estimate    8496 credits\n"));
	lv_test_run_free(&r);

	/* Values the library rejects: exit 3 and the field named first. */
	ctl(&r, NULL, "estimate", "--duration", "2");
	ck_exit(&r, 3);
	ck_assert_str_eq(r.err, "lvctl: duration: must be an integer from 3 to 180\n");
	lv_test_run_free(&r);
	ctl(&r, NULL, "estimate", "--duration", "181");
	ck_exit(&r, 3);
	lv_test_run_free(&r);
	ctl(&r, NULL, "estimate", "--duration", "0");
	ck_exit(&r, 3);
	lv_test_run_free(&r);
	ctl(&r, NULL, "--json", "estimate", "--duration", "10", "--resolution", "4k");
	ck_exit(&r, 3);
	expect_json_error(&r, "invalid_request", "resolution:");
	lv_test_run_free(&r);
	ctl(&r, NULL, "estimate", "--duration", "10", "--aspect-ratio", "4:3");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "aspect_ratio:"));
	lv_test_run_free(&r);
	ctl(&r, NULL, "estimate", "--duration", "10", "--provider", "nope");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "provider: 'nope'"));
	lv_test_run_free(&r);

	lv_test_rmdir(dir);
	free(nostore);
	free(dir);
}
END_TEST

START_TEST(storyboard_is_written_without_a_task)
{
	static const int l17[] = { 6, 6, 5 };
	char *dir = lv_test_mkdtemp("cli"), *nostore = lv_asprintf("%s/never-created", dir);
	const cJSON *shots, *s;
	lv_test_run r;
	cJSON *j;
	int i = 0;

	/* --json: the storyboard, its shots planned as a 17 s task would be (6+6+5 s). */
	ctl(&r, nostore, "--json", "storyboard", "--prompt", "A lighthouse keeper befriends a storm", "--duration", "17");
	ck_exit(&r, 0);
	j = json_doc(&r);
	ck_assert_ptr_nonnull(jstr(j, "title"));
	ck_assert_ptr_nonnull(jstr(j, "style"));
	shots = cJSON_GetObjectItemCaseSensitive(j, "shots");
	ck_assert_int_eq(cJSON_GetArraySize(shots), 3);
	cJSON_ArrayForEach(s, shots)
	{
		ck_assert_double_eq(jnum(s, "index"), i);
		ck_assert_double_eq(jnum(s, "duration"), l17[i]);
		ck_assert_ptr_nonnull(jstr(s, "visual"));
		i++;
	}
	cJSON_Delete(j);
	lv_test_run_free(&r);
	/* No store, no task. */
	ck_assert_int_ne(access(nostore, F_OK), 0);

	/* Text: the title, then one paragraph per shot with its times. */
	ctl(&r, nostore, "storyboard", "--prompt", "Two robots build a snowman", "--duration", "12");
	ck_exit(&r, 0);
	ck_assert_msg(matches("^[^\n]+\nStyle: ", r.out), "%s", r.out);
	ck_assert_msg(matches("\nShot 1 \\(0-6 s\\)", r.out), "%s", r.out);
	ck_assert_msg(matches("\nShot 2 \\(6-12 s\\)", r.out), "%s", r.out);
	ck_assert_ptr_null(strstr(r.out, "Shot 3"));
	lv_test_run_free(&r);

	/* Usage and values: the option or field named. */
	ctl(&r, nostore, "storyboard", "--duration", "12");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--prompt"));
	lv_test_run_free(&r);
	ctl(&r, nostore, "storyboard", "--prompt", "x", "--duration", "2");
	ck_exit(&r, 3);
	ck_assert_str_eq(r.err, "lvctl: duration: must be an integer from 3 to 180\n");
	lv_test_run_free(&r);
	ctl(&r, nostore, "storyboard", "--prompt", "x", "--duration", "9", "--aspect-ratio", "4:3");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "aspect_ratio:"));
	lv_test_run_free(&r);
	ck_assert_int_ne(access(nostore, F_OK), 0);

	lv_test_rmdir(dir);
	free(nostore);
	free(dir);
}
END_TEST

/* ---- task commands ------------------------------------------------------------------------- */

START_TEST(created_key_authenticates)
{
	char *dir = lv_test_mkdtemp("cli"), key[128], env_key[160];
	const char *env[] = { env_key, NULL };
	lv_test_run r;

	ctl(&r, dir, "keys", "create", "--name", "human", "--credits", "5000");
	ck_exit(&r, 0);
	line_of(r.out, 0, key, sizeof(key));
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--key", key, "--prompt", "a lighthouse at dawn", "--duration", "60");
	ck_exit(&r, 0);
	ck_assert_msg(matches("^vid_[A-Za-z0-9]+ queued 0% 0/8 shots est 1650\n$", r.out), "%s", r.out);
	lv_test_run_free(&r);

	/* $LV_API_KEY stands in for --key. */
	snprintf(env_key, sizeof(env_key), "LV_API_KEY=%s", key);
	ctl_e(&r, dir, env, "create", "--prompt", "a second film", "--duration", "3");
	ck_exit(&r, 0);
	ck_assert(matches("^vid_[A-Za-z0-9]+ queued 0% 0/1 shots est 82.5\n$", r.out));
	lv_test_run_free(&r);
	ctl_e(&r, dir, env, "credits");
	ck_exit(&r, 0);
	ck_assert_str_eq(r.out, "balance   3267.5\nreserved  1732.5\n");
	lv_test_run_free(&r);

	/* Missing, malformed and unknown keys: exit 4. */
	ctl(&r, dir, "list");
	ck_exit(&r, 4);
	ck_assert_ptr_nonnull(strstr(r.err, "no API key"));
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key", "sk-short");
	ck_exit(&r, 4);
	ck_assert_ptr_nonnull(strstr(r.err, "malformed"));
	lv_test_run_free(&r);
	ctl(&r, dir, "--json", "list", "--key", "sk-0123456789012345678901234567890123456789");
	ck_exit(&r, 4);
	expect_json_error(&r, "invalid_api_key", "unknown or revoked");
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key-id", "key_doesnotexist");
	ck_exit(&r, 6);
	lv_test_run_free(&r);

	ctl(&r, dir, "list", "--key", key);
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 2);
	lv_test_run_free(&r);
	ledger_holds(dir);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static void expect_task_shape(const cJSON *t)
{
	static const char *const fields[] = { "task_id", "object", "status", "progress", "shots_done", "shots_total",
		                              "prompt", "duration", "resolution", "aspect_ratio", "provider",
		                              "language", "narration", "music", "subtitles", "cost_estimate",
		                              "cost_actual", "result_url", "subtitles_url", "thumbnail_url",
		                              "error", "metadata", "webhook_url", "created_at", "updated_at",
		                              "completed_at", NULL };
	size_t i;
	for (i = 0; fields[i]; i++)
		ck_assert_msg(cJSON_HasObjectItem(t, fields[i]), "task lacks %s", fields[i]);
	ck_assert(matches("^vid_[A-Za-z0-9]+$", jstr(t, "task_id")));
	ck_assert_str_eq(jstr(t, "object"), "video");
	ck_assert(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$", jstr(t, "created_at")));
	ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t, "metadata")));
}

START_TEST(json_output_matches_the_api)
{
	char *dir = lv_test_mkdtemp("cli"), id[64];
	lv_test_run r;
	test_key k;
	cJSON *j, *m;

	make_key(&k, dir, "10000");
	ctl(&r, dir, "--json", "create", "--key", k.secret, "--prompt", "  城市清晨的延时风光  ", "--duration", "60");
	ck_exit(&r, 0);
	j = json_doc(&r);
	expect_task_shape(j);
	ck_assert_str_eq(jstr(j, "status"), "queued");
	ck_assert_int_eq((int)jnum(j, "progress"), 0);
	ck_assert_int_eq((int)jnum(j, "shots_done"), 0);
	ck_assert_int_eq((int)jnum(j, "shots_total"), 8);
	ck_assert_str_eq(jstr(j, "prompt"), "城市清晨的延时风光");
	ck_assert_int_eq((int)jnum(j, "duration"), 60);
	ck_assert_str_eq(jstr(j, "resolution"), "720p");
	ck_assert_str_eq(jstr(j, "aspect_ratio"), "16:9");
	ck_assert_str_eq(jstr(j, "provider"), "local");
	ck_assert_str_eq(jstr(j, "language"), "zh");
	ck_assert(jbool(j, "narration"));
	ck_assert(jbool(j, "music"));
	ck_assert_str_eq(jstr(j, "subtitles"), "soft");
	ck_assert_double_eq(jnum(j, "cost_estimate"), 1650);
	jnull(j, "cost_actual");
	jnull(j, "result_url");
	jnull(j, "error");
	jnull(j, "webhook_url");
	jnull(j, "completed_at");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "shots"));
	snprintf(id, sizeof(id), "%s", jstr(j, "task_id"));
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* Every create option reaches the task. */
	ctl(&r, dir, "--json", "create", "--key", k.secret, "--prompt", "a fox in the snow", "--duration", "10",
	    "--resolution", "1080p", "--aspect-ratio", "9:16", "--provider", "local", "--language", "fr",
	    "--no-narration", "--no-music", "--subtitles", "burn", "--webhook-url", "https://example.com/hook",
	    "--metadata", "user_ref=u-42", "--metadata", "note=say \"hi\"\tthere", "--metadata=empty=");
	ck_exit(&r, 0);
	j = json_doc(&r);
	expect_task_shape(j);
	ck_assert_str_eq(jstr(j, "resolution"), "1080p");
	ck_assert_str_eq(jstr(j, "aspect_ratio"), "9:16");
	ck_assert_str_eq(jstr(j, "language"), "fr");
	ck_assert(!jbool(j, "narration"));
	ck_assert(!jbool(j, "music"));
	ck_assert_str_eq(jstr(j, "subtitles"), "burn");
	ck_assert_str_eq(jstr(j, "webhook_url"), "https://example.com/hook");
	ck_assert_double_eq(jnum(j, "cost_estimate"), 472);
	m = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	ck_assert_int_eq(cJSON_GetArraySize(m), 3);
	ck_assert_str_eq(jstr(m, "user_ref"), "u-42");
	ck_assert_str_eq(jstr(m, "note"), "say \"hi\"\tthere");
	ck_assert_str_eq(jstr(m, "empty"), "");
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* get: the Get form, with shots. */
	ctl(&r, dir, "--json", "get", id, "--key", k.secret);
	ck_exit(&r, 0);
	j = json_doc(&r);
	expect_task_shape(j);
	ck_assert_str_eq(jstr(j, "task_id"), id);
	{
		const cJSON *shots = cJSON_GetObjectItemCaseSensitive(j, "shots");
		ck_assert_int_eq(cJSON_GetArraySize(shots), 8);
		ck_assert_int_eq((int)jnum(cJSON_GetArrayItem(shots, 4), "start"), 32);
		ck_assert_int_eq((int)jnum(cJSON_GetArrayItem(shots, 4), "duration"), 7);
		ck_assert_str_eq(jstr(cJSON_GetArrayItem(shots, 4), "status"), "pending");
	}
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* get, human. */
	ctl(&r, dir, "get", id, "--key", k.secret);
	ck_exit(&r, 0);
	ck_assert_msg(matches("^vid_[A-Za-z0-9]+ queued 0% 0/8 shots est 1650\nprompt    城市清晨的延时风光\n"
	                      "duration  60 s\n$",
	                      r.out),
	              "%s", r.out);
	lv_test_run_free(&r);

	/* list: the list document. */
	ctl(&r, dir, "--json", "list", "--key", k.secret);
	ck_exit(&r, 0);
	j = json_doc(&r);
	ck_assert_str_eq(jstr(j, "object"), "list");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")), 2);
	expect_task_shape(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "data"), 1));
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "data"), 1), "task_id"), id);
	ck_assert(!jbool(j, "has_more"));
	jnull(j, "next_cursor");
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* credits: the document of GET /v1/credits. */
	ctl(&r, dir, "--json", "credits", "--key", k.secret);
	ck_exit(&r, 0);
	j = json_doc(&r);
	ck_assert_str_eq(jstr(j, "object"), "credits");
	ck_assert_double_eq(jnum(j, "balance"), 10000 - 1650 - 472);
	ck_assert_double_eq(jnum(j, "reserved"), 1650 + 472);
	ck_assert_str_eq(jstr(j, "currency"), "credits");
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* Request values the library rejects: exit 3, field named. */
	ctl(&r, dir, "--json", "create", "--key", k.secret, "--prompt", "x", "--duration", "10", "--webhook-url",
	    "ftp://example.com");
	ck_exit(&r, 3);
	expect_json_error(&r, "invalid_request", "webhook_url:");
	lv_test_run_free(&r);
	ctl(&r, dir, "create", "--key", k.secret, "--prompt", "   ", "--duration", "10");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "lvctl: prompt:"));
	lv_test_run_free(&r);
	ctl(&r, dir, "create", "--key", k.secret, "--prompt", "x", "--duration", "10", "--subtitles", "loud");
	ck_exit(&r, 3);
	lv_test_run_free(&r);
	ctl(&r, dir, "get", "vid_doesnotexist", "--key", k.secret);
	ck_exit(&r, 6);
	ck_assert_str_eq(r.err, "lvctl: task_id: no task 'vid_doesnotexist' for this API key\n");
	lv_test_run_free(&r);
	ctl(&r, dir, "--json", "get", "vid_doesnotexist", "--key", k.secret);
	ck_exit(&r, 6);
	expect_json_error(&r, "task_not_found", "vid_doesnotexist");
	lv_test_run_free(&r);

	ledger_holds(dir);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(insufficient_credits_creates_nothing)
{
	char *dir = lv_test_mkdtemp("cli");
	lv_test_run r;
	test_key k;
	double balance, reserved;
	cJSON *j, *d;

	make_key(&k, dir, "100");
	ctl(&r, dir, "create", "--key", k.secret, "--prompt", "too long a film", "--duration", "60");
	ck_exit(&r, 5);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "lvctl: credits: the task costs 1650 credits and the balance is 100\n");
	lv_test_run_free(&r);

	ctl(&r, dir, "--json", "create", "--key", k.secret, "--prompt", "too long a film", "--duration", "60");
	ck_exit(&r, 5);
	j = json_doc(&r);
	d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "details");
	ck_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(j, "error"), "code"), "insufficient_credits");
	ck_assert_double_eq(jnum(d, "cost_estimate"), 1650);
	ck_assert_double_eq(jnum(d, "balance"), 100);
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* Nothing was created or charged. */
	ctl(&r, dir, "--json", "list", "--key", k.secret);
	ck_exit(&r, 0);
	j = json_doc(&r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")), 0);
	cJSON_Delete(j);
	lv_test_run_free(&r);
	credits_of(dir, &k, &balance, &reserved);
	ck_assert_double_eq(balance, 100);
	ck_assert_double_eq(reserved, 0);

	/* What fits still works: 3 s is 82.5. */
	ctl(&r, dir, "create", "--key", k.secret, "--prompt", "short", "--duration", "3");
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	credits_of(dir, &k, &balance, &reserved);
	ck_assert_double_eq(balance, 17.5);
	ck_assert_double_eq(reserved, 82.5);
	ledger_holds(dir);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(idempotency_key_replays)
{
	char *dir = lv_test_mkdtemp("cli"), first[128], second[128];
	lv_test_run r;
	test_key k;
	double balance, reserved;

	make_key(&k, dir, "2000");
	ctl(&r, dir, "create", "--key", k.secret, "--prompt", "a harbour at night", "--duration", "60",
	    "--idempotency-key", "order-7");
	ck_exit(&r, 0);
	line_of(r.out, 0, first, sizeof(first));
	ck_assert_str_eq(r.err, "");
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--key", k.secret, "--prompt", "a harbour at night", "--duration", "60",
	    "--idempotency-key", "order-7");
	ck_exit(&r, 0);
	line_of(r.out, 0, second, sizeof(second));
	ck_assert_str_eq(first, second);
	ck_assert_ptr_nonnull(strstr(r.err, "replayed"));
	lv_test_run_free(&r);

	/* Charged once. */
	credits_of(dir, &k, &balance, &reserved);
	ck_assert_double_eq(balance, 350);
	ck_assert_double_eq(reserved, 1650);

	/* Same key, different body: conflict, exit 7. */
	ctl(&r, dir, "--json", "create", "--key", k.secret, "--prompt", "a harbour at noon", "--duration", "60",
	    "--idempotency-key", "order-7");
	ck_exit(&r, 7);
	expect_json_error(&r, "idempotency_key_reused", "Idempotency-Key");
	lv_test_run_free(&r);

	ctl(&r, dir, "list", "--key", k.secret);
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 1);
	lv_test_run_free(&r);

	ctl(&r, dir, "create", "--key", k.secret, "--prompt", "x", "--duration", "3", "--idempotency-key", "");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "Idempotency-Key:"));
	lv_test_run_free(&r);
	ledger_holds(dir);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(cancel_refunds)
{
	char *dir = lv_test_mkdtemp("cli"), id[64];
	lv_test_run r;
	test_key k, other;
	double balance, reserved;

	make_key(&k, dir, "2000");
	make_key(&other, dir, "10");
	make_task(id, dir, &k, "60");
	credits_of(dir, &k, &balance, &reserved);
	ck_assert_double_eq(balance, 350);
	ck_assert_double_eq(reserved, 1650);

	/* Another key does not see it. */
	ctl(&r, dir, "cancel", id, "--key", other.secret);
	ck_exit(&r, 6);
	lv_test_run_free(&r);

	ctl(&r, dir, "cancel", id, "--key", k.secret);
	ck_exit(&r, 0);
	ck_assert_str_eq(strchr(r.out, ' '), " canceled 0% 0/8 shots est 1650 cost 0\n");
	lv_test_run_free(&r);
	credits_of(dir, &k, &balance, &reserved);
	ck_assert_double_eq(balance, 2000);
	ck_assert_double_eq(reserved, 0);

	/* Canceling a terminal task changes nothing. */
	ctl(&r, dir, "--json", "cancel", id, "--key-id", k.id);
	ck_exit(&r, 0);
	{
		cJSON *j = json_doc(&r);
		expect_task_shape(j);
		ck_assert_str_eq(jstr(j, "status"), "canceled");
		ck_assert_double_eq(jnum(j, "cost_actual"), 0);
		ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "completed_at")));
		cJSON_Delete(j);
	}
	lv_test_run_free(&r);
	credits_of(dir, &k, &balance, &reserved);
	ck_assert_double_eq(balance, 2000);

	ctl(&r, dir, "cancel", "vid_doesnotexist", "--key", k.secret);
	ck_exit(&r, 6);
	lv_test_run_free(&r);

	/* Ready segments are settled, the rest refunded: 17 s = 165 + 165 + 137.5. */
	make_task(id, dir, &k, "17");
	segments_ready(dir, id, 0, 2);
	ctl(&r, dir, "cancel", id, "--key", k.secret);
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, " canceled "));
	ck_assert_ptr_nonnull(strstr(r.out, " est 467.5 cost 330\n"));
	lv_test_run_free(&r);
	credits_of(dir, &k, &balance, &reserved);
	ck_assert_double_eq(balance, 1670);
	ck_assert_double_eq(reserved, 0);
	ledger_holds(dir);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(compose_preconditions)
{
	char *dir = lv_test_mkdtemp("cli"), id[64];
	lv_test_run r;
	test_key k;
	double balance, reserved;
	cJSON *j;

	make_key(&k, dir, "5000");

	/* Still queued: not composable. */
	make_task(id, dir, &k, "17");
	ctl(&r, dir, "--json", "compose", id, "--key", k.secret);
	ck_exit(&r, 7);
	expect_json_error(&r, "not_composable", "queued");
	lv_test_run_free(&r);

	/* Canceled while queued: no segments. */
	ctl(&r, dir, "cancel", id, "--key", k.secret);
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	ctl(&r, dir, "compose", id, "--key", k.secret);
	ck_exit(&r, 7);
	ck_assert_ptr_nonnull(strstr(r.err, "no generated segments"));
	lv_test_run_free(&r);

	/* Some ready: segments_not_ready with the missing shots in details. */
	make_task(id, dir, &k, "17");
	segments_ready(dir, id, 0, 1);
	ctl(&r, dir, "cancel", id, "--key", k.secret);
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	ctl(&r, dir, "--json", "compose", id, "--key", k.secret);
	ck_exit(&r, 7);
	j = json_doc(&r);
	{
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		const cJSON *missing = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "details"),
		                                                        "missing");
		ck_assert_str_eq(jstr(e, "code"), "segments_not_ready");
		ck_assert_int_eq(cJSON_GetArraySize(missing), 2);
		ck_assert_int_eq(cJSON_GetArrayItem(missing, 0)->valueint, 1);
		ck_assert_int_eq(cJSON_GetArrayItem(missing, 1)->valueint, 2);
	}
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* All ready: composing again, with new choices, and nothing charged. */
	segments_ready(dir, id, 1, 3);
	credits_of(dir, &k, &balance, &reserved);
	ctl(&r, dir, "compose", id, "--key", k.secret, "--subtitles", "loud");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "subtitles:"));
	lv_test_run_free(&r);
	ctl(&r, dir, "--json", "compose", id, "--key", k.secret, "--narration", "off", "--music", "on", "--subtitles",
	    "none");
	ck_exit(&r, 0);
	j = json_doc(&r);
	expect_task_shape(j);
	ck_assert_str_eq(jstr(j, "status"), "composing");
	ck_assert(!jbool(j, "narration"));
	ck_assert(jbool(j, "music"));
	ck_assert_str_eq(jstr(j, "subtitles"), "none");
	cJSON_Delete(j);
	lv_test_run_free(&r);
	{
		double b2, r2;
		credits_of(dir, &k, &b2, &r2);
		ck_assert_double_eq(b2, balance);
		ck_assert_double_eq(r2, reserved);
	}
	/* While it composes, another compose is refused. */
	ctl(&r, dir, "compose", id, "--key", k.secret);
	ck_exit(&r, 7);
	lv_test_run_free(&r);
	ledger_holds(dir);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(list_pagination)
{
	char *dir = lv_test_mkdtemp("cli"), ids[5][64], cursor[64], line[256];
	lv_test_run r;
	test_key k;
	const char *p;
	int i;

	make_key(&k, dir, "1000");
	for (i = 0; i < 5; i++)
		make_task(ids[i], dir, &k, "3");

	/* One page: newest first, and where the next page starts. */
	ctl(&r, dir, "list", "--key", k.secret, "--limit", "2");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 2);
	ck_assert_str_eq(strtok(line_of(r.out, 0, line, sizeof(line)), " "), ids[4]);
	ck_assert_str_eq(strtok(line_of(r.out, 1, line, sizeof(line)), " "), ids[3]);
	p = strstr(r.err, "lvctl list --after ");
	ck_assert_ptr_nonnull(p);
	snprintf(cursor, sizeof(cursor), "%.*s", (int)strcspn(p + 19, "\n"), p + 19);
	ck_assert_str_eq(cursor, ids[3]);
	lv_test_run_free(&r);

	ctl(&r, dir, "list", "--key", k.secret, "--limit", "2", "--after", cursor);
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 2);
	ck_assert_str_eq(strtok(line_of(r.out, 0, line, sizeof(line)), " "), ids[2]);
	lv_test_run_free(&r);

	/* --all follows the cursors. */
	ctl(&r, dir, "list", "--key", k.secret, "--limit", "2", "--all");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 5);
	for (i = 0; i < 5; i++)
		ck_assert_str_eq(strtok(line_of(r.out, i, line, sizeof(line)), " "), ids[4 - i]);
	ck_assert_str_eq(r.err, "");
	lv_test_run_free(&r);

	/* --json --all: one list document per page. */
	ctl(&r, dir, "--json", "list", "--key", k.secret, "--limit", "2", "--all");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 3);
	{
		const char *s = r.out;
		int page, seen = 0;
		for (page = 0; page < 3; page++) {
			size_t n = strcspn(s, "\n");
			cJSON *j = cJSON_ParseWithLength(s, n);
			const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data"), *t;
			ck_assert_ptr_nonnull(j);
			ck_assert_str_eq(jstr(j, "object"), "list");
			ck_assert_int_eq(jbool(j, "has_more"), page < 2);
			if (page < 2)
				ck_assert_str_eq(jstr(j, "next_cursor"), ids[3 - 2 * page]);
			else
				jnull(j, "next_cursor");
			cJSON_ArrayForEach(t, data)
			{
				ck_assert_str_eq(jstr(t, "task_id"), ids[4 - seen]);
				seen++;
			}
			cJSON_Delete(j);
			s += n + 1;
		}
		ck_assert_int_eq(seen, 5);
	}
	lv_test_run_free(&r);

	/* Status filter. */
	ctl(&r, dir, "cancel", ids[1], "--key", k.secret);
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key", k.secret, "--status", "canceled");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 1);
	ck_assert_str_eq(strtok(line_of(r.out, 0, line, sizeof(line)), " "), ids[1]);
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key", k.secret, "--status", "queued", "--all");
	ck_exit(&r, 0);
	ck_assert_int_eq(count_lines(r.out), 4);
	lv_test_run_free(&r);

	/* Bad values, as the HTTP API rejects them: exit 3. */
	ctl(&r, dir, "list", "--key", k.secret, "--status", "sleeping");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "status:"));
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key", k.secret, "--limit", "0");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "limit:"));
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key", k.secret, "--limit", "101");
	ck_exit(&r, 3);
	lv_test_run_free(&r);
	ctl(&r, dir, "list", "--key", k.secret, "--after", "vid_doesnotexist");
	ck_exit(&r, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "after:"));
	lv_test_run_free(&r);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- configuration ---------------------------------------------------------------------------- */

START_TEST(config_errors_exit_8)
{
	char *dir = lv_test_mkdtemp("cli");
	char *bad_type = lv_test_write_file(dir, "threads.json", "{\"server\": {\"threads\": \"many\"}}");
	char *bad_key = lv_test_write_file(dir, "key.json", "{\"pipline\": {\"workers\": 1}}");
	char *bad_json = lv_test_write_file(dir, "broken.json", "{\"server\": ");
	char *missing = lv_asprintf("%s/absent.json", dir), *env_config = lv_asprintf("LV_CONFIG=%s", bad_key);
	char *good = lv_test_write_file(dir, "good.json",
	                                "{\"providers\": {\"cheap\": {\"type\": \"local\", \"rates\": "
	                                "{\"720p\": 1.5, \"1080p\": 2}}}, \"pipeline\": {\"default_video_provider\": "
	                                "\"cheap\"}}");
	const char *env[] = { env_config, NULL };
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_test_run r;

	ctl(&r, dir, "--config", bad_type, "keys", "list");
	ck_exit(&r, 8);
	ck_assert_ptr_nonnull(strstr(r.err, "lvctl: config: server.threads: must be an integer"));
	lv_test_run_free(&r);

	ctl(&r, dir, "--json", "--config", bad_type, "estimate", "--duration", "10");
	ck_exit(&r, 8);
	expect_json_error(&r, "invalid_config", "server.threads");
	lv_test_run_free(&r);

	ctl_e(&r, dir, env, "estimate", "--duration", "10");
	ck_exit(&r, 8);
	ck_assert_ptr_nonnull(strstr(r.err, "pipline: unknown key"));
	lv_test_run_free(&r);

	ctl(&r, dir, "--config", bad_json, "keys", "list");
	ck_exit(&r, 8);
	ck_assert_ptr_nonnull(strstr(r.err, "broken.json: malformed JSON"));
	lv_test_run_free(&r);

	ctl(&r, dir, "--config", missing, "keys", "list");
	ck_exit(&r, 8);
	ck_assert_ptr_nonnull(strstr(r.err, "absent.json"));
	lv_test_run_free(&r);

	ctl(&r, dir, "--config", "", "keys", "list");
	ck_exit(&r, 2);
	lv_test_run_free(&r);

	/* --config wins over $LV_CONFIG, and the config's providers and rates are used. */
	ctl_e(&r, dir, env, "--config", good, "--json", "estimate", "--duration", "10");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"provider\":\"cheap\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"cost_estimate\":15,"));
	lv_test_run_free(&r);

	/* The library itself: a file that cannot be read or parsed is LV_ECONFIG. */
	o.config_path = bad_json;
	o.flags = LV_ENGINE_NO_STORE;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_ECONFIG);
	ck_assert_int_eq(lv_error_last()->status, LV_ECONFIG);
	ck_assert_str_eq(strstr(lv_error_last()->message, "config: "), lv_error_last()->message);
	o.config_path = missing;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_ECONFIG);
	ck_assert_ptr_null(e);
	o.config_path = NULL;
	o.config_json = "[1,";
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_ECONFIG);

	free(bad_type);
	free(bad_key);
	free(bad_json);
	free(missing);
	free(env_config);
	free(good);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* Status of a task through lvctl --json get. */
static void status_of(char *out, size_t cap, const char *dir, const test_key *k, const char *id)
{
	lv_test_run r;
	cJSON *j;
	ctl(&r, dir, "--json", "get", id, "--key", k->secret);
	ck_exit(&r, 0);
	j = json_doc(&r);
	snprintf(out, cap, "%s", jstr(j, "status"));
	cJSON_Delete(j);
	lv_test_run_free(&r);
}

/* lvctl generate in the background with --workers 0 (the task stays queued), stderr to a file; returns
 * its pid once the task id is on that stderr, with the id in id[64]. */
static pid_t spawn_generate(char *id, const char *dir, const test_key *k, const char *log, int detach)
{
	char *bin = lv_test_bin("lvctl"), *text = NULL;
	const char *argv[] = { "lvctl", "--data-dir", dir, "generate", "--prompt", "a quiet harbour", "--duration", "5",
		               "--workers", "0", "--quiet", "--key", k->secret, detach ? "--detach" : NULL, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int i;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	ck_assert_int_eq(posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(bin);
	for (i = 0; i < 600; i++) {
		size_t len;
		const char *t;
		if (lv_test_read_file(&text, &len, log) == 0 && (t = strstr(text, "task vid_")) != NULL) {
			snprintf(id, 64, "%.*s", (int)strcspn(t + 5, ":"), t + 5);
			free(text);
			return pid;
		}
		free(text);
		text = NULL;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	ck_abort_msg("lvctl generate printed no task id");
	return -1;
}

START_TEST(generate_checks_output_and_stops_on_ctrl_c)
{
	char *dir = lv_test_mkdtemp("cli-gen"), *log = lv_path_join(dir, "gen.log"), id[64], status[32];
	double balance = 0, reserved = 0;
	lv_test_run r;
	test_key k;
	pid_t pid;
	int st = 0;
	make_key(&k, dir, "1000");

	/* An output in a missing directory is refused before anything is created or charged. */
	ctl(&r, dir, "generate", "--key", k.secret, "--prompt", "x y z", "--duration", "5", "--output",
	    "/nonexistent-dir/film.mp4");
	ck_exit(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "does not exist (nothing was charged)"));
	lv_test_run_free(&r);
	ctl(&r, dir, "--json", "list", "--key", k.secret);
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"data\":[]"));
	lv_test_run_free(&r);

	/* Ctrl-C cancels the task, refunds it and exits 130; the id was printed although --quiet. */
	pid = spawn_generate(id, dir, &k, log, 0);
	kill(pid, SIGINT);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	status_of(status, sizeof(status), dir, &k, id);
	ck_assert_str_eq(status, "canceled");
	credits_of(dir, &k, &balance, &reserved);
	ck_assert(balance == 1000 && reserved == 0);

	/* With --detach, Ctrl-C leaves the task as it was and exits 0. */
	pid = spawn_generate(id, dir, &k, log, 1);
	kill(pid, SIGINT);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	status_of(status, sizeof(status), dir, &k, id);
	ck_assert_str_eq(status, "queued");
	credits_of(dir, &k, &balance, &reserved);
	ck_assert(reserved > 0);

	/* Read-only and task commands refuse a data directory that holds no store, and create none. */
	{
		char *missing = lv_path_join(dir, "typo");
		ctl(&r, missing, "list", "--key", k.secret);
		ck_exit(&r, 8);
		ck_assert_ptr_nonnull(strstr(r.err, "no store at"));
		lv_test_run_free(&r);
		ctl(&r, missing, "keys", "list");
		ck_exit(&r, 8);
		lv_test_run_free(&r);
		ck_assert_int_ne(access(missing, F_OK), 0);
		free(missing);
	}

	/* The key can come from a file (first line) or $LONGVIDEO_KEY instead of the command line. */
	{
		char *kf, line[80];
		const char *env[] = { NULL, NULL };
		char envbuf[96];
		snprintf(line, sizeof(line), "%s\n", k.secret);
		kf = lv_test_write_file(dir, "key.txt", line);
		ctl(&r, dir, "--key-file", kf, "get", id);
		ck_exit(&r, 0);
		lv_test_run_free(&r);
		ctl(&r, dir, "get", id, "--key-file", kf);
		ck_exit(&r, 0);
		lv_test_run_free(&r);
		snprintf(envbuf, sizeof(envbuf), "LONGVIDEO_KEY=%s", k.secret);
		env[0] = envbuf;
		ctl_e(&r, dir, env, "get", id);
		ck_exit(&r, 0);
		lv_test_run_free(&r);
		free(kf);
	}
	free(log);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("lvctl");
	tcase_add_test(tc, version_and_help);
	tcase_add_test(tc, usage_errors_exit_2);
	tcase_add_test(tc, keys_create_prints_key_and_secret_once);
	tcase_add_test(tc, library_key_secrets_are_whole);
	tcase_add_test(tc, keys_grant_and_revoke);
	tcase_add_test(tc, estimate_matches_the_billing_rules);
	tcase_add_test(tc, storyboard_is_written_without_a_task);
	tcase_add_test(tc, created_key_authenticates);
	tcase_add_test(tc, json_output_matches_the_api);
	tcase_add_test(tc, insufficient_credits_creates_nothing);
	tcase_add_test(tc, idempotency_key_replays);
	tcase_add_test(tc, cancel_refunds);
	tcase_add_test(tc, compose_preconditions);
	tcase_add_test(tc, list_pagination);
	tcase_add_test(tc, config_errors_exit_8);
	tcase_add_test(tc, generate_checks_output_and_stops_on_ctrl_c);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* The tests choose the key and config of each run. */
	unsetenv("LV_API_KEY");
	unsetenv("LONGVIDEO_KEY");
	unsetenv("LV_CONFIG");
	return lv_test_run_suite(cli_suite());
}
