/*
 * lvserver: the HTTP API of liblongvideo on CivetWeb.
 *
 *   lvserver [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--workers N]
 *            [--public-url URL] [--port-file FILE] [--log-file FILE]
 *
 * main() reads the flags, opens the engine, starts civetweb (on an internal
 * loopback port) and the edge (server/edge.h, on the public address), then
 * waits for SIGTERM or SIGINT in sigwait() (the signals are blocked in every
 * thread; SIGHUP reopens the log file) and shuts down: the edge stops
 * accepting, civetweb finishes the requests in flight, then the engine.
 */
#include "edge.h"
#include "fiber.h"
#include "http.h"
#include "ratelimit.h"
#include "routes.h"
#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_FAILURE_RUN 1

typedef struct flags {
	const char *config;
	const char *data_dir;
	const char *listen;
	const char *public_url;
	const char *port_file;
	const char *log_file;
	const char *log_format; /* "text" | "json", or NULL: server.log_format */
	int workers; /* -1: not given */
} flags;

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: lvserver [options]\n"
	        "\n"
	        "Serve the liblongvideo HTTP API (/v1).\n"
	        "\n"
	        "options:\n"
	        "  --config FILE       JSON configuration file (default: $LV_CONFIG, else built-in defaults)\n"
	        "  --data-dir DIR      data directory: store and media (overrides \"data_dir\", default lvdata)\n"
	        "  --listen HOST:PORT  listen address (overrides server.listen, default 127.0.0.1:8080);\n"
	        "                      port 0 picks a free port\n"
	        "  --workers N         pipeline workers to run in this process (overrides pipeline.workers)\n"
	        "  --public-url URL    base URL of media links (overrides server.public_url)\n"
	        "  --port-file FILE    after binding, write the port number and a newline to FILE\n"
	        "  --log-file FILE     append the log to FILE instead of stderr; SIGHUP reopens it\n"
	        "  --log-format F      text (default) or json: one JSON object per line (overrides\n"
	        "                      server.log_format)\n"
	        "  --help              show this help and exit\n"
	        "  --version           show the version and exit\n"
	        "\n"
	        "SIGTERM or SIGINT stops the server cleanly (exit status 0); SIGHUP reopens the log file.\n");
}

/* A line of the server's own on stderr: as it is in text logs, as a JSON log line in JSON logs. */
static void say(lv_log_level level, const char *fmt, ...) SRV_PRINTF(2, 3);

static void say(lv_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (lv_log_get_format() == LV_LOG_FORMAT_JSON)
		lv_log_write(level, NULL, line, NULL);
	else
		fprintf(stderr, "%s\n", line);
}

static int usage_error(const char *fmt, ...) SRV_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lvserver: %s\nTry 'lvserver --help'.\n", message);
	return EXIT_USAGE;
}

/* Returns -1 to go on, else the exit code. */
static int parse_flags(flags *f, int argc, char **argv)
{
	static const char *const with_value[] = { "--config", "--data-dir", "--listen", "--workers",
		                                  "--public-url", "--port-file", "--log-file", "--log-format", NULL };
	int i;
	memset(f, 0, sizeof(*f));
	f->workers = -1;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL, *eq;
		char name[32];
		size_t k, nlen;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(arg, "--version")) {
			printf("lvserver %s (liblongvideo %s, CivetWeb %s)\n", LV_VERSION, lv_version(), mg_version());
			return 0;
		}
		eq = strchr(arg, '=');
		nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		if (strncmp(arg, "--", 2) != 0 || nlen >= sizeof(name))
			return usage_error("unexpected argument '%s'", arg);
		memcpy(name, arg, nlen);
		name[nlen] = '\0';
		for (k = 0; with_value[k]; k++)
			if (!strcmp(with_value[k], name))
				break;
		if (!with_value[k])
			return usage_error("unknown option '%s'", name);
		if (eq) {
			value = eq + 1;
		} else {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", name);
			value = argv[++i];
		}
		if (!*value)
			return usage_error("%s needs a non-empty value", name);
		if (!strcmp(name, "--config")) {
			f->config = value;
		} else if (!strcmp(name, "--data-dir")) {
			f->data_dir = value;
		} else if (!strcmp(name, "--listen")) {
			f->listen = value;
		} else if (!strcmp(name, "--public-url")) {
			f->public_url = value;
		} else if (!strcmp(name, "--port-file")) {
			f->port_file = value;
		} else if (!strcmp(name, "--log-file")) {
			f->log_file = value;
		} else if (!strcmp(name, "--log-format")) {
			lv_log_format fmt;
			if (lv_log_format_parse(&fmt, value) != LV_OK)
				return usage_error("--log-format: must be text or json (got '%s')", value);
			f->log_format = value;
		} else {
			char *end;
			long n;
			errno = 0;
			n = strtol(value, &end, 10);
			if (errno || *end || n < 0 || n > 1024)
				return usage_error("--workers: must be an integer from 0 to 1024 (got '%s')", value);
			f->workers = (int)n;
		}
	}
	return -1;
}

