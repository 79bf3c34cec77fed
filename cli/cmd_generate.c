/*
 * lvctl generate: create a task, run the pipeline in this process (unless --workers 0), follow its
 * progress on the terminal, and save the film.  Ctrl-C cancels the task (unused credits go back) and exits
 * 130; with --detach it leaves the task running instead.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "api.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 250
/* Following a task in this process's own store costs one indexed read (about 10 us, so 50 a second
 * are nothing): asked often, the end of the film is seen at once. */
#define LOCAL_POLL_MS 20

typedef struct progress {
	int tty, quiet;
	int last_progress, last_done;
	char last_status[32];
} progress;

/* The progress bar on stderr, from each state of the task (local polling or the server's event stream). */
static int draw(void *arg, const cJSON *t)
{
	progress *pr = arg;
	int p = cli_json_int(t, "progress", 0), d = cli_json_int(t, "shots_done", 0), i, filled;
	const char *status = cli_json_str(t, "status") ? cli_json_str(t, "status") : "?";
	char bar[41];
	if (pr->quiet || (!pr->tty && p == pr->last_progress && d == pr->last_done && !strcmp(status, pr->last_status)))
		return 0;
	filled = (p < 0 ? 0 : p > 100 ? 100 : p) * 40 / 100;
	for (i = 0; i < 40; i++)
		bar[i] = i < filled ? '#' : '-';
	bar[40] = '\0';
	fprintf(stderr, "%s[%s] %3d%%  %-10s  shots %d/%d%s", pr->tty ? "\r" : "", bar, p, status, d,
	        cli_json_int(t, "shots_total", 0), pr->tty ? "  " : "\n");
	fflush(stderr);
	pr->last_progress = p;
	pr->last_done = d;
	snprintf(pr->last_status, sizeof(pr->last_status), "%s", status);
	return 0;
}

/* The film will be written to `output`: its directory must exist and be writable, and it must not be a
 * directory itself.  Checked before the task is created (and charged). */
static int check_output(cli_ctx *ctx, const char *output)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(output, '/');
	struct stat st;
	if (!*output)
		return cli_fail(ctx, CLI_EUSAGE, "--output: must not be empty");
	if (stat(output, &st) == 0 && S_ISDIR(st.st_mode))
		return cli_fail(ctx, CLI_EUSAGE, "--output %s is a directory; give a file name (e.g. %s/film.mp4)", output,
		                output);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == output)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - output), output);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail(ctx, CLI_EUSAGE, "--output %s: the directory %s does not exist (nothing was charged)", output,
		                dir);
	if (access(dir, W_OK) != 0)
		return cli_fail(ctx, CLI_EUSAGE, "--output %s: cannot write in %s: %s (nothing was charged)", output, dir,
		                strerror(errno));
	return LV_OK;
}

