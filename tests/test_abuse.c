/*
 * lvserver under abuse: the real binary on an ephemeral loopback port, attacked with raw sockets.
 * Each case sends what a hostile or broken client sends (a nesting bomb, an oversize body, a
 * slowloris from another loopback address, idle connections, Content-Length with Transfer-Encoding
 * on a first or a later request of a connection, a header flood, NUL bytes in JSON, no Host) and
 * checks the answer the API contract gives, then that the server still serves (/healthz and an
 * authenticated request) and, at teardown, that it exits cleanly.
 * Nothing here measures time: a request "is served" when it is answered before a generous
 * timeout that a starved server would not meet.
 */
#include "testutil.h"
#include "harness.h"
#include "longvideo.h"
#include "util/fs.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BODY_LIMIT 65536
#define PER_IP 24
#define SLOW 60 /* slow connections: more than PER_IP, and far more than the server's threads */

static char *g_dir, *g_config;
static lv_test_server g_srv;
static lv_engine *g_engine;
static char g_auth[96];

static void server_up(void)
{
	char json[512];
	/* The access log (info) is read by trusted_proxy_address. */
	setenv("LV_LOG_LEVEL", "info", 1);
	g_dir = lv_test_mkdtemp("abuse");
	ck_assert_ptr_nonnull(g_dir);
	/* Few threads, so that a handful of slow clients would be enough to starve a server that gave
	 * them threads; a short head deadline, so that the test sees it expire. */
	snprintf(json, sizeof(json),
	         "{\"server\": {\"threads\": 4, \"max_body_bytes\": %d, \"max_create_body_bytes\": %d,"
	         " \"max_connections_per_ip\": %d, \"header_timeout_ms\": 1500, \"trusted_proxies\": [\"127.0.0.3\"]},"
	         " \"pipeline\": {\"workers\": 0}}",
	         BODY_LIMIT, BODY_LIMIT, PER_IP);
	g_config = lv_test_write_file(g_dir, "config.json", json);
	ck_assert_ptr_nonnull(g_config);
	ck_assert_int_eq(lv_test_server_start(&g_srv, g_dir, g_config, NULL), 0);
}

static void server_down(void)
{
	/* An unclean exit (under LV_SANITIZE, a leak) prints the server's log from the harness. */
	int status = lv_test_server_stop(&g_srv);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	lv_test_rmdir(g_dir);
	free(g_dir);
	free(g_config);
	g_dir = g_config = NULL;
}

static void engine_open(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_key *key = NULL;
	o.config_path = g_config;
	o.data_dir = g_dir;
	ck_assert_msg(lv_engine_open(&g_engine, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_key_create(&key, g_engine, "abuse", 100000000), LV_OK);
	snprintf(g_auth, sizeof(g_auth), "Authorization: Bearer %s", lv_key_secret(key));
	lv_key_free(key);
}

static void engine_close(void)
{
	lv_engine_close(g_engine);
	g_engine = NULL;
}

/* ---- raw sockets ---------------------------------------------------------------------------------- */

/* A connection to the server from the loopback address `from` ("127.0.0.1", "127.0.0.2", ...). */
static int connect_from(const char *from)
{
	struct sockaddr_in sa, src;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, from, &src.sin_addr), 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)g_srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_bytes(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return; /* the server may close early: what it answered is read next */
		data += n;
		len -= (size_t)n;
	}
}

static void send_str(int fd, const char *s)
{
	send_bytes(fd, s, strlen(s));
}

/* Read until the server closes the connection, `until` appears, or `timeout_ms` passes without a byte.
 * Returns the bytes read (NUL-terminated, caller frees); *closed tells whether the server closed. */
static char *read_reply(int fd, const char *until, int timeout_ms, int *closed)
{
	size_t cap = 1 << 16, len = 0;
	char *out = calloc(1, cap);
	ck_assert_ptr_nonnull(out);
	*closed = 0;
	while (len < cap - 1 && !(until && strstr(out, until))) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		n = recv(fd, out + len, cap - 1 - len, 0);
		if (n <= 0) {
			*closed = 1;
			break;
		}
		len += (size_t)n;
		out[len] = '\0';
	}
	return out;
}