/* Point stderr (where every log line goes) at the log file: at start, and again on SIGHUP after a
 * log rotation moved the old file away. */
static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (dup2(fd, STDERR_FILENO) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Write "PORT\n" to path atomically (a temp file renamed into place), so that a reader never
 * sees a partial file. */
static int write_port_file(const char *path, int port)
{
	char tmp[4096], text[16];
	int fd, n, ok;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= sizeof(tmp))
		return -1;
	n = snprintf(text, sizeof(text), "%d\n", port);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The host part of a listen address ("127.0.0.1:8080" -> "127.0.0.1", "[::1]:0" -> "[::1]",
 * "8080" -> ""). */
static void listen_host(char *out, size_t cap, const char *listen)
{
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, listen, n);
	out[n] = '\0';
}

/* The store setting for the log, without credentials: the user and password of a URL become "***". */
static void redact_store(char *out, size_t cap, const char *store)
{
	const char *scheme = strstr(store, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
	if (scheme && at)
		snprintf(out, cap, "%.*s***%s", (int)(scheme + 3 - store), store, at);
	else
		snprintf(out, cap, "%s", store);
}

static void random_prefix(char out[9])
{
	unsigned char b[4] = { 0, 0, 0, 0 };
	int fd = open("/dev/urandom", O_RDONLY);
	unsigned v;
	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16);
	} else {
		v = (unsigned)b[0] << 24 | (unsigned)b[1] << 16 | (unsigned)b[2] << 8 | b[3];
	}
	if (fd >= 0)
		close(fd);
	snprintf(out, 9, "%08x", v);
}

/* A request is handled on a large stack of the worker thread's own (see fiber.h). */
static int dispatch_on_fiber(void *p)
{
	void **args = p;
	return srv_dispatch(args[0], args[1]);
}

static int handle_request(struct mg_connection *conn, void *cbdata)
{
	void *args[2];
	int ran, status;
	args[0] = conn;
	args[1] = cbdata;
	status = srv_fiber_run(mg_get_thread_pointer(conn), dispatch_on_fiber, args, &ran);
	return ran ? status : srv_dispatch(conn, cbdata); /* no stack to be had: the small one still holds a request */
}

/* Each CivetWeb worker thread owns a fiber; the other threads need none. */
static void *thread_start(const struct mg_context *ctx, int thread_type)
{
	(void)ctx;
	return thread_type == 1 ? srv_fiber_new() : NULL;
}

static void thread_exit(const struct mg_context *ctx, int thread_type, void *fiber)
{
	(void)ctx;
	if (thread_type == 1)
		srv_fiber_free(fiber);
}

/* Pipeline workers (n of them; 0: API only) and webhook delivery, which every server does so that the
 * webhooks of tasks canceled through the API go out even when no worker runs here. */
static int workers_start(srv_context *srv, int n)
{
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	wo.workers = n;
	wo.webhooks = 1;
	if (lv_workers_start(&srv->workers, srv->engine, &wo) != LV_OK) {
		fprintf(stderr, "lvserver: cannot start the workers: %s\n", lv_error_last()->message);
		return -1;
	}
	return 0;
}

/* Stop the workers: running work is interrupted and its tasks released for other workers at once. */
static void workers_stop(srv_context *srv)
{
	lv_workers_stop(srv->workers);
	srv->workers = NULL;
}

