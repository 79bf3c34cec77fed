/*
 * lvserver's edge with several event loops (server.edge_threads 4): the connection limits are
 * process-wide and exact although the connections are spread over the loops, and kept-alive
 * connections on every loop get their own answers.  Each case starts a fresh server, so that no
 * connection of an earlier case can still be open when one is counted.
 * Nothing here measures time: waits are for something to happen, with a generous timeout that only
 * a broken server would reach.
 */
#include "testutil.h"
#include "harness.h"
#include "longvideo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOOPS 4
#define PER_IP 12
#define TOTAL 40
#define REPLY_CAP 65536

static char *g_dir, *g_config;
static lv_test_server g_srv;
static char g_auth[96];

static void setup(void)
{
	char json[512];
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *engine = NULL;
	lv_key *key = NULL;
	g_dir = lv_test_mkdtemp("edge_loops");
	ck_assert_ptr_nonnull(g_dir);
	/* 127.0.0.3 is a trusted proxy: the per-address limit does not apply to it, the total does. */
	snprintf(json, sizeof(json),
	         "{\"server\": {\"edge_threads\": %d, \"max_connections\": %d, \"max_connections_per_ip\": %d,"
	         " \"trusted_proxies\": [\"127.0.0.3\"]}, \"pipeline\": {\"workers\": 0}}",
	         LOOPS, TOTAL, PER_IP);
	g_config = lv_test_write_file(g_dir, "config.json", json);
	ck_assert_ptr_nonnull(g_config);
	ck_assert_int_eq(lv_test_server_start(&g_srv, g_dir, g_config, NULL), 0);
	o.config_path = g_config;
	o.data_dir = g_dir;
	ck_assert_msg(lv_engine_open(&engine, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_key_create(&key, engine, "loops", 1000), LV_OK);
	snprintf(g_auth, sizeof(g_auth), "Authorization: Bearer %s", lv_key_secret(key));
	lv_key_free(key);
	lv_engine_close(engine);
}

static void teardown(void)
{
	/* An unclean exit (under LV_SANITIZE, a leak) prints the server's log from the harness. */
	int status = lv_test_server_stop(&g_srv);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	lv_test_rmdir(g_dir);
	free(g_dir);
	free(g_config);
	g_dir = g_config = NULL;
}

/* ---- raw sockets ---------------------------------------------------------------------------------- */

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

static void send_str(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n <= 0)
			return; /* a refused connection is closed by the server: its answer is read next */
		s += n;
		len -= (size_t)n;
	}
}

/* One whole response (head and Content-Length body) into out, NUL-terminated; "" when the
 * connection ends or stays silent for 10 s before one is complete. */
static void read_response(int fd, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		const char *end = strstr(out, "\r\n\r\n"), *cl;
		ssize_t n;
		if (end && (cl = strcasestr(out, "\r\nContent-Length:")) && cl < end &&
		    len >= (size_t)(end + 4 - out) + strtoul(cl + 17, NULL, 10))
			return;
		if (len >= cap - 1 || poll(&p, 1, 10000) <= 0 || (n = recv(fd, out + len, cap - 1 - len, 0)) <= 0) {
			out[0] = '\0';
			return;
		}
		len += (size_t)n;
		out[len] = '\0';
	}
}

static int status_of(const char *reply)
{
	int st = 0;
	if (sscanf(reply, "HTTP/1.%*d %d", &st) != 1)
		return 0;
	return st;
}

/* A GET on fd (kept alive), its X-Request-Id rid; the response must carry rid back. */
static void get_on(int fd, const char *path, int auth, const char *rid, char *out, size_t cap)
{
	char req[512];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%sX-Request-Id: %s\r\n\r\n", path,
	         auth ? g_auth : "", auth ? "\r\n" : "", rid);
	send_str(fd, req);
	read_response(fd, out, cap);
}

/* lvserver_connections_open and lvserver_connections_refused_total from /metrics (on a connection
 * of its own, from 127.0.0.1, counted in the first).  Returns the status (429 while the server is
 * full). */
static int metrics(unsigned long long *open_now, unsigned long long *refused)
{
	char *reply = malloc(REPLY_CAP);
	const char *p;
	int fd = connect_from("127.0.0.1"), st;
	ck_assert_ptr_nonnull(reply);
	send_str(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
	read_response(fd, reply, REPLY_CAP);
	close(fd);
	st = status_of(reply);
	if (st == 200) {
		ck_assert_ptr_nonnull(p = strstr(reply, "\nlvserver_connections_open "));
		*open_now = strtoull(p + 27, NULL, 10);
		ck_assert_ptr_nonnull(p = strstr(reply, "\nlvserver_connections_refused_total "));
		*refused = strtoull(p + 36, NULL, 10);
	}
	free(reply);
	return st;
}

/* Until the server holds no connection but the /metrics one asking (closed ones are let go of as
 * soon as the server sees their end; that last one may still be open on return). */
static void wait_until_idle(void)
{
	int i;
	for (i = 0; i < 1000; i++) {
		unsigned long long open_now = 0, refused;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		int st = metrics(&open_now, &refused);
		ck_assert_msg(st == 200 || st == 429, "metrics: status %d", st);
		if (st == 200 && open_now == 1)
			return;
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("the server kept connections open after every client closed");
}

/* n connections from `from`, all connected before any sends a byte; then a kept-alive /healthz on
 * each.  fds[i] stays open for an answered connection and is -1 for a refused one; returns how many
 * were answered 200 (the rest must have been refused with 429 naming `limit_text`). */
static int open_many(int *fds, int n, const char *from, const char *limit_text)
{
	char reply[4096], rid[64];
	int i, ok = 0;
	for (i = 0; i < n; i++)
		fds[i] = connect_from(from);
	for (i = 0; i < n; i++) {
		snprintf(rid, sizeof(rid), "open-%d", i);
		get_on(fds[i], "/healthz", 0, rid, reply, sizeof(reply));
		if (status_of(reply) == 200) {
			ck_assert_msg(strstr(reply, "\"status\":\"ok\"") && strstr(reply, "X-Request-Id: open-"), "%s", reply);
			ok++;
		} else {
			ck_assert_msg(status_of(reply) == 429, "connection %d: %s", i, reply);
			ck_assert_msg(strstr(reply, "\"code\":\"rate_limited\"") && strstr(reply, limit_text), "%s", reply);
			close(fds[i]);
			fds[i] = -1;
		}
	}
	return ok;
}

static void close_all(int *fds, int n)
{
	int i;
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- the cases ---------------------------------------------------------------------------------------- */

START_TEST(every_loop_is_a_thread)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int loops = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)g_srv.pid);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((de = readdir(d))) {
		char comm_path[384], comm[32] = "";
		FILE *f;
		if (de->d_name[0] == '.')
			continue;
		snprintf(comm_path, sizeof(comm_path), "%s/%s/comm", path, de->d_name);
		if ((f = fopen(comm_path, "r"))) {
			if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "lvedge-", 7))
				loops++;
			fclose(f);
		}
	}
	closedir(d);
	ck_assert_int_eq(loops, LOOPS);
}
END_TEST

