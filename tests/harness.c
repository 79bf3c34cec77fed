#include "harness.h"
#include "http/http.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *lv_test_bin(const char *name)
{
	return lv_asprintf("%s/%s", LV_TEST_BIN_DIR, name);
}

static int wait_exit(pid_t pid, int timeout_ms, int *status)
{
	int64_t until = lv_mono_ms() + timeout_ms;
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (lv_mono_ms() > until)
			return 1;
		lv_sleep_ms(20);
	}
}

pid_t lv_test_worker_start(const char *data_dir, const char *config_path, const char *workers)
{
	char *bin = lv_test_bin("lvctl"), *log = lv_path_join(data_dir, "worker.log");
	const char *argv[] = { bin, "--data-dir", data_dir, "--config", config_path, "worker", "--workers", workers, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(bin);
	free(log);
	return rc == 0 ? pid : -1;
}

/* Show why: the end of the server's stderr (where a sanitizer's report goes too) names the problem. */
static void show_log(const lv_test_server *srv, const char *what)
{
	char *log = NULL;
	size_t len = 0;
	if (lv_file_read(&log, &len, srv->log_path) == 0 && log) {
		const size_t tail = 16384;
		fprintf(stderr, "%s; its log (%s)%s:\n%s\n", what, srv->log_path, len > tail ? ", last 16 KiB" : "",
		        len > tail ? log + len - tail : log);
		free(log);
	}
}

int lv_test_server_start(lv_test_server *srv, const char *data_dir, const char *config_path,
                         const char *const *extra)
{
	char *bin = lv_test_bin("lvserver"), *port_file = lv_path_join(data_dir, "lvserver.port");
	const char *argv[64];
	posix_spawn_file_actions_t fa;
	int argc = 0, rc, fd;
	int64_t until;

	memset(srv, 0, sizeof(*srv));
	srv->data_dir = (char *)data_dir;
	srv->log_path = lv_path_join(data_dir, "lvserver.log");
	unlink(port_file);
	argv[argc++] = bin;
	argv[argc++] = "--data-dir";
	argv[argc++] = data_dir;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--port-file";
	argv[argc++] = port_file;
	if (config_path) {
		argv[argc++] = "--config";
		argv[argc++] = config_path;
	}
	while (extra && *extra && argc < 62)
		argv[argc++] = *extra++;
	argv[argc] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, srv->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&srv->pid, bin, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(bin);
	if (rc != 0) {
		free(port_file);
		return -1;
	}
	until = lv_mono_ms() + 20000;
	while (lv_mono_ms() < until) {
		char buf[32] = { 0 };
		int status;
		fd = open(port_file, O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0 && buf[n - 1] == '\n') {
				srv->port = atoi(buf);
				snprintf(srv->base_url, sizeof(srv->base_url), "http://127.0.0.1:%d", srv->port);
				free(port_file);
				return srv->port > 0 ? 0 : -1;
			}
		}
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = 0;
			break;
		}
		lv_sleep_ms(20);
	}
	free(port_file);
	show_log(srv, "lvserver did not start");
	if (srv->pid > 0) {
		lv_test_server_kill(srv);
	} else {
		free(srv->log_path);
		srv->log_path = NULL;
	}
	return -1;
}

int lv_test_server_stop(lv_test_server *srv)
{
	int status = -1;
	if (srv->pid <= 0)
		return -1;
	kill(srv->pid, SIGTERM);
	if (wait_exit(srv->pid, 10000, &status) != 0) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, &status, 0);
		status = -1;
	}
	srv->pid = 0;
	if (status != 0) {
		char what[96];
		snprintf(what, sizeof(what), "lvserver did not stop cleanly (wait status %d)", status);
		show_log(srv, what);
	}
	free(srv->log_path);
	srv->log_path = NULL;
	return status;
}

void lv_test_server_kill(lv_test_server *srv)
{
	int status;
	if (srv->pid > 0) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, &status, 0);
	}
	srv->pid = 0;
	free(srv->log_path);
	srv->log_path = NULL;
}

static size_t collect(char *data, size_t size, size_t n, void *p)
{
	lv_buf *b = p;
	return lv_buf_put(b, data, size * n) == 0 ? size * n : 0;
}

/* With LV_TEST_HTTP_RECORD=FILE, every response is appended to FILE as one JSON line
 * {"method", "url", "status", "headers": [[name, value], ...], "body": text or null, "body_len"} for
 * the OpenAPI conformance check (tests/openapi/check.mjs).  Headers are those of the final response
 * (after any 100 Continue), names lower-cased; bodies of media types are left out. */
