/*
 * Test harness: run lvserver / lvctl as real processes and talk HTTP to them.
 */
#ifndef LV_TEST_HARNESS_H
#define LV_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct lv_test_server {
	pid_t pid;
	int port;
	char base_url[64];  /* "http://127.0.0.1:PORT" */
	char *data_dir;     /* not owned */
	char *log_path;     /* server's stderr, owned */
} lv_test_server;

/*
 * Start build/bin/lvserver on 127.0.0.1 with an ephemeral port:
 *   lvserver --data-dir DATA_DIR --listen 127.0.0.1:0 --port-file F [--config CONFIG] [extra args...]
 * and wait (up to 20 s) until it has written its port to F.  `extra` is a NULL-terminated list or NULL.
 * Returns 0 on success.
 */
int lv_test_server_start(lv_test_server *srv, const char *data_dir, const char *config_path,
                         const char *const *extra);
/* SIGTERM and wait (up to 10 s, then SIGKILL).  Returns the exit status (as from waitpid) or -1. */
int lv_test_server_stop(lv_test_server *srv);
/* SIGKILL and wait. */
void lv_test_server_kill(lv_test_server *srv);

/* Start `lvctl --data-dir DATA_DIR --config CONFIG worker --workers N` in the background, its stderr appended
 * to DATA_DIR/worker.log.  Returns its pid (> 0), or -1. */
pid_t lv_test_worker_start(const char *data_dir, const char *config_path, const char *workers);

typedef struct lv_test_response {
	long status;
	char *body;         /* NUL-terminated */
	size_t body_len;
	char *headers;      /* raw header block, NUL-terminated */
} lv_test_response;

/*
 * One HTTP request with libcurl.  `headers` is a NULL-terminated list of "Name: value" or NULL;
 * body may be NULL.  Returns 0 when a response was received.
 */
int lv_test_http(lv_test_response *resp, const char *method, const char *url, const char *const *headers,
                 const char *body, size_t body_len);
/* Append the response to the file named by $LV_TEST_HTTP_RECORD, if set, for the OpenAPI check
 * (lv_test_http does it for every response; clients of their own, e.g. streaming ones, call it). */
void lv_test_http_record(const char *method, const char *url, const lv_test_response *resp);
/* The value of a response header (case-insensitive name), copied into buf; NULL if absent. */
const char *lv_test_header(const lv_test_response *resp, const char *name, char *buf, size_t cap);
void lv_test_response_free(lv_test_response *resp);

typedef struct lv_test_run {
	int exit_code;      /* -1 if it did not exit normally */
	char *out;          /* stdout */
	char *err;          /* stderr */
} lv_test_run;

/* Run build/bin/<program> with argv (NULL-terminated, argv[0] not included) and optional stdin text and
 * environment additions ("NAME=value", NULL-terminated or NULL).  Captures stdout and stderr. */
int lv_test_exec(lv_test_run *run, const char *program, const char *const *argv, const char *stdin_text,
                 const char *const *env);
void lv_test_run_free(lv_test_run *run);

/* Path of a built program: LV_TEST_BIN_DIR "/" name (caller frees). */
char *lv_test_bin(const char *name);

#endif
