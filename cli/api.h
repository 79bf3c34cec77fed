/*
 * lvctl — the task commands' two backends behind one interface: the local store (the library, as
 * before) or a running lvserver over HTTP (--server URL or $LONGVIDEO_BASE).
 *
 * Every call answers with the JSON document the HTTP API would send (the task object, a list page,
 * the credits or a ledger page), as text the caller frees with free().  The commands print from
 * that document in both modes (cli_print_*), so the output is the same wherever the task lives.
 * A failure is a status (lv_status or CLI_*) with the message recorded in the context; a server's
 * error keeps its API code and message (ctx->code).
 */
#ifndef LVCTL_API_H
#define LVCTL_API_H

#include "cli.h"

#include <cjson/cJSON.h>
#include <time.h>

typedef struct cli_api cli_api;

/* Open the backend a task command uses: remote when ctx->server is set, else the local engine with
 * the acting key (cli_acting_key).  --key-id needs the store and is a usage error with --server. */
int cli_api_open(cli_api **out, cli_ctx *ctx, const char *key_text, const char *key_id);
void cli_api_close(cli_api *api);
/* A backend for another thread, recording its failures in `ctx`: it shares the parent's engine and key
 * (the parent outlives it); each remote request uses its own connection. */
int cli_api_fork(cli_api **out, const cli_api *parent, cli_ctx *ctx);
int cli_api_is_remote(const cli_api *api);
/* The local engine and key (NULL in remote mode). */
lv_engine *cli_api_engine(const cli_api *api);
const lv_key *cli_api_key(const cli_api *api);

/* Create a task from a request (create, generate); *replayed is 1 when an idempotency key replayed. */
int cli_api_create(cli_api *api, const lv_task_request *req, const char *idem, char **json, int *replayed);
/* Create a task from a JSON body (the HTTP API's, as batch reads it). */
int cli_api_create_json(cli_api *api, const char *body, const char *idem, char **json, int *replayed);
/* GET /v1/videos/{id}; detail adds shots and script. */
int cli_api_get(cli_api *api, const char *id, int detail, char **json);
int cli_api_list(cli_api *api, const lv_task_list_options *lo, char **json);
int cli_api_cancel(cli_api *api, const char *id, char **json);
int cli_api_approve(cli_api *api, const char *id, char **json);
int cli_api_compose(cli_api *api, const char *id, const lv_compose_request *req, char **json);
int cli_api_regenerate(cli_api *api, const char *id, int index, const lv_regenerate_request *req, char **json);
int cli_api_credits(cli_api *api, char **json);
int cli_api_ledger(cli_api *api, int limit, const char *after, char **json);

/* Save a completed task's film to `dest` (atomically, through dest + ".part"; in remote mode a
 * partial ".part" left by an interrupted download is resumed with Range).  `which` is "film",
 * "subtitles" or "thumbnail".  LV_ENOTFOUND when the task has no such file (yet). */
int cli_api_download(cli_api *api, const char *id, const char *which, const char *dest);

/*
 * Follow a task until it ends: `on_task` gets each state (the task object, parsed) as it changes.
 * Remote: the SSE stream GET /v1/videos/{id}/events, reconnecting with Last-Event-ID, and polling
 * when the stream cannot be had; local: polling.  Returns LV_OK at a terminal state, CLI_EINTR when
 * a SIGINT/SIGTERM is pending (the caller blocked them: cli_block_stop_signals), or a failure.
 * `interval_ms` is the polling period.  If on_task returns non-zero, following stops with that.
 */
int cli_api_follow(cli_api *api, const char *id, int interval_ms, int (*on_task)(void *arg, const cJSON *task),
                   void *arg);

/* Following (and every request) gives up with LV_ETIMEOUT at this time; 0: never. */
void cli_api_set_deadline(cli_api *api, time_t deadline);

/* ---- JSON documents ------------------------------------------------------------------------- */

/* Parse JSON text from a backend or a file with limits: at most CLI_JSON_MAX_BYTES and nesting
 * CLI_JSON_MAX_DEPTH; NULL (with a message naming `what`) otherwise. */
#define CLI_JSON_MAX_BYTES (16u * 1024u * 1024u)
#define CLI_JSON_MAX_DEPTH 64
cJSON *cli_json_parse(cli_ctx *ctx, const char *text, size_t len, const char *what);

/* A credit amount of a document (a JSON number of credits) in thousandths; -1 when null or absent. */
int64_t cli_json_credits(const cJSON *obj, const char *name);
/* A string member, or NULL. */
const char *cli_json_str(const cJSON *obj, const char *name);
/* An integer member, or `dflt`. */
int cli_json_int(const cJSON *obj, const char *name, int dflt);

/* ---- output, shared by both modes --------------------------------------------------------------- */

/* "vid_... queued 0% 0/8 shots est 1650[ cost N][ error CODE]" */
void cli_print_task_line(const cJSON *task);
/* A task document: the line, or with --json the document itself. */
int cli_print_task_doc(cli_ctx *ctx, char *json);
/* The status line plus prompt, duration, result and error (get). */
int cli_print_task_detail(cli_ctx *ctx, char *json);
/* A list page: a line per task or the document; *next gets the next cursor (or ""). */
int cli_print_task_page(cli_ctx *ctx, char *json, char *next, size_t cap);
int cli_print_credits(cli_ctx *ctx, char *json);
int cli_print_ledger_page(cli_ctx *ctx, char *json, char *next, size_t cap);

#endif