/* One request on a new connection from 127.0.0.1; the whole reply (until the server closes, or a
 * complete response when `until` is given). */
static char *exchange(const char *request, size_t len, const char *until, int *closed)
{
	int fd = connect_from("127.0.0.1");
	char *reply;
	send_bytes(fd, request, len);
	reply = read_reply(fd, until, 10000, closed);
	close(fd);
	return reply;
}

static int status_of(const char *reply)
{
	int st = 0;
	if (sscanf(reply, "HTTP/1.%*d %d", &st) != 1)
		return 0;
	return st;
}

/* A POST with a JSON body and the test key, "Connection: close". */
static char *post(const char *path, const char *body, size_t len, const char *extra_headers)
{
	char head[1024];
	char *req, *reply;
	int closed, n;
	n = snprintf(head, sizeof(head),
	             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	             "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
	             path, g_auth, len, extra_headers ? extra_headers : "");
	req = malloc((size_t)n + len);
	ck_assert_ptr_nonnull(req);
	memcpy(req, head, (size_t)n);
	memcpy(req + n, body, len);
	reply = exchange(req, (size_t)n + len, NULL, &closed);
	free(req);
	return reply;
}

/* The server answers /healthz and an authenticated GET from 127.0.0.1. */
static void assert_serving(void)
{
	char req[256], *reply;
	int closed;
	{
		static const char h[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
		reply = exchange(h, sizeof(h) - 1, NULL, &closed);
	}
	ck_assert_msg(status_of(reply) == 200 && strstr(reply, "\"status\":\"ok\""), "healthz: %s", reply);
	free(reply);
	snprintf(req, sizeof(req), "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n\r\n",
	         g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(status_of(reply) == 200 && strstr(reply, "\"object\":\"credits\""), "credits: %s", reply);
	free(reply);
}

static void assert_error(const char *reply, int status, const char *code, const char *message_part)
{
	char want[64];
	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	ck_assert_msg(status_of(reply) == status, "expected %d, got: %s", status, reply);
	ck_assert_msg(strstr(reply, want) != NULL, "expected %s in: %s", code, reply);
	ck_assert_msg(!message_part || strstr(reply, message_part), "expected \"%s\" in: %s", message_part, reply);
}

/* ---- the cases ---------------------------------------------------------------------------------------- */

START_TEST(nesting_bomb)
{
	char bomb[801], *reply, *task_path;
	const char *p;
	memset(bomb, '[', 800);
	bomb[800] = '\0';
	/* Create: parsed, and refused before cJSON recurses 800 levels on a worker's small stack. */
	reply = post("/v1/videos", bomb, 800, NULL);
	assert_error(reply, 400, "invalid_request", "nesting deeper than 64");
	free(reply);
	/* Compose of an unknown task: 404 before the body is even read. */
	reply = post("/v1/videos/vid_doesnotexist/compose", bomb, 800, NULL);
	assert_error(reply, 404, "task_not_found", NULL);
	free(reply);
	/* Compose of a real task: the body is parsed, with the same limit.  Objects nest too. */
	reply = post("/v1/videos", "{\"prompt\":\"a bomb target\",\"duration\":3}", 39, NULL);
	ck_assert_msg(status_of(reply) == 202, "%s", reply);
	p = strstr(reply, "\"task_id\":\"");
	ck_assert_ptr_nonnull(p);
	task_path = lv_asprintf("/v1/videos/%.*s/compose", (int)strcspn(p + 11, "\""), p + 11);
	free(reply);
	{
		char obj[4001];
		size_t i;
		for (i = 0; i + 5 <= 4000; i += 5)
			memcpy(obj + i, "{\"a\":", 5);
		obj[i] = '\0';
		reply = post(task_path, obj, i, NULL);
		assert_error(reply, 400, "invalid_request", "nesting deeper than 64");
		free(reply);
	}
	reply = post(task_path, bomb, 800, NULL);
	assert_error(reply, 400, "invalid_request", "nesting deeper than 64");
	free(reply);
	free(task_path);
	assert_serving();
}
END_TEST

START_TEST(nul_and_control_characters)
{
	static const char raw_nul[] = "{\"prompt\":\"same\0 tail one\",\"duration\":3}";
	static const char raw_nul2[] = "{\"prompt\":\"same\0 tail two\",\"duration\":3}";
	static const char escaped_nul[] = "{\"prompt\":\"same\\u0000 tail\",\"duration\":3}";
	static const char raw_tab[] = "{\"prompt\":\"tab\there\",\"duration\":3}";
	static const char raw_newline[] = "{\"prompt\":\"line\nbreak\",\"duration\":3}";
	char *reply;
	/* A NUL would cut the prompt: two different bodies would look the same to the idempotency check. */
	reply = post("/v1/videos", raw_nul, sizeof(raw_nul) - 1, "Idempotency-Key: nul-1\r\n");
	assert_error(reply, 400, "invalid_request", "NUL byte");
	free(reply);
	reply = post("/v1/videos", raw_nul2, sizeof(raw_nul2) - 1, "Idempotency-Key: nul-1\r\n");
	assert_error(reply, 400, "invalid_request", "NUL byte");
	free(reply);
	reply = post("/v1/videos", escaped_nul, sizeof(escaped_nul) - 1, NULL);
	assert_error(reply, 400, "invalid_request", "\\\\u0000");
	free(reply);
	reply = post("/v1/videos", raw_tab, sizeof(raw_tab) - 1, NULL);
	assert_error(reply, 400, "invalid_request", "raw control character 0x09");
	free(reply);
	reply = post("/v1/videos", raw_newline, sizeof(raw_newline) - 1, NULL);
	assert_error(reply, 400, "invalid_request", "raw control character 0x0a");
	free(reply);
	assert_serving();
}
END_TEST

START_TEST(oversize_bodies)
{
	char head[512], *reply, *big;
	int fd, closed;
	size_t big_len = 4u << 20;
	/* A declared-too-long body is answered without being read, and the client still reads the
	 * JSON while it is sending (the server drains a bounded amount instead of resetting). */
	snprintf(head, sizeof(head),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\n\r\n",
	         g_auth, big_len);
	big = malloc(big_len);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', big_len);
	fd = connect_from("127.0.0.1");
	send_bytes(fd, head, strlen(head));
	send_bytes(fd, big, 256 * 1024);
	reply = read_reply(fd, "}}", 10000, &closed);
	assert_error(reply, 413, "request_too_large", "max_create_body_bytes"); /* create bodies have their own limit */
	free(reply);
	close(fd);
	/* Chunked, with no length announced: cut off at the limit. */
	fd = connect_from("127.0.0.1");
	snprintf(head, sizeof(head),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n",
	         g_auth);
	send_bytes(fd, head, strlen(head));
	{
		int i;
		for (i = 0; i < 40; i++) {
			char size[16];
			snprintf(size, sizeof(size), "4000\r\n");
			send_bytes(fd, size, strlen(size));
			send_bytes(fd, big, 0x4000);
			send_bytes(fd, "\r\n", 2);
		}
	}
	reply = read_reply(fd, "}}", 10000, &closed);
	assert_error(reply, 413, "request_too_large", NULL);
	free(reply);
	close(fd);
	free(big);
	assert_serving();
}
END_TEST

START_TEST(slowloris_from_another_address)
{
	int fds[SLOW], i, refused = 0, timed_out = 0;
	/* 60 connections from 127.0.0.2, each with half a request head that never ends. */
	for (i = 0; i < SLOW; i++) {
		fds[i] = connect_from("127.0.0.2");
		send_str(fds[i], "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
	}
	/* Another client is served meanwhile: the slow ones hold no worker. */
	assert_serving();
	assert_serving();
	/* Those beyond the per-address limit were refused with 429; the others get 408 when the head
	 * deadline passes (a total deadline: sending a byte now and then does not extend it). */
	for (i = 0; i < SLOW; i++) {
		int closed;
		char *reply;
		send_bytes(fds[i], "x", 1);
		reply = read_reply(fds[i], NULL, 10000, &closed);
		if (status_of(reply) == 429) {
			ck_assert_msg(strstr(reply, "max_connections_per_ip") != NULL, "%s", reply);
			refused++;
		} else if (status_of(reply) == 408) {
			timed_out++;
		} else {
			ck_abort_msg("slow connection %d: unexpected reply: %s", i, reply);
		}
		free(reply);
		close(fds[i]);
	}
	ck_assert_int_eq(refused, SLOW - PER_IP);
	ck_assert_int_eq(timed_out, PER_IP);
	assert_serving();
}
END_TEST

START_TEST(idle_connections_hold_no_thread)
{
	/* Connections that send nothing at all, five times as many as the server has request threads
	 * (a server that gave each a thread would answer nobody until they went away). */
	int fds[20], i;
	for (i = 0; i < 20; i++)
		fds[i] = connect_from("127.0.0.5");
	assert_serving();
	assert_serving();
	/* Each is answered 408 at the head deadline and closed. */
	for (i = 0; i < 20; i++) {
		int closed;
		char *reply = read_reply(fds[i], NULL, 10000, &closed);
		assert_error(reply, 408, "invalid_request", "header_timeout_ms");
		ck_assert(closed);
		free(reply);
		close(fds[i]);
	}
	assert_serving();
}
END_TEST

START_TEST(request_smuggling_and_host)
{
	char req[512], *reply;
	int closed;
	/* Content-Length with Transfer-Encoding: refused, and the connection closed. */
	snprintf(req, sizeof(req),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	         "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/credits HTTP/1.1\r\n"
	         "Host: 127.0.0.1\r\n\r\n",
	         g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	assert_error(reply, 400, "invalid_request", "Transfer-Encoding");
	ck_assert_msg(closed && strstr(reply, "Connection: close"), "%s", reply);
	ck_assert_msg(strstr(reply, "\"object\":\"credits\"") == NULL, "the smuggled request was served: %s", reply);
	free(reply);
	/* Two different lengths. */
	snprintf(req, sizeof(req),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
	         g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	assert_error(reply, 400, "invalid_request", "Content-Length");
	free(reply);
	/* HTTP/1.1 without Host. */
	snprintf(req, sizeof(req), "GET /v1/credits HTTP/1.1\r\n%s\r\n\r\n", g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	assert_error(reply, 400, "invalid_request", "Host: required");
	ck_assert(closed);
	free(reply);
	reply = exchange("GET /healthz HTTP/1.1\r\n\r\n", strlen("GET /healthz HTTP/1.1\r\n\r\n"), NULL, &closed);
	assert_error(reply, 400, "invalid_request", "Host: required");
	free(reply);
	/* HTTP/1.0 needs none. */
	snprintf(req, sizeof(req), "GET /v1/credits HTTP/1.0\r\n%s\r\n\r\n", g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(status_of(reply) == 200, "%s", reply);
	free(reply);
	/* Whitespace before the colon of a header name (a smuggling classic). */
	snprintf(req, sizeof(req), "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length : 5\r\n%s\r\n\r\n",
	         g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	assert_error(reply, 400, "invalid_request", "whitespace in a header name");
	free(reply);
	assert_serving();
}
END_TEST

/* Count the responses in a reply (status lines). */
static int responses_in(const char *reply)
{
	int n = 0;
	const char *p = reply;
	while ((p = strstr(p, "HTTP/1.1 ")) != NULL) {
		n++;
		p += 9;
	}
	return n;
}

/* Every request on a kept-alive connection meets the rules the first one met: pipelined after a
 * bodiless request, after a Content-Length body, after a chunked body, and one whose head
 * trickles in. */
START_TEST(every_request_on_a_connection)
{
	char req[2048], *reply;
	const char *second;
	int fd, closed;
	/* Two good requests on one connection are both served. */
	snprintf(req, sizeof(req),
	         "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n"
	         "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n\r\n",
	         g_auth, g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(responses_in(reply) == 2 && strstr(strstr(reply, "\"object\":\"credits\"") + 1, "\"object\":\"credits\""),
	              "%s", reply);
	free(reply);

	/* A second request with Content-Length and Transfer-Encoding, carrying a smuggled third. */
	snprintf(req, sizeof(req),
	         "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n"
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	         "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/credits HTTP/1.1\r\n"
	         "Host: 127.0.0.1\r\n%s\r\n\r\n",
	         g_auth, g_auth, g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(status_of(reply) == 200, "%s", reply);
	second = strstr(reply + 9, "HTTP/1.1 ");
	ck_assert_msg(second != NULL, "no second answer: %s", reply);
	assert_error(second, 400, "invalid_request", "Transfer-Encoding: not allowed together with Content-Length");
	ck_assert_msg(closed && responses_in(reply) == 2, "%s", reply);
	free(reply);

	/* After a request with a Content-Length body: a second one without Host. */
	snprintf(req, sizeof(req),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	         "Content-Length: 36\r\n\r\n{\"prompt\":\"keep alive\",\"duration\":3}"
	         "GET /v1/credits HTTP/1.1\r\n%s\r\n\r\n",
	         g_auth, g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(status_of(reply) == 202, "%s", reply);
	second = strstr(reply + 9, "HTTP/1.1 ");
	ck_assert_msg(second != NULL, "no second answer: %s", reply);
	assert_error(second, 400, "invalid_request", "Host: required");
	ck_assert_msg(closed && responses_in(reply) == 2, "%s", reply);
	free(reply);

	/* After a chunked body: the same. */
	snprintf(req, sizeof(req),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"prompt\":\"chunk\r\n11\r\ned\",\"duration\":3}\r\n0\r\n\r\n"
	         "GET /v1/credits HTTP/1.1\r\n%s\r\n\r\n",
	         g_auth, g_auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(status_of(reply) == 202, "%s", reply);
	second = strstr(reply + 9, "HTTP/1.1 ");
	ck_assert_msg(second != NULL, "no second answer: %s", reply);
	assert_error(second, 400, "invalid_request", "Host: required");
	ck_assert_msg(closed && responses_in(reply) == 2, "%s", reply);
	free(reply);

	/* A second head that trickles in: cut off with 408, never served. */
	fd = connect_from("127.0.0.1");
	snprintf(req, sizeof(req), "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n", g_auth);
	send_str(fd, req);
	reply = read_reply(fd, "\"currency\":\"credits\"}", 10000, &closed);
	ck_assert_msg(status_of(reply) == 200 && !closed, "%s", reply);
	free(reply);
	snprintf(req, sizeof(req), "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", g_auth);
	send_str(fd, req);
	{
		int i;
		for (i = 0; i < 100; i++) {
			char line[32];
			struct pollfd p = { fd, POLLIN, 0 };
			snprintf(line, sizeof(line), "X-Drip-%d: 1\r\n", i);
			send_bytes(fd, line, strlen(line));
			if (poll(&p, 1, 100) > 0)
				break; /* answered */
		}
	}
	reply = read_reply(fd, NULL, 10000, &closed);
	assert_error(reply, 408, "invalid_request", "request head did not arrive");
	ck_assert_msg(closed && !strstr(reply, "\"object\":\"credits\""), "%s", reply);
	free(reply);
	close(fd);
	assert_serving();
}
END_TEST

START_TEST(header_floods)
{
	char *req, *reply;
	size_t cap = 64 * 1024, len;
	int i, closed, fd;
	req = malloc(cap);
	ck_assert_ptr_nonnull(req);
	/* Too many fields. */
	len = (size_t)snprintf(req, cap, "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", g_auth);
	for (i = 0; i < 200; i++)
		len += (size_t)snprintf(req + len, cap - len, "X-Flood-%d: %d\r\n", i, i);
	len += (size_t)snprintf(req + len, cap - len, "\r\n");
	reply = exchange(req, len, NULL, &closed);
	assert_error(reply, 431, "request_too_large", "header fields");
	free(reply);
	/* A head larger than 16 KiB. */
	len = (size_t)snprintf(req, cap, "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
	memset(req + len, 'a', 20000);
	len += 20000;
	len += (size_t)snprintf(req + len, cap - len, "\r\n\r\n");
	reply = exchange(req, len, NULL, &closed);
	assert_error(reply, 431, "request_too_large", NULL);
	free(reply);
	/* A head that keeps coming, one line at a time, past the head deadline. */
	fd = connect_from("127.0.0.1");
	send_str(fd, "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n");
	for (i = 0; i < 40; i++) {
		char line[32];
		struct pollfd p = { fd, POLLIN, 0 };
		snprintf(line, sizeof(line), "X-Drip-%d: 1\r\n", i);
		send_bytes(fd, line, strlen(line));
		if (poll(&p, 1, 100) > 0)
			break; /* answered */
	}
	reply = read_reply(fd, NULL, 10000, &closed);
	assert_error(reply, 408, "invalid_request", "header_timeout_ms");
	free(reply);
	close(fd);
	free(req);
	assert_serving();
}
END_TEST

START_TEST(trusted_proxy_address)
{
	char req[512], *reply, *log = NULL;
	size_t len = 0;
	int fd, closed, i;
	/* From a trusted proxy the client is the address it appended; from anyone else the header is
	 * the client's own claim and is ignored. */
	snprintf(req, sizeof(req),
	         "GET /v1/credits?x HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n"
	         "Connection: close\r\n\r\n",
	         g_auth);
	fd = connect_from("127.0.0.3");
	send_bytes(fd, req, strlen(req));
	reply = read_reply(fd, NULL, 10000, &closed);
	close(fd);
	free(reply);
	fd = connect_from("127.0.0.4");
	send_bytes(fd, req, strlen(req));
	reply = read_reply(fd, NULL, 10000, &closed);
	close(fd);
	free(reply);
	/* RFC 7239 Forwarded wins over X-Forwarded-For: its last element's for= (quotes, brackets and a
	 * port taken off). */
	snprintf(req, sizeof(req),
	         "GET /v1/credits?y HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nX-Forwarded-For: 198.51.100.2\r\n"
	         "Forwarded: for=198.51.100.3;proto=http, for=\"[2001:db8::17]:4711\";proto=https\r\n"
	         "Connection: close\r\n\r\n",
	         g_auth);
	fd = connect_from("127.0.0.3");
	send_bytes(fd, req, strlen(req));
	reply = read_reply(fd, NULL, 10000, &closed);
	close(fd);
	free(reply);
	/* A trusted proxy is not held to the per-address limit. */
	{
		int many[PER_IP + 4];
		for (i = 0; i < PER_IP + 4; i++) {
			many[i] = connect_from("127.0.0.3");
			send_str(many[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n");
		}
		for (i = 0; i < PER_IP + 4; i++) {
			send_bytes(many[i], "\r\n", 2);
			reply = read_reply(many[i], "}", 10000, &closed);
			ck_assert_msg(status_of(reply) == 200, "trusted connection %d: %s", i, reply);
			free(reply);
			close(many[i]);
		}
	}
	ck_assert_int_eq(lv_file_read(&log, &len, g_srv.log_path), 0);
	ck_assert_msg(strstr(log, "/v1/credits 400") && strstr(log, " 203.0.113.9 key "), "%s", log);
	ck_assert_msg(strstr(log, " 127.0.0.4 key "), "%s", log);
	ck_assert_msg(!strstr(log, "198.51.100.1"), "%s", log);
	ck_assert_msg(strstr(log, " 2001:db8::17 key ") && !strstr(log, "198.51.100.2") && !strstr(log, "198.51.100.3"),
	              "%s", log);
	free(log);
	assert_serving();
}
END_TEST

/* A counter of GET /metrics. */
static long long metric(const char *name)
{
	char req[256], want[128], *reply;
	const char *at;
	long long v = -1;
	int closed;
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
	reply = exchange(req, strlen(req), NULL, &closed);
	snprintf(want, sizeof(want), "\n%s ", name);
	if ((at = strstr(reply, want)) != NULL)
		v = atoll(at + strlen(want));
	free(reply);
	ck_assert_msg(v >= 0, "no %s in /metrics", name);
	return v;
}

/* The headers of a response without Date and X-Request-Id, and its body: what must not depend on
 * whether the edge or a request thread answered. */
static char *comparable(const char *reply)
{
	size_t cap = strlen(reply) + 1, len = 0;
	char *out = calloc(1, cap);
	const char *p = reply;
	ck_assert_ptr_nonnull(out);
	while (*p) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol - p) + 2 : strlen(p);
		if (strncmp(p, "Date:", 5) != 0 && strncmp(p, "X-Request-Id:", 13) != 0) {
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
	}
	return out;
}

/* One whole response (head and Content-Length body) from the start of *p; *p moves past it. */
static char *take_response(const char **p)
{
	const char *end = strstr(*p, "\r\n\r\n"), *cl = strstr(*p, "Content-Length: ");
	size_t n;
	char *one;
	ck_assert_msg(end && cl && cl < end, "no complete head: %s", *p);
	n = (size_t)(end + 4 - *p) + (size_t)atol(cl + 16);
	ck_assert_msg(strlen(*p) >= n, "short body: %zu of %zu bytes", strlen(*p), n);
	one = strndup(*p, n);
	*p += n;
	return one;
}

/* With an SQLite store the edge answers the JSON reads itself: the same answers as the request
 * threads give, in order with the requests it hands over on the same connection, and whole to a
 * client that reads slowly. */
START_TEST(reads_answered_by_the_edge)
{
	char req[4096], auth[128], *reply, *a, *b;
	const char *p;
	lv_key *key = NULL;
	lv_task *t = NULL;
	int closed, i, fd;
	long long before;
	static const char body[] = "{\"prompt\":\"A lighthouse keeper writes the last page of his journal\",\"duration\":30}";
	ck_assert_int_eq(lv_key_create(&key, g_engine, "reads", 100000000), LV_OK);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", lv_key_secret(key));
	for (i = 0; i < 60; i++) {
		ck_assert_msg(lv_task_create_json(&t, g_engine, key, body, sizeof(body) - 1, NULL) == LV_OK, "%s",
		              lv_error_last()->message);
		if (i < 59)
			lv_task_free(t);
	}

	/* The same read, by the edge (a plain path) and by a request thread (a percent-escaped path is
	 * never the edge's): the same status, headers and body. */
	before = metric("lvserver_edge_reads_total");
	for (i = 0; i < 4; i++) {
		static const char *const paths[][2] = {
			{ "/v1/credits", "/v1/credit%73" },
			{ "/v1/videos?limit=3", "/v1/video%73?limit=3" },
			{ "/v1/credits/ledger?limit=2", "/v1/credits/ledge%72?limit=2" },
			{ NULL, NULL },
		};
		char one[256], two[256];
		if (i < 3) {
			snprintf(one, sizeof(one), "%s", paths[i][0]);
			snprintf(two, sizeof(two), "%s", paths[i][1]);
		} else {
			snprintf(one, sizeof(one), "/v1/videos/%s", lv_task_id(t));
			snprintf(two, sizeof(two), "/v1/video%%73/%s", lv_task_id(t));
		}
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n\r\n", one, auth);
		reply = exchange(req, strlen(req), NULL, &closed);
		a = comparable(reply);
		free(reply);
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n\r\n", two, auth);
		reply = exchange(req, strlen(req), NULL, &closed);
		b = comparable(reply);
		free(reply);
		ck_assert_msg(status_of(a) == 200, "%s", a);
		ck_assert_msg(!strcmp(a, b), "%s: the edge answered\n%s\nand a request thread\n%s", one, a, b);
		free(a);
		free(b);
	}
	ck_assert_int_eq(metric("lvserver_edge_reads_total") - before, 4); /* the plain paths only */

	/* Errors the route gives, given by the edge: no key, an unknown task, an unknown parameter; HEAD
	 * has the length and no body; the client's X-Request-Id comes back. */
	snprintf(req, sizeof(req), "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
	reply = exchange(req, strlen(req), NULL, &closed);
	assert_error(reply, 401, "invalid_api_key", "Authorization: missing");
	free(reply);
	snprintf(req, sizeof(req), "GET /v1/videos/vid_nosuchtask HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n"
	         "GET /v1/videos?color=red HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nX-Request-Id: mine-42\r\n\r\n"
	         "HEAD /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n\r\n",
	         auth, auth, auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(closed && responses_in(reply) == 3, "%s", reply);
	p = reply;
	a = take_response(&p);
	assert_error(a, 404, "task_not_found", NULL);
	free(a);
	a = take_response(&p);
	assert_error(a, 400, "invalid_request", "color: unknown query parameter");
	ck_assert_msg(strstr(a, "X-Request-Id: mine-42\r\n"), "%s", a);
	free(a);
	ck_assert_msg(status_of(p) == 200 && strstr(p, "Content-Length: ") && strstr(p, "\r\n\r\n")[4] == '\0', "%s", p);
	free(reply);

	/* Read, create, read on one connection, pipelined: the edge answers the first, hands the
	 * connection over for the POST, and the answers come in order. */
	snprintf(req, sizeof(req),
	         "GET /v1/credits HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n"
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\n\r\n%s"
	         "GET /v1/videos?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n\r\n",
	         auth, auth, sizeof(body) - 1, body, auth);
	reply = exchange(req, strlen(req), NULL, &closed);
	ck_assert_msg(closed && responses_in(reply) == 3, "%s", reply);
	p = reply;
	a = take_response(&p);
	ck_assert_msg(status_of(a) == 200 && strstr(a, "\"object\":\"credits\""), "%s", a);
	free(a);
	a = take_response(&p);
	ck_assert_msg(status_of(a) == 202, "%s", a);
	free(a);
	a = take_response(&p);
	ck_assert_msg(status_of(a) == 200 && strstr(a, "\"object\":\"list\""), "%s", a);
	free(a);
	free(reply);

	/* Many large lists, pipelined, to a client with a small receive buffer that waits before
	 * reading: more than the socket buffers hold, so the edge sends as the client reads.  Every
	 * answer arrives whole and in order; the last request closes the connection. */
	{
		enum { N = 150 };
		int small = 2048, n_resp = 0;
		size_t cap = (size_t)64 << 20, len = 0, one_len = strlen("GET /v1/videos?limit=100 HTTP/1.1\r\n") + 64 + strlen(auth);
		char *all = calloc(1, cap), *reqs = calloc(N, one_len), *first = NULL;
		const char *q;
		struct sockaddr_in sa;
		ck_assert_ptr_nonnull(all);
		ck_assert_ptr_nonnull(reqs);
		for (i = 0; i < N; i++)
			snprintf(reqs + strlen(reqs), one_len, "GET /v1/videos?limit=100 HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n%s\r\n",
			         auth, i == N - 1 ? "Connection: close\r\n" : "");
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((unsigned short)g_srv.port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		send_str(fd, reqs);
		usleep(300 * 1000);
		for (;;) {
			struct pollfd pf = { fd, POLLIN, 0 };
			ssize_t n;
			ck_assert_msg(poll(&pf, 1, 10000) > 0, "the responses stopped after %zu bytes", len);
			n = recv(fd, all + len, cap - 1 - len, 0);
			if (n == 0)
				break;
			ck_assert_msg(n > 0 && len + (size_t)n < cap - 1, "after %zu bytes", len);
			len += (size_t)n;
		}
		all[len] = '\0';
		for (q = all; *q; n_resp++) {
			char *x = take_response(&q), *cx = comparable(x);
			ck_assert_msg(status_of(x) == 200 && strlen(x) > 30000, "answer %d: %.300s", n_resp, x);
			if (!first)
				first = strdup(cx);
			ck_assert_msg(!strcmp(strstr(first, "\r\n\r\n"), strstr(cx, "\r\n\r\n")), "answer %d differs", n_resp);
			free(x);
			free(cx);
		}
		ck_assert_int_eq(n_resp, N);
		free(first);
		free(all);
		free(reqs);
		close(fd);
	}
	lv_task_free(t);
	lv_key_free(key);
	assert_serving();
}
END_TEST

static Suite *abuse_suite(void)
{
	Suite *s = suite_create("abuse");
	TCase *t = tcase_create("abuse");
	tcase_add_unchecked_fixture(t, server_up, server_down);
	tcase_add_checked_fixture(t, engine_open, engine_close);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, nesting_bomb);
	tcase_add_test(t, nul_and_control_characters);
	tcase_add_test(t, oversize_bodies);
	tcase_add_test(t, slowloris_from_another_address);
	tcase_add_test(t, idle_connections_hold_no_thread);
	tcase_add_test(t, request_smuggling_and_host);
	tcase_add_test(t, every_request_on_a_connection);
	tcase_add_test(t, header_floods);
	tcase_add_test(t, trusted_proxy_address);
	tcase_add_test(t, reads_answered_by_the_edge);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return lv_test_run_suite(abuse_suite());
}