int main(int argc, char **argv)
{
	lv_engine_options eo = LV_ENGINE_OPTIONS_INIT;
	struct mg_callbacks callbacks;
	struct mg_init_data init;
	struct mg_error_data err;
	struct mg_server_port ports[4];
	struct mg_context *ctx;
	srv_context srv;
	srv_edge_options edge_opts;
	const char *options[32];
	char threads[16], errtext[256] = "", host[128], url[192], store[512], body_timeout[16], queue[16];
	const char *listen;
	unsigned errcode = 0;
	sigset_t stop_signals;
	struct sigaction ign;
	flags f;
	int rc, sig = 0, n_ports, port, internal_port, workers, nopt = 0;
	struct rlimit nofile;

	if ((rc = parse_flags(&f, argc, argv)) >= 0)
		return rc;
	if (f.log_file && open_log(f.log_file) != 0) {
		fprintf(stderr, "lvserver: cannot open the log file %s: %s\n", f.log_file, strerror(errno));
		return EXIT_FAILURE_RUN;
	}

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.streams_mu, NULL);
	srv.log_level = srv_log_level_from_env();
	lv_log_route_ffmpeg(1); /* FFmpeg's messages follow the library's log level, not its own */
	random_prefix(srv.id_prefix);
	atomic_init(&srv.next_request, 0);

	/* The log format first, so that every line (the store's migrations too) has it. */
	if (f.log_format) {
		lv_log_format fmt = LV_LOG_FORMAT_TEXT;
		lv_log_format_parse(&fmt, f.log_format);
		lv_log_set_format(fmt);
	} else {
		lv_engine_options peek = LV_ENGINE_OPTIONS_INIT;
		lv_engine *cfg_only = NULL;
		lv_log_format fmt = LV_LOG_FORMAT_TEXT;
		peek.config_path = f.config;
		peek.data_dir = f.data_dir;
		peek.flags = LV_ENGINE_NO_STORE;
		if (lv_engine_open(&cfg_only, &peek) == LV_OK &&
		    lv_log_format_parse(&fmt, lv_engine_setting(cfg_only, "server.log_format")) == LV_OK)
			lv_log_set_format(fmt);
		lv_engine_close(cfg_only);
		lv_error_clear(); /* a bad configuration is reported by the real open below */
	}
	eo.config_path = f.config;
	eo.data_dir = f.data_dir;
	eo.listen = f.listen;
	eo.public_url = f.public_url;
	eo.workers = f.workers;
	if ((rc = lv_engine_open(&srv.engine, &eo))) {
		fprintf(stderr, "lvserver: %s\n", lv_error_last()->message);
		return EXIT_FAILURE_RUN;
	}
	listen = lv_engine_setting(srv.engine, "server.listen");
	srv.max_body_bytes = lv_engine_setting_int(srv.engine, "server.max_body_bytes", 1048576);
	srv.max_create_body_bytes = lv_engine_setting_int(srv.engine, "server.max_create_body_bytes", 33554432);
	srv.rate_limit_per_minute = (int)lv_engine_setting_int(srv.engine, "server.rate_limit_per_minute", 0);
	workers = (int)lv_engine_setting_int(srv.engine, "pipeline.workers", 0);
	if (srv.rate_limit_per_minute > 0 && !(srv.ratelimit = srv_ratelimit_new(srv.rate_limit_per_minute))) {
		fprintf(stderr, "lvserver: out of memory\n");
		lv_engine_close(srv.engine);
		return EXIT_FAILURE_RUN;
	}
	/* Each live progress stream holds a thread for as long as it is open (CivetWeb has no way to park a
	 * response): the streams get threads of their own on top of server.threads, so that watchers can
	 * never take the request threads away. */
	srv.max_streams = (int)lv_engine_setting_int(srv.engine, "server.max_event_streams", 64);
	snprintf(threads, sizeof(threads), "%lld",
	         (long long)lv_engine_setting_int(srv.engine, "server.threads", 32) + srv.max_streams);
	srv.body_timeout_ms = (int)lv_engine_setting_int(srv.engine, "server.body_timeout_ms", 30000);
	srv.cors_origins = lv_engine_setting(srv.engine, "server.cors_origins");
	snprintf(body_timeout, sizeof(body_timeout), "%d", srv.body_timeout_ms);
	/* Connections wait here while every worker is busy; the edge holds the slow ones. */
	snprintf(queue, sizeof(queue), "%lld", (long long)lv_engine_setting_int(srv.engine, "server.threads", 32) * 4);
	memset(&edge_opts, 0, sizeof(edge_opts));
	edge_opts.listen = listen;
	edge_opts.max_connections = (int)lv_engine_setting_int(srv.engine, "server.max_connections", 1024);
	edge_opts.max_connections_per_ip = (int)lv_engine_setting_int(srv.engine, "server.max_connections_per_ip", 64);
	edge_opts.loops = (int)lv_engine_setting_int(srv.engine, "server.edge_threads", 0);
	edge_opts.header_timeout_ms = (int)lv_engine_setting_int(srv.engine, "server.header_timeout_ms", 10000);
	edge_opts.trusted_proxies = lv_engine_setting(srv.engine, "server.trusted_proxies");
	{
		/* The edge answers the JSON reads itself when a read cannot wait on the network: an SQLite
		 * store.  On PostgreSQL a read is a round trip, which would stall every connection of the
		 * edge's loop; there CivetWeb's threads overlap them. */
		const char *er = lv_engine_setting(srv.engine, "server.edge_reads"), *spec = lv_engine_setting(srv.engine, "store");
		edge_opts.serve_reads = er && !strcmp(er, "on") ? 1 : er && !strcmp(er, "off") ? 0 : spec && !strncmp(spec, "sqlite:", 7);
	}
	/* Every open connection costs up to seven descriptors (client, upstream, two pipes, CivetWeb's
	 * end): take what the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &nofile);
	}

	/* Block the stop signals before civetweb starts its threads, so that they inherit the mask and
	 * only sigwait() below sees them.  A write to a closed socket must not kill the process. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, NULL);

	/* CivetWeb listens on an internal loopback port and gets its connections from the edge only. */
	options[nopt++] = "listening_ports";
	options[nopt++] = "127.0.0.1:0";
	options[nopt++] = "access_control_list";
	options[nopt++] = "-0.0.0.0/0,+127.0.0.1";
	options[nopt++] = "num_threads";
	options[nopt++] = threads;
	options[nopt++] = "connection_queue";
	options[nopt++] = queue;
	options[nopt++] = "listen_backlog";
	options[nopt++] = "1024";
	options[nopt++] = "enable_keep_alive";
	options[nopt++] = "yes";
	options[nopt++] = "keep_alive_timeout_ms";
	options[nopt++] = "2000";
	/* The longest one read may wait; the body as a whole is bounded by server.body_timeout_ms too. */
	options[nopt++] = "request_timeout_ms";
	options[nopt++] = body_timeout;
	/* CORS is ours (server.cors_origins): CivetWeb would approve every preflight and add its own
	 * Access-Control-Allow-Origin to files. */
	options[nopt++] = "access_control_allow_origin";
	options[nopt++] = "";
	options[nopt++] = "decode_url";
	options[nopt++] = "yes";
	options[nopt] = NULL;

	memset(&callbacks, 0, sizeof(callbacks));
	callbacks.http_error = srv_civetweb_http_error;
	callbacks.log_message = srv_civetweb_log_message;
	callbacks.init_thread = thread_start;
	callbacks.exit_thread = thread_exit;
	mg_init_library(0);
	memset(&init, 0, sizeof(init));
	init.callbacks = &callbacks;
	init.user_data = &srv;
	init.configuration_options = options;
	memset(&err, 0, sizeof(err));
	err.code = &errcode;
	err.text = errtext;
	err.text_buffer_size = sizeof(errtext);
	if (!(ctx = mg_start2(&init, &err))) {
		say(LV_LOG_ERROR, "lvserver: cannot listen on %s: %s", listen, errtext[0] ? errtext : "unknown error");
		srv_ratelimit_free(srv.ratelimit);
		lv_engine_close(srv.engine);
		mg_exit_library();
		return EXIT_FAILURE_RUN;
	}
	memset(ports, 0, sizeof(ports));
	n_ports = mg_get_server_ports(ctx, 4, ports);
	internal_port = n_ports > 0 ? ports[0].port : 0;
	edge_opts.upstream_port = internal_port;
	if (srv_edge_start(&srv.edge, &srv, &edge_opts, &port, errtext, sizeof(errtext)) != 0) {
		say(LV_LOG_ERROR, "lvserver: cannot listen on %s: %s", listen, errtext);
		srv_civetweb_stop(ctx, "127.0.0.1", internal_port);
		srv_ratelimit_free(srv.ratelimit);
		lv_engine_close(srv.engine);
		mg_exit_library();
		return EXIT_FAILURE_RUN;
	}

	/* The public URL must be final before any request reads it: routes are registered after. */
	listen_host(host, sizeof(host), listen);
	if (!host[0] || !strcmp(host, "0.0.0.0"))
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	else if (!strcmp(host, "[::]"))
		snprintf(url, sizeof(url), "http://[::1]:%d", port);
	else
		snprintf(url, sizeof(url), "http://%s:%d", host, port);
	if (lv_engine_set_public_url(srv.engine, url))
		srv_log(&srv, SRV_LOG_WARN, "public URL %s not set: %s", url, lv_error_last()->message);
	/* The workers before the routes: GET /metrics reads srv.workers, which must be whole by then. */
	if (workers_start(&srv, workers) != 0) {
		srv_edge_stop(srv.edge);
		srv_civetweb_stop(ctx, "127.0.0.1", internal_port);
		srv_ratelimit_free(srv.ratelimit);
		lv_engine_close(srv.engine);
		mg_exit_library();
		return EXIT_FAILURE_RUN;
	}
	mg_set_request_handler(ctx, "/", handle_request, &srv);
	redact_store(store, sizeof(store), lv_engine_setting(srv.engine, "store"));
	say(LV_LOG_INFO, "lvserver %s listening on http://%s:%d (workers: %d, store: %s)", LV_VERSION,
	        host[0] ? host : "0.0.0.0", port, workers, store);
	srv_log(&srv, SRV_LOG_INFO, "public URL %s; %s threads; body limit %lld bytes; rate limit %s",
	        lv_engine_setting(srv.engine, "server.public_url"), threads, (long long)srv.max_body_bytes,
	        srv.rate_limit_per_minute > 0 ? "on" : "off");
	if (f.port_file && write_port_file(f.port_file, port) != 0) {
		say(LV_LOG_ERROR, "lvserver: cannot write the port file %s: %s", f.port_file, strerror(errno));
		srv_edge_stop(srv.edge);
		srv_civetweb_stop(ctx, "127.0.0.1", internal_port);
		workers_stop(&srv);
		srv_ratelimit_free(srv.ratelimit);
		lv_engine_close(srv.engine);
		mg_exit_library();
		return EXIT_FAILURE_RUN;
	}

	for (;;) {
		if (sigwait(&stop_signals, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		if (!f.log_file)
			srv_log(&srv, SRV_LOG_INFO, "received SIGHUP: no --log-file to reopen");
		else if (open_log(f.log_file) != 0)
			srv_log(&srv, SRV_LOG_ERROR, "received SIGHUP: cannot reopen %s: %s", f.log_file, strerror(errno));
		else
			srv_log(&srv, SRV_LOG_INFO, "received SIGHUP: log file %s reopened", f.log_file);
	}
	srv_log(&srv, SRV_LOG_INFO, "received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	atomic_store(&srv.stopping, 1); /* live progress streams end */
	srv_edge_quiesce(srv.edge); /* no new connections */
	srv_civetweb_stop(ctx, "127.0.0.1", internal_port); /* waits for the requests in flight */
	srv_edge_stop(srv.edge);
	workers_stop(&srv); /* then the pipeline; leases are released for other workers */
	srv_ratelimit_free(srv.ratelimit);
	lv_engine_close(srv.engine);
	mg_exit_library();
	say(LV_LOG_INFO, "lvserver stopped");
	return 0;
}