void lv_test_http_record(const char *method, const char *url, const lv_test_response *resp)
{
	const char *file = getenv("LV_TEST_HTTP_RECORD"), *line, *ct = NULL;
	cJSON *o, *hs;
	char *text;
	int fd;
	if (!file || !*file || !resp->headers)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "method", method);
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddNumberToObject(o, "status", (double)resp->status);
	hs = cJSON_AddArrayToObject(o, "headers");
	for (line = resp->headers; *line; line += strcspn(line, "\n"), line += *line == '\n') {
		size_t n = strcspn(line, "\r\n"), colon = strcspn(line, ":");
		char name[128], *value;
		cJSON *pair;
		size_t i;
		if (!strncmp(line, "HTTP/", 5)) { /* a new response head (after 100 Continue): start over */
			cJSON_DeleteItemFromObject(o, "headers");
			hs = cJSON_AddArrayToObject(o, "headers");
			continue;
		}
		if (colon >= n || colon >= sizeof(name))
			continue;
		for (i = 0; i < colon; i++)
			name[i] = (char)((line[i] >= 'A' && line[i] <= 'Z') ? line[i] + 32 : line[i]);
		name[colon] = '\0';
		value = lv_strndup(line + colon + 1 + strspn(line + colon + 1, " \t"), n - colon - 1 - strspn(line + colon + 1, " \t"));
		pair = cJSON_CreateArray();
		cJSON_AddItemToArray(pair, cJSON_CreateString(name));
		cJSON_AddItemToArray(pair, cJSON_CreateString(value ? value : ""));
		cJSON_AddItemToArray(hs, pair);
		free(value);
	}
	{
		const cJSON *h;
		cJSON_ArrayForEach(h, hs)
			if (!strcmp(cJSON_GetArrayItem(h, 0)->valuestring, "content-type"))
				ct = cJSON_GetArrayItem(h, 1)->valuestring;
	}
	if (resp->body && (!ct || !strncmp(ct, "application/json", 16) || !strncmp(ct, "text/", 5)) &&
	    strlen(resp->body) == resp->body_len)
		cJSON_AddStringToObject(o, "body", resp->body);
	else
		cJSON_AddNullToObject(o, "body");
	cJSON_AddNumberToObject(o, "body_len", (double)resp->body_len);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	/* One write(2) per line on an O_APPEND file: lines of concurrent processes do not interleave. */
	if (text && (fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) >= 0) {
		size_t len = strlen(text);
		text[len] = '\n';
		if (write(fd, text, len + 1) != (ssize_t)(len + 1))
			fprintf(stderr, "LV_TEST_HTTP_RECORD: short write to %s\n", file);
		close(fd);
	}
	free(text);
}

int lv_test_http(lv_test_response *resp, const char *method, const char *url, const char *const *headers,
                 const char *body, size_t body_len)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	lv_buf b = LV_BUF_INIT, h = LV_BUF_INIT;
	CURLcode rc;
	memset(resp, 0, sizeof(*resp));
	if (!c)
		return -1;
	while (headers && *headers)
		hl = curl_slist_append(hl, *headers++);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	resp->body_len = b.len;
	resp->body = lv_buf_detach(&b);
	resp->headers = lv_buf_detach(&h);
	if (rc == CURLE_OK)
		lv_test_http_record(method, url, resp);
	return rc == CURLE_OK ? 0 : -1;
}

const char *lv_test_header(const lv_test_response *resp, const char *name, char *buf, size_t cap)
{
	return lv_http_header_find(resp->headers, name, buf, cap);
}

void lv_test_response_free(lv_test_response *resp)
{
	free(resp->body);
	free(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

/* Read both pipes until EOF without deadlocking on either. */
static void drain(int out_fd, int err_fd, lv_buf *out, lv_buf *err)
{
	struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds > 0) {
		int i;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			char chunk[8192];
			ssize_t n;
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				lv_buf_put(i == 0 ? out : err, chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
}

int lv_test_exec(lv_test_run *run, const char *program, const char *const *argv, const char *stdin_text,
                 const char *const *env)
{
	char *bin = lv_test_bin(program);
	const char *args[128];
	char **envp;
	size_t ne = 0, i, extra = 0;
	int out_pipe[2], err_pipe[2], in_pipe[2], status, argc = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	lv_buf out = LV_BUF_INIT, err = LV_BUF_INIT;

	memset(run, 0, sizeof(*run));
	run->exit_code = -1;
	args[argc++] = bin;
	while (argv && *argv && argc < 126)
		args[argc++] = *argv++;
	args[argc] = NULL;
	while (environ[ne])
		ne++;
	while (env && env[extra])
		extra++;
	envp = calloc(ne + extra + 1, sizeof(*envp));
	for (i = 0; i < ne; i++)
		envp[i] = environ[i];
	for (i = 0; i < extra; i++)
		envp[ne + i] = (char *)env[i];
	if (pipe(out_pipe) || pipe(err_pipe) || pipe(in_pipe)) {
		free(envp);
		free(bin);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
	posix_spawn_file_actions_addclose(&fa, in_pipe[1]);
	posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
	posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
	if (posix_spawn(&pid, bin, &fa, NULL, (char *const *)args, envp) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		free(envp);
		free(bin);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	free(bin);
	close(in_pipe[0]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (stdin_text) {
		size_t len = strlen(stdin_text), off = 0;
		while (off < len) {
			ssize_t w = write(in_pipe[1], stdin_text + off, len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	close(in_pipe[1]);
	drain(out_pipe[0], err_pipe[0], &out, &err);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	run->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	run->out = lv_buf_detach(&out);
	run->err = lv_buf_detach(&err);
	return 0;
}

void lv_test_run_free(lv_test_run *run)
{
	free(run->out);
	free(run->err);
	memset(run, 0, sizeof(*run));
}