int cmd_generate(cli_ctx *ctx, int argc, char **argv)
{
	cli_task_args a;
	const char *key_text = NULL, *key_id = NULL, *output = NULL, *workers_text = NULL, *timeout_text = NULL,
	           *pos[1];
	int quiet = 0, detach = 0;
	cli_opt opts[] = {
		CLI_TASK_OPTS(&a),
		{ CLI_OPT_VALUE, "output", "FILE", "where to save the film (default: ./<task_id>.mp4)", &output },
		{ CLI_OPT_VALUE, "workers", "N",
		  "pipeline threads to run in this process (default: the config's pipeline.workers; "
		  "0: rely on lvserver or lvctl worker; not with --server)",
		  &workers_text },
		{ CLI_OPT_VALUE, "timeout", "SECONDS", "give up waiting (and cancel) after this long (default: none)",
		  &timeout_text },
		{ CLI_OPT_SWITCH, "quiet", NULL, "no progress bar", &quiet },
		{ CLI_OPT_SWITCH, "detach", NULL, "on Ctrl-C leave the task running (default: cancel it)", &detach },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "generate", "--prompt P --duration D [options]",
		                "Create a task, follow it to the end with a progress bar on stderr, and save the\n"
		                "film.  Prints the task id on stderr first, then the film's path (with --json: the\n"
		                "final task object).  Locally the pipeline runs in this process; with --server the\n"
		                "server runs it and progress comes from its event stream (GET /v1/videos/{id}/events,\n"
		                "resumed with Last-Event-ID; polling if the stream cannot be had).  Ctrl-C cancels the\n"
		                "task and exits 130; with --detach it leaves the task running and exits 0.  Exit 9\n"
		                "when the task fails or is canceled.",
		                opts, 0, 0, NULL };
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	lv_workers *workers = NULL;
	cli_api *api = NULL;
	cJSON *task = NULL;
	sigset_t sigs;
	progress pr;
	char id[64], *path = NULL, *json = NULL;
	size_t npos;
	int rc, timeout = 0, replayed = 0;

	memset(&pr, 0, sizeof(pr));
	pr.tty = isatty(2);
	pr.quiet = quiet;
	pr.last_progress = pr.last_done = -1;
	cli_task_args_init(&a);
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_task_args_finish(ctx, &spec, &a)) ||
	    (workers_text && (rc = cli_parse_int(ctx, &wo.workers, "workers", workers_text, 0, 64))) ||
	    (timeout_text && (rc = cli_parse_int(ctx, &timeout, "timeout", timeout_text, 1, INT_MAX)))) {
		cli_task_args_clear(&a);
		return rc;
	}
	pr.quiet = quiet;
	if (workers_text && ctx->server) {
		cli_task_args_clear(&a);
		return cli_fail(ctx, CLI_EUSAGE, "--workers runs the pipeline in this process; with --server the server runs it");
	}
	/* Where the film goes is checked before anything is charged. */
	if (output && (rc = check_output(ctx, output))) {
		cli_task_args_clear(&a);
		return rc;
	}
	cli_block_stop_signals(&sigs); /* taken synchronously while following */
	if ((rc = cli_api_open(&api, ctx, key_text, key_id)) ||
	    (rc = cli_api_create(api, &a.req, a.idem, &json, &replayed)))
		goto out;
	task = cli_json_parse(ctx, json, strlen(json), "task");
	free(json);
	json = NULL;
	if (!task || !cli_json_str(task, "task_id")) {
		rc = task ? cli_fail(ctx, LV_EIO, "the created task has no task_id") : ctx->status;
		goto out;
	}
	snprintf(id, sizeof(id), "%s", cli_json_str(task, "task_id"));
	{
		/* The id always, so that a run that is interrupted or detached can be followed up. */
		char est[32];
		fprintf(stderr, "task %s: %d s, %d shots, estimate %s credits\n", id, cli_json_int(task, "duration", 0),
		        cli_json_int(task, "shots_total", 0),
		        cli_credits(est, sizeof(est), cli_json_credits(task, "cost_estimate")));
	}
	if (!cli_api_is_remote(api) && wo.workers != 0 && (rc = lv_workers_start(&workers, cli_api_engine(api), &wo)))
		goto out;
	if (timeout > 0)
		cli_api_set_deadline(api, time(NULL) + timeout);
	rc = cli_api_follow(api, id, cli_api_is_remote(api) ? POLL_MS : LOCAL_POLL_MS, draw, &pr);
	cli_api_set_deadline(api, 0);
	if (rc == CLI_EINTR && detach) {
		fprintf(stderr, "%sdetached: task %s keeps running%s; follow it with: lvctl get %s\n",
		        pr.tty && !quiet ? "\n" : "", id,
		        workers ? " (lvserver or lvctl worker carries it on once this process's lease ends)" : "", id);
		rc = LV_OK;
		goto out;
	}
	if (rc == CLI_EINTR || rc == LV_ETIMEOUT) {
		int interrupted = rc == CLI_EINTR;
		fprintf(stderr, "%s%s: canceling %s\n", pr.tty && !quiet ? "\n" : "", interrupted ? "interrupted" : "timed out",
		        id);
		ctx->status = 0;
		if ((rc = cli_api_cancel(api, id, &json)))
			goto out;
		free(json);
		json = NULL;
		rc = interrupted ? CLI_EINTR : CLI_ETASK;
	} else if (rc) {
		goto out;
	}
	if (!quiet && pr.tty)
		fputc('\n', stderr);
	lv_workers_stop(workers);
	workers = NULL;
	{
		int follow_rc = rc;
		cJSON_Delete(task);
		task = NULL;
		if ((rc = cli_api_get(api, id, 0, &json)))
			goto out;
		if (!(task = cli_json_parse(ctx, json, strlen(json), "task"))) {
			rc = ctx->status;
			goto out;
		}
		rc = follow_rc;
	}
	if (rc == LV_OK && cli_json_str(task, "status") && !strcmp(cli_json_str(task, "status"), "completed")) {
		if (!output && !(path = malloc(strlen(id) + 8))) {
			rc = cli_fail(ctx, LV_ENOMEM, "out of memory");
			goto out;
		}
		if (!output)
			sprintf(path, "%s.mp4", id);
		if ((rc = cli_api_download(api, id, "film", output ? output : path)))
			goto out;
		if (ctx->json) {
			cli_print_json_text(json);
			json = NULL;
		} else {
			char cost[32], *abs = realpath(output ? output : path, NULL);
			fprintf(stderr, "completed: cost %s credits\n",
			        cli_credits(cost, sizeof(cost), cli_json_credits(task, "cost_actual")));
			printf("%s\n", abs ? abs : output ? output : path);
			free(abs);
		}
	} else {
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(task, "error");
		const char *code = cli_json_str(err, "code"), *msg = cli_json_str(err, "message");
		int64_t cost_actual = cli_json_credits(task, "cost_actual");
		char cost[32];
		if (ctx->json) {
			cli_print_json_text(json);
			json = NULL;
		}
		rc = cli_fail(ctx, rc == CLI_EINTR ? CLI_EINTR : CLI_ETASK,
		              "task %s %s%s%s%s (charged %s credits, the rest refunded)", id,
		              cli_json_str(task, "status") ? cli_json_str(task, "status") : "?", code ? ": " : "",
		              code ? code : "", msg ? " — " : "",
		              cli_credits(cost, sizeof(cost), cost_actual < 0 ? 0 : cost_actual));
		if (msg)
			fprintf(stderr, "%s\n", msg);
	}
out:
	lv_workers_stop(workers);
	cli_task_args_clear(&a);
	cJSON_Delete(task);
	free(json);
	free(path);
	cli_api_close(api);
	return rc;
}