START_TEST(per_address_limit_is_exact_across_loops)
{
	int fds[3 * PER_IP], i, round, fd;
	unsigned long long open_now, refused;
	char *reply = malloc(REPLY_CAP);
	ck_assert_ptr_nonnull(reply);
	/* Three times the limit from one address at once: exactly the limit is let in. */
	ck_assert_int_eq(open_many(fds, 3 * PER_IP, "127.0.0.2", "max_connections_per_ip"), PER_IP);
	ck_assert_int_eq(metrics(&open_now, &refused), 200);
	ck_assert_uint_eq(open_now, PER_IP + 1);
	ck_assert_uint_eq(refused, 2 * PER_IP);
	/* While they are open, one more from that address is refused; another address is served. */
	fd = connect_from("127.0.0.2");
	get_on(fd, "/healthz", 0, "one-more", reply, REPLY_CAP);
	ck_assert_msg(status_of(reply) == 429 && strstr(reply, "max_connections_per_ip"), "%s", reply);
	close(fd);
	fd = connect_from("127.0.0.1");
	get_on(fd, "/v1/credits", 1, "other-address", reply, REPLY_CAP);
	ck_assert_msg(status_of(reply) == 200 && strstr(reply, "\"object\":\"credits\""), "%s", reply);
	close(fd);
	/* Every kept-alive connection gets its own answers, whether the edge answers (a /healthz on a
	 * fresh connection) or CivetWeb does (the authenticated GET, and everything after it). */
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 3 * PER_IP; i++) {
			char rid[64], want[96];
			if (fds[i] < 0)
				continue;
			snprintf(rid, sizeof(rid), "conn-%d-round-%d", i, round);
			snprintf(want, sizeof(want), "X-Request-Id: %s\r\n", rid);
			if (round % 2 == 0) {
				get_on(fds[i], "/healthz", 0, rid, reply, REPLY_CAP);
				ck_assert_msg(status_of(reply) == 200 && strstr(reply, "\"status\":\"ok\""), "%s", reply);
			} else {
				get_on(fds[i], "/v1/credits", 1, rid, reply, REPLY_CAP);
				ck_assert_msg(status_of(reply) == 200 && strstr(reply, "\"object\":\"credits\""), "%s", reply);
			}
			ck_assert_msg(strstr(reply, want) != NULL, "expected %s in: %s", rid, reply);
		}
	}
	/* Closed on whichever loop held them, they no longer count against the address. */
	close_all(fds, 3 * PER_IP);
	wait_until_idle();
	ck_assert_int_eq(open_many(fds, PER_IP + 1, "127.0.0.2", "max_connections_per_ip"), PER_IP);
	close_all(fds, PER_IP + 1);
	free(reply);
}
END_TEST

START_TEST(total_limit_is_exact_across_loops)
{
	int fds[TOTAL + 20], fd;
	char reply[4096];
	/* From a trusted proxy (no per-address limit): exactly max_connections are let in. */
	ck_assert_int_eq(open_many(fds, TOTAL + 20, "127.0.0.3", "too many open connections"), TOTAL);
	/* Full: anyone else is refused too. */
	fd = connect_from("127.0.0.1");
	get_on(fd, "/healthz", 0, "full", reply, sizeof(reply));
	ck_assert_msg(status_of(reply) == 429 && strstr(reply, "too many open connections"), "%s", reply);
	close(fd);
	/* Closed on whichever loop held them, they no longer count (but the last /metrics connection
	 * may still). */
	close_all(fds, TOTAL + 20);
	wait_until_idle();
	ck_assert_int_eq(open_many(fds, TOTAL - 1, "127.0.0.3", "too many open connections"), TOTAL - 1);
	close_all(fds, TOTAL - 1);
}
END_TEST

static Suite *edge_loops_suite(void)
{
	Suite *s = suite_create("edge_loops");
	TCase *t = tcase_create("edge_loops");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, every_loop_is_a_thread);
	tcase_add_test(t, per_address_limit_is_exact_across_loops);
	tcase_add_test(t, total_limit_is_exact_across_loops);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return lv_test_run_suite(edge_loops_suite());
}
