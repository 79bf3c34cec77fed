/*
 * lvctl generate: create a task, run the pipeline in this process (unless --workers 0), follow its
 * progress on the terminal, and save the film.  Ctrl-C cancels the task (unused credits go back) and exits
 * 130; with --detach it leaves the task running instead.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 250

static void draw(const lv_task *t, int tty, int *last_progress, int *last_status, int *last_done)
{
	int p = lv_task_progress(t), s = (int)lv_task_get_status(t), d = lv_task_shots_done(t);
	char bar[41];
	int i, filled = p * 40 / 100;
	if (!tty && p == *last_progress && s == *last_status && d == *last_done)
		return;
	for (i = 0; i < 40; i++)
		bar[i] = i < filled ? '#' : '-';
	bar[40] = '\0';
	fprintf(stderr, "%s[%s] %3d%%  %-10s  shots %d/%d%s", tty ? "\r" : "", bar, p,
	        lv_task_status_name(lv_task_get_status(t)), d, lv_task_shots_total(t), tty ? "  " : "\n");
	fflush(stderr);
	*last_progress = p;
	*last_status = s;
	*last_done = d;
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
		  "0: rely on lvserver or lvctl worker)",
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
		                "final task object).  Ctrl-C cancels the task and exits 130; with --detach it leaves\n"
		                "the task running (to lvserver or lvctl worker) and exits 0.  Exit 9 when the task\n"
		                "fails or is canceled.",
		                opts, 0, 0, NULL };
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	lv_workers *workers = NULL;
	lv_engine *engine;
	lv_key *key = NULL;
	lv_task *task = NULL;
	sigset_t sigs;
	char id[64], *path = NULL, *json;
	size_t npos;
	int rc, tty = isatty(2), lp = -1, ls = -1, ld = -1, timeout = 0, interrupted = 0;
	time_t started = time(NULL);

	cli_task_args_init(&a);
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_task_args_finish(ctx, &spec, &a)) ||
	    (workers_text && (rc = cli_parse_int(ctx, &wo.workers, "workers", workers_text, 0, 64))) ||
	    (timeout_text && (rc = cli_parse_int(ctx, &timeout, "timeout", timeout_text, 1, INT_MAX)))) {
		cli_task_args_clear(&a);
		return rc;
	}
	/* Where the film goes is checked before anything is charged. */
	if (output && (rc = check_output(ctx, output))) {
		cli_task_args_clear(&a);
		return rc;
	}
	cli_block_stop_signals(&sigs); /* taken by sigtimedwait below */
	if ((rc = cli_acting_key(&key, &engine, ctx, key_text, key_id)) ||
	    (rc = lv_task_create(&task, engine, key, &a.req, a.idem)))
		goto out;
	snprintf(id, sizeof(id), "%s", lv_task_id(task));
	{
		/* The id always, so that a run that is interrupted or detached can be followed up. */
		char est[32];
		fprintf(stderr, "task %s: %d s, %d shots, estimate %s credits\n", id, lv_task_duration(task),
		        lv_task_shots_total(task), cli_credits(est, sizeof(est), lv_task_cost_estimate(task)));
	}
	if (wo.workers != 0 && (rc = lv_workers_start(&workers, engine, &wo)))
		goto out;
	for (;;) {
		struct timespec wait = { 0, POLL_MS * 1000000L };
		int sig;
		lv_task *now = NULL;
		if ((rc = lv_task_get(&now, engine, key, id)))
			goto out;
		lv_task_free(task);
		task = now;
		if (!quiet)
			draw(task, tty, &lp, &ls, &ld);
		if (lv_task_status_is_terminal(lv_task_get_status(task)))
			break;
		sig = sigtimedwait(&sigs, NULL, &wait);
		if (sig > 0 && detach) {
			fprintf(stderr, "%sdetached: task %s keeps running%s; follow it with: lvctl get %s\n",
			        tty && !quiet ? "\n" : "", id,
			        workers ? " (lvserver or lvctl worker carries it on once this process's lease ends)" : "", id);
			goto out;
		}
		if (sig > 0 || (timeout > 0 && time(NULL) - started >= timeout)) {
			lv_task *c = NULL;
			fprintf(stderr, "%s%s: canceling %s\n", tty && !quiet ? "\n" : "",
			        sig > 0 ? "interrupted" : "timed out", id);
			if (lv_task_cancel(&c, engine, key, id) == LV_OK) {
				lv_task_free(task);
				task = c;
			}
			interrupted = sig > 0;
			break;
		}
	}
	if (!quiet && tty)
		fputc('\n', stderr);
	lv_workers_stop(workers);
	workers = NULL;
	if (lv_task_get_status(task) == LV_TASK_COMPLETED) {
		if (!output && !(path = malloc(strlen(id) + 8))) {
			rc = cli_fail(ctx, LV_ENOMEM, "out of memory");
			goto out;
		}
		if (!output)
			sprintf(path, "%s.mp4", id);
		if ((rc = lv_media_save_film(engine, key, id, output ? output : path)))
			goto out;
		if (ctx->json) {
			if ((rc = lv_task_to_json(&json, task, 0)) == LV_OK)
				cli_print_json(json);
		} else {
			char cost[32], *abs = realpath(output ? output : path, NULL);
			fprintf(stderr, "completed: cost %s credits\n", cli_credits(cost, sizeof(cost), lv_task_cost_actual(task)));
			printf("%s\n", abs ? abs : output ? output : path);
			free(abs);
		}
	} else {
		char cost[32];
		if (ctx->json && lv_task_to_json(&json, task, 0) == LV_OK)
			cli_print_json(json);
		rc = cli_fail(ctx, interrupted ? CLI_EINTR : CLI_ETASK, "task %s %s%s%s%s (charged %s credits, the rest refunded)", id,
		              lv_task_status_name(lv_task_get_status(task)), lv_task_error_code(task) ? ": " : "",
		              lv_task_error_code(task) ? lv_task_error_code(task) : "",
		              lv_task_error_message(task) ? " — " : "", cli_credits(cost, sizeof(cost),
		              lv_task_cost_actual(task) < 0 ? 0 : lv_task_cost_actual(task)));
		if (lv_task_error_message(task))
			fprintf(stderr, "%s\n", lv_task_error_message(task));
	}
out:
	lv_workers_stop(workers);
	cli_task_args_clear(&a);
	free(path);
	lv_task_free(task);
	lv_key_free(key);
	return rc;
}
